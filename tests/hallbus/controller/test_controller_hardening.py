"""The controller against its own nodes (issue 17): private files, replies per node, bounded replies, retained state."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from hallbus.brokerurl import parse_broker_url
from hallbus.config import HallConfig
from hallbus.controller.app import HallController
from hallbus.controller.store import db_path
from hallbus.localbroker import LocalBroker


@pytest.fixture
def umask_022() -> Iterator[None]:
    """The usual umask of a shell or a service: files come out world-readable unless made otherwise."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_hall_db_its_wal_and_the_data_dir_are_not_world_readable(
    broker: LocalBroker, config: HallConfig, tmp_path: Path, umask_022: None
) -> None:
    data = tmp_path / "data"
    app = HallController(config, data_dir=data, broker=parse_broker_url(broker.url), tick_s=0.2)
    assert app.start(wait=5)
    try:
        db = db_path(data)
        wal, shm = db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")
        assert wal.exists() and shm.exists()
        for p in (data, db, wal, shm):
            assert _mode(p) & 0o007 == 0, f"{p.name} is {_mode(p):o}"
        assert _mode(db) == 0o640 and _mode(data) == 0o750
    finally:
        app.stop()
    # A database an older release left world-readable is made private when opened.
    db.chmod(0o644)
    app = HallController(config, data_dir=data, broker=parse_broker_url(broker.url), tick_s=0.2)
    try:
        assert _mode(db) == 0o640
    finally:
        app.stop()
