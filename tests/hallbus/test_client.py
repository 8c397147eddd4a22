"""BusClient against a real Mosquitto: birth and will, reconnect, retained state, thread safety."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import textwrap
import threading

import paho.mqtt
import pytest

from hallbus import schemas
from hallbus.localbroker import LocalBroker
from tests.hallbus.helpers import HALL, Inbox, Reconnects


def _status(payload: bytes) -> dict:
    return json.loads(payload) if payload else {}


def test_birth_is_retained_online_with_session(make_bus) -> None:
    node = make_bus("terminal-1")
    watcher = make_bus("watcher", role="hall")
    inbox = Inbox()
    watcher.subscribe(node.topics.node_status("terminal-1"), inbox)
    _t, payload = inbox.wait_for(lambda t, p: _status(p).get("state") == "online")
    status = schemas.decode(payload, schemas.NodeStatus)
    assert status.session == node.session
    assert status.role == "terminal"
    assert status.v == 1 and status.ts


def test_kill_9_turns_status_lost_with_the_birth_session(broker: LocalBroker, make_bus) -> None:
    script = textwrap.dedent(f"""
        import sys, time
        from hallbus.client import BusClient
        from hallbus.brokerurl import parse_broker_url
        bus = BusClient(hall="{HALL}", node="tablet-3", role="tablet", broker=parse_broker_url("{broker.url}"))
        assert bus.start(wait=5)
        print(bus.session, flush=True)
        sys.stdin.read()  # until the test is done with us
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        session = proc.stdout.readline().strip()
        assert session
        watcher = make_bus("watcher", role="hall")
        inbox = Inbox()
        assert watcher.subscribe(watcher.topics.node_status("tablet-3"), inbox).wait(5)
        inbox.wait_for(lambda t, p: _status(p).get("state") == "online")
        proc.kill()
        _t, payload = inbox.wait_for(lambda t, p: _status(p).get("state") == "lost", timeout=10)
        assert _status(payload)["session"] == session
    finally:
        proc.kill()
        proc.wait(5)


def test_clean_stop_publishes_offline(make_bus) -> None:
    node = make_bus("counter-2", role="counter")
    watcher = make_bus("watcher", role="hall")
    inbox = Inbox()
    watcher.subscribe(node.topics.node_status("counter-2"), inbox)
    inbox.wait_for(lambda t, p: _status(p).get("state") == "online")
    session = node.session
    node.stop()
    _t, payload = inbox.wait_for(lambda t, p: _status(p).get("state") == "offline")
    assert _status(payload)["session"] == session


def open_sockets() -> set[str]:
    """The sockets this process holds open now (`socket:[inode]`)."""
    found = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:  # the listing's own descriptor, closed by now
            continue
        if target.startswith("socket:"):
            found.add(target)
    return found


def test_a_stopped_bus_holds_no_socket_and_starts_again(make_bus) -> None:
    """paho's wake-up socket pair stayed open after `stop` until a full garbage collection (a test run held hundreds)."""
    before = open_sockets()
    bus = make_bus("counter-2", role="counter")
    assert len(open_sockets() - before) >= 3  # its connection and its thread's wake-up pair
    bus.stop()
    assert open_sockets() - before == set()  # `bus` is still referenced: nothing is left for the collector
    assert bus.start(wait=5)
    inbox = Inbox()
    bus.subscribe(bus.topics.node_status("counter-2"), inbox)
    inbox.wait_for(lambda t, p: _status(p).get("state") == "online")
    bus.stop()
    assert open_sockets() - before == set()


