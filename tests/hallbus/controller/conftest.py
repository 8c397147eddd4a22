"""Fixtures for the controller: a test config, a manual clock and a controller without a broker."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hallbus.config import HallConfig
from hallbus.controller.app import build_controller
from hallbus.controller.clock import ManualClock
from hallbus.controller.controller import Controller
from tests.hallbus.controller.helpers import T0, RecordingPublisher, make_config


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
