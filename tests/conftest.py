"""Shared fixtures: the real parts (Mosquitto, pty pairs, offscreen Qt), stopped by PID after each test."""

from __future__ import annotations

import os
import tty
from collections.abc import Iterator
from pathlib import Path

import pytest

# Qt must never look for a real screen in tests, and our own config must not leak in.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_QUICK_BACKEND", "software")
for _var in ("HALL_MQTT_USERNAME", "HALL_MQTT_PASSWORD", "HALL_CONFIG", "HALL_NODE_KEY"):
    os.environ.pop(_var, None)

from hallbus.localbroker import LocalBroker  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[LocalBroker]:
    """A real Mosquitto on a free loopback port with TCP_NODELAY; `broker.restart()` mid-test."""
    b = LocalBroker(tmp_path / "broker")
    b.start()
    try:
        yield b
    finally:
        b.stop()


class PtyPair:
    """A real pty pair: `device` is the path a driver opens, `fd` the other end (the device side)."""

    def __init__(self) -> None:
        self.fd, self._slave_fd = os.openpty()
        tty.setraw(self.fd)
        tty.setraw(self._slave_fd)
        self.device = os.ttyname(self._slave_fd)

    def close(self) -> None:
        for fd in (self.fd, self._slave_fd):
            try:
                os.close(fd)
            except OSError:
                pass


@pytest.fixture
def pty_pair() -> Iterator[PtyPair]:
    """A real pty pair (os.openpty), closed afterwards."""
    p = PtyPair()
    try:
        yield p
    finally:
        p.close()


@pytest.fixture
def shared_dir() -> Path:
    """The read-only shared data folder beside the repository."""
    if not SHARED.is_dir():
        pytest.skip("../shared is not beside the repository")
    return SHARED
