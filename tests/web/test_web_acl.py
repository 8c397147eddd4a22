"""Role `web`: on a Mosquitto configured by `hallbus broker-config` it reads the queue and calls only its
methods; behind the controller's node keys it rates a handling only with the ticket's id as proof."""

from __future__ import annotations

import getpass
import json
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from hallbus.brokerurl import BrokerAddress, parse_broker_url
from hallbus.client import BusClient
from hallbus.controller.app import HallController
from hallbus.localbroker import LocalBroker, free_port
from hallbus.rpc import RpcClient, RpcFault, RpcServer, SimpleDispatcher
from hallbus.sample import open_all_day
from tests.hallbus.helpers import Inbox

HALL = "demo-county"


def node_bus(broker: LocalBroker, out: Path, node: str, role: str) -> BusClient:
    c = json.loads((out / "credentials" / f"{node}.json").read_text())
    assert c["role"] == role
    bus = BusClient(hall=HALL, node=node, role=role, broker=BrokerAddress("127.0.0.1", broker.port, c["username"], c["password"]))
    assert bus.start(wait=10), f"{node} could not log in"
    return bus


@pytest.mark.slow
def test_the_web_node_reads_the_queue_and_calls_only_its_methods(tmp_path: Path) -> None:
    out, port = tmp_path / "broker-config", free_port()
    (tmp_path / "persist").mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "hallbus", "broker-config", "--out", str(out), "--listen", "127.0.0.1", "--port", str(port),
         "--run-as", getpass.getuser(), "--persistence-dir", f"{tmp_path}/persist/", "--json"],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "web" in json.loads(done.stdout)["nodes"]
    broker = LocalBroker(out, port, conf_file=out / "mosquitto.conf")
    broker.start()
    buses: list[BusClient] = []
    try:
        ctl = node_bus(broker, out, "controller", "controller")
        web = node_bus(broker, out, "web", "web")
        buses += [ctl, web]
        asked: list[str] = []
        answer = SimpleDispatcher({m: (lambda r, m=m: asked.append(m) or {"m": m})
                                   for m in ("ticket.status", "ticket.statuses", "ticket.cancel", "rating.submit",
                                             "report.query", "window.call_next")})
        server = RpcServer(ctl, answer)
        server.start()
        try:
            assert ctl.wait_subscribed(ctl.topics.rpc_all, 10)
            # Reads: the retained queue state, the call events and the controller's presence (web/presence.py);
            # for the console's live monitor the day's figures, the alerts, every node's devices (web/monitor.py).
            # Never another node's requests or replies.
            seen = Inbox()
            presence = web.topics.node_status("controller")
            others = (web.topics.rpc("ticket.issue"), web.topics.root + "reply/terminal-1/x")
            devices = web.topics.node_devices("terminal-1")
            readable = (presence, web.topics.queue_state, web.topics.stats_today, web.topics.alerts, devices)
            for topic in (*readable, *others, web.topics.calls):
                web.subscribe(topic, seen)
                assert web.wait_subscribed(topic, 10)
            for topic in (*readable[1:], *others, ctl.topics.calls):
                ctl.publish(topic, b'{"v":1}')
            seen.wait_for(lambda t, _p: t == ctl.topics.queue_state, 10)
            seen.wait_for(lambda t, _p: t == ctl.topics.calls, 10)  # sent last: the others came before, or never
            assert {t for t, _p in seen.messages} == {*readable, ctl.topics.calls}
            # Calls: the ticket methods go through; a counter's method never reaches the controller.
            rpc = RpcClient(web)
            assert web.wait_subscribed(rpc.reply_topic, 10)
            web.publish(web.topics.rpc("window.call_next"), {"v": 1, "request_id": "forged", "window": "1"})
            for method in ("ticket.status", "ticket.statuses", "ticket.cancel"):
                assert rpc.call(method, {"ticket_id": "x"}, timeout=10) == {"m": method}
            assert rpc.call("rating.submit", {"rating_id": "r", "level": 5}, timeout=10) == {"m": "rating.submit"}
            report = {"kind": "daily", "from": "2026-03-01", "to": "2026-03-31"}
            assert rpc.call("report.query", report, timeout=10) == {"m": "report.query"}  # the managers' reports
            assert asked == ["ticket.status", "ticket.statuses", "ticket.cancel", "rating.submit", "report.query"]
        finally:
            server.stop()
    finally:
        for bus in buses:
            bus.stop()
        broker.stop()


def test_the_controller_lets_the_web_node_rate_only_with_the_tickets_id(broker: LocalBroker, tmp_path: Path) -> None:
    keys = {"web": secrets.token_hex(32), "counter-3": secrets.token_hex(32), "terminal-1": secrets.token_hex(32)}
    (tmp_path / "node-keys.json").write_text(json.dumps(keys))
    path, _cfg = open_all_day(tmp_path, extra="")
    text = path.read_text().replace(
        f'key_file = "{tmp_path / "hall.key"}"',
        f'key_file = "{tmp_path / "hall.key"}"\nnode_keys_file = "{tmp_path / "node-keys.json"}"',
    )
    _path, cfg = open_all_day(tmp_path, text=text)
    app = HallController(cfg, data_dir=tmp_path / "data", broker=parse_broker_url(broker.url), tick_s=0.2)
    assert app.start(wait=10)
    assert app.bus.wait_subscribed(app.bus.topics.rpc_all, 10)
    buses: list[BusClient] = []
    try:
        def rpc(node: str, role: str) -> RpcClient:
            bus = BusClient(hall=cfg.hall.id, node=node, role=role, broker=parse_broker_url(broker.url))
            assert bus.start(wait=10)
            buses.append(bus)
            client = RpcClient(bus, node_key=bytes.fromhex(keys[node]))
            assert bus.wait_subscribed(client.reply_topic, 10)
            return client

        web, counter = rpc("web", "web"), rpc("counter-3", "counter")
        mine = rpc("terminal-1", "terminal").call("ticket.issue", {"service": "A"})["ticket"]  # signed, as tickets are
        counter.call("window.login", {"window": "3", "staff": "s003", "password": "hall003"})
        counter.call("window.call_next", {"window": "3"})
        counter.call("window.finish", {"window": "3"})
        with pytest.raises(RpcFault) as err:  # a web node naming a window, as a tablet would: no
            web.call("rating.submit", {"rating_id": "w-1", "level": 5, "window": "3"})
        assert err.value.code == "forbidden"
        got = web.call("rating.submit", {"rating_id": "w-2", "level": 5, "ticket_id": mine["ticket_id"]})
        assert got["accepted"] is True
    finally:
        for b in buses:
            b.stop()
        app.stop()
