"""A private pcscd with the vpcd driver for the whole session, and virtual cards in its two slots.

The pcscd runs in its own mount namespace (see devices/pcsc/privatepcscd.py) and is stopped by
its PID. libpcsclite reads PCSCLITE_CSOCK_NAME once per process, so the socket path is fixed
for the session; tests that stop the daemon start it again at the same path.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from devices.pcsc.privatepcscd import SOCKET_ENV, VPCD_DRIVER, PrivatePcscd
from devices.pcsc.vcard import VpcdCard


@pytest.fixture(scope="session")
def pcscd_session(pcscd_base: Path) -> Iterator[PrivatePcscd]:
    """One private pcscd for the session; its socket path goes into this process's environment."""
    if shutil.which("pcscd") is None or not VPCD_DRIVER.exists():
        pytest.skip("pcscd and vsmartcard-vpcd are not installed (the set-up script installs them)")
    daemon = PrivatePcscd(pcscd_base)
    assert os.environ.get(SOCKET_ENV) == str(daemon.socket_path), (
        f"{SOCKET_ENV} was changed after tests/conftest.py pointed it at the session's pcscd"
    )
    daemon.start()
    try:
        yield daemon
    finally:
        daemon.stop()


@pytest.fixture
def pcscd(pcscd_session: PrivatePcscd) -> PrivatePcscd:
    """The session's pcscd, running (restarted if a previous test stopped it)."""
    pcscd_session.start()
    from devices.pcsc.reader import list_readers

    readers = list_readers()
    assert readers == list(pcscd_session.reader_names), (
        f"this process talks to another pcscd ({readers}); libpcsclite was used before the fixture set {SOCKET_ENV}"
    )
    return pcscd_session


@pytest.fixture
def slots(pcscd: PrivatePcscd) -> Iterator[tuple[VpcdCard, VpcdCard]]:
    """Card emulators for vpcd slot 0 and slot 1 (empty until `insert`); cards removed afterwards."""
    pair = (VpcdCard(port=pcscd.slot_ports[0]), VpcdCard(port=pcscd.slot_ports[1]))
    try:
        yield pair
    finally:
        for slot in pair:
            slot.remove()
        if pcscd.pid is not None:
            # pcscd polls vpcd for presence: let it notice the removal before the next test inserts.
            for name in pcscd.reader_names:
                wait_card(name, present=False)


def wait_card(name: str, present: bool = True, timeout: float = 5.0) -> None:
    """Wait until pcscd reports a card in reader `name` (or no card, with present=False)."""
    from devices.pcsc.reader import wait_for_card

    assert wait_for_card(name, present, timeout), (
        f"card in {name} never became {'present' if present else 'absent'}"
    )
