"""Counter actions without a broker: login, calls, recall, no-show, hold, call back, transfer, finish, pause."""

from __future__ import annotations

from typing import Any

import pytest

from hallbus.controller.clock import ManualClock
from hallbus.controller.controller import Controller
from hallbus.controller.module import ControllerModule, QueueEvent, Tx
from hallbus.rpc import RpcFault
from tests.hallbus.controller.helpers import (
    HALL,
    RecordingPublisher,
    call,
    elder,
    id_card,
    issue,
    login,
    window_call,
)

CALLS = f"hall/v1/{HALL}/calls"


def fault(fn: object, *args: object, **kw: object) -> RpcFault:
    with pytest.raises(RpcFault) as info:
        fn(*args, **kw)  # type: ignore[operator]
    return info.value


def status_of(ctl: Controller, number: str) -> str:
    return str(ctl.store.conn.execute("SELECT status FROM tickets WHERE number = ?", (number,)).fetchone()[0])


def test_login_by_password_and_by_badge(ctl: Controller) -> None:
    st = login(ctl, "1", "s001")
    assert st["status"] == "idle" and st["staff"]["name"] == "李明" and st["staff"]["id"] == "s001"
    st = window_call(ctl, "login", "2", badge_uid="04:A1:B2:C3:02:07:80")
    assert st["staff"]["id"] == "s002"
    # a `staff` alone is read as a badge UID (SPEC: "badge UID or id + password")
    st = window_call(ctl, "login", "3", staff="04a1b2c3030e80")
    assert st["staff"]["id"] == "s003"


@pytest.mark.parametrize("body", [
    {"staff": "s001", "password": "wrong"},
    {"staff": "nobody", "password": "hall001"},
    {"badge_uid": "ffffffff"},
    {},
])
def test_login_failures_say_the_same_thing(ctl: Controller, body: dict[str, Any]) -> None:
    f = fault(window_call, ctl, "login", "1", **body)
    assert f.code == "login_failed" and f.message and f.message_en


def test_unknown_window_and_not_logged_in(ctl: Controller) -> None:
    assert fault(window_call, ctl, "call_next", "99").code == "unknown_window"
    assert fault(window_call, ctl, "call_next", "1").code == "not_logged_in"
    for action in ("recall", "no_show", "hold", "finish", "logout", "resume"):
        assert fault(window_call, ctl, action, "1").code == "not_logged_in"
    assert fault(window_call, ctl, "pause", "1", reason="x").code == "not_logged_in"


def test_call_next_calls_and_announces(ctl: Controller, published: RecordingPublisher) -> None:
    login(ctl, "3", "s003")
    assert fault(window_call, ctl, "call_next", "3").code == "queue_empty"
    issue(ctl, "B", id_card=id_card("1", "王*"))
    st = window_call(ctl, "call_next", "3")
    assert st["status"] == "serving" and st["ticket"]["number"] == "B001" and st["ticket"]["attempt"] == 1
    (ev,) = published.events_on(CALLS)
    assert ev["text"] == "请B001号到3号窗口办理"
    assert ev["text_en"] == "Number B001, please go to Window 3."
    assert ev["name_masked"] == "王*" and ev["attempt"] == 1 and ev["window_name"] == "3号窗口"
    recent = published.state(f"hall/v1/{HALL}/calls/recent")
    assert [c["ticket"] for c in recent["calls"]] == ["B001"]
    assert published.state(f"hall/v1/{HALL}/window/3/state")["ticket"]["number"] == "B001"
    # the window is busy until the ticket is finished, held, transferred or marked absent
    issue(ctl, "B", id_card=id_card("2"))
    f = fault(window_call, ctl, "call_next", "3")
    assert f.code == "window_busy" and "B001" in f.message


def test_calls_recent_keeps_the_last_ten_newest_first(ctl: Controller, published: RecordingPublisher) -> None:
    login(ctl, "9", "s009")
    for _ in range(12):
        issue(ctl, "E")
    for _ in range(12):
        window_call(ctl, "call_next", "9")
        window_call(ctl, "finish", "9")
    recent = published.state(f"hall/v1/{HALL}/calls/recent")["calls"]
    assert [c["ticket"] for c in recent] == [f"E{n:03d}" for n in range(12, 2, -1)]


def test_recall_counts_attempts_up_to_the_limit(ctl: Controller, published: RecordingPublisher) -> None:
    login(ctl, "9", "s009")
    issue(ctl, "E")
    window_call(ctl, "call_next", "9")
    for attempt in (2, 3, 4):
        st = window_call(ctl, "recall", "9")
        assert st["ticket"]["attempt"] == attempt
    f = fault(window_call, ctl, "recall", "9")
    assert f.code == "recall_limit" and "3" in f.message
    assert [e["attempt"] for e in published.events_on(CALLS)] == [1, 2, 3, 4]


