"""RPC over a real Mosquitto: replies, errors, timeouts, idempotency, malformed requests, mosquitto_rr."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import threading
import time
import uuid

import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from hallbus import schemas
from hallbus.localbroker import LocalBroker
from hallbus.rpc import (
    REAP_GRAIN_S,
    Request,
    RpcClient,
    RpcFault,
    RpcServer,
    RpcTimeout,
    RpcUnavailable,
    SimpleDispatcher,
)
from tests.hallbus.helpers import HALL, Inbox


class CountingHandlers:
    """Handlers that record every call, so a test can see what really ran."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.lock = threading.Lock()

    def stats(self, req: Request) -> dict:
        with self.lock:
            self.calls.append(req.request_id)
        return {"stats": {"served": len(self.calls)}}

    def issue(self, req: Request) -> dict:
        body = req.body
        assert isinstance(body, schemas.TicketIssueReq)
        if body.service == "Z":
            raise RpcFault("unknown_service", "没有这项业务。", "No such service.")
        if body.service == "BUG":
            raise ZeroDivisionError("a bug")
        with self.lock:
            self.calls.append(req.request_id)
        return {"ticket": {"number": f"{body.service}{len(self.calls):03d}", "service": body.service}}

    def table(self) -> dict:
        return {"stats.today": self.stats, "ticket.issue": self.issue}


@pytest.fixture
def server(make_bus):
    handlers = CountingHandlers()
    bus = make_bus("controller", role="controller", persistent_session=True)
    srv = RpcServer(bus, SimpleDispatcher(handlers.table()))
    srv.start()
    assert bus.wait_subscribed(bus.topics.rpc_all, 5)
    yield handlers, srv
    srv.stop()


@pytest.fixture
def rpc(make_bus) -> RpcClient:
    client = RpcClient(make_bus("terminal-1"))
    assert client.bus.wait_subscribed(client.reply_topic, 5)
    return client


def test_call_returns_data(server, rpc) -> None:
    data = rpc.call("ticket.issue", {"service": "A"})
    assert data["ticket"]["number"] == "A001"


def test_error_reply_carries_code_and_both_languages(server, rpc) -> None:
    with pytest.raises(RpcFault) as err:
        rpc.call("ticket.issue", {"service": "Z"})
    assert err.value.code == "unknown_service"
    assert err.value.message == "没有这项业务。"
    assert err.value.message_en == "No such service."


def test_a_bug_in_a_handler_is_an_internal_error_not_a_dead_server(server, rpc) -> None:
    with pytest.raises(RpcFault) as err:
        rpc.call("ticket.issue", {"service": "BUG"})
    assert err.value.code == "internal_error"
    assert rpc.call("ticket.issue", {"service": "A"})["ticket"]["number"] == "A001"


def test_wrong_field_type_is_bad_request(server, rpc) -> None:
    with pytest.raises(RpcFault) as err:
        rpc.call("ticket.issue", {"service": 7})
    assert err.value.code == "bad_request"
    assert "service" in err.value.message_en


def test_unknown_method(server, rpc) -> None:
    with pytest.raises(RpcFault) as err:
        rpc.call("ticket.print_money", {})
    assert err.value.code == "unknown_method"


def test_timeout_when_no_controller_answers(rpc) -> None:
    fut = rpc.call_async("stats.today", {}, timeout=0.5)
    # the deadline thread raises RpcTimeout; the future's own wait is only the test's guard
    with pytest.raises(RpcTimeout):
        fut.result(10)


def test_unavailable_at_once_when_the_broker_is_gone(broker: LocalBroker, rpc) -> None:
    gone = threading.Event()
    rpc.bus.add_connection_listener(lambda up: None if up else gone.set())
    broker.stop()
    assert gone.wait(5)
    fut = rpc.call_async("stats.today", {}, timeout=60)
    assert fut.done()  # refused on the spot, not after the timeout
    with pytest.raises(RpcUnavailable):
        fut.result(0)


def test_same_request_id_returns_the_first_answer_and_runs_once(server, rpc) -> None:
    handlers, _srv = server
    rid = str(uuid.uuid4())
    first = rpc.call("ticket.issue", {"service": "A"}, request_id=rid)
    second = rpc.call("ticket.issue", {"service": "A"}, request_id=rid)
    assert first == second
    assert handlers.calls.count(rid) == 1
    third = rpc.call("ticket.issue", {"service": "A"})
    assert third["ticket"]["number"] == "A002"


def _raw_request(bus, topic: str, payload: bytes, reply_topic: str | None) -> None:
    props = None
    if reply_topic:
        props = Properties(PacketTypes.PUBLISH)
        props.ResponseTopic = reply_topic
        props.CorrelationData = b"c"
    bus.publish(topic, payload, properties=props)


def _fuzzer(make_bus):
    """A client sending raw requests, its reply topic and what arrives there."""
    attacker = make_bus("fuzzer")
    reply_topic = attacker.topics.reply("fuzzer", "s1")
    inbox = Inbox()
    assert attacker.subscribe(reply_topic, inbox).wait(5)
    return attacker, reply_topic, inbox


