"""kill -9 the real controller under a pipeline of requests; the restarted one answers at once.

Over the broker `hallbus broker-config` generates (ACL, passwords, node keys, persistence):
terminals keep 1,500 `ticket.issue` requests in flight (30 s expiry), the controller
process dies with SIGKILL while they wait (after a hang, as a watchdog restart looks,
or mid-load), and a new process starts on the same data. It resumes its persistent
session, so the broker hands it the whole backlog; every queued request and 300 new
ones must be answered, the first within seconds of the new process being online: at once,
not held until the requests expire (30 s) or the broker retries. How soon is a figure the
test prints (about 50 ms on a quiet machine); the bound leaves room for a loaded one.
"""

from __future__ import annotations

import concurrent.futures
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hallbus import schemas
from hallbus.client import BusClient
from hallbus.rpc import RpcClient, RpcFault
from tests.hallbus.deploy import secured
from tests.hallbus.deploy.secured import write_secured_hall
from tests.hallbus.helpers import without_broker_limits, without_rpc_limits

REPO = Path(__file__).resolve().parents[3]
BACKLOG = 1500
NEW = 300
EXPIRY_S = 30


class SecuredHall:
    """The sample hall behind its generated broker config, and its controller as a real process."""

    def __init__(self, tmp: Path) -> None:
        self.out = tmp / "broker"
        # A load test: two terminals issue far faster than any printing terminal may, and send
        # far more requests than a node's budget ([rpc_limits], [broker_limits]) takes.
        self.config_path, self.config, self.broker = write_secured_hall(
            tmp, self.out, lambda text: without_broker_limits(
                without_rpc_limits(re.sub(r"(?m)^per_minute = \d+", "per_minute = 0", text)))
        )
        self.log = tmp / "serve.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.buses: list[BusClient] = []

    def creds(self, node: str) -> dict[str, Any]:
        return secured.creds(self.out, node)

    def bus(self, node: str, role: str) -> BusClient:
        bus = BusClient(hall=self.config.hall.id, node=node, role=role,
                        broker=secured.address(self.broker, self.out, node))
        assert bus.start(wait=5), f"{node} could not log in"
        self.buses.append(bus)
        return bus

    def start_controller(self) -> None:
        env = dict(os.environ, HALL_MQTT_USERNAME="controller", HALL_MQTT_PASSWORD=self.creds("controller")["password"])
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "hallbus", "serve", "--config", str(self.config_path),
                 "--broker", f"mqtt://127.0.0.1:{self.broker.port}"],
                cwd=REPO, stdout=log, stderr=log, env=env,
            )

    def signal_controller(self, sig: int) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, sig)
        if sig == signal.SIGKILL:
            self.proc.wait(5)

    def stop(self) -> None:
        for bus in self.buses:
            bus.stop()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.broker.stop()


@pytest.fixture
def hall(tmp_path: Path) -> Iterator[SecuredHall]:
    h = SecuredHall(tmp_path)
    h.broker.start()
    try:
        yield h
    finally:
        h.stop()


class Births:
    """The controller's `online` births, as a hall screen (allowed to read node status) sees them."""

    def __init__(self, bus: BusClient) -> None:
        self._cond = threading.Condition()
        self.sessions: list[tuple[str, float]] = []
        bus.subscribe(bus.topics.node_status("controller"), self._on_status)

    def _on_status(self, _topic: str, payload: bytes, _props: object) -> None:
        if not payload:
            return
        status = schemas.decode(payload, schemas.NodeStatus)
        with self._cond:
            if status.state == "online" and all(s != status.session for s, _t in self.sessions):
                self.sessions.append((status.session, time.monotonic()))
                self._cond.notify_all()

    def wait_new(self, seen: int, timeout: float) -> tuple[str, float]:
        with self._cond:
            assert self._cond.wait_for(lambda: len(self.sessions) > seen, timeout), "the controller never came online"
            return self.sessions[seen]


