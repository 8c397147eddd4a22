"""Two halls bridge their state, stats and alerts to a city broker; a hall carries on without it."""

from __future__ import annotations

import getpass
import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from hallbus.brokerurl import BrokerAddress
from hallbus.client import BusClient
from hallbus.config import DEFAULT_CONFIG
from hallbus.localbroker import LocalBroker, free_port
from hallbus.rpc import RpcClient, RpcServer, SimpleDispatcher
from tests.hallbus.helpers import Inbox, Reconnects


def bridged_hall(tmp: Path, hall_id: str, city_port: int, login: tuple[str, str] | None = None,
                 ca: Path | None = None) -> tuple[LocalBroker, Path]:
    """A hall's Mosquitto from `hallbus broker-config --city` (`login`: `--city-user`/`--city-password`; `ca`: `--city-ca`), started."""
    cfg = tmp / f"{hall_id}.toml"
    cfg.write_text(DEFAULT_CONFIG.read_text(encoding="utf-8").replace('id = "demo-county"', f'id = "{hall_id}"'),
                   encoding="utf-8")
    out = tmp / hall_id
    (out / "persist").mkdir(parents=True)
    port = free_port()
    done = subprocess.run(
        [sys.executable, "-m", "hallbus", "broker-config", "--config", str(cfg), "--out", str(out),
         "--listen", "127.0.0.1", "--port", str(port), "--run-as", getpass.getuser(),
         "--persistence-dir", f"{out}/persist/", "--city", f"127.0.0.1:{city_port}",
         *(["--city-user", login[0], "--city-password", login[1]] if login else []),
         *(["--city-ca", str(ca)] if ca else [])],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    broker = LocalBroker(out, port, conf_file=out / "mosquitto.conf")
    broker.start()
    return broker, out


def hall_controller(broker: LocalBroker, out: Path, hall_id: str) -> BusClient:
    """The hall's controller logged in to its broker."""
    c = json.loads((out / "credentials" / "controller.json").read_text())
    bus = BusClient(hall=hall_id, node="controller", role="controller",
                    broker=BrokerAddress("127.0.0.1", broker.port, c["username"], c["password"]))
    assert bus.start(wait=5)
    return bus


class BridgeState:
    """The bridge's own notification on the hall broker (retained "1" up, "0" down)."""

    def __init__(self, ctl: BusClient) -> None:
        self.states: list[bytes] = []
        self._cond = threading.Condition()
        assert ctl.subscribe(f"{ctl.topics.root}bridge/+/connected", self._on_state).wait(5)

    def _on_state(self, _topic: str, payload: bytes, _props: object) -> None:
        with self._cond:
            self.states.append(payload)
            self._cond.notify_all()

    def wait(self, state: bytes, after: int = 0, timeout: float = 20.0) -> int:
        """Block until the bridge reports `state` as its n-th notice or later (n >= after); returns n + 1."""
        with self._cond:
            assert self._cond.wait_for(lambda: state in self.states[after:], timeout), self.states
            return self.states.index(state, after) + 1


@pytest.mark.slow
def test_city_sees_two_halls_and_a_hall_carries_on_without_the_city(tmp_path: Path) -> None:
    city = LocalBroker(tmp_path / "city")
    city.start()
    halls = [bridged_hall(tmp_path, hid, city.port) for hid in ("north-county", "south-county")]
    buses: list[BusClient] = []
    try:
        watcher = BusClient(hall="city-watch", node="city-screen", role="hall",
                            broker=BrokerAddress("127.0.0.1", city.port))
        assert watcher.start(wait=5)
        buses.append(watcher)
        inbox = Inbox()
        assert watcher.subscribe("hall/v1/+/stats/today", inbox).wait(5)
        assert watcher.subscribe("hall/v1/+/alerts", inbox).wait(5)
        assert watcher.subscribe("hall/v1/+/bridge/+/connected", inbox).wait(5)  # the city's sign of each hall's link
        assert watcher.subscribe("hall/v1/+/rpc/#", inbox).wait(5)  # must never arrive: commands stay in the hall
        ctls = [hall_controller(b, out, hid) for (b, out), hid in zip(halls, ("north-county", "south-county"), strict=True)]
        buses += ctls
        bridges = [BridgeState(ctl) for ctl in ctls]
        for bridge in bridges:
            bridge.wait(b"1")  # the bridge connects on its own time
        for i, ctl in enumerate(ctls):
            ctl.publish_state(ctl.topics.stats_today, {"v": 1, "served": 10 + i})
            ctl.publish(ctl.topics.rpc("window.call_next"), {"v": 1, "request_id": "x", "window": "1"})
            ctl.publish(ctl.topics.alerts, {"v": 1, "kind": "queue_threshold", "level": "warn", "subject": f"h{i}"})
        # the alerts went out after the request on the same connections: once both are in,
        # a forwarded request would be in too
        inbox.wait_for(lambda t, p: t == "hall/v1/north-county/alerts")
        inbox.wait_for(lambda t, p: t == "hall/v1/south-county/alerts")
        topics = {t for t, _p in inbox.messages}
        assert "hall/v1/north-county/stats/today" in topics and "hall/v1/south-county/stats/today" in topics
        assert not any("/rpc/" in t for t in topics), "the bridge must not forward requests"
        assert {(t, p) for t, p in inbox.messages if "/bridge/" in t} >= {
            ("hall/v1/north-county/bridge/city-north-county/connected", b"1"),
            ("hall/v1/south-county/bridge/city-south-county/connected", b"1")}

        # The city broker goes away: the hall's own request/response goes on.
        city_back = Reconnects(watcher)
        seen = len(bridges[0].states)
        city.stop()
        down_at = bridges[0].wait(b"0", after=seen)
        (north, north_out) = halls[0]
        server = RpcServer(ctls[0], SimpleDispatcher({"stats.today": lambda _r: {"stats": {"served": 10}}}))
        server.start()
        assert ctls[0].wait_subscribed(ctls[0].topics.rpc_all, 5)
        term = json.loads((north_out / "credentials" / "terminal-1.json").read_text())
        terminal = BusClient(hall="north-county", node="terminal-1", role="terminal",
                             broker=BrokerAddress("127.0.0.1", north.port, term["username"], term["password"]))
        assert terminal.start(wait=5)
        buses.append(terminal)
        rpc = RpcClient(terminal)
        assert terminal.wait_subscribed(rpc.reply_topic, 5)
        assert rpc.call("stats.today", {}) == {"stats": {"served": 10}}
        # ... and when the city comes back, the bridge reconnects by itself and forwards again.
        city.start()
        city_back.wait_back(10)
        assert watcher.wait_subscribed("hall/v1/+/alerts", 5)
        bridges[0].wait(b"1", after=down_at)
        ctls[0].publish(ctls[0].topics.alerts, {"v": 1, "kind": "device", "level": "warn", "subject": "printer"})
        inbox.wait_for(lambda t, p: b"printer" in p, timeout=10)
        server.stop()
    finally:
        for b in buses:
            b.stop()
        for broker, _out in halls:
            broker.stop()
        city.stop()
