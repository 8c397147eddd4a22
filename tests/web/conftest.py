"""A real hall for the web service: Mosquitto, the hall controller and `hallweb` in its own process.

`hall.web` is the address of a `hallweb serve` started as a subprocess (stopped by its PID);
`hall.counter(window)` logs a counter in over the bus, as the counter kiosk does.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from hallbus import schemas
from hallbus.brokerurl import parse_broker_url
from hallbus.client import BusClient
from hallbus.config import HallConfig, parse_config
from hallbus.controller.app import HallController
from hallbus.localbroker import LocalBroker, die_with_parent, end_process, free_port
from hallbus.rpc import RpcClient
from tests.hallbus.controller.helpers import test_config_text

REPO = Path(__file__).resolve().parents[2]
PUBLIC_URL = "https://hallweb.test"  # what the tickets link to ([web] public_url); the server itself is `hall.web`
START_S = 60.0  # generous: a loaded 2-core machine starts Python, Litestar and uvicorn slowly


def wait_until(check: Any, timeout: float, what: str) -> Any:
    """Poll `check()` until it returns something truthy (for a server that tells readiness only when asked)."""
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not within {timeout:g} s")
        threading.Event().wait(0.05)


CONNECT_S = 20  # a node's first connection to the test broker (it takes milliseconds)


@dataclass
class WebHall:
    """The running parts of a test hall with its web service."""

    config: HallConfig
    broker: LocalBroker
    controller: HallController
    web: str
    config_path: Path
    log: Path
    proc: subprocess.Popen[bytes] | None = None
    buses: list[BusClient] = field(default_factory=list)
    controllers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    in_process: bool = True  # the controller of `controller` runs (stop_controller ends it)
    env: dict[str, str] = field(default_factory=dict)  # hallweb's own login (HALL_MQTT_*, HALL_NODE_KEY), if any

    def stop_web(self) -> None:
        """Stop `hallweb` (SIGTERM, by PID), as `systemctl restart` does first."""
        if self.proc is not None:
            end_process(self.proc)

    def start_web(self, *, new_port: bool = False) -> None:
        """Start `hallweb` (again on the same address, unless `new_port`) and wait until its bus is up.

        A free port can be taken by another process before the server binds it: then once more
        on another port.
        """
        for _attempt in range(3):
            if new_port:
                self.web = f"http://127.0.0.1:{free_port()}"
            self.log.unlink(missing_ok=True)
            self.proc = start_hallweb(self.config_path, self.broker, int(self.web.rsplit(":", 1)[1]), self.log, self.env)
            proc = self.proc
            wait_until(lambda p=proc: p.poll() is not None or bus_up(self.web), START_S, "hallweb up with its bus")
            if proc.poll() is None:
                return
            said = self.log.read_text(errors="replace")
            assert "address already in use" in said, f"hallweb exited: {said}"
            new_port = True
        raise AssertionError("hallweb found no free port in three tries")

    def stop_controller(self) -> None:
        """Stop the in-process controller cleanly (it publishes `offline`), as `systemctl stop` does."""
        if self.in_process:
            self.in_process = False
            self.controller.stop()

    def controller_away(self) -> bool:
        return bool(self.get("/healthz").json().get("controller") == "away")

    def start_controller_process(self) -> subprocess.Popen[bytes]:
        """The hall controller as its own process (`hallbus serve`, as systemd runs it) on this hall's data.

        The in-process controller must be stopped first (one writer). Returns once hallweb has
        seen it online; stop it by its PID (`end_process`, or SIGKILL for a death).
        """
        data = self.config_path.parent / "data"
        with (self.config_path.parent / "controller.log").open("ab") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "hallbus", "serve", "--config", str(self.config_path), "--broker",
                 self.broker.url, "--data", str(data), "--tick", "0.2"],
                cwd=REPO, stdout=out, stderr=out, preexec_fn=die_with_parent,
            )
        self.controllers.append(proc)
        wait_until(lambda: proc.poll() is not None or not self.controller_away(), START_S, "the controller online")
        assert proc.poll() is None, (self.config_path.parent / "controller.log").read_text(errors="replace")
        return proc

    def rpc(self, node: str, role: str) -> RpcClient:
        bus = BusClient(hall=self.config.hall.id, node=node, role=role, broker=parse_broker_url(self.broker.url))
        if not bus.start(wait=CONNECT_S):
            # Seen twice, near the end of a whole run only (never alone): say all that can be seen.
            alive = self.broker.proc is not None and self.broker.proc.poll() is None
            bus.stop()
            raise AssertionError(
                f"{node} could not connect to {self.broker.url} within {CONNECT_S} s: last error {bus.last_error!r}; "
                f"broker running: {alive}; threads here: {threading.active_count()}; "
                f"open files here: {len(os.listdir('/proc/self/fd'))}; broker log: "
                + self.broker.log_path.read_text(errors="replace")[-1000:]
            )
        self.buses.append(bus)
        return RpcClient(bus)

    def issue(self, service: str = "A") -> schemas.Ticket:
        terminal = self.rpc(f"terminal-t{len(self.buses)}", "terminal")
        return terminal.call_typed(schemas.TICKET_ISSUE, {"service": service}, timeout=10).ticket

    def counter(self, window: str, staff: str) -> RpcClient:
        rpc = self.rpc(f"counter-{window}", "counter")
        rpc.call("window.login", {"window": window, "staff": staff, "password": "hall" + staff[-3:]}, timeout=10)
        return rpc

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return httpx.get(self.web + path, timeout=15, **kw)


def start_hallweb(
    config_path: Path, broker: LocalBroker, port: int, log: Path, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """`hallweb serve` as its own process, as systemd starts it (`env`: its login, as hallweb.env); log to `log`."""
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "web", "serve", "--config", str(config_path), "--broker", broker.url,
             "--listen", f"127.0.0.1:{port}"],
            cwd=REPO, stdout=subprocess.DEVNULL, stderr=out, preexec_fn=die_with_parent,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
        )


def bus_up(web: str) -> bool:
    try:
        return bool(httpx.get(web + "/healthz", timeout=2).json().get("bus") == "up")
    except httpx.HTTPError:
        return False


@contextmanager
def serving(h: WebHall) -> Iterator[WebHall]:
    """Start `h`'s `hallweb`; at the end stop what the hall started and check hallweb's log for tracebacks."""
    try:
        h.start_web(new_port=True)
        yield h
    finally:
        for bus in h.buses:
            bus.stop()
        for proc in h.controllers:
            end_process(proc)
        h.stop_web()
        errors = h.log.read_text(errors="replace") if h.log.exists() else ""
        h.stop_controller()
        assert "Traceback" not in errors, errors


OPEN: list[httpx.Client] = []


def client(base: str, **kw: Any) -> httpx.Client:
    """An httpx client closed after the test (`close_clients`), in whichever test module made it."""
    c = httpx.Client(base_url=base, timeout=15, **kw)
    OPEN.append(c)
    return c


@pytest.fixture(autouse=True)
def close_clients() -> Iterator[None]:
    yield
    while OPEN:
        OPEN.pop().close()


@pytest.fixture
def hall_text() -> Callable[[str], str]:
    """What a test module changes in the test hall's config text (nothing here; a module may override it)."""
    return str


@pytest.fixture
def hall(broker: LocalBroker, tmp_path: Path, hall_text: Callable[[str], str]) -> Iterator[WebHall]:
    """Broker, controller (in this process) and `hallweb` (its own process) on free ports."""
    text = test_config_text(tmp_path).replace('public_url = "https://zwfw.example.gov.cn"', f'public_url = "{PUBLIC_URL}"')
    text = text.replace('secret_key_file = "var/hall/web.key"', f'secret_key_file = "{tmp_path / "web.key"}"')
    text = hall_text(text)
    path = tmp_path / "hall.toml"
    path.write_text(text, encoding="utf-8")
    config = parse_config(text, path)
    controller = HallController(config, data_dir=tmp_path / "data", broker=parse_broker_url(broker.url), tick_s=0.2)
    assert controller.start(wait=10), "controller did not connect"
    with serving(WebHall(config, broker, controller, "", path, tmp_path / "hallweb.log")) as h:
        yield h
