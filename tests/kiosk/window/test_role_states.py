"""The four roles' Qt-free states on their own: merging calls, flashing, tablet rules, counter buttons."""

from __future__ import annotations

from typing import Any

from hallbus import schemas
from hallbus.config import load_config
from kiosk.common.i18n import Catalogue
from kiosk.counter.state import CounterState
from kiosk.hall.state import HallScreenState
from kiosk.tablet.state import TabletState
from kiosk.window.state import WindowDisplayState, choose_layout

CFG = load_config()
CAT = Catalogue()
TS = "2026-03-03T09:00:00.000+08:00"


def call(ticket: str, window: str, ts: str = TS, attempt: int = 1) -> schemas.Call:
    return schemas.Call(
        ticket=ticket, window=window, window_name=f"{window}号窗口", text="", ts=ts, attempt=attempt
    )


def wstate(
    window: str, ticket: str | None = None, *, called_at: str = TS, attempt: int = 1, **kw: Any
) -> schemas.WindowState:
    t = None
    if ticket is not None:
        t = schemas.Ticket(number=ticket, service="A", called_at=called_at, attempt=attempt)
    staff = schemas.StaffCard(id="s001", name="李明")
    return schemas.WindowState(
        window=window,
        name=f"{window}号窗口",
        status="serving" if t else kw.pop("status", "idle"),
        ticket=t,
        staff=staff,
        **kw,
    )


class Voice:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def call(self, ticket: str, window: str) -> None:
        self.calls.append((ticket, window))


def test_hall_merges_retained_and_live_calls_newest_first_and_announces_only_live_ones() -> None:
    voice = Voice()
    hall = HallScreenState(CFG, CAT, voice=voice)
    hall.on_calls_recent(
        schemas.CallsRecent(calls=[call("A003", "2"), call("A002", "1"), call("A001", "1")])
    )
    assert [c.ticket for c in hall.calls] == [
        "A003",
        "A002",
        "A001",
    ]  # same millisecond: the list's order
    hall.on_call(call("A004", "3"))
    hall.on_calls_recent(
        schemas.CallsRecent(calls=[call("A004", "3"), call("A003", "2")])
    )  # republished: no duplicates
    hall.on_call(call("A003", "2", attempt=2))  # a recall is a new call
    assert [(c.ticket, c.attempt) for c in hall.calls] == [
        ("A003", 2),
        ("A004", 1),
        ("A003", 1),
        ("A002", 1),
        ("A001", 1),
    ]
    assert voice.calls == [("A004", "3"), ("A003", "2")]
    assert hall.flash_seq == 2
    for i in range(20):
        hall.on_call(call(f"B{i:03d}", "4", ts=f"2026-03-03T09:{i + 1:02d}:00.000+08:00"))
    view = hall.view("calls")
    assert view["newest"]["ticket"] == "B019" and len(view["recent"]) == 10


def test_window_display_flashes_on_calls_not_on_a_restart() -> None:
    d = WindowDisplayState(CFG, CAT, window="1")
    d.on_window_state(wstate("1", "A001"))  # started while A001 is served: shown, not flashed
    assert (d.number, d.flash_seq) == ("A001", 0)
    d.on_call(call("A002", "2"))  # another window's call
    assert d.flash_seq == 0
    d.on_call(call("A002", "1"))
    d.on_window_state(wstate("1", "A002"))  # the same call, now in the retained state: one flash
    assert (d.number, d.flash_seq) == ("A002", 1)
    d.on_call(call("A002", "1", attempt=2))  # 重呼
    assert d.flash_seq == 2
    d.on_window_state(
        wstate("1", "A003", called_at="2026-03-03T09:05:00.000+08:00")
    )  # missed event
    assert (d.number, d.flash_seq) == ("A003", 3)
    d.on_window_state(wstate("1", None, status="paused", pause_reason="会议"))
    assert d.number == "" and d.view("window")["statusText"]["zh_CN"] == "暂停服务"
    assert choose_layout("strip", None) == "strip" and choose_layout("", (1920, 360)) == "strip"
    assert choose_layout("", (1366, 768)) == "full" and choose_layout("", None) == ""


