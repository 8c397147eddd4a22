"""A hall behind the broker config `hallbus broker-config` generates, and raw probes logged in as its nodes."""

from __future__ import annotations

import contextlib
import getpass
import json
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from hallbus.brokerurl import BrokerAddress
from hallbus.client import BusClient
from hallbus.config import HallConfig
from hallbus.controller.app import HallController
from hallbus.localbroker import LocalBroker, free_port
from hallbus.paho_private import close_sockets
from hallbus.rpc import RpcClient
from hallbus.sample import all_day_text, open_all_day
from tests.hallbus.helpers import without_broker_limits

ROOT = "hall/v1/demo-county/"


def secured_broker(out: Path, config: Path | None = None) -> LocalBroker:
    """Run `hallbus broker-config` into `out` (the sample hall, or `config`); its Mosquitto, not started."""
    port = free_port()
    (out / "persist").mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [sys.executable, "-m", "hallbus", "broker-config", *(["--config", str(config)] if config else []),
         "--out", str(out), "--listen", "127.0.0.1", "--port", str(port), "--run-as", getpass.getuser(),
         "--persistence-dir", f"{out}/persist/", "--json"],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "controller" in json.loads(done.stdout)["nodes"]
    return LocalBroker(out, port, conf_file=out / "mosquitto.conf")


def write_secured_hall(
    tmp: Path, out: Path, edit: Callable[[str], str] = lambda text: text
) -> tuple[Path, HallConfig, LocalBroker]:
    """Write the all-day sample hall (node keys in `out`, `edit` applied) and its broker config into `out`.

    Returns the config's path, the config and the broker (not started yet).
    """
    (out / "persist").mkdir(parents=True)
    port = free_port()
    text = all_day_text(tmp).replace("[privacy]\n", f'[privacy]\nnode_keys_file = "{out}/node-keys.json"\n', 1)
    config_path, config = open_all_day(tmp, text=edit(text))
    done = subprocess.run(
        [sys.executable, "-m", "hallbus", "broker-config", "--config", str(config_path), "--out",
         str(out), "--listen", "127.0.0.1", "--port", str(port), "--run-as", getpass.getuser(),
         "--persistence-dir", f"{out}/persist/"],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return config_path, config, LocalBroker(out, port, conf_file=out / "mosquitto.conf")


def creds(out: Path, node: str) -> dict:
    return json.loads((out / "credentials" / f"{node}.json").read_text())


def address(broker: LocalBroker, out: Path, node: str) -> BrokerAddress:
    """The broker as `node` logs in to it (its generated username and password)."""
    c = creds(out, node)
    return BrokerAddress("127.0.0.1", broker.port, c["username"], c["password"])


class Probe:
    """A raw paho client logged in as one node, recording what it receives."""

    def __init__(self, port: int, username: str | None, password: str | None) -> None:
        self.got: list[str] = []
        self.from_: list[tuple[str, str]] = []  # (topic, probe node that sent it)
        self.sizes: dict[str, int] = {}  # topic -> size of the last payload on it
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
            self.sizes[m.topic] = len(m.payload)
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
        close_sockets(self.c)


class Publisher:
    """A raw paho client logged in as a node that records its publishes' acknowledgements and its disconnects."""

    def __init__(self, broker: LocalBroker, out: Path, node: str) -> None:
        c = creds(out, node)
        self.acks: dict[int, Any] = {}
        self.disconnects: list[Any] = []
        self.connected = threading.Event()
        self.cond = threading.Condition()
        self.c = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id=node, protocol=mqtt.MQTTv5)
        self.c.username_pw_set(c["username"], c["password"])
        self.c.on_connect = lambda _c, _u, _f, rc, _p=None: rc.is_failure or self.connected.set()
        self.c.on_publish = self._on_publish
        self.c.on_disconnect = self._on_disconnect
        self.c.connect("127.0.0.1", broker.port)
        self.c.loop_start()
        assert self.connected.wait(5), f"{node} could not log in"

    def _on_publish(self, _c: Any, _u: Any, mid: int, rc: Any, _p: Any = None) -> None:
        with self.cond:
            self.acks[mid] = rc
            self.cond.notify_all()

    def _on_disconnect(self, _c: Any, _u: Any, _f: Any, rc: Any, _p: Any = None) -> None:
        with self.cond:
            self.disconnects.append(rc)
            self.connected.clear()
            self.cond.notify_all()

    def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> Any:
        """Publish at QoS 1; the broker's acknowledgement (its reason code)."""
        info = self.c.publish(ROOT + topic, payload, qos=1, retain=retain)
        with self.cond:
            assert self.cond.wait_for(lambda: info.mid in self.acks, 10), f"no PUBACK for {topic}"
            return self.acks[info.mid]

    def close(self) -> None:
        self.c.disconnect()
        close_sockets(self.c)


