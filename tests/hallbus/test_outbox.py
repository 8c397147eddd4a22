"""Outbox: stored before sending, delivered in order exactly once across broker outages and restarts."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from hallbus.localbroker import LocalBroker
from hallbus.outbox import Outbox
from hallbus.rpc import Request, RpcClient, RpcFault, RpcServer, SimpleDispatcher


class RatingDesk:
    """A controller stand-in with real idempotency (SimpleDispatcher) that records what it accepted."""

    def __init__(self) -> None:
        self.accepted: list[str] = []
        self.lock = threading.Lock()
        self.on_first: list = []

    def submit(self, req: Request) -> dict:
        if req.body.level == 0:
            raise RpcFault("bad_level", "评价等级无效。", "Invalid level.")
        with self.lock:
            self.accepted.append(req.body.rating_id)
            first = len(self.accepted) == 1
        if first:
            for hook in self.on_first:
                hook()
        return {"accepted": True}


@pytest.fixture
def desk(make_bus):
    d = RatingDesk()
    bus = make_bus("controller", role="controller", persistent_session=True, reconnect_max_s=0.3)
    srv = RpcServer(bus, SimpleDispatcher({"rating.submit": d.submit}))
    srv.start()
    assert bus.wait_subscribed(bus.topics.rpc_all, 5)
    yield d
    srv.stop()


def _rating(i: int, level: int = 5) -> dict:
    return {"rating_id": f"r-{i}", "level": level, "window": "3", "ticket": f"A{i:03d}"}


class Answered:
    """The outbox's answered items, as its listener reports them; `wait(n)` blocks for n of them."""

    def __init__(self, box: Outbox) -> None:
        self.outcomes: list[tuple[str, Any, str | None]] = []
        self._cond = threading.Condition()
        box.add_listener(self._on_answer)

    def _on_answer(self, item: Any, data: Any, fault: RpcFault | None) -> None:
        with self._cond:
            self.outcomes.append((item.body["rating_id"], data, fault and fault.code))
            self._cond.notify_all()

    def wait(self, n: int, timeout: float = 10.0) -> None:
        with self._cond:
            assert self._cond.wait_for(lambda: len(self.outcomes) >= n, timeout), self.outcomes


def _disconnected(bus: Any) -> threading.Event:
    gone = threading.Event()
    bus.add_connection_listener(lambda up: None if up else gone.set())
    return gone


def test_delivers_in_order_after_a_broker_outage(broker: LocalBroker, desk, make_bus, tmp_path: Path) -> None:
    tablet = make_bus("tablet-3", role="tablet", reconnect_max_s=0.3)
    box = Outbox(tmp_path / "outbox.db", RpcClient(tablet), timeout=1.0, backoff_max_s=0.3)
    answered = Answered(box)
    box.start()
    try:
        gone = _disconnected(tablet)
        broker.stop()
        assert gone.wait(5)
        for i in range(5):
            box.put("rating.submit", _rating(i))
        assert len(box.pending()) == 5  # stored while nothing can be sent
        broker.start()
        answered.wait(5, timeout=15)
        assert box.pending() == []
        assert desk.accepted == [f"r-{i}" for i in range(5)]
    finally:
        box.close()


def test_a_lost_reply_is_retried_and_the_rating_counted_once(broker: LocalBroker, desk, make_bus, tmp_path: Path) -> None:
    tablet = make_bus("tablet-3", role="tablet", reconnect_max_s=0.3)
    box = Outbox(tmp_path / "outbox.db", RpcClient(tablet), timeout=1.0, backoff_max_s=0.3)
    # The broker dies after the controller took the rating but before its answer got out.
    desk.on_first.append(lambda: (broker.kill(), threading.Timer(0.8, broker.start).start()))
    answered = Answered(box)
    box.start()
    try:
        box.put("rating.submit", _rating(1))
        answered.wait(1, timeout=20)
        assert box.pending() == []
        assert desk.accepted == ["r-1"]
    finally:
        box.close()


def test_a_restarted_tablet_sends_what_its_outbox_kept(broker: LocalBroker, desk, make_bus, tmp_path: Path) -> None:
    path = tmp_path / "outbox.db"
    offline = make_bus("tablet-5", role="tablet", wait=False)  # never started: the tablet is offline
    box = Outbox(path, RpcClient(offline))
    box.put("rating.submit", _rating(7))
    box.close()
    tablet = make_bus("tablet-5", role="tablet")
    box2 = Outbox(path, RpcClient(tablet), timeout=1.0)
    answered = Answered(box2)
    box2.start()
    try:
        answered.wait(1)
        assert box2.pending() == []
        assert desk.accepted == ["r-7"]
    finally:
        box2.close()


def test_a_refused_request_leaves_the_outbox_and_is_reported(desk, make_bus, tmp_path: Path) -> None:
    tablet = make_bus("tablet-2", role="tablet")
    box = Outbox(tmp_path / "outbox.db", RpcClient(tablet), timeout=1.0)
    answered = Answered(box)
    outcomes = answered.outcomes
    box.start()
    try:
        box.put("rating.submit", _rating(1, level=0))
        box.put("rating.submit", _rating(2))
        answered.wait(2)
        assert outcomes[0] == ("r-1", None, "bad_level")
        assert outcomes[1] == ("r-2", {"accepted": True}, None)
        assert box.pending() == []
        assert desk.accepted == ["r-2"]
    finally:
        box.close()


def test_putting_the_same_request_id_twice_stores_it_once(make_bus, tmp_path: Path) -> None:
    offline = make_bus("tablet-1", role="tablet", wait=False)
    box = Outbox(tmp_path / "o.db", RpcClient(offline))
    box.put("rating.submit", _rating(1), request_id="same")
    box.put("rating.submit", _rating(1), request_id="same")
    assert [i.request_id for i in box.pending()] == ["same"]
    box.close()
