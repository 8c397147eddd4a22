"""The counter's Qt-free state: buttons follow the window's state, one request at a time."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hallbus import schemas, wording
from kiosk.counter.state import CounterState
from tests.kiosk.statepayloads import CAT, CFG, TS, wstate


class NoPort:
    """Keeps what the state sends; a test answers it through the kept `on_ok`."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.answer: list[Any] = []

    def call(
        self, method: schemas.Rpc[Any], body: Any, on_ok: Any, on_error: Any, *, timeout: float = 5.0
    ) -> None:
        self.sent.append((method.name, dict(body)))
        self.answer.append(on_ok)

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
    port.answer[0](schemas.WindowReply(window=wstate("1", "A001", ts="2026-03-03T09:00:01.000+08:00")))
    assert c.enabled("finish") and c.enabled("recall") and not c.enabled("call_next")
    c.on_window_state(
        wstate("1", "A001", attempt=CFG.queue.recall_limit + 1, ts="2026-03-03T09:00:02.000+08:00")
    )
    assert not c.enabled("recall")  # the recall limit is reached
    c.on_controller(schemas.NodeStatus(state="lost", role="controller", session="x"))
    assert not c.enabled("finish")
    c.act("finish")
    assert len(port.sent) == 1


def _finished(c: CounterState, port: NoPort, ts: str, expires: str) -> schemas.RatingRequest:
    """Call A001 and finish it; the finish reply opens a rating request until `expires`."""
    c.act("finish")
    rr = schemas.RatingRequest(ticket="A001", staff="s001", expires_at=expires, request_id="rr-1")
    port.answer[-1](schemas.WindowReply(window=wstate("1", ts=ts, rating_request=rr)))
    return rr


def test_the_counter_says_when_the_rating_has_arrived_or_lapsed() -> None:
    clock = [dt.datetime.fromisoformat("2026-03-03T09:01:00+08:00")]
    for rated, key in ((True, "counter_rating_received"), (False, "counter_rating_expired")):
        port = NoPort()
        c = CounterState(CFG, CAT, port, window="1", now=lambda: clock[0])
        c.on_connection(True)
        c.on_window_state(wstate("1", "A001", ts=TS))
        _finished(c, port, "2026-03-03T09:01:00.000+08:00", "2026-03-03T09:03:00.000+08:00")
        asked = c.view("message")["text"]["zh_CN"]
        assert asked == CAT.get("zh_CN", "counter_done_finish") and "评价器上评价" in asked
        c.on_window_state(wstate("1", ts="2026-03-03T09:01:05.000+08:00", rating_request=c.rating_open))
        assert c.view("message")["text"]["zh_CN"] == asked  # the same request again: still waiting
        clock[0] = dt.datetime.fromisoformat("2026-03-03T09:01:30+08:00" if rated else "2026-03-03T09:03:00+08:00")
        c.on_window_state(wstate("1", ts="2026-03-03T09:01:30.000+08:00"))  # the request closed
        said = c.view("message")["text"]["zh_CN"]
        assert said == CAT.get("zh_CN", key) and "请邀请" not in said


def test_a_finish_without_a_rating_request_does_not_ask_for_one() -> None:
    port = NoPort()
    c = CounterState(CFG, CAT, port, window="1")
    c.on_connection(True)
    c.on_window_state(wstate("1", "A001", ts=TS))
    c.act("finish")
    port.answer[-1](schemas.WindowReply(window=wstate("1", ts="2026-03-03T09:01:00.000+08:00")))
    assert "评价" not in c.view("message")["text"]["zh_CN"]


def test_the_counter_shows_a_rate_only_from_enough_ratings_and_waits_in_the_shared_words() -> None:
    """Issue 16, items 5 and 2: one rating is no 满意率 of 0% on the counter either (as on the hall
    screen, from `[kiosk] satisfaction_min_ratings`), and its waiting box says 无需等待 / 暂无开放窗口 /
    约N分钟 as every other screen does, never 约 0 分钟."""
    c = CounterState(CFG, CAT, NoPort(), window="1")
    least = CFG.kiosk.satisfaction_min_ratings
    assert least > 1
    one = schemas.RatingFigures(ratings=1, satisfied=0, bad=1, satisfaction_rate=0.0)
    c.on_stats(schemas.StatsToday(ratings=1, satisfaction_rate=0.0, ratings_by_window={"1": one}))
    figures = c.view("figures")
    assert figures["ratings"] == 1 and figures["satisfaction"] == "—"
    enough = schemas.RatingFigures(ratings=least, satisfied=least, satisfaction_rate=1.0)
    c.on_stats(schemas.StatsToday(ratings=least, satisfaction_rate=1.0, ratings_by_window={"1": enough}))
    assert c.view("figures")["satisfaction"] == "100%"
    services = CFG.window("1").services
    assert len(services) >= 2
    a, b = services[0], services[1]
    c.on_queue_state(schemas.QueueState(total_waiting=3, services=[
        schemas.ServiceQueue(code=a, name=a, waiting=0, est_wait_s=0, windows_open=1),
        schemas.ServiceQueue(code=b, name=b, waiting=3, est_wait_s=540, windows_open=1),
    ]))
    waits = {q["code"]: q["waitText"]["zh_CN"] for q in c.view("queue")}
    assert waits[a] == wording.service_wait(0, 0, 1)["zh_CN"] == "无需等待"
    assert waits[b] == "约9分钟"


def test_the_counter_shows_the_services_its_window_serves_now() -> None:
    """A manager changed window 1's services in the console (SPEC 12.2): its retained state says so, and the counter's
    queue box follows it instead of its own hall.toml."""
    c = CounterState(CFG, CAT, NoPort(), window="1")
    assert [q["code"] for q in c.view("queue")] == CFG.window("1").services
    c.on_window_state(wstate("1", services=["E"], ts=TS))
    assert [q["code"] for q in c.view("queue")] == ["E"]
    c.on_window_state(wstate("1", services=[], ts="2026-03-03T09:00:01.000+08:00"))  # an old controller says none
    assert [q["code"] for q in c.view("queue")] == ["E"]