def as_node(broker: LocalBroker, out: Path, node: str) -> Probe:
    c = creds(out, node)
    p = Probe(broker.port, c["username"], c["password"])
    assert not p.rc.is_failure, f"{node} could not log in: {p.rc}"
    return p


@contextlib.contextmanager
def running_secured_hall(
    tmp_path: Path, edit: Callable[[str], str] = lambda text: text
) -> Iterator[tuple[LocalBroker, Path, HallController]]:
    """The sample hall with node keys (`edit` applied to its config) behind its generated broker config,
    its controller in this process."""
    out = tmp_path / "broker"
    text = all_day_text(tmp_path).replace("[privacy]\n", f'[privacy]\nnode_keys_file = "{out}/node-keys.json"\n', 1)
    config_path, cfg = open_all_day(tmp_path, text=edit(text))
    broker = secured_broker(out, config_path)
    broker.start()
    ctl = HallController(cfg, data_dir=tmp_path / "data", broker=address(broker, out, "controller"), tick_s=0.2)
    try:
        assert ctl.start(wait=5), "the controller could not log in"
        yield broker, out, ctl
    finally:
        ctl.stop()
        broker.stop()


@pytest.fixture
def secured_hall(tmp_path: Path) -> Iterator[tuple[LocalBroker, Path, HallController]]:
    """The sample hall with node keys behind its generated broker config, its controller in this process."""
    with running_secured_hall(tmp_path) as hall:
        yield hall


@pytest.fixture
def hall_without_broker_limits(tmp_path: Path) -> Iterator[tuple[LocalBroker, Path, HallController]]:
    """The same with the broker's per-login budgets off ([broker_limits]): the controller's own layers alone."""
    with running_secured_hall(tmp_path, without_broker_limits) as hall:
        yield hall


REPO = Path(__file__).resolve().parents[3]


def hostile(
    broker: LocalBroker, out: Path, kinds: str, seconds: float, node: str = "terminal-1"
) -> subprocess.Popen[bytes]:
    """`node` (a terminal) attacking with bench/hostile.py's `kinds` for `seconds`, in a process of its own."""
    return subprocess.Popen(
        [sys.executable, str(REPO / "bench" / "hostile.py"), "--attack", "terminal", "--kinds", kinds,
         "--creds", str(out / "credentials" / f"{node}.json"), "--port", str(broker.port),
         "--hall", "demo-county", "--seconds", str(seconds)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )


def counter_at_window_3(broker: LocalBroker, out: Path) -> tuple[BusClient, RpcClient]:
    """counter-3's bus (started) and its signed RPC client, with staff s003 logged in at window 3."""
    bus = BusClient(hall="demo-county", node="counter-3", role="counter", broker=address(broker, out, "counter-3"))
    assert bus.start(wait=5)
    counter = RpcClient(bus, node_key=bytes.fromhex(creds(out, "counter-3")["node_key"]))
    counter.call("window.login", {"window": "3", "staff": "s003", "password": "hall003"}, timeout=10)
    return bus, counter
