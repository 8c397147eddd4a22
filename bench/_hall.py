"""A bench hall: a private Mosquitto and a real `hallbus serve` process on a config made for load."""

from __future__ import annotations

import asyncio
import os
import resource
import signal
import string
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import msgspec

from hallbus.brokerurl import parse_broker_url
from hallbus.client import BusClient
from hallbus.localbroker import LocalBroker, free_port
from hallbus.passwords import hash_password

REPO = Path(__file__).resolve().parent.parent
HALL = "bench-hall"
SERVICES = string.ascii_uppercase  # 26 services x 999 numbers a day


def bench_config(tmp: Path, windows_per_service: int = 1) -> Path:
    """26 walk-in services open all day (so any hour works), a window or more each, one staff per window."""
    lines = [
        "[hall]", f'id = "{HALL}"', 'name = "压测大厅"', 'timezone = "Asia/Shanghai"', 'rollover = "03:00"',
        f'data_dir = "{tmp / "data"}"', "", "[privacy]", f'key_file = "{tmp / "hall.key"}"',
        f'staff_secrets_file = "{tmp / "staff-secrets.toml"}"', "",
        # A load bench: thousands of requests a second from one node, far over a node's budget.
        "[rpc_limits]", "per_second = 0", "",
    ]
    secrets: list[str] = []
    for code in SERVICES:
        lines += ["[[services]]", f'code = "{code}"', f'name = "业务{code}"', "daily_cap = 999",
                  'hours = ["00:00-24:00"]', "avg_service_s = 300", ""]
    n = 0
    for code in SERVICES:
        for _ in range(windows_per_service):
            n += 1
            lines += ["[[windows]]", f'id = "{n}"', f'name = "{n}号窗口"', f'services = ["{code}"]', ""]
            # password "hall" + last three digits, as in the sample (fewer rounds: a bench, not a hall)
            lines += ["[[staff]]", f'id = "s{n:03d}"', f'name = "员工{n}"', ""]
            secrets += ["[[staff]]", f'id = "s{n:03d}"',
                        f'password_hash = "{hash_password(f"hall{n:03d}", iterations=1000)}"', ""]
    (tmp / "staff-secrets.toml").write_text("\n".join(secrets), encoding="utf-8")  # the controller's only
    path = tmp / "hall.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


class BenchHall:
    """Broker + controller process; `bus(node)` gives connected clients."""

    def __init__(self, tmp: Path, windows_per_service: int = 1, broker_conf: str = "") -> None:
        self.tmp = tmp
        self.config = bench_config(tmp, windows_per_service)
        self.broker = LocalBroker(tmp / "broker", extra_conf=broker_conf)
        self.proc: subprocess.Popen[bytes] | None = None
        self.buses: list[BusClient] = []

    def start(self) -> None:
        self.broker.start()
        log = open(self.tmp / "serve.log", "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "hallbus", "serve", "--config", str(self.config), "--broker", self.broker.url],
            cwd=REPO, stdout=log, stderr=log,
        )
        log.close()
        watcher = self.bus("bench-watch")
        online = threading.Event()

        def on_status(_t: str, payload: bytes, _p: Any) -> None:
            if payload and msgspec.json.decode(payload).get("state") == "online":
                online.set()

        watcher.subscribe(watcher.topics.node_status("controller"), on_status)
        if not online.wait(15):
            raise RuntimeError(f"controller did not start; see {self.tmp / 'serve.log'}")

    def bus(self, node: str, role: str = "terminal") -> BusClient:
        b = BusClient(hall=HALL, node=node, role=role, broker=parse_broker_url(self.broker.url))
        if not b.start(wait=5):
            raise RuntimeError("cannot connect to the bench broker")
        self.buses.append(b)
        return b

    def stop(self) -> None:
        for b in self.buses:
            b.stop()
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self.broker.stop()

    def __enter__(self) -> BenchHall:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def disk_note(path: Path) -> str:
    """Which file system the data lives on (fsync cost depends on it)."""
    try:
        out = subprocess.run(["df", "-T", str(path)], capture_output=True, text=True, timeout=5).stdout.splitlines()
        parts = out[-1].split()
        return f"{parts[1]} on {parts[0]}"
    except (OSError, IndexError, subprocess.SubprocessError):
        return "unknown"


