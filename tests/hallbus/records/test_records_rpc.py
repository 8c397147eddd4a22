"""Cases, appointments, guide and ratings over the real broker and the real controller."""

from __future__ import annotations

import datetime as dt
import json
import random
import sqlite3
import uuid
from pathlib import Path
from typing import Any

import pytest

from hallbus.privacy import id_hash
from hallbus.records import receipt
from hallbus.records.samples import Person, make_person
from hallbus.records.workdays import WorkCalendar
from hallbus.rpc import RpcClient, RpcFault
from tests.hallbus.records.conftest import KEY, T0, TZ, Hall

CAL = WorkCalendar()
RNG = random.Random(4)
P, Q, R = make_person(RNG), make_person(RNG), make_person(RNG)
PEOPLE = [P, Q, R]


def card(p: Person) -> dict[str, Any]:
    """What a kiosk sends for a card: the HMAC and masked forms only."""
    return {"id_hash": id_hash(KEY, p.id_number), "name_masked": p.name[0] + "*", "card_type": "resident"}


def case(no: str, p: Person, **kw: Any) -> dict[str, Any]:
    rec = {
        "case_no": no, "item": "个体工商户设立登记", "item_code": "scjg-gtgsh-sl", "applicant_name": p.name,
        "id_number": p.id_number, "status": "reviewing", "accepted_at": T0.isoformat(), "promised_days": 10,
        "handler": "李明", "department": "县市场监督管理局", "pickup_window": "3号窗口",
    }
    rec.update(kw)
    return rec


def fault(fn: Any, *a: Any, **kw: Any) -> RpcFault:
    with pytest.raises(RpcFault) as info:
        fn(*a, **kw)
    return info.value


def test_case_query_by_id_card_by_number_and_by_receipt_qr(hall: Hall) -> None:
    report = hall.import_records([
        case("ZW2026030300001", P),
        case("ZW2026030300002", P, status="done", finished_at=(T0 + dt.timedelta(days=1)).isoformat()),
        case("ZW2026030300003", Q),
    ])
    assert report.errors == [] and report.cases_added == 3
    term = hall.client("terminal-1")

    got = term.call("case.query", {"id_card": card(P)})["cases"]
    assert sorted(c["case_no"] for c in got) == ["ZW2026030300001", "ZW2026030300002"]
    open_case = next(c for c in got if c["case_no"] == "ZW2026030300001")
    assert open_case["applicant_masked"] == P.name[0] + "*" * (len(P.name) - 1)
    assert open_case["days_left"] == 10 and open_case["warning"] == "none"
    assert open_case["due_at"] == CAL.add_workdays(T0, 10).isoformat(timespec="seconds")
    assert open_case["timeline"][0]["node"] == "受理"
    done = next(c for c in got if c["case_no"] == "ZW2026030300002")
    assert done["on_time"] is True and done["days_left"] is None

    by_no = term.call("case.query", {"case_no": "ZW2026030300003", "verify": Q.id_number[-6:]})["cases"]
    assert [c["case_no"] for c in by_no] == ["ZW2026030300003"]
    qr = receipt.receipt_qr(KEY, "ZW2026030300003")
    assert term.call("case.query", {"qr": qr})["cases"][0]["case_no"] == "ZW2026030300003"
    url = f"https://zwfw.example.gov.cn/case?no=ZW2026030300003&t={receipt.receipt_token(KEY, 'ZW2026030300003')}"
    assert term.call("case.query", {"qr": url})["cases"][0]["case_no"] == "ZW2026030300003"

    assert fault(term.call, "case.query", {"case_no": "ZW2026030300003", "verify": P.id_number[-6:]}).code == "verify_mismatch"
    assert fault(term.call, "case.query", {"case_no": "ZW2099010100001", "verify": "123456"}).code == "case_not_found"
    assert fault(term.call, "case.query", {"case_no": "ZW2026030300003", "verify": "12"}).code == "bad_verify"
    assert fault(term.call, "case.query", {"qr": "hello"}).code == "bad_qr"
    forged = "ZWFW:CASE:ZW2026030300003:0123456789abcdef"
    assert fault(term.call, "case.query", {"qr": forged}).code == "bad_qr"
    err = fault(term.call, "case.query", {})
    assert err.code == "bad_request" and err.message and err.message_en
    assert term.call("case.query", {"id_card": card(R)})["cases"] == []


