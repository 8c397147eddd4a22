"""Two halls bridge their state, stats and alerts to a city broker; a hall carries on without it."""

from __future__ import annotations

import getpass
import json
import subprocess
import sys
import time
from pathlib import Path

from hallbus.brokerurl import BrokerAddress
from hallbus.client import BusClient
from hallbus.config import DEFAULT_CONFIG
from hallbus.localbroker import LocalBroker, free_port
from hallbus.rpc import RpcClient, RpcServer, SimpleDispatcher
from tests.hallbus.helpers import Inbox


def _hall(tmp: Path, hall_id: str, city_port: int) -> tuple[LocalBroker, Path]:
    cfg = tmp / f"{hall_id}.toml"
    cfg.write_text(DEFAULT_CONFIG.read_text(encoding="utf-8").replace('id = "demo-county"', f'id = "{hall_id}"'),
                   encoding="utf-8")
    out = tmp / hall_id
    (out / "persist").mkdir(parents=True)
    port = free_port()
    done = subprocess.run(
        [sys.executable, "-m", "hallbus", "broker-config", "--config", str(cfg), "--out", str(out),
         "--listen", "127.0.0.1", "--port", str(port), "--run-as", getpass.getuser(),
         "--persistence-dir", f"{out}/persist/", "--city", f"127.0.0.1:{city_port}"],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    broker = LocalBroker(out, port, conf_file=out / "mosquitto.conf")
    broker.start()
    return broker, out


def _controller(broker: LocalBroker, out: Path, hall_id: str) -> BusClient:
    c = json.loads((out / "credentials" / "controller.json").read_text())
    bus = BusClient(hall=hall_id, node="controller", role="controller",
                    broker=BrokerAddress("127.0.0.1", broker.port, c["username"], c["password"]))
    assert bus.start(wait=5)
    return bus


def test_city_sees_two_halls_and_a_hall_carries_on_without_the_city(tmp_path: Path) -> None:
    city = LocalBroker(tmp_path / "city")
    city.start()
    halls = [_hall(tmp_path, hid, city.port) for hid in ("north-county", "south-county")]
    buses: list[BusClient] = []
    try:
        watcher = BusClient(hall="city-watch", node="city-screen", role="hall",
                            broker=BrokerAddress("127.0.0.1", city.port))
        assert watcher.start(wait=5)
        buses.append(watcher)
        inbox = Inbox()
        watcher.subscribe("hall/v1/+/stats/today", inbox)
        watcher.subscribe("hall/v1/+/alerts", inbox)
        watcher.subscribe("hall/v1/+/rpc/#", inbox)  # must never arrive: commands stay in the hall
        ctls = [_controller(b, out, hid) for (b, out), hid in zip(halls, ("north-county", "south-county"), strict=True)]
        buses += ctls
        deadline = time.monotonic() + 10
        # The bridge connects asynchronously: publish until the city has seen both halls.
        while time.monotonic() < deadline:
            for i, ctl in enumerate(ctls):
                ctl.publish_state(ctl.topics.stats_today, {"v": 1, "served": 10 + i})
                ctl.publish(ctl.topics.alerts, {"v": 1, "kind": "queue_threshold", "level": "warn", "subject": f"h{i}"})
                ctl.publish(ctl.topics.rpc("window.call_next"), {"v": 1, "request_id": "x", "window": "1"})
            time.sleep(0.3)
            topics = {t for t, _p in inbox.messages}
            if {"hall/v1/north-county/stats/today", "hall/v1/south-county/stats/today",
                "hall/v1/north-county/alerts", "hall/v1/south-county/alerts"} <= topics:
                break
        topics = {t for t, _p in inbox.messages}
        assert "hall/v1/north-county/stats/today" in topics and "hall/v1/south-county/stats/today" in topics
        assert "hall/v1/north-county/alerts" in topics and "hall/v1/south-county/alerts" in topics
        assert not any("/rpc/" in t for t in topics), "the bridge must not forward requests"

        # The city broker goes away: the hall's own request/response goes on.
        city.stop()
        (north, north_out) = halls[0]
        server = RpcServer(ctls[0], SimpleDispatcher({"stats.today": lambda _r: {"stats": {"served": 10}}}))
        server.start()
        term = json.loads((north_out / "credentials" / "terminal-1.json").read_text())
        terminal = BusClient(hall="north-county", node="terminal-1", role="terminal",
                             broker=BrokerAddress("127.0.0.1", north.port, term["username"], term["password"]))
        assert terminal.start(wait=5)
        buses.append(terminal)
        time.sleep(0.2)
        assert RpcClient(terminal).call("stats.today", {}) == {"stats": {"served": 10}}
        # ... and when the city comes back, the bridge reconnects by itself and forwards again.
        city.start()
        assert watcher.wait_connected(10)
        n_before = len(inbox.messages)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and len(inbox.messages) == n_before:
            ctls[0].publish(ctls[0].topics.alerts, {"v": 1, "kind": "device", "level": "warn", "subject": "printer"})
            time.sleep(0.5)
        assert len(inbox.messages) > n_before, "the bridge did not come back with the city broker"
        server.stop()
    finally:
        for b in buses:
            b.stop()
        for broker, _out in halls:
            broker.stop()
        city.stop()