def wait_web_up(web: str, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    """Until `hallweb`'s /healthz says its bus is up (RuntimeError if it exits or takes `timeout`)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("hallweb exited at start")
        try:
            if httpx.get(web + "/healthz", timeout=2).json().get("bus") == "up":
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"hallweb not up within {timeout:g} s")


def start_web(hall: BenchHall, tmp: Path) -> tuple[subprocess.Popen[bytes], int]:
    """`hallweb serve` of `hall` as its own process on a free port (its log in `tmp`/web.log), once it is up."""
    port = free_port()
    with open(tmp / "web.log", "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "web", "serve", "--config", str(hall.config), "--broker", hall.broker.url,
             "--listen", f"127.0.0.1:{port}"], cwd=REPO, stdout=log, stderr=log,
        )
    wait_web_up(f"http://127.0.0.1:{port}", proc)
    return proc, port


class StreamPage:
    """One phone's event stream (plain asyncio sockets, HTTP/1.0, no chunking).

    `at` stamps each event named `event` with CLOCK_MONOTONIC and `data` keeps its JSON line;
    `changed` is set at every event after the first, `first` at the first.
    """

    def __init__(self, host: str, port: int, path: str, event: str) -> None:
        self.host, self.port, self.path, self.event = host, port, path, b"event: " + event.encode()
        self.at: list[float] = []
        self.data: list[bytes] = []
        self.changed = asyncio.Event()
        self.first = asyncio.Event()
        self.writer: asyncio.StreamWriter | None = None

    async def run(self) -> None:
        reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.writer.write(f"GET {self.path} HTTP/1.0\r\nHost: {self.host}\r\nAccept: text/event-stream\r\n\r\n".encode())
        await self.writer.drain()
        mine = False
        while line := await reader.readline():
            if line.startswith(self.event):
                self.at.append(time.monotonic())
                mine = True
                (self.changed if self.first.is_set() else self.first).set()
            elif mine and line.startswith(b"data: "):
                self.data.append(line[6:].strip())
                mine = False

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def allow_open_files(pages: int) -> None:
    """Raise this process's open-file limit for `pages` streams (and their server's side, if it shares it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, pages * 2 + 1000)), hard))


async def open_pages(pages: list[StreamPage]) -> list[asyncio.Task[None]]:
    """Open `pages` 100 at a time (as a hall's phones would not all at once), each up to its first event."""
    tasks: list[asyncio.Task[None]] = []
    for i in range(0, len(pages), 100):
        batch = pages[i:i + 100]
        tasks += [asyncio.create_task(p.run()) for p in batch]
        await asyncio.wait_for(asyncio.gather(*(p.first.wait() for p in batch)), 120)
    return tasks


async def close_pages(pages: list[StreamPage], tasks: list[asyncio.Task[None]]) -> None:
    for p in pages:
        p.close()
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def now_ms() -> float:
    """A clock shared by every process on the machine (CLOCK_MONOTONIC), in ms."""
    return time.monotonic() * 1000


class Serve:
    """`hallbus serve` as a real process, killed by its PID (`env`: e.g. its broker login)."""

    def __init__(self, config: Path, broker: LocalBroker, data: Path, env: dict[str, str] | None = None) -> None:
        self.args = [sys.executable, "-m", "hallbus", "serve", "--config", str(config),
                     "--broker", broker.url, "--data", str(data), "--tick", "0.5"]
        self.log = data.parent / "serve.log"
        self.env = {**os.environ, **(env or {})}
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(self.args, cwd=REPO, stdout=log, stderr=log, env=self.env)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill9(self) -> None:
        if self.proc is not None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)

    def stop(self) -> None:
        if self.alive():
            assert self.proc is not None
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
