"""A SAM simulator on a real pty, linked in the test's temporary folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from devices.idcard.reader import IdCardReader
from devices.idcard.sim import SamSimulator


@pytest.fixture
def sam(tmp_path: Path) -> Iterator[SamSimulator]:
    """A running simulator with a resident card on it; `sam.device` is the port to open."""
    sim = SamSimulator(tmp_path / "ttyIDCARD", card="resident").start()
    try:
        yield sim
    finally:
        sim.stop()


@pytest.fixture
def reader(sam: SamSimulator) -> Iterator[IdCardReader]:
    """A reader on the simulator's port, with short timeouts."""
    r = IdCardReader(sam.device, poll_interval=0.05, timeout=0.5)
    try:
        yield r
    finally:
        r.close()


@pytest.fixture
def spec_keys() -> frozenset[str]:
    """The keys of `python -m devices idcard read --json`, as SPEC section 8 lists them."""
    return frozenset(
        {
            "card_type",
            "name",
            "name_en",
            "sex",
            "nation",
            "nationality",
            "birth",
            "address",
            "id_number",
            "issuer",
            "valid_from",
            "valid_to",
            "pass_number",
            "sign_count",
            "old_id_number",
            "photo_bytes",
        }
    )