def test_no_show_closes_the_ticket(ctl: Controller) -> None:
    login(ctl, "9", "s009")
    issue(ctl, "E")
    window_call(ctl, "call_next", "9")
    st = window_call(ctl, "no_show", "9")
    assert st["status"] == "idle" and st["ticket"] is None
    assert status_of(ctl, "E001") == "no_show"
    assert fault(window_call, ctl, "no_show", "9").code == "no_current_ticket"


def test_hold_and_call_back(ctl: Controller, published: RecordingPublisher) -> None:
    login(ctl, "9", "s009")
    issue(ctl, "E")
    issue(ctl, "E")
    window_call(ctl, "call_next", "9")
    st = window_call(ctl, "hold", "9")
    assert st["status"] == "idle" and [t["number"] for t in st["held"]] == ["E001"]
    window_call(ctl, "call_next", "9")  # E002
    assert fault(window_call, ctl, "call_back", "9", ticket="E001").code == "window_busy"
    window_call(ctl, "finish", "9")
    assert fault(window_call, ctl, "call_back", "9", ticket="E002").code == "ticket_not_held"
    st = window_call(ctl, "call_back", "9", ticket="e001")
    assert st["ticket"]["number"] == "E001" and st["held"] == []
    assert published.events_on(CALLS)[-1]["ticket"] == "E001"
    # a ticket held at one window cannot be called back at another
    window_call(ctl, "hold", "9")
    login(ctl, "10", "s010")
    assert fault(window_call, ctl, "call_back", "10", ticket="E001").code == "ticket_not_held"


def test_logout_returns_held_tickets_to_the_front(ctl: Controller) -> None:
    login(ctl, "9", "s009")
    for _ in range(3):
        issue(ctl, "E")
    window_call(ctl, "call_next", "9")
    window_call(ctl, "hold", "9")
    window_call(ctl, "logout", "9")
    assert status_of(ctl, "E001") == "waiting"
    login(ctl, "9", "s009")
    assert window_call(ctl, "call_next", "9")["ticket"]["number"] == "E001"
    assert fault(window_call, ctl, "logout", "9").code == "window_busy"


def test_transfer_to_a_service_at_the_end_or_the_front(ctl: Controller) -> None:
    login(ctl, "1", "s001")
    login(ctl, "9", "s009")
    issue(ctl, "A")
    for _ in range(2):
        issue(ctl, "E")
    window_call(ctl, "call_next", "1")  # A001
    st = window_call(ctl, "transfer", "1", to_service="E", position="end")
    assert st["ticket"] is None and st["status"] == "idle"
    assert [window_call(ctl, "call_next", "9")["ticket"]["number"]] == ["E001"]
    window_call(ctl, "finish", "9")
    issue(ctl, "A")
    window_call(ctl, "call_next", "1")  # A002
    window_call(ctl, "transfer", "1", to_service="E", position="front")
    order = []
    for _ in range(3):
        order.append(window_call(ctl, "call_next", "9")["ticket"]["number"])
        window_call(ctl, "finish", "9")
    assert order == ["A002", "E002", "A001"]


def test_transfer_to_a_window(ctl: Controller) -> None:
    login(ctl, "1", "s001")
    login(ctl, "9", "s009")
    issue(ctl, "E")
    issue(ctl, "A")
    window_call(ctl, "call_next", "1")
    st9 = window_call(ctl, "transfer", "1", to_window="9")
    assert st9["ticket"] is None
    t = call(ctl, "ticket.status", {"number": "A001"})["ticket"]
    assert t["window"] == "9" and t["status"] == "waiting"
    # window 9 serves E, but the ticket sent to it comes first
    assert window_call(ctl, "call_next", "9")["ticket"]["number"] == "A001"
    assert fault(window_call, ctl, "transfer", "9", to_window="9").code == "transfer_to_self"
    assert fault(window_call, ctl, "transfer", "9").code == "transfer_target_required"
    assert fault(window_call, ctl, "transfer", "9", to_window="1", to_service="A").code == "transfer_target_required"
    assert fault(window_call, ctl, "transfer", "9", to_service="Z").code == "unknown_service"
    assert fault(window_call, ctl, "transfer", "9", to_window="77").code == "unknown_window"


