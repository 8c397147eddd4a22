"""`hallbus broker-config` on a real Mosquitto: anonymous refused, each role's ACL allowed and refused."""

from __future__ import annotations

import getpass
import json
import subprocess
import sys
from pathlib import Path

import pytest

from hallbus.client import BusClient
from hallbus.config import load_config
from hallbus.localbroker import LocalBroker
from hallbus.nodeauth import NodeGuard, load_node_keys
from hallbus.rpc import RpcClient, RpcFault, RpcServer, SimpleDispatcher
from tests.hallbus.deploy.secured import ROOT, Probe, address, as_node, creds, secured_broker


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("broker-config")
    broker = secured_broker(out)
    broker.start()
    yield broker, out
    broker.stop()


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
    bus = BusClient(hall="demo-county", node=node, role=role, broker=address(broker, out, node))
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


def test_the_protocol_doc_says_what_each_role_may_write_and_read() -> None:
    """docs/protocol.md's role table is the generated ACL, word for word."""
    from hallbus.deploy.brokerconf import ROLE_METHODS, ROLE_READS
    from hallbus.docs import DOC_PATH
    from hallbus.topics import Topics

    rows = {}
    for line in DOC_PATH.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0] in ROLE_READS:
            rows[cells[0]] = cells[1:]
    t = Topics("h")
    for role, reads in ROLE_READS.items():
        methods = ROLE_METHODS.get(role, ())
        writes = f"`rpc/` {', '.join(methods)}" if methods else "nothing"
        topics = [x[len(t.root):] for x in reads(t, "{its window}")]
        assert rows.get(role) == [writes, ", ".join(f"`{x}`" for x in topics)], role
