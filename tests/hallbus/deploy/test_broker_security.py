"""`hallbus broker-config` on a real Mosquitto: anonymous refused, each role's ACL allowed and refused."""

from __future__ import annotations

import getpass
import json
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from hallbus.brokerurl import BrokerAddress
from hallbus.client import BusClient
from hallbus.config import load_config
from hallbus.localbroker import LocalBroker, free_port
from hallbus.nodeauth import NodeGuard, load_node_keys
from hallbus.rpc import RpcClient, RpcFault, RpcServer, SimpleDispatcher

ROOT = "hall/v1/demo-county/"


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("broker-config")
    port = free_port()
    (out / "persist").mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "hallbus", "broker-config", "--out", str(out), "--listen", "127.0.0.1",
         "--port", str(port), "--run-as", getpass.getuser(), "--persistence-dir", f"{out}/persist/", "--json"],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "controller" in json.loads(done.stdout)["nodes"]
    broker = LocalBroker(out, port, conf_file=out / "mosquitto.conf")
    broker.start()
    yield broker, out
    broker.stop()


def creds(out: Path, node: str) -> dict:
    return json.loads((out / "credentials" / f"{node}.json").read_text())


class Probe:
    """A raw paho client logged in as one node, recording what it receives."""

    def __init__(self, port: int, username: str | None, password: str | None) -> None:
        self.got: list[str] = []
        self.from_: list[tuple[str, str]] = []  # (topic, probe node that sent it)
        self.rc: object = None
        self.connected = threading.Event()
        self._cond = threading.Condition()
        self._subacks: set[int] = set()
        self.c = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2,
                             client_id=f"probe-{uuid.uuid4().hex[:8]}", protocol=mqtt.MQTTv5)
        if username:
            self.c.username_pw_set(username, password)
        self.c.on_connect = self._on_connect
        self.c.on_message = self._on_message
        self.c.on_subscribe = self._on_subscribe
        self.c.connect("127.0.0.1", port)
        self.c.loop_start()
        self.connected.wait(5)

    def _on_connect(self, _c, _u, _f, rc, _p=None) -> None:
        self.rc = rc
        self.connected.set()

    def _on_message(self, _c, _u, m) -> None:
        with self._cond:
            self.got.append(m.topic)
            try:
                self.from_.append((m.topic, json.loads(m.payload).get("probe", "")))
            except ValueError:
                pass
            self._cond.notify_all()

    def _on_subscribe(self, _c, _u, mid, _codes, _props=None) -> None:
        with self._cond:
            self._subacks.add(mid)
            self._cond.notify_all()

    def subscribe(self, topic: str) -> None:
        """Subscribe (QoS 1) and wait for the broker's SUBACK."""
        with self._cond:
            _rc, mid = self.c.subscribe(topic, qos=1)
            assert self._cond.wait_for(lambda: mid in self._subacks, 5), f"no SUBACK for {topic}"

    def wait_got(self, topic: str, probe: str | None = None) -> None:
        """Block until a message on `topic` arrived (sent by probe node `probe`, if given)."""
        with self._cond:
            arrived = self._cond.wait_for(
                lambda: (topic, probe) in self.from_ if probe else topic in self.got, 5)
            assert arrived, f"nothing on {topic}; got {self.got}"

    def close(self) -> None:
        self.c.disconnect()
        self.c.loop_stop()


def as_node(broker: LocalBroker, out: Path, node: str) -> Probe:
    c = creds(out, node)
    p = Probe(broker.port, c["username"], c["password"])
    assert not p.rc.is_failure, f"{node} could not log in: {p.rc}"
    return p


def test_anonymous_and_wrong_password_are_refused(secured) -> None:
    broker, _out = secured
    anon = Probe(broker.port, None, None)
    assert anon.rc is not None and anon.rc.is_failure
    anon.close()
    wrong = Probe(broker.port, "terminal-1", "not-the-password")
    assert wrong.rc is not None and wrong.rc.is_failure
    wrong.close()


