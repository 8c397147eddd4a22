"""Role `web` on a real Mosquitto configured by `hallbus broker-config`: it reads the queue and calls only its methods."""

from __future__ import annotations

import getpass
import json
import subprocess
import sys
from pathlib import Path

import pytest

from hallbus.brokerurl import BrokerAddress
from hallbus.client import BusClient
from hallbus.localbroker import LocalBroker, free_port
from hallbus.rpc import RpcClient, RpcServer, SimpleDispatcher
from tests.hallbus.helpers import Inbox

HALL = "demo-county"


def node_bus(broker: LocalBroker, out: Path, node: str, role: str) -> BusClient:
    c = json.loads((out / "credentials" / f"{node}.json").read_text())
    assert c["role"] == role
    bus = BusClient(hall=HALL, node=node, role=role, broker=BrokerAddress("127.0.0.1", broker.port, c["username"], c["password"]))
    assert bus.start(wait=10), f"{node} could not log in"
    return bus


@pytest.mark.slow
def test_the_web_node_reads_the_queue_and_calls_only_the_ticket_methods(tmp_path: Path) -> None:
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
                                   for m in ("ticket.status", "ticket.statuses", "ticket.cancel", "window.call_next")})
        server = RpcServer(ctl, answer)
        server.start()
        try:
            assert ctl.wait_subscribed(ctl.topics.rpc_all, 10)
            # Reads: the retained queue state and the call events.
            seen = Inbox()
            for topic in (web.topics.queue_state, web.topics.calls, web.topics.stats_today, web.topics.alerts):
                web.subscribe(topic, seen)
                assert web.wait_subscribed(topic, 10)
            for topic in (ctl.topics.stats_today, ctl.topics.alerts, ctl.topics.queue_state, ctl.topics.calls):
                ctl.publish(topic, b'{"v":1}')
            seen.wait_for(lambda t, _p: t == ctl.topics.queue_state, 10)
            seen.wait_for(lambda t, _p: t == ctl.topics.calls, 10)  # sent last: the others came before, or never
            assert {t for t, _p in seen.messages} == {ctl.topics.queue_state, ctl.topics.calls}
            # Calls: the ticket methods go through; a counter's method never reaches the controller.
            rpc = RpcClient(web)
            assert web.wait_subscribed(rpc.reply_topic, 10)
            web.publish(web.topics.rpc("window.call_next"), {"v": 1, "request_id": "forged", "window": "1"})
            for method in ("ticket.status", "ticket.statuses", "ticket.cancel"):
                assert rpc.call(method, {"ticket_id": "x"}, timeout=10) == {"m": method}
            assert asked == ["ticket.status", "ticket.statuses", "ticket.cancel"]
        finally:
            server.stop()
    finally:
        for bus in buses:
            bus.stop()
        broker.stop()