class Answers:
    """When each request got its answer (a ticket or an error reply), or that it timed out."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.at: dict[int, float] = {}
        self.timed_out: list[int] = []
        self.all_in = threading.Event()
        self.expected = 0
        self.hundred = threading.Event()  # the 100th answer came

    def track(self, i: int, fut: concurrent.futures.Future[dict[str, Any]]) -> None:
        with self._lock:
            self.expected += 1
            self.all_in.clear()  # (set already if the backlog was all answered before this one went out)
        fut.add_done_callback(lambda f: self._done(i, f))

    def _done(self, i: int, fut: concurrent.futures.Future[dict[str, Any]]) -> None:
        now = time.monotonic()
        err = fut.exception()
        with self._lock:
            if isinstance(err, RpcFault) and err.code in ("timeout", "unavailable"):
                self.timed_out.append(i)
            else:
                self.at[i] = now
                if len(self.at) >= 100:
                    self.hundred.set()
            if len(self.at) + len(self.timed_out) == self.expected:
                self.all_in.set()

    def pending(self) -> int:
        with self._lock:
            return self.expected - len(self.at) - len(self.timed_out)


@pytest.mark.slow
@pytest.mark.parametrize("death", ["after_a_hang", "mid_load"])
def test_a_killed_controller_answers_its_backlog_at_once_after_restart(hall: SecuredHall, death: str) -> None:
    births = Births(hall.bus("hall-1", "hall"))
    hall.start_controller()
    births.wait_new(0, 20)
    terminals = []
    for node in ("terminal-1", "terminal-2"):
        bus = hall.bus(node, "terminal")
        terminals.append(RpcClient(bus, node_key=bytes.fromhex(hall.creds(node)["node_key"])))
    # the services a terminal may take without an ID card, so most requests are real issues
    services = [s.code for s in hall.config.services if not s.real_name]
    answers = Answers()
    assert terminals[0].call("ticket.issue", {"service": services[0]}, timeout=10)["ticket"]["number"]

    if death == "after_a_hang":
        hall.signal_controller(signal.SIGSTOP)
        killer = threading.Thread(target=lambda: None)
    else:  # busy answering: killed once 100 answers are out, while the rest is still coming
        killer = threading.Thread(target=lambda: answers.hundred.wait(20) and hall.signal_controller(signal.SIGKILL))
    killer.start()
    for i in range(BACKLOG):
        rpc = terminals[i % 2]
        answers.track(i, rpc.call_async("ticket.issue", {"service": services[i % len(services)]}, timeout=EXPIRY_S))
    killer.join(20)
    if death == "after_a_hang":
        hall.signal_controller(signal.SIGKILL)
    assert hall.proc is not None and hall.proc.poll() is not None, "the controller was not killed"
    in_flight = answers.pending()
    assert in_flight >= BACKLOG // 3, f"only {in_flight} requests were in flight at the kill; the test proves nothing"

    started_at = time.monotonic()
    hall.start_controller()
    _session, online_at = births.wait_new(1, 20)
    for i in range(BACKLOG, BACKLOG + NEW):
        rpc = terminals[i % 2]
        answers.track(i, rpc.call_async("ticket.issue", {"service": services[i % len(services)]}, timeout=EXPIRY_S))
    assert answers.all_in.wait(EXPIRY_S + 5)
    assert answers.timed_out == [], f"{len(answers.timed_out)} requests were never answered"
    by_new = sorted(t for t in answers.at.values() if t > started_at)
    # back: its birth as the hall screen saw it, or its first answer if that came sooner
    back = min(online_at, by_new[0])
    first, last = by_new[0] - back, by_new[-1] - back
    first_new = min(answers.at[i] for i in range(BACKLOG, BACKLOG + NEW)) - back
    print(f"{death}: {in_flight} in flight at the kill; first answer {first * 1000:.0f} ms, first new one "
          f"{first_new * 1000:.0f} ms, last {last * 1000:.0f} ms after the controller was back")
    # 50 ms here on a quiet machine; once 1.2 s on a loaded CI one. What the bound catches is a
    # restarted controller that sits on its backlog (until expiry, or a retry), not a slow disk.
    assert first <= 5.0, f"the first answer came {first:.2f} s after the controller was back"
    assert last <= 10.0, f"the last answer came {last:.2f} s after the controller was back (expiry {EXPIRY_S} s)"
