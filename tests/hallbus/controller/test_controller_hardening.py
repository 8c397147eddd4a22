"""The controller against its own nodes (issue 17): private files, replies per node, bounded replies, retained state."""

from __future__ import annotations

import os
import stat
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from hallbus import schemas
from hallbus.brokerurl import parse_broker_url
from hallbus.client import BusClient
from hallbus.config import HallConfig
from hallbus.controller.app import HallController
from hallbus.controller.store import PRUNE_MAX, Store, db_path
from hallbus.localbroker import LocalBroker
from hallbus.rpc import RpcClient
from hallbus.topics import Topics
from tests.hallbus.controller.helpers import HALL
from tests.hallbus.helpers import Inbox


@pytest.fixture
def umask_022() -> Iterator[None]:
    """The usual umask of a shell or a service: files come out world-readable unless made otherwise."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_hall_db_its_wal_and_the_data_dir_are_not_world_readable(
    broker: LocalBroker, config: HallConfig, tmp_path: Path, umask_022: None
) -> None:
    data = tmp_path / "data"
    app = HallController(config, data_dir=data, broker=parse_broker_url(broker.url), tick_s=0.2)
    assert app.start(wait=5)
    try:
        db = db_path(data)
        wal, shm = db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")
        assert wal.exists() and shm.exists()
        for p in (data, db, wal, shm):
            assert _mode(p) & 0o007 == 0, f"{p.name} is {_mode(p):o}"
        assert _mode(db) == 0o640 and _mode(data) == 0o750
    finally:
        app.stop()
    # A database an older release left world-readable is made private when opened.
    db.chmod(0o644)
    app = HallController(config, data_dir=data, broker=parse_broker_url(broker.url), tick_s=0.2)
    try:
        assert _mode(db) == 0o640
    finally:
        app.stop()


def _terminal(broker: LocalBroker, node: str) -> RpcClient:
    bus = BusClient(hall=HALL, node=node, role="terminal", broker=parse_broker_url(broker.url))
    assert bus.start(wait=5)
    client = RpcClient(bus)
    assert bus.wait_subscribed(client.reply_topic, 5)
    return client


def test_a_request_id_reused_by_another_node_is_a_request_of_its_own(
    running: HallController, broker: LocalBroker
) -> None:
    first, second = _terminal(broker, "terminal-1"), _terminal(broker, "terminal-2")
    try:
        mine = first.call("ticket.issue", {"service": "A"}, request_id="shared-id")["ticket"]
        theirs = second.call("ticket.issue", {"service": "A"}, request_id="shared-id")["ticket"]
        assert theirs["ticket_id"] != mine["ticket_id"] and theirs["number"] == "A002"
        # Each node's retry still gets its own first answer, nothing new is issued.
        assert first.call("ticket.issue", {"service": "A"}, request_id="shared-id")["ticket"] == mine
        assert second.call("ticket.issue", {"service": "A"}, request_id="shared-id")["ticket"] == theirs
        assert running.controller.duplicates == 2
        running.controller.flush()
        assert running.retained.replaced == 0  # its own state changes are never taken for foreign writes
    finally:
        first.bus.stop()
        second.bus.stop()


def test_stored_replies_are_bounded_in_number_pruned_oldest_first(
    running: HallController, broker: LocalBroker
) -> None:
    running.controller.reply_keep_max = 50
    running.rpc.admission = None  # 400 requests at once from one node, far over its budget ([rpc_limits])
    client = _terminal(broker, "terminal-1")
    try:
        futures = [client.call_async("stats.today", request_id=f"r-{i}", timeout=10) for i in range(400)]
        for f in futures:
            f.result(11)
        running.controller.tick()  # what the ticker does every 0.2 s here (it may have done it already)
        reader = running.controller.store.reader()
        try:
            assert int(reader.execute("SELECT COUNT(*) FROM rpc_replies").fetchone()[0]) <= 50
            kept = {r[0] for r in reader.execute("SELECT request_id FROM rpc_replies")}
        finally:
            reader.close()
        assert kept == {f"r-{i}" for i in range(350, 400)}  # the newest stay
        before = running.controller.duplicates
        client.call("stats.today", request_id="r-399")
        assert running.controller.duplicates == before + 1
    finally:
        client.bus.stop()


def test_a_prune_step_over_the_size_bound_holds_the_writer_briefly(tmp_path: Path) -> None:
    store = Store(tmp_path / "h.db")
    try:
        reply = b'{"v":1,"request_id":"x","ok":true,"data":{"ticket":{}}}'.ljust(530, b" ")
        store.conn.execute("BEGIN IMMEDIATE")
        store.conn.executemany(
            "INSERT INTO rpc_replies(request_id, node, method, reply, at_ts) VALUES (?, 'terminal-1', 'x', ?, ?)",
            ((str(uuid.uuid4()), reply, 1000.0 + i) for i in range(2 * PRUNE_MAX)),
        )
        store.conn.execute("COMMIT")
        t0 = time.perf_counter()
        store.conn.execute("BEGIN IMMEDIATE")
        gone = store.prune_replies(before_ts=0.0, over=3 * PRUNE_MAX)
        store.conn.execute("COMMIT")
        took = time.perf_counter() - t0
        print(f"pruned {len(gone)} stored replies in {took * 1000:.1f} ms")
        assert len(gone) == PRUNE_MAX  # at most this many per step, whatever the excess
        assert took < 1.0
    finally:
        store.close()


def _subscriber(broker: LocalBroker, node: str, topic_filter: str) -> tuple[BusClient, Inbox]:
    bus = BusClient(hall=HALL, node=node, role="hall", broker=parse_broker_url(broker.url))
    assert bus.start(wait=5)
    inbox = Inbox()
    assert bus.subscribe(topic_filter, inbox).wait(5)
    return bus, inbox


def test_junk_on_the_controllers_retained_topics_is_replaced_at_start_and_when_written(
    broker: LocalBroker, config: HallConfig, tmp_path: Path
) -> None:
    """A client that may write anywhere (an open broker, a wrong ACL) leaves junk; screens never keep it."""
    t = Topics(HALL)
    junk = b'{"v":1,"services":[],"total_waiting":999}'
    vandal = BusClient(hall=HALL, node="vandal", role="terminal", broker=parse_broker_url(broker.url))
    assert vandal.start(wait=5)
    for topic in (t.queue_state, t.window_state("3"), t.window_state("zzz")):
        vandal.publish(topic, junk, retain=True).wait_for_publish(5)
    watcher, seen = _subscriber(broker, "watcher", t.everything)
    seen.wait_for(lambda topic, p: topic == t.window_state("zzz") and p == junk)  # the junk is there
    app = HallController(config, data_dir=tmp_path / "data", broker=parse_broker_url(broker.url), tick_s=0.2)
    buses = [vandal, watcher]
    try:
        assert app.start(wait=5)
        ours = app.bus.retained_state
        # at start: a window the hall does not have is cleared, the others carry the controller's state
        seen.wait_for(lambda topic, p: topic == t.window_state("zzz") and p == b"")
        for topic in (t.queue_state, t.window_state("3")):
            fresh, inbox = _subscriber(broker, f"screen-{len(buses)}", topic)
            buses.append(fresh)
            _t, got = inbox.wait_for(lambda _t, p: p != junk)
            assert got == ours(topic) and schemas.decode(got, schemas.PAYLOADS[_payload(topic)])
        # while running: a foreign write, and one more within the second, are both put right
        for n in range(2):
            with seen._cond:
                seen.messages.clear()
            vandal.publish(t.queue_state, junk, retain=True).wait_for_publish(5)
            seen.wait_for(lambda topic, p: topic == t.queue_state and p == ours(t.queue_state))  # put back
            fresh, inbox = _subscriber(broker, f"late-{n}", t.queue_state)
            buses.append(fresh)
            assert inbox.wait_for(lambda _t, p: True)[1] == ours(t.queue_state)
        assert app.retained.replaced >= 4  # queue, window 3, window zzz at start; then two writes
    finally:
        for b in buses:
            b.stop()
        app.stop()


def _payload(topic: str) -> str:
    return "QueueState" if topic.endswith("queue/state") else "WindowState"