def test_malformed_requests_get_error_replies_or_are_dropped(server, make_bus, rpc) -> None:
    handlers, srv = server
    attacker, reply_topic, inbox = _fuzzer(make_bus)
    cases = [
        b"not json",
        b"[1,2,3]",
        b'"text"',
        b"{}",
        b'{"request_id": 5}',
        b'{"request_id": "x", "service": ["A"]}',
        b'{"request_id": "y", "v": 2, "service": "A"}',
        b"\xff\xfe\x00",
        b"{" * 10000,
        b'{"request_id":"z","service":"A","id_card":{"id_hash":3}}',
        b'{"request_id":"\xff\xfe","service":"A"}',  # invalid UTF-8 inside a string
        b'{"request_id":"u","service":"\xc3"}',
    ]
    for payload in cases:
        _raw_request(attacker, attacker.topics.rpc("ticket.issue"), payload, reply_topic)
    replies = [json.loads(p) for _t, p in inbox.wait_count(len(cases))]
    assert len(replies) == len(cases)
    assert all(r["ok"] is False for r in replies)
    assert {r["error"]["code"] for r in replies} <= {"bad_json", "bad_request", "bad_version"}
    # Without a reply topic: dropped quietly; random garbage on every method.
    rng = random.Random(7)
    methods = list(schemas.RPC_METHODS) + ["nope", "", "a/b"]
    sent_to_rpc_plus = 0
    for _ in range(2000):
        method = rng.choice(methods)
        sent_to_rpc_plus += "/" not in method  # "a/b" does not match rpc/+
        payload = rng.choice([os.urandom(rng.randrange(0, 200)), json.dumps({"request_id": rng.random()}).encode()])
        _raw_request(attacker, attacker.topics.rpc(method), payload, None)
    # The server is alive and nothing ran (asked on the garbage's own connection, so the
    # server has read all of the garbage before this request).
    data = RpcClient(attacker).call("ticket.issue", {"service": "A"}, timeout=10)
    assert data["ticket"]["number"] == "A001"
    assert len(handlers.calls) == 1
    assert srv.malformed == len(cases) + sent_to_rpc_plus


def test_json_nested_30000_deep_is_bad_json_without_a_traceback(server, make_bus, caplog) -> None:
    handlers, srv = server
    attacker, reply_topic, inbox = _fuzzer(make_bus)
    deep = [
        b"[" * 30000 + b"]" * 30000,  # 60,000 bytes: under the 64 KiB limit
        b'{"v":1,"request_id":"deep-1","service":"A","x":' + b"[" * 30000 + b"]" * 30000 + b"}",  # 60,046 bytes
        b'{"v":1,"request_id":"deep-2","service":"A","x":' + b'{"a":' * 5000 + b"1" + b"}" * 5000 + b"}",
    ]
    assert all(len(p) <= 64 * 1024 for p in deep)
    # More than the broker lets be in flight unacknowledged (20): each must be acknowledged.
    rounds = 10
    for _ in range(rounds):
        for payload in deep:
            _raw_request(attacker, attacker.topics.rpc("ticket.issue"), payload, reply_topic)
    replies = [json.loads(p) for _t, p in inbox.wait_count(rounds * len(deep), timeout=15)]
    assert {r["error"]["code"] for r in replies} == {"bad_json"}
    assert all(r["ok"] is False for r in replies)
    data = RpcClient(attacker).call("ticket.issue", {"service": "A"}, timeout=10)
    assert data["ticket"]["number"] == "A001" and len(handlers.calls) == 1
    assert srv.malformed == rounds * len(deep)
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged for a malformed request"
    # Every reader of a payload (screens reading retained state) gets the DecodeError it expects.
    with pytest.raises(ValueError):
        schemas.decode(deep[0], schemas.QueueState)


def test_reply_topic_outside_reply_namespace_is_refused(server, make_bus) -> None:
    attacker = make_bus("fuzzer")
    watcher = make_bus("watcher")
    inbox = Inbox()
    target = watcher.topics.window_state("1")
    assert watcher.subscribe(target, inbox).wait(5)
    honest = RpcClient(attacker)
    assert watcher.subscribe(honest.reply_topic, inbox).wait(5)  # the marker's reply
    assert attacker.wait_subscribed(honest.reply_topic, 5)
    body = json.dumps({"v": 1, "request_id": "abc", "service": "A"}).encode()
    _raw_request(attacker, attacker.topics.rpc("ticket.issue"), body, target)
    # A later request on the same connection: its reply comes after anything the server
    # would have published for the first one.
    honest.call("ticket.issue", {"service": "A"})
    inbox.wait_for(lambda t, p: t == honest.reply_topic)
    assert [t for t, _p in inbox.messages] == [honest.reply_topic]


