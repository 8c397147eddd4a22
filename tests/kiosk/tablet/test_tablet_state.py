"""The tablet's Qt-free state (rates once, times out, follows the request away) and its rating vocabulary."""

from __future__ import annotations

from hallbus import schemas
from hallbus.records.ratings import LEVELS as CONTROLLER_LEVELS
from hallbus.records.ratings import REASONS as CONTROLLER_REASONS
from kiosk.common.rating import LEVELS, REASONS
from kiosk.tablet.state import TabletState
from tests.kiosk.statepayloads import CAT, CFG, TS, Sink, wstate


def test_reason_codes_and_levels_are_the_controllers() -> None:
    assert list(REASONS) == list(CONTROLLER_REASONS)
    assert sorted(LEVELS) == sorted(CONTROLLER_LEVELS)


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
    assert sink.items[0]["handling_id"] == "r1"  # exactly the handling its window was asked about
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