def test_failed_look_ups_are_throttled_per_caller_and_per_case_with_back_off(hall: Hall) -> None:
    hall.import_records([case("ZW2026030300011", P), case("ZW2026030300012", Q)])
    t1, t2 = hall.client("terminal-1"), hall.client("terminal-2")
    for _ in range(5):
        assert fault(t1.call, "case.query", {"case_no": "ZW2026030300011", "verify": "000000"}).code == "verify_mismatch"
    # the fifth failure makes both wait 30 s: even the right digits are refused, from this caller and for this case
    err = fault(t1.call, "case.query", {"case_no": "ZW2026030300012", "verify": Q.id_number[-6:]})
    assert err.code == "too_many_attempts" and "30 秒后再试" in err.message and "try again in 30 s" in err.message_en
    assert "刷身份证" in err.message and "ID card" in err.message_en
    assert fault(t2.call, "case.query", {"case_no": "ZW2026030300011", "verify": P.id_number[-6:]}).code == "too_many_attempts"
    # another terminal, another case: fine; the owner's card: at once
    assert t2.call("case.query", {"case_no": "ZW2026030300012", "verify": Q.id_number[-6:]})["cases"]
    assert [c["case_no"] for c in t1.call("case.query", {"id_card": card(P)})["cases"]] == ["ZW2026030300011"]
    # a wait, not a lock-out: half a minute later the owner's digits work again
    hall.advance(31)
    assert t2.call("case.query", {"case_no": "ZW2026030300011", "verify": P.id_number[-6:]})["cases"]
    # each failure past the free ones doubles the wait
    for wait in (30, 60):
        hall.advance(wait + 1)
        assert fault(t1.call, "case.query", {"case_no": "ZW2026030300012", "verify": "000000"}).code == "verify_mismatch"
    err = fault(t1.call, "case.query", {"case_no": "ZW2026030300012", "verify": Q.id_number[-6:]})
    assert err.code == "too_many_attempts" and "120 秒后再试" in err.message


def test_the_web_service_is_throttled_per_client_address_it_names(hall: Hall) -> None:
    hall.import_records([case("ZW2026030300021", P)])
    web, term = hall.client("web", "web"), hall.client("terminal-1")

    def guess(rpc: RpcClient, n: int, client: str) -> str:
        body = {"case_no": f"ZW2026GUESS{n:04d}", "verify": "000000", "client": client}
        return fault(rpc.call, "case.query", body).code

    # One phone guessing through the web service waits after its free failures ...
    assert [guess(web, i, "203.0.113.7") for i in range(6)] == ["case_not_found"] * 5 + ["too_many_attempts"]
    # ... another phone is not held back by it: the web node serves many people
    assert web.call("case.query", {"case_no": "ZW2026030300021", "verify": P.id_number[-6:],
                                   "client": "198.51.100.2"})["cases"]
    # any other node's `client` is ignored: it cannot slip out of its own count by naming addresses
    assert [guess(term, 10 + i, f"192.0.2.{i}") for i in range(6)] == ["case_not_found"] * 5 + ["too_many_attempts"]


def _levels(alerts: list[dict[str, Any]], subject: str) -> list[str]:
    return [a["level"] for a in alerts if a["kind"] == "case_deadline" and a["subject"] == subject]


