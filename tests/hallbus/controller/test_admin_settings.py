"""Hall settings without a restart (SPEC 12.2): `admin.settings` and `admin.settings.set` in the controller.

Each setting changes what the very next request sees (tickets, windows, the retained
state, working days); a stale version, a bad value or the wrong role changes nothing;
every change is one audit line, before -> after.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest

from hallbus.brokerurl import parse_broker_url
from hallbus.client import BusClient
from hallbus.config import HallConfig
from hallbus.controller.admin import admin_module
from hallbus.controller.app import HallController, build_controller
from hallbus.controller.clock import ManualClock
from hallbus.controller.controller import Controller
from hallbus.controller.queue_layout import QueueLayout
from hallbus.controller.settings import HallSettings, Row, apply_rows
from hallbus.deploy.brokerconf import ROLE_METHODS
from hallbus.localbroker import LocalBroker
from hallbus.rpc import RpcClient, RpcFault
from hallbus.sample import open_all_day
from tests.hallbus.controller.helpers import T0, RecordingPublisher, issue, request, window_call
from tests.hallbus.controller.helpers import login as window_login
from tests.hallbus.controller.test_admin_sessions import code_of, config, login, rpc, with_roles  # noqa: F401

__all__ = ["config"]


@pytest.fixture
def published() -> RecordingPublisher:
    return RecordingPublisher()


@pytest.fixture
def ctl(config: HallConfig, clock: ManualClock, tmp_path: Path, published: RecordingPublisher) -> Iterator[Controller]:
    c = build_controller(config, tmp_path / "data", clock=clock, hall_key=b"k" * 32, publisher=published,
                         factories=[admin_module], refresh_async=False)
    try:
        yield c
    finally:
        c.close()


@pytest.fixture
def manager(ctl: Controller) -> str:
    return login(ctl, "s001", "hall001")[0]


def settings(ctl: Controller, token: str) -> dict[str, dict[str, Any]]:
    return {s["key"]: s for s in rpc(ctl, "admin.settings", {"session": token})["settings"]}


def change(ctl: Controller, token: str, key: str, value: Any, version: int | None = None) -> dict[str, dict[str, Any]]:
    if version is None:
        version = settings(ctl, token)[key]["version"]
    reply = rpc(ctl, "admin.settings.set", {"session": token, "key": key, "value": value, "version": version,
                                           "client": "10.0.0.9"})
    return {s["key"]: s for s in reply["settings"]}


def refusal(ctl: Controller, token: str, key: str, value: Any) -> RpcFault:
    before = ctl.store.conn.execute("SELECT COUNT(*), MAX(version) FROM settings").fetchone()
    audit = ctl.store.conn.execute("SELECT COUNT(*) FROM audit_log").fetchone()
    with pytest.raises(RpcFault) as err:
        change(ctl, token, key, value)
    assert ctl.store.conn.execute("SELECT COUNT(*), MAX(version) FROM settings").fetchone() == before, "nothing changed"
    assert ctl.store.conn.execute("SELECT COUNT(*) FROM audit_log").fetchone() == audit
    return err.value


def audit_lines(ctl: Controller) -> list[tuple[str, str, str, Any, Any]]:
    rows = ctl.store.conn.execute(
        "SELECT actor, action, subject, before, after FROM audit_log WHERE action = 'setting.set' ORDER BY id"
    ).fetchall()
    return [(a, b, c, json.loads(d), json.loads(e)) for a, b, c, d, e in rows]


def test_every_setting_is_read_with_its_hall_toml_default(ctl: Controller, manager: str, config: HallConfig) -> None:
    got = settings(ctl, manager)
    a = got["service.A.daily_cap"]
    assert (a["value"], a["default"], a["differs"], a["version"], a["kind"], a["subject"]) == (400, 400, False, 0,
                                                                                            "daily_cap", "A")
    assert got["service.A.open"]["value"] is True
    assert got["window.3.services"]["value"] == ["B", "A"]
    assert got["window.3.rule"]["value"]["only_when_empty"] == {"A": ["B"]}
    assert got["hall.notice"]["value"] == config.hall.notice
    assert {k for k in got if k.startswith("calendar.")} == {"calendar.holidays", "calendar.workdays"}
    assert not any(s["differs"] for s in got.values())
    supervisor = login(ctl, "s002", "hall002")[0]
    assert settings(ctl, supervisor)["service.A.daily_cap"]["value"] == 400, "a supervisor reads"
    assert code_of(lambda: change(ctl, supervisor, "service.A.daily_cap", 40)) == "forbidden", "but never changes"
    staff = login(ctl, "s003", "hall003")[0]
    assert code_of(lambda: settings(ctl, staff)) == "forbidden"
    assert code_of(lambda: settings(ctl, "no-such-session")) == "session_invalid"


def test_a_cap_counts_from_the_next_ticket_and_is_audited(ctl: Controller, manager: str) -> None:
    issue(ctl, "A")
    got = change(ctl, manager, "service.A.daily_cap", 3)
    assert (got["service.A.daily_cap"]["value"], got["service.A.daily_cap"]["differs"]) == (3, True)
    assert got["service.A.daily_cap"]["changed_by"] == "s001"
    issue(ctl, "A")
    issue(ctl, "A")
    with pytest.raises(RpcFault) as err:
        issue(ctl, "A")
    assert err.value.code == "daily_cap_reached" and "每天3个" in err.value.message
    err2 = refusal(ctl, manager, "service.A.daily_cap", 2)
    assert err2.code == "cap_below_issued" and "3" in err2.message and "3" in err2.message_en
    assert refusal(ctl, manager, "service.A.daily_cap", 1000).code == "bad_value"
    assert refusal(ctl, manager, "service.A.daily_cap", "40").code == "bad_value"
    change(ctl, manager, "service.A.daily_cap", 4)
    issue(ctl, "A")
    assert audit_lines(ctl) == [("s001", "setting.set", "service.A.daily_cap", 400, 3),
                                ("s001", "setting.set", "service.A.daily_cap", 3, 4)]


def test_a_stale_version_is_refused_with_who_and_when(ctl: Controller, manager: str) -> None:
    other = login(ctl, "s001", "hall001", client="10.0.0.6")[0]  # the same manager on a second computer, or another
    seen = settings(ctl, manager)["service.B.daily_cap"]["version"]
    change(ctl, other, "service.B.daily_cap", 50, seen)
    with pytest.raises(RpcFault) as err:
        change(ctl, manager, "service.B.daily_cap", 60, seen)
    assert err.value.code == "conflict"
    assert "09:00" in err.value.message and "reload" in err.value.message_en
    assert settings(ctl, manager)["service.B.daily_cap"]["value"] == 50, "not written over"
    assert [x[4] for x in audit_lines(ctl)] == [50]


def test_a_service_closed_today_refuses_tickets_until_reopened_or_tomorrow(
    ctl: Controller, manager: str, clock: ManualClock, published: RecordingPublisher,
) -> None:
    change(ctl, manager, "service.E.open", False)
    queue = {q["code"]: q for q in published.state(ctl.topics.queue_state)["services"]}
    assert queue["E"]["closed_today"] is True and queue["A"]["closed_today"] is False, "the screens are told"
    with pytest.raises(RpcFault) as err:
        issue(ctl, "E")
    assert err.value.code == "service_closed" and "今天暂停取号" in err.value.message
    assert "today" in err.value.message_en
    issue(ctl, "A")  # the others are open
    assert settings(ctl, manager)["service.E.open"]["differs"] is True
    change(ctl, manager, "service.E.open", True)
    issue(ctl, "E")
    change(ctl, manager, "service.E.open", False)
    clock.advance(24 * 3600)
    issue(ctl, "E")  # a new hall day: open again
    assert settings(ctl, login(ctl, "s001", "hall001")[0])["service.E.open"]["value"] is True
    assert [x[3:] for x in audit_lines(ctl)] == [(True, False), (False, True), (True, False)]


def test_slots_are_checked_and_count_at_once(ctl: Controller, manager: str) -> None:
    overlap = [{"start": "08:00", "end": "12:00", "cap": 5}, {"start": "11:00", "end": "13:00", "cap": 5}]
    err = refusal(ctl, manager, "service.K.slots", overlap)
    assert err.code == "bad_slots" and "08:00-12:00" in err.message
    assert refusal(ctl, manager, "service.K.slots", [{"start": "8h", "end": "12:00", "cap": 5}]).code == "bad_slots"
    assert refusal(ctl, manager, "service.K.slots", [{"start": "12:00", "end": "08:00", "cap": 5}]).code == "bad_slots"
    assert refusal(ctl, manager, "service.K.slots", [{"start": "08:00", "end": "12:00"}]).code == "bad_slots"
    got = change(ctl, manager, "service.K.slots", [{"start": "13:00", "end": "17:00", "cap": 9},
                                                   {"start": "08:00", "end": "12:00", "cap": 1}])
    assert [s["start"] for s in got["service.K.slots"]["value"]] == ["08:00", "13:00"], "kept in order"
    issue(ctl, "K")  # 09:00: the morning slot's one ticket
    with pytest.raises(RpcFault) as full:
        issue(ctl, "K")
    assert full.value.code == "slot_full"


def test_a_window_serves_what_the_manager_says_from_the_next_call(ctl: Controller, manager: str,
                                                                  published: RecordingPublisher) -> None:
    assert refusal(ctl, manager, "window.2.services", []).code == "window_without_service"
    assert refusal(ctl, manager, "window.2.services", ["A", "Z"]).code == "unknown_service"
    assert refusal(ctl, manager, "window.2.services", "A").code == "bad_value"
    b = issue(ctl, "E")
    window_login(ctl, "2", "s002")
    with pytest.raises(RpcFault) as err:
        window_call(ctl, "call_next", "2")  # window 2 serves A, and only E waits
    assert err.value.code == "queue_empty"
    change(ctl, manager, "window.2.services", ["E"])
    state = window_call(ctl, "call_next", "2")
    assert state["ticket"]["number"] == b["number"]
    queue = published.state(ctl.topics.queue_state)
    assert {s["code"]: s["windows_open"] for s in queue["services"]}["E"] == 1, "the queue state was published again"
    assert published.state(ctl.topics.window_state("2"))["services"] == ["E"], "and the window's"


def test_a_calling_rule_is_checked_and_used(ctl: Controller, manager: str) -> None:
    assert refusal(ctl, manager, "window.1.rule", {"ratio": "two to one"}).code == "bad_rule"
    assert refusal(ctl, manager, "window.1.rule", {"mode": "random"}).code == "bad_rule"
    assert refusal(ctl, manager, "window.1.rule", {"mode": "weight", "weights": {"Q": 1}}).code == "unknown_service"
    change(ctl, manager, "window.1.rule", {"mode": "order", "only_when_empty": {"A": ["K"]}})
    c = issue(ctl, "A")
    f = issue(ctl, "K")
    window_login(ctl, "1", "s002")
    assert window_call(ctl, "call_next", "1")["ticket"]["number"] == f["number"], "A only when no K waits"
    window_call(ctl, "finish", "1")
    assert window_call(ctl, "call_next", "1")["ticket"]["number"] == c["number"]


def test_the_notice_is_checked_kept_as_text_and_retained(ctl: Controller, manager: str,
                                                         published: RecordingPublisher, config: HallConfig) -> None:
    ctl.publish_all()  # as the running controller does at start
    assert published.state(ctl.topics.hall_notice)["text"] == config.hall.notice, "hall.toml's at start"
    err = refusal(ctl, manager, "hall.notice", "长" * 201)
    assert err.code == "notice_too_long" and "201" in err.message
    assert refusal(ctl, manager, "hall.notice_en", "bell\x07").code == "bad_value"
    markup = "<b>x</b><script>alert(1)</script>"
    change(ctl, manager, "hall.notice", markup)
    change(ctl, manager, "hall.notice_en", "Closed on Friday afternoon.")
    notice = published.state(ctl.topics.hall_notice)
    assert (notice["text"], notice["text_en"]) == (markup, "Closed on Friday afternoon.")
    assert notice["version"] == 2
    assert audit_lines(ctl)[0][3:] == (config.hall.notice, markup)


def test_holidays_and_workdays_are_checked_and_move_deadlines(ctl: Controller, manager: str) -> None:
    cal = next(m for m in ctl.modules if isinstance(m, HallSettings)).calendar
    monday = dt.date(2026, 3, 9)
    assert cal.is_workday(monday)
    assert refusal(ctl, manager, "calendar.holidays", ["2026-02-30"]).code == "bad_date"
    assert refusal(ctl, manager, "calendar.holidays", ["9.3.2026"]).code == "bad_date"
    change(ctl, manager, "calendar.holidays", ["2026-03-09", "2026-03-09"])
    assert settings(ctl, manager)["calendar.holidays"]["value"] == ["2026-03-09"]
    assert not cal.is_workday(monday), "the cases' and ratings' calendar took it at once"
    err = refusal(ctl, manager, "calendar.workdays", ["2026-03-09"])
    assert err.code == "bad_date" and "2026-03-09" in err.message
    change(ctl, manager, "calendar.workdays", ["2026-03-08"])  # a Sunday worked
    assert cal.is_workday(dt.date(2026, 3, 8))


def test_an_unknown_key_is_refused(ctl: Controller, manager: str) -> None:
    assert code_of(lambda: change(ctl, manager, "service.Z.daily_cap", 4, 0)) == "unknown_setting"
    assert code_of(lambda: change(ctl, manager, "hall.name", "x", 0)) == "unknown_setting"


def test_settings_outlive_a_restart(config: HallConfig, clock: ManualClock, tmp_path: Path) -> None:
    first = build_controller(config, tmp_path / "data", clock=clock, hall_key=b"k" * 32,
                             factories=[admin_module], refresh_async=False)
    try:
        change(first, login(first, "s001", "hall001")[0], "service.A.daily_cap", 1)
        issue(first, "A")
    finally:
        first.close()
    again = build_controller(config, tmp_path / "data", clock=clock, hall_key=b"k" * 32,
                             factories=[admin_module], refresh_async=False)
    try:
        assert code_of(lambda: issue(again, "A")) == "daily_cap_reached"
    finally:
        again.close()


def signed(broker: LocalBroker, hall: str, node: str, role: str, key: str, buses: list[BusClient]) -> RpcClient:
    """An RPC client of a node that signs its requests with its node key (kept in `buses` to stop)."""
    bus = BusClient(hall=hall, node=node, role=role, broker=parse_broker_url(broker.url))
    buses.append(bus)
    assert bus.start(wait=10)
    rpc_client = RpcClient(bus, node_key=bytes.fromhex(key))
    assert bus.wait_subscribed(rpc_client.reply_topic, 10)
    return rpc_client


def test_only_the_web_node_may_change_settings(broker: LocalBroker, tmp_path: Path) -> None:
    """The broker ACL gives the methods to the `web` role alone, and the controller's node guard refuses others."""
    assert {r for r, methods in ROLE_METHODS.items() if "admin.settings.set" in methods} == {"web"}
    assert {r for r, methods in ROLE_METHODS.items() if "admin.settings" in methods} == {"web"}
    keys = {"web": secrets.token_hex(32), "terminal-1": secrets.token_hex(32)}
    (tmp_path / "node-keys.json").write_text(json.dumps(keys))
    path, _cfg = open_all_day(tmp_path, extra="")
    text = with_roles(path.read_text()).replace(
        f'key_file = "{tmp_path / "hall.key"}"',
        f'key_file = "{tmp_path / "hall.key"}"\nnode_keys_file = "{tmp_path / "node-keys.json"}"',
    )
    _path, cfg = open_all_day(tmp_path, text=text)
    app = HallController(cfg, data_dir=tmp_path / "data", broker=parse_broker_url(broker.url), tick_s=0.2)
    assert app.start(wait=10)
    buses: list[BusClient] = []
    try:
        web, terminal = (signed(broker, cfg.hall.id, node, role, keys[node], buses)
                         for node, role in (("web", "web"), ("terminal-1", "terminal")))
        token = secrets.token_urlsafe(32)
        web.call("admin.login", {"staff": "s001", "password": "hall001", "client": "10.0.0.1",
                                 "session_hash": hashlib.sha256(token.encode()).hexdigest()})
        body = {"session": token, "key": "service.A.daily_cap", "value": 1, "version": 0}
        with pytest.raises(RpcFault) as err:
            terminal.call("admin.settings.set", body)
        assert err.value.code == "forbidden"
        terminal.call("ticket.issue", {"service": "A"})
        terminal.call("ticket.issue", {"service": "A"})  # the cap is still hall.toml's
        got = web.call("admin.settings.set", {**body, "value": 2})
        assert {s["key"]: s["value"] for s in got["settings"]}["service.A.daily_cap"] == 2
        with pytest.raises(RpcFault) as capped:
            terminal.call("ticket.issue", {"service": "A"})
        assert capped.value.code == "daily_cap_reached"
    finally:
        for b in buses:
            b.stop()
        app.stop()



