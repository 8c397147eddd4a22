"""Issue 17, findings 1 and 2, over the broker `hallbus broker-config` generates.

1. A node's huge retained publish never reaches the broker's memory, a payload over the
   limit is dropped, junk under a node's own prefix is not kept.
2. A login reconnecting under the controller's client id neither kicks the controller nor
   makes counter requests fail, and no screen sees the controller `lost`.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import msgspec
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from hallbus.client import BusClient
from hallbus.deploy.brokerconf import MAX_PACKET_SIZE, MESSAGE_SIZE_LIMIT
from hallbus.localbroker import LocalBroker
from hallbus.paho_private import close_sockets
from hallbus.rpc import RpcClient, RpcFault
from hallbus.sample import all_day_text, open_all_day
from tests.hallbus.deploy.secured import (
    ROOT,
    Probe,
    Publisher,
    address,
    as_node,
    creds,
    secured_broker,
    secured_hall,  # noqa: F401  (a fixture)
)
from tests.hallbus.helpers import without_broker_limits

MB = 1024 * 1024
REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def secured(tmp_path: Path) -> Iterator[tuple[LocalBroker, Path]]:
    out = tmp_path / "broker"
    broker = secured_broker(out)
    broker.start()
    yield broker, out
    broker.stop()


@pytest.fixture
def secured_without_broker_limits(tmp_path: Path) -> Iterator[tuple[LocalBroker, Path]]:
    """The generated broker with `[broker_limits]` off: its own queue limits alone, as behind the web
    service's budget or in a hall whose broker runs without the plugin."""
    out = tmp_path / "broker"
    config_path, _cfg = open_all_day(tmp_path, text=without_broker_limits(all_day_text(tmp_path)))
    broker = secured_broker(out, config_path)
    broker.start()
    yield broker, out
    broker.stop()


def peak_rss_mb(broker: LocalBroker) -> float:
    """The most memory the broker process ever held (VmHWM), in MiB."""
    assert broker.proc is not None
    for line in Path(f"/proc/{broker.proc.pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM in /proc status")


def retained_under(broker: LocalBroker, out: Path, prefix: str) -> dict[str, int]:
    """What the broker keeps under `prefix`: topic -> payload size, as a fresh controller session reads it."""
    probe = Probe(broker.port, "controller", creds(out, "controller")["password"])
    probe.subscribe(ROOT + prefix)
    # Retained messages come with the subscription; a message published after it arrives after them.
    marker = ROOT + "node/controller/marker"
    probe.subscribe(marker)
    probe.c.publish(marker, b'{"v":1}', qos=1)
    probe.wait_got(marker)
    probe.close()
    return {t: n for t, n in probe.sizes.items() if t != marker}


def test_a_huge_retained_publish_never_reaches_the_brokers_memory(secured) -> None:
    broker, out = secured
    window = Publisher(broker, out, "window-3")
    try:
        status = b'{"v":1,"state":"online","role":"window","session":"s","sw":"t"}'
        assert not window.publish("node/window-3/status", status, retain=True).is_failure
        before = peak_rss_mb(broker)
        window.c.publish(ROOT + "node/window-3/status", b"x" * (100 * MB), qos=1, retain=True)
        with window.cond:
            assert window.cond.wait_for(lambda: window.disconnects, 30), "the broker kept the connection"
        after = peak_rss_mb(broker)
        print(f"\nbroker peak memory {before:.1f} MiB before, {after:.1f} MiB after a 100 MiB retained publish")
        assert after < before + 20, f"the broker grew from {before:.1f} to {after:.1f} MiB"
    finally:
        window.close()
    kept = retained_under(broker, out, "node/window-3/#")
    assert kept == {ROOT + "node/window-3/status": len(status)}, kept


