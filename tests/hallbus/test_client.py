"""BusClient against a real Mosquitto: birth and will, reconnect, retained state, thread safety."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
import time

from hallbus import schemas
from hallbus.localbroker import LocalBroker
from tests.hallbus.helpers import HALL, Inbox


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
        time.sleep(60)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        session = proc.stdout.readline().strip()
        assert session
        watcher = make_bus("watcher", role="hall")
        inbox = Inbox()
        watcher.subscribe(watcher.topics.node_status("tablet-3"), inbox)
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


def test_a_late_will_of_an_older_session_does_not_mark_a_newer_one_lost(make_bus) -> None:
    node = make_bus("window-4", role="window")
    watcher = make_bus("watcher", role="hall")
    topic = node.topics.node_status("window-4")
    stale = schemas.NodeStatus(state="lost", role="window", session="0ld-session", sw="0")
    watcher.publish(topic, stale, retain=True)
    inbox = Inbox()
    time.sleep(0.3)
    watcher.subscribe(topic, inbox)  # sees the retained value as it stands now
    _t, payload = inbox.wait_for(lambda t, p: True)
    assert _status(payload)["state"] == "online"
    assert _status(payload)["session"] == node.session


def test_reconnects_after_broker_restart_and_republishes_retained_state(broker: LocalBroker, make_bus) -> None:
    node = make_bus("terminal-2", reconnect_max_s=0.5)
    topic = node.topics.node_devices("terminal-2")
    node.publish_devices(schemas.NodeDevices(printer=schemas.DeviceHealth(state="paper_low")))
    downs: list[bool] = []
    node.add_connection_listener(downs.append)
    broker.restart()  # no persistence: the broker forgets every retained message
    t0 = time.monotonic()
    deadline = t0 + 5
    while time.monotonic() < deadline and not (downs and downs[-1] and node.connected):
        time.sleep(0.01)
    back_in = time.monotonic() - t0
    assert node.connected, "client did not reconnect"
    assert back_in < 2.0, f"reconnect took {back_in:.2f}s"
    assert downs[0] is False and downs[-1] is True
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
    listener.subscribe(listener.topics.calls, inbox)
    broker.restart()
    assert listener.wait_connected(5)
    sender = make_bus("controller", role="controller")
    time.sleep(0.2)
    sender.publish(sender.topics.calls, {"v": 1, "ticket": "A001"})
    inbox.wait_for(lambda t, p: json.loads(p)["ticket"] == "A001")


def test_publish_is_thread_safe(make_bus) -> None:
    sender = make_bus("controller", role="controller")
    receiver = make_bus("hall-1", role="hall")
    inbox = Inbox()
    receiver.subscribe(sender.topics.calls, inbox)
    time.sleep(0.2)
    n_threads, per_thread = 8, 250

    def burst(k: int) -> None:
        for i in range(per_thread):
            sender.publish(sender.topics.calls, {"k": k, "i": i})

    threads = [threading.Thread(target=burst, args=(k,)) for k in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    deadline = time.monotonic() + 10
    while len(inbox.messages) < n_threads * per_thread and time.monotonic() < deadline:
        time.sleep(0.02)
    got = {(json.loads(p)["k"], json.loads(p)["i"]) for _t, p in inbox.messages}
    assert len(got) == n_threads * per_thread


def test_a_failing_handler_does_not_stop_the_loop(make_bus) -> None:
    receiver = make_bus("hall-1", role="hall")
    inbox = Inbox()

    def bad(topic: str, payload: bytes, props: object) -> None:
        raise RuntimeError("boom")

    receiver.subscribe(receiver.topics.alerts, bad)
    receiver.subscribe(receiver.topics.calls, inbox)
    sender = make_bus("controller", role="controller")
    time.sleep(0.2)
    sender.publish(sender.topics.alerts, {"x": 1})
    sender.publish(sender.topics.calls, {"ticket": "B002"})
    inbox.wait_for(lambda t, p: b"B002" in p)


def _count_sends(bus, max_bytes: int | None = None, sent: list[bytes] | None = None) -> list[int]:
    """Record the size (and bytes) of every send on the bus's real socket; optionally cap each send."""
    sizes: list[int] = []
    mqtt = bus._mqtt
    real = type(mqtt)._sock_send

    def send(buf):
        data = bytes(buf) if max_bytes is None else bytes(buf)[:max_bytes]
        if sent is not None:  # before the send: the peer may have it all before this thread resumes
            sent.append(data)
        n = real(mqtt, data)
        sizes.append(n)
        if sent is not None:
            sent[-1] = data[:n]
        return n

    mqtt._sock_send = send
    return sizes


