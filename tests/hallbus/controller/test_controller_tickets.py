"""Tickets without a broker: numbering, caps, slots, hours, real-name rules, position, idempotency."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import msgspec
import pytest

from hallbus.config import HallConfig, Slot, TicketLimitsSection
from hallbus.controller.app import build_controller
from hallbus.controller.clock import HallTime, ManualClock
from hallbus.controller.controller import Controller
from hallbus.controller.issue_pace import IssuePace
from hallbus.rpc import RpcFault
from tests.hallbus.controller.helpers import (
    T0,
    TZ,
    RecordingPublisher,
    call,
    elder,
    id_card,
    issue,
    login,
    make_config,
    request,
    window_call,
)


def fault(fn: object, *args: object, **kw: object) -> RpcFault:
    with pytest.raises(RpcFault) as info:
        fn(*args, **kw)  # type: ignore[operator]
    return info.value


def count_tickets(ctl: Controller) -> int:
    return int(ctl.store.conn.execute("SELECT COUNT(*) FROM tickets").fetchone()[0])


def test_numbers_count_up_per_service(ctl: Controller) -> None:
    numbers = [issue(ctl, s)["number"] for s in "AAKAEA"]
    assert numbers == ["A001", "A002", "K001", "A003", "E001", "A004"]


def test_ticket_carries_track_url_and_service_name(ctl: Controller) -> None:
    t = issue(ctl, "A")
    assert t["track_url"] == f"https://zwfw.example.gov.cn/t/{t['ticket_id']}"
    assert t["ticket_id"].startswith("20260303-a001-")
    assert t["service_name"] == "综合受理"
    assert t["issued_at"].startswith("2026-03-03T09:00:00") and t["issued_at"].endswith("+08:00")


def test_unknown_service(ctl: Controller) -> None:
    f = fault(issue, ctl, "Z")
    assert f.code == "unknown_service" and "Z" in f.message and f.message_en


def test_ahead_and_estimated_wait(ctl: Controller, clock: ManualClock) -> None:
    for _ in range(3):
        issue(ctl, "A")
    t = issue(ctl, "A")
    assert t["ahead"] == 3
    # no window open, no service history: configured 360 s per person, one window assumed
    assert t["est_wait_s"] == 3 * 360
    login(ctl, "1", "s001")
    login(ctl, "2", "s002")
    assert call(ctl, "ticket.status", {"number": t["number"]})["ticket"]["est_wait_s"] == 3 * 360 // 2
    # recent service times replace the configured average
    window_call(ctl, "call_next", "1")
    clock.advance(100)
    window_call(ctl, "finish", "1")
    st = call(ctl, "ticket.status", {"number": t["number"]})["ticket"]
    assert st["ahead"] == 2
    assert st["est_wait_s"] == 2 * 100 // 2


def test_priority_ticket_is_ahead_of_normal_ones(ctl: Controller) -> None:
    issue(ctl, "A")
    issue(ctl, "A")
    green = issue(ctl, "A", channel="green", id_card=elder("7"))
    assert green["ahead"] == 0
    late = issue(ctl, "A")
    assert late["ahead"] == 3


def test_daily_cap_stops_walk_ins_but_not_appointments(ctl: Controller, config: object) -> None:
    svc = ctl.queue.services["E"]
    svc.daily_cap = 2
    issue(ctl, "E")
    issue(ctl, "E")
    f = fault(issue, ctl, "E")
    assert f.code == "daily_cap_reached" and "2" in f.message
    assert issue(ctl, "E", channel="green", id_card=elder("7"))["number"] == "E003"
    appointment = ctl.run_tx(lambda tx: ctl.queue.issue(tx, service="E", channel="appointment"))
    assert appointment.number == "E004"  # as `appointment.checkin` issues it


def test_a_priority_channel_is_never_self_declared(ctl: Controller) -> None:
    for body in ({}, {"id_card": id_card("1")}, {"id_card": elder("2", birth="1990-01-01")},
                 {"id_card": elder("3", birth="not a date")}):
        f = fault(issue, ctl, "A", channel="green", **body)
        assert f.code == "channel_refused" and "70" in f.message
    # 70 on the hall day itself (T0 is 2026-03-03): in; a day short: out.
    assert issue(ctl, "A", channel="green", id_card=elder("4", birth="1956-03-03"))["channel"] == "green"
    assert fault(issue, ctl, "A", channel="green", id_card=elder("5", birth="1956-03-04")).code == "channel_refused"
    f = fault(issue, ctl, "A", channel="appointment", id_card=elder("6"))
    assert f.code == "channel_refused" and "预约签到" in f.message
    assert issue(ctl, "A")["number"] == "A002"  # nothing was issued for the refused ones


def test_when_the_999_numbers_run_out_the_message_says_so(ctl: Controller) -> None:
    ctl.queue.services["E"].daily_cap = 999
    ctl.run_tx(lambda tx: [ctl.queue.issue(tx, service="E") for _ in range(999)])
    for body in ({}, {"channel": "green", "id_card": elder("1")}):
        f = fault(issue, ctl, "E", **body)
        assert f.code == "numbers_exhausted" and "999个号码" in f.message and "999 ticket numbers" in f.message_en


def test_time_slot_quota(tmp_path: Path) -> None:
    cfg = make_config(tmp_path)
    svc = next(s for s in cfg.services if s.code == "B")
    svc.hours = ["08:30-12:00", "13:30-17:30"]
    svc.slots = [Slot(start="08:30", end="12:00", cap=2), Slot(start="13:30", end="17:30", cap=1)]
    clock = ManualClock(T0)
    ctl = build_controller(cfg, tmp_path / "d", clock=clock, hall_key=b"k" * 32, factories=[], refresh_async=False)
    try:
        issue(ctl, "B", id_card=id_card("1"))
        issue(ctl, "B", id_card=id_card("2"))
        f = fault(issue, ctl, "B", id_card=id_card("3"))
        assert f.code == "slot_full" and "08:30-12:00" in f.message
        clock.set(T0.replace(hour=14))
        assert issue(ctl, "B", id_card=id_card("3"))["number"] == "B003"
        assert fault(issue, ctl, "B", id_card=id_card("4")).code == "slot_full"
    finally:
        ctl.close()


def test_opening_hours(tmp_path: Path) -> None:
    cfg = make_config(tmp_path, all_day=False)
    clock = ManualClock(T0.replace(hour=12, minute=30))
    ctl = build_controller(cfg, tmp_path / "d", clock=clock, hall_key=b"k" * 32, factories=[], refresh_async=False)
    try:
        f = fault(issue, ctl, "A")
        assert f.code == "service_closed"
        assert "08:30-12:00" in f.message and "13:30-17:30" in f.message and "13:30-17:30" in f.message_en
        clock.set(T0.replace(hour=13, minute=30))
        assert issue(ctl, "A")["number"] == "A001"
        clock.set(T0.replace(hour=17, minute=15))
        assert fault(issue, ctl, "G", id_card=id_card("1")).code == "service_closed"  # G closes at 17:00
        assert issue(ctl, "C", id_card=id_card("1"))["number"] == "C001"
    finally:
        ctl.close()


def test_real_name_service_needs_a_card(ctl: Controller) -> None:
    f = fault(issue, ctl, "C")
    assert f.code == "id_card_required"


def test_one_open_ticket_per_person_per_service(ctl: Controller) -> None:
    first = issue(ctl, "C", id_card=id_card("1"))
    f = fault(issue, ctl, "C", id_card=id_card("1"))
    assert f.code == "already_in_queue" and first["number"] in f.message
    assert issue(ctl, "D", id_card=id_card("1"))["number"] == "D001"  # another service is fine
    assert issue(ctl, "C", id_card=id_card("2"))["number"] == "C002"  # another person is fine
    login(ctl, "5", "s005")
    window_call(ctl, "call_next", "5")
    window_call(ctl, "finish", "5")
    assert issue(ctl, "C", id_card=id_card("1"))["number"] == "C003"  # once served, again


def test_daily_limit_per_person_across_services(ctl: Controller) -> None:
    for s in "BCDFG":
        issue(ctl, s, id_card=id_card("7"))
    f = fault(issue, ctl, "H", id_card=id_card("7"))
    assert f.code == "person_daily_limit" and "5" in f.message


def test_no_show_blocks_the_person_for_a_while(ctl: Controller, clock: ManualClock) -> None:
    issue(ctl, "C", id_card=id_card("9"))
    login(ctl, "5", "s005")
    window_call(ctl, "call_next", "5")
    window_call(ctl, "no_show", "5")
    clock.advance(10 * 60)
    f = fault(issue, ctl, "C", id_card=id_card("9"))
    assert f.code == "no_show_blocked" and "20" in f.message
    clock.advance(20 * 60 + 1)
    assert issue(ctl, "C", id_card=id_card("9"))["number"] == "C002"


def test_ticket_status_by_number_and_id(ctl: Controller) -> None:
    a = issue(ctl, "A")
    b = issue(ctl, "A")
    by_number = call(ctl, "ticket.status", {"number": "a002"})["ticket"]
    assert by_number["number"] == b["number"] and by_number["ahead"] == 1
    assert by_number["ticket_id"] == "" == by_number["track_url"]  # a number does not prove the ticket: no id
    by_id = call(ctl, "ticket.status", {"ticket_id": a["ticket_id"]})["ticket"]
    assert by_id["number"] == "A001" and by_id["status"] == "waiting" and by_id["ticket_id"] == a["ticket_id"]
    assert fault(call, ctl, "ticket.status", {"number": "A999"}).code == "unknown_ticket"
    assert fault(call, ctl, "ticket.status", {}).code == "bad_request"


def test_a_repeated_request_id_gets_the_first_answer_and_changes_nothing(ctl: Controller) -> None:
    first = call(ctl, "ticket.issue", {"service": "A"}, request_id="r-1")
    again = call(ctl, "ticket.issue", {"service": "A"}, request_id="r-1")
    assert again == first
    assert count_tickets(ctl) == 1
    # also within one batch
    replies = ctl.handle_batch([request("ticket.issue", {"service": "A"}, request_id="r-2")] * 3)
    assert len({msgspec.json.encode(r.data) for r in replies}) == 1
    assert count_tickets(ctl) == 2


def test_an_error_answer_is_remembered_too(ctl: Controller) -> None:
    assert fault(call, ctl, "ticket.issue", {"service": "C"}, request_id="r-9").code == "id_card_required"
    assert fault(call, ctl, "ticket.issue", {"service": "C"}, request_id="r-9").code == "id_card_required"


def test_one_failing_request_does_not_undo_its_batch(ctl: Controller) -> None:
    batch = [
        request("ticket.issue", {"service": "A"}),
        request("ticket.issue", {"service": "C"}),  # fails: real name
        request("ticket.issue", {"service": "A"}),
        request("window.call_next", {"window": "1"}),  # fails: not logged in
    ]
    replies = ctl.handle_batch(batch)
    assert [r.ok for r in replies] == [True, False, True, False]
    assert replies[1].error is not None and replies[1].error.code == "id_card_required"
    assert replies[3].error is not None and replies[3].error.code == "not_logged_in"
    assert count_tickets(ctl) == 2
    assert replies[2].data is not None and replies[2].data["ticket"]["number"] == "A002"


def test_a_bug_in_a_handler_rolls_back_only_that_request(ctl: Controller) -> None:
    def broken(_req: object, tx: object) -> dict[str, object]:
        ctl.queue.issue(tx, service="A")  # type: ignore[arg-type]
        raise ZeroDivisionError

    ctl.handlers["ticket.status"] = broken  # type: ignore[assignment]
    replies = ctl.handle_batch([request("ticket.status", {"number": "A001"}), request("ticket.issue", {"service": "A"})])
    assert replies[0].error is not None and replies[0].error.code == "internal_error"
    assert replies[1].ok and replies[1].data is not None and replies[1].data["ticket"]["number"] == "A001"
    assert count_tickets(ctl) == 1


def test_numbers_are_durable_across_a_reopen(tmp_path: Path) -> None:
    cfg = make_config(tmp_path)
    clock = ManualClock(T0)
    ctl = build_controller(cfg, tmp_path / "d", clock=clock, hall_key=b"k" * 32, factories=[], refresh_async=False)
    issue(ctl, "A")
    first = call(ctl, "ticket.issue", {"service": "A"}, request_id="same")
    ctl.close()
    pub = RecordingPublisher()
    ctl = build_controller(cfg, tmp_path / "d", clock=clock, publisher=pub, hall_key=b"k" * 32, factories=[], refresh_async=False)
    try:
        assert call(ctl, "ticket.issue", {"service": "A"}, request_id="same") == first
        assert issue(ctl, "A")["number"] == "A003"
    finally:
        ctl.close()


def test_business_day_before_the_rollover_hour_is_yesterday(config: HallConfig) -> None:
    hall = HallTime.of(config)
    assert hall.business_day(dt.datetime(2026, 3, 4, 2, 59, tzinfo=TZ)) == dt.date(2026, 3, 3)
    assert hall.business_day(dt.datetime(2026, 3, 4, 3, 0, tzinfo=TZ)) == dt.date(2026, 3, 4)


def test_a_waiting_ticket_says_how_many_open_windows_can_call_it(ctl: Controller) -> None:
    """Issue 16, item 2: the controller's one computation carries whether any window can call the
    ticket, so no screen and no printed ticket promises 无需等待 with every window closed."""
    t = issue(ctl, "A")
    assert (t["ahead"], t["windows_open"]) == (0, 0)  # nobody logged in at windows 1 or 2
    login(ctl, "1", "s001")
    login(ctl, "2", "s002")
    assert call(ctl, "ticket.status", {"number": t["number"]})["ticket"]["windows_open"] == 2
    window_call(ctl, "pause", "2", reason="午休")
    assert call(ctl, "ticket.status", {"number": t["number"]})["ticket"]["windows_open"] == 1
    window_call(ctl, "call_next", "1")
    called = call(ctl, "ticket.status", {"number": t["number"]})["ticket"]
    assert called["windows_open"] == -1  # no longer waiting: nothing to compute


def test_the_pace_of_a_terminal_survives_a_clock_step_back() -> None:
    pace = IssuePace(TicketLimitsSection(per_minute=6, burst=3))
    now = 1_000_000.0
    for _ in range(3):
        assert pace.wait_s("terminal-1", now) == 0
        pace.took("terminal-1", now)
    assert pace.wait_s("terminal-1", now) == 10 and pace.wait_s("terminal-2", now) == 0
    # The clock steps back an hour (NTP): the terminal waits one interval, not an hour.
    assert pace.wait_s("terminal-1", now - 3600) == 10
    assert pace.wait_s("terminal-1", now - 3600 + 10) == 0
    assert IssuePace(TicketLimitsSection(per_minute=0)).wait_s("terminal-1", now) == 0


def test_the_holder_leaves_the_queue_and_those_behind_move_up(ctl: Controller, published: RecordingPublisher) -> None:
    first, second = issue(ctl, "A"), issue(ctl, "A")
    assert call(ctl, "ticket.status", {"ticket_id": second["ticket_id"]})["ticket"]["ahead"] == 1
    left = call(ctl, "ticket.cancel", {"ticket_id": first["ticket_id"]})["ticket"]
    assert left["status"] == "cancelled" and left["number"] == "A001"
    assert call(ctl, "ticket.status", {"ticket_id": second["ticket_id"]})["ticket"]["ahead"] == 0
    queue = published.state(f"hall/v1/{ctl.config.hall.id}/queue/state")
    assert next(s for s in queue["services"] if s["code"] == "A")["waiting"] == 1
    again = fault(call, ctl, "ticket.cancel", {"ticket_id": first["ticket_id"]})
    assert again.code == "ticket_not_waiting"
    assert fault(call, ctl, "ticket.cancel", {"ticket_id": "20260303-a999-0000000000000000"}).code == "unknown_ticket"


def test_a_called_ticket_cannot_leave_the_queue(ctl: Controller) -> None:
    t = issue(ctl, "A")
    login(ctl, "1")
    window_call(ctl, "call_next", "1")
    err = fault(call, ctl, "ticket.cancel", {"ticket_id": t["ticket_id"]})
    assert err.code == "ticket_not_waiting" and "窗口" in err.message
    assert call(ctl, "ticket.status", {"ticket_id": t["ticket_id"]})["ticket"]["status"] == "called"


def test_many_tickets_by_id_in_one_request_unknown_ones_left_out(ctl: Controller) -> None:
    a, b = issue(ctl, "A"), issue(ctl, "A")
    got = call(ctl, "ticket.statuses", {"ticket_ids": [b["ticket_id"], "nonsense", a["ticket_id"]]})["tickets"]
    assert [(t["number"], t["ahead"], t["ticket_id"]) for t in got] == [
        ("A002", 1, b["ticket_id"]), ("A001", 0, a["ticket_id"])
    ]
    too_many = fault(call, ctl, "ticket.statuses", {"ticket_ids": [a["ticket_id"]] * 501})
    assert too_many.code == "too_many_ids"


def test_many_tickets_at_once_stand_where_each_alone_stands(ctl: Controller) -> None:
    """`ticket.statuses` ranks each queue once; every figure equals `ticket.status` of the ticket alone."""
    tickets = [issue(ctl, "A") for _ in range(4)] + [issue(ctl, "A", channel="green", id_card=elder("9")), issue(ctl, "K"), issue(ctl, "K")]
    login(ctl, "1")
    login(ctl, "2", "s002")
    window_call(ctl, "call_next", "1")
    window_call(ctl, "transfer", "1", to_window="2")  # now waiting for window 2 alone (a targeted queue)
    window_call(ctl, "call_next", "1")
    ids = [t["ticket_id"] for t in tickets]
    together = call(ctl, "ticket.statuses", {"ticket_ids": ids})["tickets"]
    alone = [call(ctl, "ticket.status", {"ticket_id": tid})["ticket"] for tid in ids]
    assert together == alone
    assert {t["ahead"] for t in alone if t["status"] == "waiting"} >= {0, 1}
    assert any(t["window"] == "2" and t["status"] == "waiting" for t in alone), "no targeted ticket in the mix"