class Sink:
    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def put(self, method: str, body: dict[str, Any], request_id: str | None = None) -> str:
        self.items.append(body)
        return request_id or ""


def _with_request(rid: str = "r1") -> schemas.WindowState:
    rr = schemas.RatingRequest(ticket="A001", staff="s001", expires_at=TS, request_id=rid)
    return wstate("1", rating_request=rr)


def test_tablet_rates_once_and_never_reopens_a_handling_it_already_rated() -> None:
    now = [0.0]
    sink = Sink()
    t = TabletState(CFG, CAT, sink, window="1", timeout_s=30, clock=lambda: now[0])
    t.on_window_state(_with_request())
    assert t.screen == "faces" and t.level == 0
    t.choose_level(2)
    assert t.screen == "reasons" and sink.items == []
    t.back()
    t.choose_level(5)
    assert t.screen == "thanks" and [b["level"] for b in sink.items] == [5]
    t.choose_level(1)  # a second tap
    t.on_window_state(
        _with_request()
    )  # the request still shows until the controller has the rating
    assert len(sink.items) == 1 and t.screen == "thanks"
    now[0] += 10
    t.tick()
    assert t.screen == "idle"
    t.on_window_state(_with_request())
    assert t.screen == "idle"  # already rated here

    restarted = TabletState(CFG, CAT, Sink(), window="1", already_sent=sink.items)
    restarted.on_window_state(_with_request())
    assert restarted.screen == "idle"  # its rating is still in the outbox: no second rating


def test_tablet_times_out_and_follows_the_request_away() -> None:
    now = [0.0]
    t = TabletState(CFG, CAT, Sink(), window="1", timeout_s=30, clock=lambda: now[0])
    t.on_window_state(_with_request("r1"))
    now[0] += 29
    t.tick()
    assert t.screen == "faces"
    now[0] += 2
    t.tick()
    assert t.screen == "idle"  # nobody rated: nothing recorded
    t.on_window_state(_with_request("r2"))
    assert t.screen == "faces"
    t.on_window_state(wstate("1"))  # expired or cleared by the controller
    assert t.screen == "idle"


class NoPort:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def call(
        self, method: str, body: Any, on_ok: Any, on_error: Any, *, timeout: float = 5.0
    ) -> None:
        self.sent.append((method, dict(body)))

    def run(self, work: Any, on_ok: Any, on_error: Any) -> None:
        raise AssertionError("not used")


def test_counter_buttons_follow_the_window_and_one_request_at_a_time() -> None:
    port = NoPort()
    c = CounterState(CFG, CAT, port, window="1")
    c.on_connection(True)
    assert not c.enabled("call_next")  # nobody logged in
    c.on_window_state(wstate("1", next_numbers=["A001"], ts=TS))
    assert c.enabled("call_next") and not c.enabled("finish") and not c.enabled("call_back")
    c.act("call_next")
    c.act("call_next")
    assert [m for m, _ in port.sent] == ["window.call_next"] and not c.enabled("recall")
    c._answered(
        "call_next",
        {"window": schemas.to_builtins(wstate("1", "A001", ts="2026-03-03T09:00:01.000+08:00"))},
    )
    assert c.enabled("finish") and c.enabled("recall") and not c.enabled("call_next")
    c.on_window_state(
        wstate("1", "A001", attempt=CFG.queue.recall_limit + 1, ts="2026-03-03T09:00:02.000+08:00")
    )
    assert not c.enabled("recall")  # the recall limit is reached
    c.on_controller(schemas.NodeStatus(state="lost", role="controller", session="x"))
    assert not c.enabled("finish")
    c.act("finish")
    assert len(port.sent) == 1