@pytest.mark.skipif(shutil.which("mosquitto_rr") is None, reason="mosquitto-clients not installed")
def test_mosquitto_rr_a_client_we_did_not_write(server, broker: LocalBroker) -> None:
    root = f"hall/v1/{HALL}/"
    request = json.dumps({"v": 1, "request_id": str(uuid.uuid4()), "service": "B"})
    out = subprocess.run(
        ["mosquitto_rr", "-V", "5", "-h", "127.0.0.1", "-p", str(broker.port),
         "-t", root + "rpc/ticket.issue", "-e", root + "reply/cli/1", "-m", request, "-W", "5"],
        capture_output=True, text=True, timeout=10,
    )
    assert out.returncode == 0, out.stderr
    reply = json.loads(out.stdout)
    assert reply["ok"] is True and reply["data"]["ticket"]["number"] == "B001"
    assert reply["v"] == 1 and reply["ts"]


class SlowLogins(SimpleDispatcher):
    """ticket.issue at once; window.login only after its slow work, which waits for `release`."""

    def __init__(self) -> None:
        import threading

        self.release = threading.Event()
        super().__init__({
            "ticket.issue": lambda req: {"ticket": {"number": "A001", "service": req.body.service}},
            "window.login": lambda req: {"window": {"id": req.body.window, **(req.prepared or {})}},
        })

    def slow_work(self, req: Request):
        if req.method != "window.login":
            return None

        def work() -> None:
            assert self.release.wait(30)
            req.prepared = {"checked": True}

        return work


def test_slow_work_runs_beside_the_network_thread_and_is_capped(make_bus, rpc) -> None:
    from hallbus.rpc import MAX_SLOW_PENDING

    dispatcher = SlowLogins()
    srv = RpcServer(make_bus("controller", role="controller", persistent_session=True), dispatcher)
    srv.start()
    assert srv.bus.wait_subscribed(srv.bus.topics.rpc_all, 5)
    try:
        logins = [rpc.call_async("window.login", {"window": "1", "staff": "s", "password": "p"}, timeout=30)
                  for _ in range(MAX_SLOW_PENDING + 3)]
        # While every login waits for its slow work, other requests are answered; the
        # logins over the cap were refused before it, in the order they came.
        assert rpc.call("ticket.issue", {"service": "A"})["ticket"]["number"] == "A001"
        refused = [f for f in logins if f.done()]
        assert len(refused) == 3 and all(f.exception().code == "busy" for f in refused)
        dispatcher.release.set()
        done = [f.result(10) for f in logins if f not in refused]
        assert len(done) == MAX_SLOW_PENDING and all(d["window"]["checked"] for d in done)
    finally:
        dispatcher.release.set()
        srv.stop()


def test_answered_calls_do_not_wake_the_deadline_thread_once_each(server, rpc) -> None:
    # Every call leaves its deadline behind when it is answered; the thread that times
    # calls out must not wake for each of them (on a busy kiosk that is a wake-up per call).
    t0 = time.monotonic()
    for _ in range(300):
        rpc.call("stats.today", {}, timeout=0.5)
    # and a call nobody answers still times out; its deadline is after every other one
    _handlers, srv = server
    srv.stop()
    with pytest.raises(RpcTimeout):
        rpc.call("stats.today", {}, timeout=0.6)
    spent = time.monotonic() - t0
    assert rpc.reaper_rounds <= 5 + spent / REAP_GRAIN_S, (rpc.reaper_rounds, spent)


def test_a_request_is_acknowledged_to_the_broker_only_after_its_answer(tmp_path) -> None:
    """PUBACK after the reply: a server that dies between the two leaves the request with the broker."""
    import re

    from hallbus.brokerurl import parse_broker_url
    from hallbus.client import BusClient

    broker = LocalBroker(tmp_path / "broker", extra_conf="log_type all\n")
    broker.start()
    buses: list[BusClient] = []
    try:
        def bus(node: str, **kw) -> BusClient:
            b = BusClient(hall=HALL, node=node, role="terminal", broker=parse_broker_url(broker.url), **kw)
            assert b.start(wait=5)
            buses.append(b)
            return b

        handlers = CountingHandlers()
        server_bus = bus("controller", persistent_session=True)
        srv = RpcServer(server_bus, SimpleDispatcher(handlers.table()))
        srv.start()
        assert server_bus.wait_subscribed(server_bus.topics.rpc_all, 5)
        rpc = RpcClient(bus("terminal-1"))
        assert rpc.bus.wait_subscribed(rpc.reply_topic, 5)
        for _ in range(20):
            rpc.call("ticket.issue", {"service": "A"})
        srv.stop()
    finally:
        for b in buses:
            b.stop()
        broker.stop()  # Mosquitto 2.0 writes its log out when it stops
    lines = broker.log_path.read_text().splitlines()
    request = re.compile(r"Sending PUBLISH to controller \(d0, q1, r0, m(\d+), '[^']*/rpc/ticket\.issue'")
    checked = 0
    for i, line in enumerate(lines):
        m = request.search(line)
        if not m:
            continue
        puback = next(j for j in range(i, len(lines)) if f"Received PUBACK from controller (Mid: {m.group(1)}," in lines[j])
        replies = [x for x in lines[i:puback] if "Received PUBLISH from controller" in x and "/reply/" in x]
        assert replies, f"request m{m.group(1)} was acknowledged before its answer was sent"
        checked += 1
    assert checked == 20