def test_finish_opens_a_rating_request_that_expires(
    ctl: Controller, clock: ManualClock, published: RecordingPublisher
) -> None:
    login(ctl, "9", "s009")
    issue(ctl, "E")
    window_call(ctl, "call_next", "9")
    clock.advance(30)
    st = window_call(ctl, "finish", "9")
    rr = st["rating_request"]
    assert rr["ticket"] == "E001" and rr["staff"] == "s009"
    assert rr["expires_at"] == "2026-03-03T09:02:30.000+08:00"  # [ratings] request_ttl_s = 120
    assert status_of(ctl, "E001") == "done"
    clock.advance(119)
    ctl.tick()
    assert published.state(f"hall/v1/{HALL}/window/9/state")["rating_request"] is not None
    clock.advance(2)
    ctl.tick()
    assert published.state(f"hall/v1/{HALL}/window/9/state")["rating_request"] is None


def test_pause_and_resume(ctl: Controller, published: RecordingPublisher) -> None:
    login(ctl, "9", "s009")
    issue(ctl, "E")
    st = window_call(ctl, "pause", "9", reason="午休")
    assert st["status"] == "paused" and st["pause_reason"] == "午休"
    assert published.state(f"hall/v1/{HALL}/window/9/state")["status"] == "paused"
    assert fault(window_call, ctl, "call_next", "9").code == "window_paused"
    qs = published.state(f"hall/v1/{HALL}/queue/state")
    assert next(s for s in qs["services"] if s["code"] == "E")["windows_open"] == 0
    st = window_call(ctl, "resume", "9")
    assert st["status"] == "idle" and st["pause_reason"] is None
    assert fault(window_call, ctl, "resume", "9").code == "not_paused"
    window_call(ctl, "call_next", "9")
    assert fault(window_call, ctl, "pause", "9", reason="x").code == "window_busy"


def test_one_window_per_person(ctl: Controller) -> None:
    """Signed in at window 1, the same person (password or badge) is refused at window 2, told where they are."""
    login(ctl, "1", "s001")
    for body in ({"staff": "s001", "password": "hall001"}, {"badge_uid": "04a1b2c3010080"}):
        f = fault(window_call, ctl, "login", "2", **body)
        assert f.code == "staff_busy"
        assert "1号窗口" in f.message and "李明" in f.message and "Window 1" in f.message_en
        assert "办结" not in f.message
    assert fault(window_call, ctl, "call_next", "2").code == "not_logged_in"
    # window 1 is untouched: still signed in, and serving once it calls
    issue(ctl, "A")
    assert window_call(ctl, "call_next", "1")["ticket"]["number"] == "A001"
    f = fault(login, ctl, "2", "s001")
    assert f.code == "staff_busy" and "办结" in f.message and "finish the ticket open there" in f.message_en
    # logged out at the first window, the person may sit down at the second
    window_call(ctl, "finish", "1")
    window_call(ctl, "logout", "1")
    assert login(ctl, "2", "s001")["staff"]["id"] == "s001"


def test_window_display_shows_next_numbers_by_its_rule(ctl: Controller, published: RecordingPublisher) -> None:
    login(ctl, "3", "s003")  # B then A, A only when B is empty, 2:1
    issue(ctl, "A")
    issue(ctl, "A", channel="green", id_card=elder("9"))
    issue(ctl, "B", id_card=id_card("1"))
    issue(ctl, "B", id_card=id_card("2"))
    st = published.state(f"hall/v1/{HALL}/window/3/state")
    assert st["next_numbers"] == ["B001", "B002", "A002", "A001"]
    order = []
    for _ in range(4):
        order.append(window_call(ctl, "call_next", "3")["ticket"]["number"])
        window_call(ctl, "finish", "3")
    assert order == st["next_numbers"]


class Recorder(ControllerModule):
    """A feature module that hears queue events (as the ratings module will)."""

    name = "recorder"
    migrations = ("CREATE TABLE heard (kind TEXT, number TEXT, window TEXT, rating_request TEXT)",)

    def on_queue_event(self, tx: Tx, event: QueueEvent) -> None:
        rr = event.rating_request.request_id if event.rating_request else None
        tx.execute("INSERT INTO heard VALUES (?, ?, ?, ?)", (event.kind, event.ticket.number, event.window, rr))


def test_modules_hear_queue_events_in_the_same_transaction(ctl: Controller) -> None:
    rec = Recorder()
    ctl.store.migrate(rec.name, rec.migrations)
    ctl.modules.append(rec)
    login(ctl, "9", "s009")
    issue(ctl, "E")
    window_call(ctl, "call_next", "9")
    st = window_call(ctl, "finish", "9")
    heard = ctl.store.conn.execute("SELECT kind, number, window, rating_request FROM heard").fetchall()
    assert heard == [
        ("issued", "E001", None, None),
        ("called", "E001", "9", None),
        ("finished", "E001", "9", st["rating_request"]["request_id"]),
    ]
