"""The hall screen's Qt-free state: merging retained and live calls, announcing only live ones."""

from __future__ import annotations

from hallbus import schemas
from kiosk.hall.state import HallScreenState
from tests.kiosk.statepayloads import CAT, CFG, call, wstate


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


def _t(minute: int) -> str:
    return f"2026-03-03T09:{minute:02d}:00.000+08:00"


def test_the_current_call_panel_shows_only_what_is_true_now() -> None:
    """Issue 16, item 1: a finished, paused or transferred handling leaves 正在呼叫; a recall brings it
    back; the recent list holds each call once."""
    hall = HallScreenState(CFG, CAT)
    hall.on_call(call("A001", "2", ts=_t(1)))
    hall.on_call(call("A002", "1", ts=_t(2)))
    hall.on_call(call("B001", "3", ts=_t(3)))
    assert hall.view("calls")["newest"]["ticket"] == "B001"  # no window has spoken since: true
    hall.on_window_state(wstate("1", "A002", ts=_t(4)))
    hall.on_window_state(wstate("2", "A001", ts=_t(4)))
    hall.on_window_state(wstate("3", None, ts=_t(5)))  # B001 finished at window 3
    view = hall.view("calls")
    assert (view["newest"]["ticket"], view["newest"]["window"]) == ("A002", "1")
    assert [r["ticket"] for r in view["recent"]] == ["B001", "A001"]
    hall.on_window_state(wstate("1", None, status="paused", ts=_t(6)))  # window 1 paused
    assert hall.view("calls")["newest"]["ticket"] == "A001"
    hall.on_call(call("A001", "2", ts=_t(7), attempt=2))  # a recall: once in the lists
    view = hall.view("calls")
    assert view["newest"]["ticket"] == "A001" and view["newest"]["attempt"] == 2
    assert [r["ticket"] for r in view["recent"]] == ["B001", "A002"]
    hall.on_window_state(wstate("2", "A003", ts=_t(8)))  # A001 transferred away, A003 not yet called here
    view = hall.view("calls")
    assert not view["has"]
    assert [(r["ticket"], r["window"]) for r in view["recent"]] == [("A001", "2"), ("B001", "3"), ("A002", "1")]


def test_satisfaction_shows_only_from_the_configured_number_of_ratings_with_the_count() -> None:
    """Issue 16, item 5: one rating makes no 满意率 of 0%."""
    hall = HallScreenState(CFG, CAT)
    least = CFG.kiosk.satisfaction_min_ratings
    assert least > 1
    hall.on_stats(schemas.StatsToday(ratings=1, satisfaction_rate=0.0))
    view = hall.view("stats")
    assert view["satisfaction"] == "—"
    assert view["satisfactionNote"]["zh_CN"] == f"1条评价，满{least}条显示"
    hall.on_stats(schemas.StatsToday(ratings=least, satisfaction_rate=0.9))
    view = hall.view("stats")
    assert view["satisfaction"] == "90%" and view["satisfactionNote"]["zh_CN"] == f"{least}条评价"


def test_hall_waiting_and_window_words_are_the_shared_ones() -> None:
    """Issue 16, items 2 and 3: no window open is said so, and a window with nobody logged in is 未开放."""
    hall = HallScreenState(CFG, CAT)
    hall.on_queue_state(
        schemas.QueueState(
            services=[
                schemas.ServiceQueue(code="A", name="企业开办", waiting=1, est_wait_s=600, windows_open=0),
                schemas.ServiceQueue(code="B", name="社保", waiting=2, est_wait_s=600, windows_open=1),
                schemas.ServiceQueue(code="C", name="税务", waiting=0, est_wait_s=0, windows_open=1),
                schemas.ServiceQueue(code="D", name="不动产", waiting=4, est_wait_s=900, windows_open=1, closed_today=True),
            ],
            total_waiting=7,
        )
    )
    rows = {r["code"]: r for r in hall.view("queue")["services"]}
    assert rows["A"]["waitText"]["zh_CN"] == "暂无开放窗口"
    assert rows["B"]["waitText"]["zh_CN"] == "约10分钟"
    assert rows["C"]["waitText"]["zh_CN"] == "无需等待"
    # closed for today by a manager: no ticket to be had, whoever still waits from the morning
    assert rows["D"]["waitText"] == {"zh_CN": "今日暂停取号", "en": "No tickets today"}
    closed = schemas.WindowState(window="1", name="1号窗口", status="closed")
    hall.on_window_state(closed)
    hall.on_window_state(wstate("2", None, status="paused"))
    tiles = {t["id"]: t for t in hall.view("windows")}
    assert tiles["1"]["statusText"]["zh_CN"] == "未开放"
    assert tiles["2"]["statusText"]["zh_CN"] == "暂停服务"
