"""One clock per picture set (issue 16 item 15): every script and test that writes docs/screens
takes its pictures at one stated moment, and the kiosks' clock follows it."""

from __future__ import annotations

import datetime as dt
import importlib.util
from pathlib import Path
from types import ModuleType

from hallbus import schemas
from tests.kiosk.conftest import T0

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "role_screens.py"


def _role_screens() -> ModuleType:
    spec = importlib.util.spec_from_file_location("role_screens", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_role_screens_and_the_terminal_screens_share_one_moment() -> None:
    rs = _role_screens()
    assert rs.SCREENS_AT == T0
    clock = rs.screens_clock()
    assert dt.timedelta(0) <= clock() - T0 < dt.timedelta(seconds=5)


def test_payload_stamps_and_the_header_follow_the_set_clock() -> None:
    schemas.set_clock(lambda: T0)
    try:
        assert schemas.now() == T0 and dt.datetime.fromisoformat(schemas.now_iso()) == T0
        stamped = schemas.NodeStatus(state="online", role="terminal", session="x").ts
        assert dt.datetime.fromisoformat(stamped) == T0
    finally:
        schemas.set_clock(None)
    assert abs(schemas.now() - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)
