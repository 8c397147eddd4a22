"""Outbox: stored before sending, delivered in order exactly once across broker outages and restarts."""

from __future__ import annotations

import threading
import time
from pathlib import Path

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
    yield d
    srv.stop()


def _rating(i: int, level: int = 5) -> dict:
    return {"rating_id": f"r-{i}", "level": level, "window": "3", "ticket": f"A{i:03d}"}


def _wait(pred, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.02)
    return False


def test_delivers_in_order_after_a_broker_outage(broker: LocalBroker, desk, make_bus, tmp_path: Path) -> None:
    tablet = make_bus("tablet-3", role="tablet", reconnect_max_s=0.3)
    box = Outbox(tmp_path / "outbox.db", RpcClient(tablet), timeout=1.0, backoff_max_s=0.3)
    box.start()
    try:
        broker.stop()
        assert _wait(lambda: not tablet.connected)
        for i in range(5):
            box.put("rating.submit", _rating(i))
        assert len(box.pending()) == 5
        time.sleep(0.5)
        assert desk.accepted == []
        broker.start()
        assert _wait(lambda: box.pending() == [], timeout=15)
        assert desk.accepted == [f"r-{i}" for i in range(5)]
    finally:
        box.close()


def test_a_lost_reply_is_retried_and_the_rating_counted_once(broker: LocalBroker, desk, make_bus, tmp_path: Path) -> None:
    tablet = make_bus("tablet-3", role="tablet", reconnect_max_s=0.3)
    box = Outbox(tmp_path / "outbox.db", RpcClient(tablet), timeout=1.0, backoff_max_s=0.3)
    # The broker dies after the controller took the rating but before its answer got out.
    desk.on_first.append(lambda: (broker.kill(), threading.Timer(0.8, broker.start).start()))
    box.start()
    try:
        box.put("rating.submit", _rating(1))
        assert _wait(lambda: box.pending() == [], timeout=20)
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
    box2.start()
    try:
        assert _wait(lambda: box2.pending() == [])
        assert desk.accepted == ["r-7"]
    finally:
        box2.close()


def test_a_refused_request_leaves_the_outbox_and_is_reported(desk, make_bus, tmp_path: Path) -> None:
    tablet = make_bus("tablet-2", role="tablet")
    box = Outbox(tmp_path / "outbox.db", RpcClient(tablet), timeout=1.0)
    outcomes: list = []
    box.add_listener(lambda item, data, fault: outcomes.append((item.body["rating_id"], data, fault and fault.code)))
    box.start()
    try:
        box.put("rating.submit", _rating(1, level=0))
        box.put("rating.submit", _rating(2))
        assert _wait(lambda: len(outcomes) == 2)
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
