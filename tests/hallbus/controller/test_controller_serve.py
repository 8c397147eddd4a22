"""`hallbus serve` as a real process: sd_notify, SIGTERM, kill -9 under load, and the admin CLI."""

from __future__ import annotations

import concurrent.futures
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest

from hallbus.brokerurl import parse_broker_url
from hallbus.client import BusClient
from hallbus.config import load_config
from hallbus.controller.clock import HallTime, system_clock
from hallbus.localbroker import LocalBroker
from hallbus.rpc import RpcClient, RpcFault
from tests.hallbus.controller.helpers import HALL, lift_rpc_limits

ROOT = f"hall/v1/{HALL}/"
REPO = Path(__file__).resolve().parents[3]


class Serve:
    """One `hallbus serve` process we started; killed by its PID."""

    def __init__(self, config: Path, broker: LocalBroker, data: Path, env: dict[str, str] | None = None) -> None:
        self.args = [
            sys.executable, "-m", "hallbus", "serve", "--config", str(config), "--broker", broker.url,
            "--data", str(data), "--tick", "0.2",
        ]
        self.env = {**os.environ, **(env or {})}
        self.log = data.parent / "serve.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(self.args, cwd=REPO, env=self.env, stdout=log, stderr=log)

    def kill9(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(5)

    def terminate(self) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
        return self.proc.wait(10)

    def cleanup(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)


@pytest.fixture
def serve(config_file: Path, broker: LocalBroker, tmp_path: Path) -> Iterator[Serve]:
    s = Serve(config_file, broker, tmp_path / "data")
    try:
        yield s
    finally:
        s.cleanup()


def wait_online(bus: BusClient, timeout: float = 10.0, after: str | None = None) -> str:
    """Wait for a controller session that is online (and not `after`); return its session id."""
    import threading

    got: dict[str, str] = {}
    ev = threading.Event()

    def on_status(_t: str, payload: bytes, _p: Any) -> None:
        if payload:
            st = msgspec.json.decode(payload)
            if st.get("state") == "online" and st.get("session") != after:
                got["session"] = st["session"]
                ev.set()

    topic = bus.topics.node_status("controller")
    bus.subscribe(topic, on_status)
    try:
        assert ev.wait(timeout), "controller did not come online"
    finally:
        bus.unsubscribe(topic)
    return got["session"]


def admin(config: Path, data: Path, *args: str) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "hallbus", *args, "--config", str(config), "--data", str(data)],
        cwd=REPO, capture_output=True, timeout=30,
    )
    assert out.returncode == 0, out.stderr.decode()
    return out.stdout.decode()


def today(config: Path) -> str:
    cfg = load_config(config)
    return HallTime.of(cfg).today(system_clock(cfg.hall.timezone)).isoformat()


@pytest.fixture
def terminal(broker: LocalBroker) -> Iterator[RpcClient]:
    bus = BusClient(hall=HALL, node="terminal-1", role="terminal", broker=parse_broker_url(broker.url))
    assert bus.start(wait=5)
    try:
        yield RpcClient(bus)
    finally:
        bus.stop()


def test_sd_notify_and_a_clean_stop_on_sigterm(
    config_file: Path, broker: LocalBroker, tmp_path: Path, terminal: RpcClient
) -> None:
    sock_path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(sock_path))
    sock.settimeout(10)
    s = Serve(config_file, broker, tmp_path / "data", env={"NOTIFY_SOCKET": str(sock_path), "WATCHDOG_USEC": "600000"})
    try:
        s.start()
        assert sock.recv(100) == b"READY=1"
        assert sock.recv(100) == b"WATCHDOG=1"
        assert sock.recv(100) == b"WATCHDOG=1"
        wait_online(terminal.bus)
        assert terminal.call("ticket.issue", {"service": "A"})["ticket"]["number"] == "A001"
        assert s.terminate() == 0
        while (msg := sock.recv(100)) == b"WATCHDOG=1":
            pass
        assert msg == b"STOPPING=1"
        status: dict[str, Any] = {}
        import threading

        ev = threading.Event()

        def on_status(_t: str, payload: bytes, _p: Any) -> None:
            status.update(msgspec.json.decode(payload))
            ev.set()

        terminal.bus.subscribe(terminal.bus.topics.node_status("controller"), on_status)
        assert ev.wait(5) and status["state"] == "offline"
        assert (tmp_path / "hall.key").exists()
        # the store was closed cleanly: the WAL is checkpointed away
        wal = tmp_path / "data" / "hall.db-wal"
        assert not wal.exists() or wal.stat().st_size == 0
    finally:
        s.cleanup()
        sock.close()