def test_deadline_warnings_fire_once_per_level_and_escalate(hall: Hall) -> None:
    no = "ZW2026030300021"
    hall.import_records([case(no, P, promised_days=10)])
    due = CAL.add_workdays(T0, 10)
    hall.advance(60)
    term = hall.client("terminal-1")
    assert term.call("stats.today")["stats"]["overdue_cases"] == 0
    expected: list[str] = []
    for days_before, level in ((8, None), (7, "notice"), (6, None), (5, "warn"), (3, "urgent")):
        day = due.date()
        for _ in range(days_before):
            day -= dt.timedelta(days=1)
            while not CAL.is_workday(day):
                day -= dt.timedelta(days=1)
        hall.set(dt.datetime.combine(day, due.time(), TZ) - dt.timedelta(minutes=1))
        if level:
            expected.append(level)
        hall.alerts.wait_until(lambda got: _levels(got, no) == expected)
        hall.advance(120)  # another scan at the same level: nothing new
        hall.set(hall.clock() + dt.timedelta(seconds=1))
    hall.set(due + dt.timedelta(hours=1))  # over by one hour is over
    got = hall.alerts.wait_until(lambda got: _levels(got, no) == [*expected, "overdue"])
    alerts = [a for a in got if a["subject"] == no]
    assert alerts[0]["to"] == ["handler:李明"]
    assert alerts[1]["to"][0] == "department:县市场监督管理局"
    assert alerts[2]["to"][0] == "leadership"
    assert "leadership" in alerts[3]["to"]
    stats = term.call("stats.today")["stats"]
    assert stats["overdue_cases"] == 1
    hall.advance(120)
    hall.advance(120)
    assert _levels(hall.alerts.decoded(), no) == [*expected, "overdue"]