def test_a_late_will_of_an_older_session_does_not_mark_a_newer_one_lost(make_bus) -> None:
    node = make_bus("window-4", role="window")
    watcher = make_bus("watcher", role="hall")
    topic = node.topics.node_status("window-4")
    seen = Inbox()
    assert watcher.subscribe(topic, seen).wait(5)
    seen.wait_for(lambda t, p: _status(p).get("session") == node.session)
    stale = schemas.NodeStatus(state="lost", role="window", session="0ld-session", sw="0")
    watcher.publish(topic, stale, retain=True)
    # the node answers the stale will with its birth again, after the will
    seen.wait_for(lambda t, p: _status(p).get("session") == "0ld-session")
    statuses = [_status(p) for _t, p in seen.wait_count(3)]
    assert statuses[-1]["state"] == "online" and statuses[-1]["session"] == node.session
    fresh = Inbox()
    assert make_bus("late-reader", role="hall").subscribe(topic, fresh).wait(5)
    _t, payload = fresh.wait_for(lambda t, p: True)  # the retained value as it stands now
    assert _status(payload)["state"] == "online"
    assert _status(payload)["session"] == node.session


def test_reconnects_after_broker_restart_and_republishes_retained_state(broker: LocalBroker, make_bus) -> None:
    node = make_bus("terminal-2", reconnect_max_s=0.5)
    topic = node.topics.node_devices("terminal-2")
    node.publish_devices(schemas.NodeDevices(printer=schemas.DeviceHealth(state="paper_low")))
    back = Reconnects(node)
    broker.restart()  # no persistence: the broker forgets every retained message
    back.wait_back(5)
    assert back.changes[0] is False and back.changes[-1] is True and node.connected
    # A screen that starts now gets the node's state: retained if the republish got there
    # first, live if it comes after the subscription.
    watcher = make_bus("watcher", role="hall")
    inbox = Inbox()
    watcher.subscribe(topic, inbox)
    _t, payload = inbox.wait_for(lambda t, p: True)
    assert json.loads(payload)["printer"]["state"] == "paper_low"
    inbox2 = Inbox()
    watcher.subscribe(node.topics.node_status("terminal-2"), inbox2)
    _t, payload = inbox2.wait_for(lambda t, p: True)
    assert _status(payload)["state"] == "online"


def test_subscriptions_survive_a_broker_restart(broker: LocalBroker, make_bus) -> None:
    listener = make_bus("hall-1", role="hall", reconnect_max_s=0.5)
    inbox = Inbox()
    subscribed = listener.subscribe(listener.topics.calls, inbox)
    assert subscribed.wait(5)
    back = Reconnects(listener)
    broker.restart()
    back.wait_back(5)
    assert subscribed.wait(5)  # cleared on the reconnect, set again by its SUBACK
    sender = make_bus("controller", role="controller")
    sender.publish(sender.topics.calls, {"v": 1, "ticket": "A001"})
    inbox.wait_for(lambda t, p: json.loads(p)["ticket"] == "A001")


