"""`admin.cases` in the controller: 黄牌/红牌 from the deadline pass's levels, the escalation history, the filters,
the applicant masked, managers and supervisors only; and `report.query` checked against the acting session.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hallbus.config import HallConfig, parse_config
from hallbus.controller.app import build_controller, feature_module_factories, open_store
from hallbus.controller.clock import ManualClock
from hallbus.controller.controller import Controller
from hallbus.records.cases import CaseRecord, CasesModule, save_case
from hallbus.records.importer import records_of
from hallbus.records.samples import make_person
from hallbus.records.workdays import WorkCalendar
from hallbus.rpc import RpcFault
from tests.hallbus.controller.helpers import RecordingPublisher
from tests.hallbus.controller.test_admin_sessions import login as sign_in
from tests.hallbus.controller.test_admin_sessions import rpc
from tests.hallbus.records.conftest import KEY, T0, make_importer, records_config

CAL = WorkCalendar()
PEOPLE = [make_person(random.Random(n)) for n in (1, 2, 3, 4)]


def case(no: str, n: int, accepted: dt.datetime, promised: int, handler: str, department: str) -> dict[str, Any]:
    p = PEOPLE[n]
    return {"case_no": no, "item": "个体工商户设立登记", "item_code": "scjg-gtgsh-sl", "applicant_name": p.name,
            "id_number": p.id_number, "status": "reviewing", "accepted_at": accepted.isoformat(),
            "promised_days": promised, "handler": handler, "department": department}


@pytest.fixture
def config(tmp_path: Path) -> HallConfig:
    records_config(tmp_path)  # writes hall.toml and the key; s001 a manager
    path = tmp_path / "hall.toml"
    text = path.read_text(encoding="utf-8")
    text = text.replace('id = "s002"\nname = "王芳"', 'id = "s002"\nname = "王芳"\nrole = "supervisor"')
    path.write_text(text, encoding="utf-8")
    return parse_config(text, path)


@pytest.fixture
def ctl(config: HallConfig, tmp_path: Path) -> Iterator[Controller]:
    records = [
        case("ZW2026RED0001", 0, T0 - dt.timedelta(days=30), 5, "李明", "县市场监督管理局"),  # long overdue: 红牌
        case("ZW2026YEL0002", 1, T0, 6, "王芳", "县人力资源和社会保障局"),  # 6 working days left: notice, 黄牌
        case("ZW2026YEL0003", 2, T0, 3, "李明", "县市场监督管理局"),  # 3 left: urgent, 黄牌
        case("ZW2026CALM004", 3, T0, 20, "李明", "县市场监督管理局"),  # far off: not listed
    ]
    with open_store(tmp_path / "data") as store:
        assert make_importer(config).run(store.conn, records_of(records), now=T0, where="record").cases_added == 4
    c = build_controller(config, tmp_path / "data", clock=ManualClock(T0), hall_key=KEY, publisher=RecordingPublisher(),
                         factories=feature_module_factories(), refresh_async=False)
    try:
        cases = next(m for m in c.modules if isinstance(m, CasesModule))
        c.run_tx(cases.scan_deadlines)
        yield c
    finally:
        c.close()


def login(ctl: Controller, staff: str) -> str:
    return sign_in(ctl, staff, "hall" + staff[-3:])[0]


def test_cards_escalations_and_filters(ctl: Controller) -> None:
    token = login(ctl, "s001")
    got = rpc(ctl, "admin.cases", {"session": token})
    by_no = {c["case_no"]: c for c in got["cases"]}
    assert list(by_no) == ["ZW2026RED0001", "ZW2026YEL0003", "ZW2026YEL0002"], "most urgent first; a calm case absent"
    assert (got["total"], got["red"], got["yellow"]) == (3, 1, 2)
    red, urgent, notice = by_no["ZW2026RED0001"], by_no["ZW2026YEL0003"], by_no["ZW2026YEL0002"]
    assert (red["card"], red["warning"]) == ("red", "overdue") and red["days_left"] < 0
    assert (urgent["card"], urgent["warning"], notice["card"], notice["warning"]) == ("yellow", "urgent", "yellow", "notice")
    # the history: the level the pass saw, when, with whom it went to
    assert [(e["level"], e["at"][:16], e["days_left"]) for e in urgent["escalations"]] == [("urgent", "2026-03-03T09:00", 3)]
    assert urgent["escalations"][0]["to"][0] == "leadership" and notice["escalations"][0]["to"] == ["handler:王芳"]
    # never a name or an ID number
    text = json.dumps(got, ensure_ascii=False)
    for p in PEOPLE:
        assert p.name not in text and p.id_number not in text and p.id_number[-6:] not in text
    assert red["applicant_masked"] == PEOPLE[0].name[0] + "*" * (len(PEOPLE[0].name) - 1)
    assert got["departments"] == ["县人力资源和社会保障局", "县市场监督管理局"] and got["handlers"] == ["李明", "王芳"]
    # filters: department, handler, card
    only = rpc(ctl, "admin.cases", {"session": token, "department": "县人力资源和社会保障局"})
    assert [c["case_no"] for c in only["cases"]] == ["ZW2026YEL0002"]
    assert [c["case_no"] for c in rpc(ctl, "admin.cases", {"session": token, "handler": "李明", "card": "yellow"})["cases"]] \
        == ["ZW2026YEL0003"]
    with pytest.raises(RpcFault) as bad:
        rpc(ctl, "admin.cases", {"session": token, "card": "green"})
    assert bad.value.code == "bad_card"


def test_a_level_passed_later_is_added_to_the_history(ctl: Controller) -> None:
    cases = next(m for m in ctl.modules if isinstance(m, CasesModule))
    due = CAL.add_workdays(T0, 6)
    clock = ctl.clock
    assert isinstance(clock, ManualClock)
    clock.set(due + dt.timedelta(hours=1))
    ctl.run_tx(cases.scan_deadlines)
    token = login(ctl, "s002")  # a supervisor reads them too (a session of the new day: one lasts 8 hours)
    got = {c["case_no"]: c for c in rpc(ctl, "admin.cases", {"session": token})["cases"]}
    assert [e["level"] for e in got["ZW2026YEL0002"]["escalations"]] == ["notice", "overdue"]
    assert got["ZW2026YEL0002"]["card"] == "red"


def test_staff_and_dead_sessions_are_refused_at_the_controller(ctl: Controller) -> None:
    staff = login(ctl, "s003")
    for body in ({"session": staff}, {"session": "x" * 43}):
        with pytest.raises(RpcFault) as refused:
            rpc(ctl, "admin.cases", body)
        assert refused.value.code == ("forbidden" if body["session"] == staff else "session_invalid")


def test_report_query_gives_staff_only_their_own(ctl: Controller) -> None:
    day = T0.date().isoformat()
    manager, staff = login(ctl, "s001"), login(ctl, "s003")
    every = rpc(ctl, "report.query", {"kind": "staff", "from": day, "to": day, "session": manager})
    assert {r[0] for r in every["rows"]} >= {"s001", "s002", "s003"} and every["total"] is not None
    mine = rpc(ctl, "report.query", {"kind": "staff", "from": day, "to": day, "session": staff})
    assert [r[0] for r in mine["rows"]] == ["s003"] and mine["total"] is None
    for kind in ("daily", "services", "windows", "ratings"):
        with pytest.raises(RpcFault) as refused:
            rpc(ctl, "report.query", {"kind": kind, "from": day, "to": day, "session": staff})
        assert refused.value.code == "forbidden" and "本人" in refused.value.message
    with pytest.raises(RpcFault) as none:
        rpc(ctl, "report.query", {"kind": "staff", "from": day, "to": day})
    assert none.value.code == "session_invalid"


def test_a_reply_of_many_long_cases_stays_within_the_message_limit(ctl: Controller) -> None:
    item = "企业投资项目核准及备案（含外商投资、境外投资项目）登记审查" * 3  # a long item name
    def add(tx: Any) -> None:
        for k in range(400):
            save_case(tx.conn, CaseRecord(
                case_no=f"ZW2026LONG{k:04d}", item=item, item_code=None, applicant_masked="欧阳**", id_hash=None,
                id_masked=None, verify_hash=None, status="reviewing", open=1, accepted_ts=T0.timestamp() - 86400 * 40,
                promised_days=5, due_ts=T0.timestamp() - 86400 * 30 + k, finished_ts=None, handler="李明" * 10,
                department="县市场监督管理局", result=None, pickup_window=None, timeline="[]", source="t",
                updated_ts=T0.timestamp()))
    ctl.run_tx(add)
    cases = next(m for m in ctl.modules if isinstance(m, CasesModule))
    ctl.run_tx(cases.scan_deadlines)
    got = rpc(ctl, "admin.cases", {"session": login(ctl, "s001"), "limit": 200})
    size = len(json.dumps(got, ensure_ascii=False).encode())
    assert got["total"] == 403 and got["red"] == 401 and 20 < len(got["cases"]) < 200
    assert size < 80 * 1024, size  # 64 KiB of cases and the rest of the reply: far below the broker's 128 KiB
    assert [c["case_no"] for c in got["cases"][:2]] == ["ZW2026LONG0000", "ZW2026LONG0001"], "the most overdue first"