def test_kill_9_under_load_loses_no_acknowledged_ticket(
    serve: Serve, terminal: RpcClient, config_file: Path, tmp_path: Path
) -> None:
    lift_rpc_limits(config_file)  # 600 requests at once from one terminal: a load, not an attack
    serve.start()
    first_session = wait_online(terminal.bus)
    acked: dict[str, str] = {}  # request_id -> number
    rids = [str(uuid.uuid4()) for _ in range(600)]  # A: 400 (its daily cap), E: 200
    futures: dict[str, concurrent.futures.Future[dict[str, Any]]] = {}
    service_of = {rid: "A" if i % 3 else "E" for i, rid in enumerate(rids)}
    answered = [0]
    thirty = threading.Event()

    def count(_f: concurrent.futures.Future[dict[str, Any]]) -> None:
        answered[0] += 1
        if answered[0] >= 30:
            thirty.set()

    def kill_now() -> int:
        serve.kill9()
        in_flight = sum(not f.done() for f in futures.values())
        assert in_flight > 0, "every request was answered before the kill: nothing was tested"
        return in_flight

    in_flight = 0
    for rid in rids:
        futures[rid] = terminal.call_async("ticket.issue", {"service": service_of[rid]}, timeout=6, request_id=rid)
        futures[rid].add_done_callback(count)
        if not in_flight and answered[0] >= 30:  # kill mid-stream, once some answers came back
            in_flight = kill_now()
    if not in_flight:
        thirty.wait(10)
        in_flight = kill_now()
    serve.start()
    wait_online(terminal.bus, after=first_session)
    lost = []
    for rid, fut in futures.items():
        try:
            acked[rid] = fut.result(15)["ticket"]["number"]
        except RpcFault as err:
            assert err.code == "timeout", err
            lost.append(rid)
    assert len(acked) > 100
    print(f"in flight at the kill: {in_flight}, acknowledged: {len(acked)}, lost with the process: {len(lost)}")
    # What the dead process had taken off the wire unanswered is asked again with the same
    # request id, as a terminal's outbox does: committed ones answer as before, others now.
    retried = {
        rid: terminal.call("ticket.issue", {"service": service_of[rid]}, request_id=rid, timeout=15)["ticket"]["number"]
        for rid in lost
    }
    lines = admin(config_file, tmp_path / "data", "tickets", "--json", "--date", today(config_file)).splitlines()
    rows = [json.loads(line) for line in lines]
    numbers = [r["number"] for r in rows]
    assert len(numbers) == len(set(numbers)), "a number was issued twice"
    assert set(acked.values()) <= set(numbers), "an acknowledged ticket is missing"
    assert len(set(acked.values())) == len(acked)
    assert set(retried.values()) <= set(numbers) and not set(retried.values()) & set(acked.values())
    assert all({"number", "service", "status", "issued_at"} <= set(r) for r in rows)
    # asking again with the same request ids, after the crash, changes nothing
    sample = list(acked.items())[::50]
    for rid, number in sample:
        assert terminal.call("ticket.issue", {"service": service_of[rid]}, request_id=rid)["ticket"]["number"] == number
    again = admin(config_file, tmp_path / "data", "tickets", "--json", "--date", today(config_file)).splitlines()
    assert len(again) == len(lines) == 600


@pytest.mark.slow
def test_admin_commands_read_beside_a_running_controller(
    serve: Serve, terminal: RpcClient, config_file: Path, tmp_path: Path
) -> None:
    serve.start()
    wait_online(terminal.bus)
    terminal.call("window.login", {"window": "9", "staff": "s009", "password": "hall009"})
    for _ in range(3):
        terminal.call("ticket.issue", {"service": "E"})
    terminal.call("window.call_next", {"window": "9"})
    terminal.call("window.finish", {"window": "9"})
    terminal.call("window.call_next", {"window": "9"})
    data = tmp_path / "data"
    rows = [json.loads(x) for x in admin(config_file, data, "tickets", "--json").splitlines()]
    assert [(r["number"], r["status"]) for r in rows] == [("E001", "done"), ("E002", "called"), ("E003", "waiting")]
    stats = json.loads(admin(config_file, data, "stats", "--json"))
    assert stats["tickets_issued"] == 3 and stats["served"] == 1
    wins = {w["window"]: w for w in map(json.loads, admin(config_file, data, "windows", "--json").splitlines())}
    assert wins["9"]["status"] == "serving" and wins["9"]["ticket"] == "E002" and wins["9"]["staff_name"] == "周婷"
    assert wins["1"]["status"] == "closed" and len(wins) == 12
    text = admin(config_file, data, "tickets")
    assert "E002" in text and "已叫号" in text
    assert "9号窗口" in admin(config_file, data, "windows")
    assert admin(config_file, data, "tickets", "--json", "--date", "2001-01-01") == ""