def test_publish_is_thread_safe(make_bus) -> None:
    sender = make_bus("controller", role="controller")
    receiver = make_bus("hall-1", role="hall")
    inbox = Inbox()
    assert receiver.subscribe(sender.topics.calls, inbox).wait(5)
    n_threads, per_thread = 8, 250

    def burst(k: int) -> None:
        for i in range(per_thread):
            sender.publish(sender.topics.calls, {"k": k, "i": i})

    threads = [threading.Thread(target=burst, args=(k,)) for k in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    got = {(json.loads(p)["k"], json.loads(p)["i"]) for _t, p in inbox.wait_count(n_threads * per_thread, 10)}
    assert len(got) == n_threads * per_thread


def test_a_failing_handler_does_not_stop_the_loop(make_bus) -> None:
    receiver = make_bus("hall-1", role="hall")
    inbox = Inbox()

    def bad(topic: str, payload: bytes, props: object) -> None:
        raise RuntimeError("boom")

    assert receiver.subscribe(receiver.topics.alerts, bad).wait(5)
    assert receiver.subscribe(receiver.topics.calls, inbox).wait(5)
    sender = make_bus("controller", role="controller")
    sender.publish(sender.topics.alerts, {"x": 1})
    sender.publish(sender.topics.calls, {"ticket": "B002"})
    inbox.wait_for(lambda t, p: b"B002" in p)


def test_what_a_handler_publishes_on_the_network_thread_goes_out_in_order(make_bus) -> None:
    responder = make_bus("controller", role="controller")
    asker = make_bus("terminal-1")
    answers = Inbox()
    assert asker.subscribe(asker.topics.alerts, answers).wait(5)

    def answer_three(_topic: str, payload: bytes, _props: object) -> None:  # on the network thread
        for i in range(3):
            responder.publish(responder.topics.alerts, {"n": json.loads(payload)["n"], "i": i})

    assert responder.subscribe(responder.topics.calls, answer_three).wait(5)
    asker.publish(asker.topics.calls, {"n": 1})
    answers.wait_for(lambda t, p: json.loads(p) == {"n": 1, "i": 2})
    assert [json.loads(p)["i"] for _t, p in answers.messages] == [0, 1, 2]


def _burst(sender, receiver, n: int) -> Inbox:
    inbox = Inbox()
    assert receiver.subscribe(receiver.topics.calls, inbox).wait(5)
    body = "请到3号窗口办理" * 3
    for i in range(n):
        sender.publish(sender.topics.calls, {"i": i, "text": body})
    inbox.wait_for(lambda t, p: json.loads(p)["i"] == n - 1)
    assert [json.loads(p)["i"] for _t, p in inbox.messages] == list(range(n))
    assert all(json.loads(p)["text"] == body for _t, p in inbox.messages)
    return inbox


def test_a_burst_arrives_whole_and_in_order_and_the_connection_still_works(make_bus) -> None:
    sender = make_bus("controller", role="controller")
    receiver = make_bus("hall-1", role="hall")
    _burst(sender, receiver, 300)
    back = Inbox()
    assert sender.subscribe(sender.topics.alerts, back).wait(5)
    receiver.publish(receiver.topics.alerts, {"ok": True})
    back.wait_for(lambda t, p: json.loads(p) == {"ok": True})


def test_every_qos_reaches_the_handler_with_its_properties(make_bus) -> None:
    from hallbus.wire import PublishProperties

    sender = make_bus("controller", role="controller")
    receiver = make_bus("hall-1", role="hall")
    got: list[tuple[str, bytes, object]] = []
    done = threading.Event()

    def handler(topic: str, payload: bytes, props: object) -> None:
        got.append((topic, payload, props))
        if len(got) == 3:
            done.set()

    assert receiver.subscribe(receiver.topics.calls, handler, qos=2).wait(5)
    for qos in (0, 1, 2):
        props = PublishProperties(response_topic=f"hall/v1/{HALL}/reply/x/{qos}", correlation=b"c%d" % qos)
        sender.publish(sender.topics.calls, b'{"q":%d}' % qos, qos=qos, properties=props)
    assert done.wait(5), got
    assert sorted(p for _t, p, _x in got) == [b'{"q":0}', b'{"q":1}', b'{"q":2}']
    for _t, payload, props in got:
        q = int(payload[5:6])
        assert type(payload) is bytes
        assert props.ResponseTopic == f"hall/v1/{HALL}/reply/x/{q}" and props.CorrelationData == b"c%d" % q


def test_a_paho_version_not_tested_stops_at_import_with_a_clear_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    import hallbus.paho_private as private

    monkeypatch.setattr(paho.mqtt, "__version__", "2.1.0")
    with pytest.raises(ImportError, match=r"needs paho-mqtt 2\.2\.x .* found 2\.1\.0"):
        importlib.reload(private)
    monkeypatch.undo()
    importlib.reload(private)  # the real version passes


def test_a_paho_whose_loop_no_longer_reads_through_loop_read_stops_at_import(monkeypatch: pytest.MonkeyPatch) -> None:
    import paho.mqtt.client as mqtt

    import hallbus.paho_private as private

    monkeypatch.setattr(mqtt.Client, "_loop", lambda self, timeout=1.0: self.loop_misc())
    with pytest.raises(ImportError, match="no longer calls loop_read"):
        importlib.reload(private)
    monkeypatch.undo()
    importlib.reload(private)
