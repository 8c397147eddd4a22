"""Shared fixtures: the real parts (Mosquitto, pty pairs, offscreen Qt), stopped by PID after each test."""

from __future__ import annotations

import os
import shutil
import tempfile
import tty
from collections.abc import Iterator
from pathlib import Path

import pytest

# Qt must never look for a real screen in tests, and our own config must not leak in.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_QUICK_BACKEND", "software")
for _var in ("HALL_MQTT_USERNAME", "HALL_MQTT_PASSWORD", "HALL_CONFIG", "HALL_NODE_KEY"):
    os.environ.pop(_var, None)

from devices.pcsc.privatepcscd import SOCKET_ENV  # noqa: E402
from hallbus.localbroker import LocalBroker  # noqa: E402
from tests.hallbus.notify.gateway import Gateway  # noqa: E402
from tests.open_files import open_files_stay_bounded, pytest_sessionstart  # noqa: E402, F401

# libpcsclite reads PCSCLITE_CSOCK_NAME once per process, on first use: whichever test touches
# PC/SC first binds the whole session to that socket. Point it at the session's private pcscd
# before any test runs, so the order of test folders does not decide which daemon is reached
# (tests/devices/pcsc/conftest.py starts the daemon at exactly this path).
PCSCD_BASE = Path(tempfile.mkdtemp(prefix="hallkit-pcscd-"))
os.environ[SOCKET_ENV] = str(PCSCD_BASE / "run" / "pcscd.comm")


@pytest.fixture(scope="session")
def pcscd_base() -> Path:
    """The folder of the session's private pcscd; PCSCLITE_CSOCK_NAME already points into it."""
    return PCSCD_BASE


def pytest_unconfigure(config: pytest.Config) -> None:
    """Remove the session's pcscd folder (the daemon itself is stopped by its fixture)."""
    shutil.rmtree(PCSCD_BASE, ignore_errors=True)

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
def gateway() -> Iterator[Gateway]:
    """The hall's SMS/WeChat gateway for 到号提醒: a real HTTP server on loopback recording every POST."""
    g = Gateway()
    g.start()
    try:
        yield g
    finally:
        g.stop()


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