def test_a_payload_over_the_limit_is_dropped_and_junk_under_a_nodes_prefix_is_not_kept(secured) -> None:
    broker, out = secured
    tablet = Publisher(broker, out, "tablet-3")
    watcher = as_node(broker, out, "controller")
    try:
        watcher.subscribe(ROOT + "node/tablet-3/#")
        # junk under its own prefix: acknowledged (an ACL denial is silent), never kept or passed on
        tablet.publish("node/tablet-3/junk", b'{"v":1,"junk":1}', retain=True)
        devices = b'{"v":1}'
        assert not tablet.publish("node/tablet-3/devices", devices, retain=True).is_failure
        watcher.wait_got(ROOT + "node/tablet-3/devices")
        assert tablet.disconnects == [] and ROOT + "node/tablet-3/junk" not in watcher.got
        # a payload just over the limit: dropped, the connection ends
        tablet.c.publish(ROOT + "node/tablet-3/devices", b"x" * (MESSAGE_SIZE_LIMIT + 1), qos=1, retain=True)
        with tablet.cond:
            assert tablet.cond.wait_for(lambda: tablet.disconnects, 10), "the broker took the message"
    finally:
        tablet.close()
        watcher.close()
    assert retained_under(broker, out, "node/tablet-3/#") == {ROOT + "node/tablet-3/devices": len(devices)}


def test_a_tablet_login_reconnecting_as_controller_kicks_nobody_but_itself(secured_hall) -> None:  # noqa: F811
    broker, out, ctl = secured_hall
    hall_id = ctl.config.hall.id
    screen = BusClient(hall=hall_id, node="hall-1", role="hall", broker=address(broker, out, "hall-1"))
    seen: list[str] = []
    screen.subscribe(screen.topics.node_status("controller"),
                     lambda _t, payload, _p: seen.append(msgspec.json.decode(payload)["state"]))
    counter_bus = BusClient(hall=hall_id, node="counter-3", role="counter", broker=address(broker, out, "counter-3"))
    buses = [screen, counter_bus]
    stop = threading.Event()
    storm: dict[str, int] = {"connects": 0, "refused": 0}
    tablet = creds(out, "tablet-3")

    def reconnect_as_controller() -> None:
        while not stop.is_set():
            c = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id="controller",
                            protocol=mqtt.MQTTv5)
            c.username_pw_set(tablet["username"], tablet["password"])
            try:
                c.connect("127.0.0.1", broker.port, keepalive=5)
                c.loop(0.05)
                storm["connects"] += 1
                c.disconnect()
            except OSError:
                storm["refused"] += 1
            finally:
                close_sockets(c)
            time.sleep(1 / 15)

    attacker = threading.Thread(target=reconnect_as_controller, daemon=True)
    try:
        for b in buses:
            assert b.start(wait=5)
        assert screen.wait_subscribed(screen.topics.node_status("controller"), 5)
        counter = RpcClient(counter_bus, node_key=bytes.fromhex(creds(out, "counter-3")["node_key"]))
        assert counter_bus.wait_subscribed(counter.reply_topic, 5)
        counter.call("window.login", {"window": "3", "staff": "s003", "password": "hall003"})
        connects_before = ctl.bus.connect_count
        attacker.start()
        failed: list[str] = []
        answered = 0
        for i in range(24):
            try:
                counter.call("window.call_next" if i % 2 else "stats.today", {"window": "3"}, timeout=3)
                answered += 1
            except RpcFault as f:
                if f.code in ("timeout", "unavailable"):
                    failed.append(f.code)
                else:
                    answered += 1  # an answer (queue_empty ...), not a failure
            time.sleep(0.1)
        stop.set()
        attacker.join(5)
        print(f"\nreconnect storm as 'controller': {storm['connects']} connects; counter: {answered} answered, "
              f"{len(failed)} failed; controller connections {connects_before} -> {ctl.bus.connect_count}")
        assert storm["connects"] >= 15, "the storm did not run"
        assert failed == []
        assert ctl.bus.connect_count == connects_before, "the controller was kicked off"
        assert ctl.bus.connected
        assert [s for s in seen if s != "online"] == [], f"a screen saw the controller {seen}"
    finally:
        stop.set()
        for b in buses:
            b.stop()