def test_within_one_batch_the_next_request_sees_the_change(ctl: Controller, manager: str) -> None:
    """Requests of one batch share a transaction: a ticket after the change counts with the new cap, one before not."""
    set_cap = request("admin.settings.set", {"session": manager, "key": "service.A.daily_cap", "value": 2,
                                             "version": 0}, caller="web")
    stale = request("admin.settings.set", {"session": manager, "key": "service.A.daily_cap", "value": 5,
                                           "version": 0}, caller="web")  # the same page's second click
    replies = ctl.handle_batch([request("ticket.issue", {"service": "A"}), set_cap,
                                request("ticket.issue", {"service": "A"}), stale,
                                request("ticket.issue", {"service": "A"})])
    ctl.after_replies()
    assert [r.ok for r in replies] == [True, True, True, False, False]
    assert replies[3].error is not None and replies[3].error.code == "conflict"
    assert replies[4].error is not None and replies[4].error.code == "daily_cap_reached"


def test_a_stored_value_hall_toml_no_longer_fits_gives_way_to_hall_toml(config: HallConfig) -> None:
    """A manager's window settings name service K; then K is taken out of hall.toml: the hall still starts, with
    hall.toml's values where the stored ones no longer fit."""
    without_k = msgspec.structs.replace(
        config, services=[s for s in config.services if s.code != "K"],
        windows=[msgspec.structs.replace(w, services=[c for c in w.services if c != "K"]) for w in config.windows],
    )
    rows = {
        "window.1.services": Row(["K"], 1, T0.isoformat(), "s001"),
        "window.2.services": Row(["E", "K"], 2, T0.isoformat(), "s001"),
        "window.1.rule": Row({"only_when_empty": {"A": ["K"]}}, 3, T0.isoformat(), "s001"),
        "window.3.rule": Row({"mode": "lottery"}, 4, T0.isoformat(), "s001"),
    }
    effective, _closed = apply_rows(without_k, rows)
    layout = QueueLayout(effective)  # what the controller builds from it: no error
    assert layout.window("1").services == ["A"] and layout.window("1").rule == without_k.window("1").rule
    assert layout.window("2").services == ["E"]
    assert layout.window("3").rule == without_k.window("3").rule