# (node, topic, may publish?)
PUBLISH_RULES = [
    ("controller", "window/3/state", True),
    ("controller", "calls", True),
    ("terminal-1", "rpc/ticket.issue", True),
    ("terminal-1", "rpc/case.query", True),
    ("terminal-1", "rpc/window.call_next", False),
    ("terminal-1", "window/3/state", False),
    ("terminal-1", "calls", False),
    ("counter-3", "rpc/window.call_next", True),
    ("counter-3", "rpc/window.finish", True),
    ("counter-3", "rpc/ticket.issue", False),
    ("counter-3", "rpc/rating.submit", False),
    ("tablet-3", "rpc/rating.submit", True),
    ("tablet-3", "rpc/window.finish", False),
    ("window-3", "rpc/ticket.issue", False),
    ("window-3", "window/3/state", False),
    ("hall-1", "calls", False),
    ("hall-1", "alerts", False),
    ("tablet-3", "node/tablet-3/status", True),
    ("tablet-3", "node/tablet-3/devices", True),
    ("tablet-3", "node/tablet-4/status", False),
    # under its own node/ prefix a node writes its presence and device health, nothing else
    ("tablet-3", "node/tablet-3/junk", False),
    ("window-3", "node/window-3/status", True),
    ("window-3", "node/window-3/big/retained", False),
    ("counter-3", "node/controller/status", False),
    ("hall-1", "node/hall-1/devices", True),
]


def test_publish_rules(secured) -> None:
    broker, out = secured
    # The controller's login is one connection (the username is the client id): it watches and probes.
    watcher = as_node(broker, out, "controller")
    watcher.subscribe(ROOT + "#")
    probes: dict[str, Probe] = {"controller": watcher}
    try:
        for node, topic, _ok in PUBLISH_RULES:
            p = probes.get(node) or probes.setdefault(node, as_node(broker, out, node))
            p.c.publish(ROOT + topic, json.dumps({"v": 1, "probe": node}), qos=1)
        # Each probe's marker on a topic it may write goes out after its tries: once the
        # watcher has every marker, whatever the broker let through has arrived.
        for node, p in probes.items():
            p.c.publish(ROOT + f"node/{node}/status", json.dumps({"v": 1, "probe": node, "marker": 1}), qos=1)
        for node in probes:
            watcher.wait_got(ROOT + f"node/{node}/status", node)
        for node, topic, ok in PUBLISH_RULES:
            arrived = (ROOT + topic, node) in watcher.from_
            assert arrived == ok, f"{node} publishing {topic}: expected {'allowed' if ok else 'refused'}"
    finally:
        for p in probes.values():
            p.close()


# (node, subscription, topic the controller publishes, may read?)
READ_RULES = [
    ("tablet-3", "window/3/state", "window/3/state", True),
    ("tablet-3", "window/4/state", "window/4/state", False),
    ("tablet-3", "window/+/state", "window/5/state", False),
    ("window-3", "calls", "calls", True),
    ("window-3", "alerts", "alerts", False),
    ("terminal-1", "rpc/#", "rpc/ticket.issue", False),
    ("terminal-1", "reply/terminal-1/#", "reply/terminal-1/s", True),
    ("terminal-1", "reply/terminal-2/#", "reply/terminal-2/s", False),
    ("hall-1", "stats/today", "stats/today", True),
    ("hall-1", "alerts", "alerts", True),
    ("counter-3", "window/3/state", "window/3/state", True),
    ("counter-3", "window/2/state", "window/2/state", False),
]