def test_the_size_limit_leaves_room_over_the_largest_real_message() -> None:
    """bench/message_sizes.py runs a busy 60-window day; the broker's limit must be well above what it sends."""
    done = subprocess.run([sys.executable, str(REPO / "bench" / "message_sizes.py"), "--tickets", "300"],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    r = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"\nlargest message {r['largest_bytes']} bytes ({r['largest_by_topic']}); limit {MESSAGE_SIZE_LIMIT}")
    assert r["windows"] == 60 and r["largest_by_topic"]["stats/today"] > 5000, "the day was not busy"
    assert r["largest_bytes"] * 5 <= MESSAGE_SIZE_LIMIT


def test_what_waits_for_a_stalled_controller_is_bounded(secured_without_broker_limits) -> None:
    """A terminal sends 1,200 requests at the size limit (~150 MiB) while the controller's login reads nothing.

    What the broker holds for it is bounded by the queue limits (without `max_queued_bytes`
    the broker grew by ~160 MiB here). The login's byte budget ([broker_limits]) would stop
    it after ~2 MiB, so it is off here: the queue limits must hold on their own.
    """
    broker, out = secured_without_broker_limits
    stalled = Probe(broker.port, "controller", creds(out, "controller")["password"])
    stalled.subscribe(ROOT + "rpc/+")
    stalled.c.loop_stop()  # connected, subscribed, and reading nothing from now on
    terminal = Publisher(broker, out, "terminal-1")
    try:
        before = peak_rss_mb(broker)
        big = b'{"v":1,"request_id":"x","pad":"' + b"x" * (MESSAGE_SIZE_LIMIT - 100) + b'"}'
        for _ in range(1200):  # ~150 MiB
            terminal.publish("rpc/case.query", big)
        after = peak_rss_mb(broker)
        print(f"\nbroker peak memory {before:.1f} MiB before, {after:.1f} MiB after 1,200 requests of 128 KiB "
              "for a controller that reads nothing")
        assert after < before + 60, f"the broker grew from {before:.1f} to {after:.1f} MiB"
    finally:
        terminal.close()
        stalled.c.disconnect()


def test_a_bus_client_does_not_send_what_the_broker_would_not_take(secured) -> None:
    """Told the limit in the CONNACK, BusClient logs and drops a too-big message and keeps its connection."""
    broker, out = secured
    watcher = as_node(broker, out, "controller")
    bus = BusClient(hall="demo-county", node="window-3", role="window", broker=address(broker, out, "window-3"))
    try:
        watcher.subscribe(ROOT + "node/window-3/devices")
        assert bus.start(wait=5)
        assert bus.max_packet == MAX_PACKET_SIZE
        info = bus.publish(bus.topics.node_devices("window-3"), b"x" * MAX_PACKET_SIZE, retain=True)
        assert info.rc == mqtt.MQTTErrorCode.MQTT_ERR_PAYLOAD_SIZE
        bus.publish(bus.topics.node_devices("window-3"), b'{"v":1}', retain=True).wait_for_publish(5)
        watcher.wait_got(ROOT + "node/window-3/devices")
        assert watcher.sizes[ROOT + "node/window-3/devices"] == len(b'{"v":1}')
        assert bus.connected and bus.connect_count == 1, "the connection was lost"
    finally:
        bus.stop()
        watcher.close()


def test_an_rpc_request_over_the_limit_fails_at_once_as_too_large(secured) -> None:
    broker, out = secured
    bus = BusClient(hall="demo-county", node="terminal-1", role="terminal", broker=address(broker, out, "terminal-1"))
    try:
        assert bus.start(wait=5)
        fut = RpcClient(bus).call_async("case.query", {"case_no": "x" * MAX_PACKET_SIZE}, timeout=30)
        assert fut.done(), "it waits for a reply that cannot come"
        with pytest.raises(RpcFault) as err:
            fut.result(0)
        assert err.value.code == "too_large"
        assert bus.connected and bus.connect_count == 1
    finally:
        bus.stop()