def test_one_deadline_pass_goes_chunk_by_chunk_and_misses_none(tmp_path: Path) -> None:
    """700 overdue cases, many due at the same moment: one pass goes SCAN_BATCH per tick and reaches all."""
    from hallbus.controller.app import build_controller, feature_module_factories, open_store
    from hallbus.controller.clock import ManualClock
    from hallbus.records.cases import SCAN_BATCH, CasesModule
    from hallbus.records.importer import records_of
    from tests.hallbus.controller.helpers import RecordingPublisher
    from tests.hallbus.records.conftest import make_importer, records_config

    config = records_config(tmp_path)
    accepted = [T0 - dt.timedelta(days=30, minutes=k % 13) for k in range(700)]  # ties across chunk borders
    records = [case(f"ZW20260203{k:05d}", PEOPLE[k % 3], accepted_at=a.isoformat(), promised_days=5)
               for k, a in enumerate(accepted)]
    with open_store(tmp_path / "data") as store:
        assert make_importer(config).run(store.conn, records_of(records), now=T0, where="record").cases_added == 700
    alerts = RecordingPublisher()
    ctl = build_controller(config, tmp_path / "data", clock=ManualClock(T0), hall_key=KEY, publisher=alerts,
                           factories=feature_module_factories(), refresh_async=False)
    try:
        cases = next(m for m in ctl.modules if isinstance(m, CasesModule))
        ticks = 0
        while True:  # the clock stands still: exactly one pass, then the module waits SCAN_EVERY_S
            ctl.tick()
            ticks += 1
            if cases._cursor is None:
                break
        assert ticks == -(-700 // SCAN_BATCH)
        subjects = [a["subject"] for a in alerts.events_on(ctl.topics.alerts) if a["kind"] == "case_deadline"]
        assert sorted(subjects) == sorted(r["case_no"] for r in records)  # each once, none missed
    finally:
        ctl.close()


def test_case_figures_in_stats_today(hall: Hall) -> None:
    t = T0 - dt.timedelta(days=20)
    hall.import_records([
        case("ZW2026021000031", P, accepted_at=t.isoformat(), promised_days=5, status="done",
             finished_at=(T0 - dt.timedelta(minutes=30)).isoformat()),  # late: due long ago
        case("ZW2026030300032", Q, promised_days=5, status="delivered", finished_at=(T0 + dt.timedelta(minutes=5)).isoformat()),
        case("ZW2026030300033", R, promised_days=5),
    ])
    stats = hall.client("terminal-1").call("stats.today")["stats"]
    assert stats["cases_done"] == 2
    assert stats["on_time_rate"] == 0.5
    assert stats["overdue_cases"] == 0


def test_appointment_check_in_window(hall: Hall) -> None:
    def appt(code: str, start: dt.datetime, p: Person, service: str = "C") -> dict[str, Any]:
        return {"kind": "appointment", "code": code, "service": service, "item": "社会保障卡申领",
                "applicant_name": p.name, "id_number": p.id_number, "slot_start": start.isoformat()}

    hall.import_records([
        appt("YY0001", T0 + dt.timedelta(minutes=20), P),
        appt("YY0002", T0 + dt.timedelta(hours=2), Q),
        appt("YY0003", T0 - dt.timedelta(hours=1), R),
        appt("YY0004", T0 + dt.timedelta(minutes=10), Q, service="G"),
    ])
    term = hall.client("terminal-1")
    got = term.call("appointment.checkin", {"code": receipt.appointment_qr("YY0001")})
    assert got["ticket"]["channel"] == "appointment" and got["ticket"]["service"] == "C"
    err = fault(term.call, "appointment.checkin", {"code": "YY0001"})
    assert err.code == "already_checked_in" and got["ticket"]["number"] in err.message
    err = fault(term.call, "appointment.checkin", {"code": "YY0002"})
    assert err.code == "too_early" and "10:30" in err.message and "10:30" in err.message_en
    assert fault(term.call, "appointment.checkin", {"code": "YY0003"}).code == "too_late"
    assert fault(term.call, "appointment.checkin", {"code": "YY9999"}).code == "not_found"
    assert fault(term.call, "appointment.checkin", {"code": "??"}).code == "bad_qr"
    by_card = term.call("appointment.checkin", {"id_card": card(Q)})  # YY0004 is open now, YY0002 not yet
    assert by_card["appointment"] == "YY0004" and by_card["ticket"]["service"] == "G"
    assert fault(term.call, "appointment.checkin", {"id_card": card(make_person(RNG))}).code == "not_found"
    hall.set(T0 + dt.timedelta(hours=1, minutes=45))
    assert term.call("appointment.checkin", {"id_card": card(Q)})["appointment"] == "YY0002"


def _serve(counter: RpcClient, window: str, staff: str, service: str, term: RpcClient) -> dict[str, Any]:
    """Take a ticket, call it and finish it at the window; returns the window state after finish."""
    term.call("ticket.issue", {"service": service})
    counter.call("window.call_next", {"window": window})
    return counter.call("window.finish", {"window": window})["window"]


def _db(hall: Hall) -> sqlite3.Connection:
    return sqlite3.connect(hall.data_dir / "hall.db")


def test_rating_rules_over_the_bus(hall: Hall) -> None:
    term, counter, tablet = hall.client("terminal-1"), hall.client("counter-1", "counter"), hall.client("tablet-1", "tablet")
    counter.call("window.login", {"window": "1", "staff": "s001", "password": "hall001"})
    state = _serve(counter, "1", "s001", "A", term)
    rr = state["rating_request"]
    assert rr and rr["staff"] == "s001"

    rid = str(uuid.uuid4())
    body = {"rating_id": rid, "window": "1", "ticket": rr["ticket"], "staff": "s001", "level": 5}
    first = tablet.call("rating.submit", body)
    assert first["accepted"] is True and first["followup"] is None
    assert tablet.call("rating.submit", body) == first  # the tablet retried: same answer, once
    err = fault(tablet.call, "rating.submit", {**body, "rating_id": str(uuid.uuid4()), "level": 1, "reasons": ["attitude"]})
    assert err.code == "already_rated"

    # a bad rating needs a reason; without one nothing is recorded
    state = _serve(counter, "1", "s001", "A", term)
    bad = {"rating_id": str(uuid.uuid4()), "window": "1", "ticket": state["rating_request"]["ticket"], "level": 2}
    assert fault(tablet.call, "rating.submit", bad).code == "reasons_required"
    assert fault(tablet.call, "rating.submit", {**bad, "reasons": ["nonsense"]}).code == "bad_reason"
    assert fault(tablet.call, "rating.submit", {**bad, "reasons": ["other"]}).code == "comment_required"
    # the one vocabulary (hallbus.schemas.rating): no second code for lateness, comments of at most 200
    assert fault(tablet.call, "rating.submit", {**bad, "reasons": ["overdue"]}).code == "bad_reason"
    too_long = {**bad, "reasons": ["other"], "comment": "意" * 201}
    assert fault(tablet.call, "rating.submit", too_long).code == "comment_too_long"
    assert fault(tablet.call, "rating.submit", {**bad, "level": 7}).code == "bad_level"
    assert fault(hall.client("tablet-2", "tablet").call, "rating.submit", {**bad, "reasons": ["attitude"]}).code == "wrong_window"
    got = tablet.call("rating.submit", {**bad, "reasons": ["not_told_once", "asked_again"], "comment": "材料清单没说全"})
    assert isinstance(got["followup"], int)
    alert = hall.alerts.wait_until(lambda a: any(x["kind"] == "rating_followup" for x in a))
    assert [x for x in alert if x["kind"] == "rating_followup"][0]["subject"] == f"followup-{got['followup']}"

    # expiry: after the request's time to live nothing is recorded, never a default
    state = _serve(counter, "1", "s001", "A", term)
    ticket = state["rating_request"]["ticket"]
    hall.advance(hall.config.ratings.request_ttl_s + 1)
    late = {"rating_id": str(uuid.uuid4()), "window": "1", "ticket": ticket, "level": 4}
    assert fault(tablet.call, "rating.submit", late).code == "rating_expired"
    with _db(hall) as db:
        assert db.execute("SELECT COUNT(*) FROM rec_ratings WHERE ticket = ?", (ticket,)).fetchone()[0] == 0
        assert db.execute("SELECT COUNT(*) FROM rec_ratings").fetchone()[0] == 2

    stats = term.call("stats.today")["stats"]
    assert stats["ratings"] == 2 and stats["satisfaction_rate"] == 0.5
    assert stats["ratings_by_window"]["1"]["ratings"] == 2
    assert stats["ratings_by_staff"]["s001"]["bad"] == 1
    assert stats["followups_open"] == 1


def test_a_rating_kept_on_the_tablet_is_accepted_after_expiry(hall: Hall) -> None:
    """The tablet stores a rating made in time and retries; `made_at` proves when it was made."""
    term, counter = hall.client("terminal-1"), hall.client("counter-1", "counter")
    counter.call("window.login", {"window": "1", "staff": "s001", "password": "hall001"})
    ticket = _serve(counter, "1", "s001", "A", term)["rating_request"]["ticket"]
    made = hall.clock().isoformat()
    hall.advance(600)  # the controller was unreachable for a while
    tablet = hall.client("tablet-1", "tablet")
    body = {"rating_id": str(uuid.uuid4()), "window": "1", "ticket": ticket, "level": 4}
    assert fault(tablet.call, "rating.submit", body).code == "rating_expired"  # made now: too late
    assert tablet.call("rating.submit", {**body, "rating_id": str(uuid.uuid4()), "made_at": made})["accepted"]
    # a claim of a moment outside the request's life does not help
    ticket2 = _serve(counter, "1", "s001", "A", term)["rating_request"]["ticket"]
    hall.advance(600)
    err = fault(tablet.call, "rating.submit", {**body, "rating_id": str(uuid.uuid4()), "ticket": ticket2, "made_at": made})
    assert err.code == "rating_expired"


def test_terminal_rating_of_a_finished_case(hall: Hall) -> None:
    hall.import_records([
        case("ZW2026030300041", P, status="done", finished_at=T0.isoformat()),
        case("ZW2026030300042", Q),
    ])
    term = hall.client("terminal-1")
    body = {"rating_id": str(uuid.uuid4()), "case_no": "ZW2026030300041", "level": 4, "verify": P.id_number[-6:]}
    assert term.call("rating.submit", body)["accepted"] is True
    assert fault(term.call, "rating.submit", {**body, "rating_id": str(uuid.uuid4())}).code == "already_rated"
    unfinished = {**body, "rating_id": str(uuid.uuid4()), "case_no": "ZW2026030300042", "verify": Q.id_number[-6:]}
    assert fault(term.call, "rating.submit", unfinished).code == "case_not_finished"
    assert fault(term.call, "rating.submit", {**body, "rating_id": str(uuid.uuid4()), "case_no": "ZW0000"}).code == "case_not_found"
    stats = term.call("stats.today")["stats"]
    assert stats["ratings_by_staff"]["李明"]["ratings"] == 1


def test_followup_deadline_alerts(hall: Hall) -> None:
    hall.import_records([case("ZW2026030300051", P, status="done", finished_at=T0.isoformat())])
    term = hall.client("terminal-1")
    got = term.call("rating.submit", {"rating_id": str(uuid.uuid4()), "case_no": "ZW2026030300051", "level": 1,
                                      "id_card": card(P),
                                      "reasons": ["efficiency"]})
    fid = got["followup"]
    due = CAL.add_workdays(T0, hall.config.ratings.followup_days)
    with _db(hall) as db:
        assert db.execute("SELECT due_ts FROM rec_followups WHERE id = ?", (fid,)).fetchone()[0] == due.timestamp()
    hall.set(due - dt.timedelta(hours=2))
    hall.alerts.wait_until(lambda a: any(x["subject"] == f"followup-{fid}" and x["level"] == "warn" for x in a))
    hall.set(due + dt.timedelta(minutes=1))
    got_alerts = hall.alerts.wait_until(lambda a: any(x["subject"] == f"followup-{fid}" and x["level"] == "overdue" for x in a))
    levels = [x["level"] for x in got_alerts if x["subject"] == f"followup-{fid}"]
    assert levels == ["notice", "warn", "overdue"]
    assert term.call("stats.today")["stats"]["followups_overdue"] == 1


def test_guide_over_the_bus(hall: Hall) -> None:
    term = hall.client("terminal-1")
    got = term.call("guide.list", {"q": "gtgsh"})
    assert got["items"][0]["name"] == "个体工商户设立登记"
    assert all("个体工商户" in i["name"] for i in got["items"])
    full = term.call("guide.list", {})
    assert full["total"] >= 30 and full["categories"]
    item = term.call("guide.get", {"item": got["items"][0]["item"]})["item"]
    assert item["materials"] and item["steps"] and item["legal_basis"]
    assert fault(term.call, "guide.get", {"item": "no-such-item"}).code == "guide_item_not_found"


def test_no_full_id_number_in_database_logs_or_payloads(hall: Hall, caplog: pytest.LogCaptureFixture) -> None:
    """A full run of look-ups, check-ins and ratings; then grep everything for the ID numbers used."""
    hall.import_records([
        case("ZW2026030300061", P, promised_days=1),
        case("ZW2026030300062", Q, status="done", finished_at=T0.isoformat()),
        {"kind": "appointment", "code": "YY0061", "service": "C", "applicant_name": R.name,
         "id_number": R.id_number, "slot_start": T0.isoformat()},
    ])
    term = hall.client("terminal-1")
    term.call("case.query", {"id_card": card(P)})
    term.call("case.query", {"case_no": "ZW2026030300062", "verify": Q.id_number[-6:]})
    fault(term.call, "case.query", {"case_no": "ZW2026030300062", "verify": P.id_number[-6:]})
    term.call("appointment.checkin", {"id_card": card(R)})
    term.call("rating.submit", {"rating_id": str(uuid.uuid4()), "case_no": "ZW2026030300062", "level": 2,
                                "verify": Q.id_number[-6:],
                                "reasons": ["attitude"]})
    hall.set(CAL.add_workdays(T0, 1) + dt.timedelta(hours=1))
    hall.alerts.wait_until(lambda a: any(x.get("subject") == "ZW2026030300061" and x["level"] == "overdue" for x in a))
    hall.controller.controller.flush(5)

    db_bytes = b"".join(p.read_bytes() for p in hall.data_dir.glob("hall.db*"))
    with _db(hall) as db:
        assert db.execute("SELECT COUNT(*) FROM rec_cases WHERE id_hash = ?", (id_hash(KEY, P.id_number),)).fetchone()[0] == 1
    wire = b"\n".join(p for _t, p in hall.wire.messages)
    assert b"ZW2026030300061" in wire  # the payloads were captured
    logs = "\n".join(r.getMessage() for r in caplog.records)
    assert logs
    for p in PEOPLE:
        for form in (p.id_number, p.id_number.lower()):
            assert form.encode() not in db_bytes
            assert form.encode() not in wire
            assert form not in logs
            assert json.dumps(form)[1:-1] not in logs
