"""The hall screen's Qt-free state: merging retained and live calls, announcing only live ones."""

from __future__ import annotations

from hallbus import schemas
from kiosk.hall.state import HallScreenState
from tests.kiosk.statepayloads import CAT, CFG, call


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