def test_read_rules(secured) -> None:
    broker, out = secured
    probes: dict[str, Probe] = {}  # one connection per login: the username is the client id
    try:
        for node, sub, _topic, _ok in READ_RULES:
            p = probes.get(node) or probes.setdefault(node, as_node(broker, out, node))
            p.subscribe(ROOT + sub)
        for node, p in probes.items():
            p.subscribe(ROOT + f"node/{node}/marker")
        ctl = as_node(broker, out, "controller")
        for _node, _sub, topic, _ok in READ_RULES:
            ctl.c.publish(ROOT + topic, b'{"v":1}', qos=1)
        # A marker each probe may read, sent after the rules' messages on the same connection.
        for node in probes:
            ctl.c.publish(ROOT + f"node/{node}/marker", b'{"v":1}', qos=1)
        for node, p in probes.items():
            p.wait_got(ROOT + f"node/{node}/marker")
        for node, sub, topic, ok in READ_RULES:
            got = (ROOT + topic) in probes[node].got
            assert got == ok, f"{node} reading {sub}: expected {'allowed' if ok else 'refused'}"
        ctl.close()
    finally:
        for p in probes.values():
            p.close()


def _bus(broker: LocalBroker, out: Path, node: str, role: str) -> BusClient:
    c = creds(out, node)
    bus = BusClient(hall="demo-county", node=node, role=role,
                    broker=BrokerAddress("127.0.0.1", broker.port, c["username"], c["password"]))
    assert bus.start(wait=5)
    return bus


def test_signed_node_ids_guard_window_actions_behind_the_acl(secured) -> None:
    """Even with the ACL passed, the controller refuses a counter acting for another window."""
    broker, out = secured
    cfg = load_config()
    ran: list[str] = []
    inner = SimpleDispatcher({
        "window.call_next": lambda r: ran.append(f"{r.body.node}:{r.body.window}") or {"ok": 1},
        "rating.submit": lambda r: ran.append(f"{r.body.node}:rate{r.body.window}") or {"accepted": True},
    })
    ctl = _bus(broker, out, "controller", "controller")
    server = RpcServer(ctl, NodeGuard(inner, cfg, load_node_keys(out / "node-keys.json")))
    server.start()
    buses = [ctl]
    try:
        counter3 = _bus(broker, out, "counter-3", "counter")
        tablet3 = _bus(broker, out, "tablet-3", "tablet")
        buses += [counter3, tablet3]
        key3 = bytes.fromhex(creds(out, "counter-3")["node_key"])
        tkey3 = bytes.fromhex(creds(out, "tablet-3")["node_key"])
        signed = RpcClient(counter3, node_key=key3)
        unsigned = RpcClient(counter3)
        forged = RpcClient(counter3, node_key=bytes(32))
        tablet = RpcClient(tablet3, node_key=tkey3)
        assert ctl.wait_subscribed(ctl.topics.rpc_all, 5)
        for client in (signed, unsigned, forged, tablet):
            assert client.bus.wait_subscribed(client.reply_topic, 5)
        assert signed.call("window.call_next", {"window": "3"}) == {"ok": 1}
        for client, window in ((signed, "4"), (unsigned, "3"), (forged, "3")):
            with pytest.raises(RpcFault) as err:
                client.call("window.call_next", {"window": window})
            assert err.value.code == "forbidden"
        assert tablet.call("rating.submit", {"rating_id": "r1", "level": 5, "window": "3"}) == {"accepted": True}
        with pytest.raises(RpcFault) as err:
            tablet.call("rating.submit", {"rating_id": "r2", "level": 1, "window": "4", "reasons": ["attitude"]})
        assert err.value.code == "forbidden"
        assert ran == ["counter-3:3", "tablet-3:rate3"]
    finally:
        server.stop()
        for b in buses:
            b.stop()


def test_rerunning_broker_config_keeps_installed_passwords(secured, tmp_path: Path) -> None:
    _broker, out = secured
    before = creds(out, "tablet-7")
    again = subprocess.run([sys.executable, "-m", "hallbus", "broker-config", "--out", str(out), "--run-as",
                            getpass.getuser(), "--persistence-dir", f"{out}/persist/", "--listen", "127.0.0.1"],
                           capture_output=True, text=True, timeout=60)
    assert again.returncode == 0, again.stderr
    assert creds(out, "tablet-7") == before
    mode = (out / "credentials" / "tablet-7.json").stat().st_mode & 0o777
    assert mode == 0o600