def test_what_a_handler_publishes_on_the_network_thread_goes_out_at_once_in_one_send(make_bus) -> None:
    responder = make_bus("controller", role="controller")
    asker = make_bus("terminal-1")
    answers = Inbox()
    asker.subscribe(asker.topics.alerts, answers)

    def answer_three(_topic: str, payload: bytes, _props: object) -> None:  # on the network thread
        for i in range(3):
            responder.publish(responder.topics.alerts, {"n": json.loads(payload)["n"], "i": i})

    responder.subscribe(responder.topics.calls, answer_three)
    time.sleep(0.2)
    sent: list[bytes] = []
    _count_sends(responder, sent=sent)
    t0 = time.monotonic()
    asker.publish(asker.topics.calls, {"n": 1})
    answers.wait_for(lambda t, p: json.loads(p) == {"n": 1, "i": 2})
    # queued without poking the wake-up socket, yet written without waiting for the loop's timeout
    assert time.monotonic() - t0 < 0.5
    assert [json.loads(p)["i"] for _t, p in answers.messages] == [0, 1, 2]
    # the three answers (and the request's PUBACK): one send, not four (another packet,
    # such as a keep-alive ping, may go on its own)
    answers_sent = [d for d in sent if b'"i":' in d]
    assert len(answers_sent) == 1 and answers_sent[0].count(b'"i":') == 3, sent


def test_coalesced_packets_survive_partial_writes(make_bus) -> None:
    responder = make_bus("controller", role="controller")
    asker = make_bus("terminal-1")
    answers = Inbox()
    asker.subscribe(asker.topics.alerts, answers)
    body = "叫号" * 40

    def answer_many(_topic: str, payload: bytes, _props: object) -> None:
        for i in range(20):
            responder.publish(responder.topics.alerts, {"n": json.loads(payload)["n"], "i": i, "body": body})

    responder.subscribe(responder.topics.calls, answer_many)
    time.sleep(0.2)
    sends = _count_sends(responder, max_bytes=37)  # every send stops mid-packet
    for n in range(3):
        asker.publish(asker.topics.calls, {"n": n})
    answers.wait_for(lambda t, p: json.loads(p)["n"] == 2 and json.loads(p)["i"] == 19)
    got = [(json.loads(p)["n"], json.loads(p)["i"]) for _t, p in answers.messages]
    assert got == [(n, i) for n in range(3) for i in range(20)]
    assert all(json.loads(p)["body"] == body for _t, p in answers.messages)
    assert max(sends) <= 37 and len(sends) > 60


def _burst(sender, receiver, n: int) -> Inbox:
    inbox = Inbox()
    receiver.subscribe(receiver.topics.calls, inbox)
    time.sleep(0.2)
    body = "请到3号窗口办理" * 3
    for i in range(n):
        sender.publish(sender.topics.calls, {"i": i, "text": body})
    inbox.wait_for(lambda t, p: json.loads(p)["i"] == n - 1)
    assert [json.loads(p)["i"] for _t, p in inbox.messages] == list(range(n))
    assert all(json.loads(p)["text"] == body for _t, p in inbox.messages)
    return inbox


def test_a_burst_of_packets_is_read_in_few_recv_calls(make_bus, monkeypatch) -> None:
    import paho.mqtt.client as paho

    sender = make_bus("controller", role="controller")
    receiver = make_bus("hall-1", role="hall")
    recvs = [0]
    real = paho.Client._sock_recv

    def counting(self, bufsize):
        if self is receiver._mqtt:
            recvs[0] += 1
        return real(self, bufsize)

    monkeypatch.setattr(paho.Client, "_sock_recv", counting)
    _burst(sender, receiver, 300)
    # paho alone reads each packet in three or more recv calls
    assert recvs[0] < 300, recvs[0]


def test_packets_split_across_reads_arrive_whole_and_in_order(make_bus) -> None:
    sender = make_bus("controller", role="controller")
    receiver = make_bus("hall-1", role="hall")
    receiver._mqtt.RECV_CHUNK = 5  # every packet comes in pieces
    _burst(sender, receiver, 200)
    # and the connection still works both ways afterwards
    back = Inbox()
    sender.subscribe(sender.topics.alerts, back)
    time.sleep(0.2)
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

    receiver.subscribe(receiver.topics.calls, handler, qos=2)
    time.sleep(0.2)
    for qos in (0, 1, 2):  # 0 and 1 take the client's direct way, 2 paho's own
        props = PublishProperties(response_topic=f"hall/v1/{HALL}/reply/x/{qos}", correlation=b"c%d" % qos)
        sender._mqtt.publish(sender.topics.calls, b'{"q":%d}' % qos, qos=qos, properties=props)
    assert done.wait(5), got
    assert sorted(p for _t, p, _x in got) == [b'{"q":0}', b'{"q":1}', b'{"q":2}']
    for _t, payload, props in got:
        q = int(payload[5:6])
        assert type(payload) is bytes
        assert props.ResponseTopic == f"hall/v1/{HALL}/reply/x/{q}" and props.CorrelationData == b"c%d" % q
