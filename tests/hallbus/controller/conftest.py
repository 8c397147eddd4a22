"""Fixtures for the controller: a test config, a manual clock and a controller without a broker."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hallbus.brokerurl import parse_broker_url
from hallbus.client import BusClient
from hallbus.config import HallConfig
from hallbus.controller.app import HallController, build_controller
from hallbus.controller.clock import ManualClock
from hallbus.controller.controller import Controller
from hallbus.localbroker import LocalBroker
from hallbus.rpc import RpcClient
from tests.hallbus.controller.helpers import HALL, T0, RecordingPublisher, make_config


@pytest.fixture
def config(tmp_path: Path) -> HallConfig:
    """The sample hall with all services open all day."""
    return make_config(tmp_path)


@pytest.fixture
def clock() -> ManualClock:
    """A clock the test moves by hand, starting on a Tuesday at 09:00 in Shanghai."""
    return ManualClock(T0)


@pytest.fixture
def published() -> RecordingPublisher:
    """What the controller published."""
    return RecordingPublisher()


@pytest.fixture
def ctl(config: HallConfig, clock: ManualClock, published: RecordingPublisher, tmp_path: Path) -> Iterator[Controller]:
    """A controller on a fresh store, publishing into `published`, state refreshed inline."""
    c = build_controller(
        config, tmp_path / "data", clock=clock, hall_key=b"k" * 32, publisher=published,
        factories=[], refresh_async=False,
    )
    try:
        yield c
    finally:
        c.close()


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    """The all-day test config written to disk (for `hallbus serve` and the admin CLI)."""
    make_config(tmp_path)
    return tmp_path / "hall.toml"


@pytest.fixture
def running(broker: LocalBroker, config: HallConfig, tmp_path: Path) -> Iterator[HallController]:
    """The hall controller in this process, on the test broker, with a fresh data dir."""
    app = HallController(config, data_dir=tmp_path / "data", broker=parse_broker_url(broker.url), tick_s=0.2)
    assert app.start(wait=5), "controller did not connect"
    try:
        yield app
    finally:
        app.stop()


@pytest.fixture
def client(broker: LocalBroker) -> Iterator[RpcClient]:
    """An RPC client on the test broker (as a terminal)."""
    bus = BusClient(hall=HALL, node="terminal-1", role="terminal", broker=parse_broker_url(broker.url))
    assert bus.start(wait=5)
    rpc = RpcClient(bus)
    try:
        yield rpc
    finally:
        bus.stop()
