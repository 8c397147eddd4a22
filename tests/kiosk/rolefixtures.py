"""Fixtures for the counter, tablet, window display and hall screen tests: the real broker, the real
controller (queue + records) on a manual clock, RPC clients as other nodes, and real kiosk windows
(offscreen QML) started by a factory and all stopped afterwards.

Each role test folder's conftest imports these names.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from hallbus import schemas
from hallbus.brokerurl import parse_broker_url
from hallbus.client import BusClient
from hallbus.config import HallConfig
from hallbus.controller.app import HallController
from hallbus.controller.clock import ManualClock
from hallbus.controller.store import db_path
from hallbus.localbroker import LocalBroker
from hallbus.rpc import RpcClient
from tests.kiosk.conftest import KEY, T0, kiosk_config


@dataclass
class RoleHall:
    """The running hall for role tests: config, controller, clock, broker, and RPC clients as nodes."""

    config: HallConfig
    data_dir: Path
    clock: ManualClock
    controller: HallController
    broker: LocalBroker
    buses: list[BusClient] = field(default_factory=list)
    clients: dict[str, RpcClient] = field(default_factory=dict)

    def rpc(self, node: str = "terminal-1", role: str = "terminal") -> RpcClient:
        """An RPC client on the bus as `node` (a terminal issuing tickets, a counter calling); one per node."""
        if node in self.clients:
            return self.clients[node]
        bus = BusClient(
            hall=self.config.hall.id, node=node, role=role, broker=parse_broker_url(self.broker.url)
        )
        assert bus.start(wait=5), "test client did not connect"
        self.buses.append(bus)
        self.clients[node] = RpcClient(bus)
        return self.clients[node]

    def db(self) -> sqlite3.Connection:
        """A read connection to the controller's database."""
        return sqlite3.connect(str(db_path(self.data_dir)))

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """Rows of one query on the controller's database."""
        conn = self.db()
        try:
            return list(conn.execute(sql, params).fetchall())
        finally:
            conn.close()


def make_hall(broker: LocalBroker, tmp_path: Path, extra: str = "") -> RoleHall:
    """Start the controller on the shipped sample hall (all services open all day) plus `extra` config."""
    config = kiosk_config(tmp_path, extra=extra)
    clock = ManualClock(T0)
    data = tmp_path / "data"
    ctl = HallController(
        config,
        data_dir=data,
        broker=parse_broker_url(broker.url),
        clock=clock,
        hall_key=KEY,
        tick_s=0.1,
    )
    assert ctl.start(wait=5), "controller did not connect"
    return RoleHall(config, data, clock, ctl, broker)


@pytest.fixture
def hall_extra() -> str:
    """Extra config text for the hall (a test overrides this fixture to change the config)."""
    return ""


@pytest.fixture
def role_hall(broker: LocalBroker, tmp_path: Path, hall_extra: str) -> Iterator[RoleHall]:
    """The real hall controller on the test broker; stopped (with every test client) afterwards."""
    hall = make_hall(broker, tmp_path, hall_extra)
    try:
        yield hall
    finally:
        for bus in hall.buses:
            bus.stop()
        hall.controller.stop()


Starter = Callable[..., Any]


@pytest.fixture
def start_kiosk(role_hall: RoleHall, qtbot: Any, tmp_path: Path) -> Iterator[Starter]:
    """`start_kiosk(role, node, size=(w, h), window=None, data=None)`: a real kiosk window on the test broker."""
    from kiosk.app import Kiosk, Options

    started: list[Any] = []

    def start(
        role: str,
        node: str,
        size: tuple[int, int] = (1280, 800),
        window: str | None = None,
        data: Path | None = None,
        connected: bool = True,
    ) -> Any:
        k = Kiosk(
            Options(
                role=role,
                node=node,
                broker=role_hall.broker.url,
                data=data or tmp_path / f"kiosk-{node}",
                size=size,
                window=window,
            ),
            role_hall.config,
        )
        w = k.start()
        started.append(k)
        qtbot.waitExposed(w)
        if connected:
            qtbot.waitUntil(lambda: k.shell.connected, timeout=5000)
        return k

    try:
        yield start
    finally:
        for k in reversed(started):
            if k.window is not None:
                k.stop()


def state_of(kiosk: Any) -> Any:
    """The role's Qt-free state object."""
    return kiosk.role.keep[0]


def login(rpc: RpcClient, window: str, staff: str) -> schemas.WindowReply:
    """Log a staff member in with their demo password (hall + last three digits of the id)."""
    return rpc.call_typed(
        schemas.WINDOW_LOGIN, {"window": window, "staff": staff, "password": "hall" + staff[-3:]}
    )


def issue(rpc: RpcClient, service: str, **body: Any) -> str:
    """Take a ticket as a terminal would; returns its number."""
    return rpc.call_typed(schemas.TICKET_ISSUE, {"service": service, **body}).ticket.number


class RecordingPlayer:
    """A Player that records when each WAV played (and takes a moment, like a speaker would)."""

    def __init__(self, seconds: float = 0.05) -> None:
        self.seconds = seconds
        self.spans: list[tuple[float, float]] = []
        self.sizes: list[int] = []
        self._playing = 0
        self.overlapped = False
        self.started = threading.Event()  # set when the first sound starts playing
        self._lock = threading.Lock()

    def play(self, wav: bytes) -> None:
        with self._lock:
            self._playing += 1
            self.overlapped |= self._playing > 1
        self.started.set()
        start = time.monotonic()
        time.sleep(self.seconds)  # the speaker playing the sound (the simulated device's own time, not a wait)
        with self._lock:
            self._playing -= 1
            self.spans.append((start, time.monotonic()))
            self.sizes.append(len(wav))
