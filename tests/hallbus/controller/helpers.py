"""Helpers for controller tests: an all-day test config, a recording publisher, direct RPC calls."""

from __future__ import annotations

import datetime as dt
import re
import threading
import uuid
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import msgspec

from hallbus import schemas
from hallbus.config import DEFAULT_CONFIG, HallConfig, parse_config
from hallbus.controller.controller import Controller
from hallbus.rpc import Request, RpcFault
from hallbus.sample import all_day_text
from tests.hallbus.helpers import without_rpc_limits

TZ = ZoneInfo("Asia/Shanghai")
HALL = "demo-county"
# A Tuesday morning in the hall's time zone.
T0 = dt.datetime(2026, 3, 3, 9, 0, 0, tzinfo=TZ)


def test_config_text(tmp_path: Path, *, extra: str = "", all_day: bool = True, queue: str = "") -> str:
    """The shipped sample hall, with every service open all day (so tests never depend on the clock)."""
    text = DEFAULT_CONFIG.read_text(encoding="utf-8")
    if all_day:
        text = all_day_text(tmp_path, text)
    text = text.replace('key_file = "var/hall/hall.key"', f'key_file = "{tmp_path / "hall.key"}"')
    text = text.replace('secret_key_file = "var/hall/web.key"', f'secret_key_file = "{tmp_path / "web.key"}"')
    text = text.replace('data_dir = "var/hall"', f'data_dir = "{tmp_path / "data"}"')
    if queue:
        text = re.sub(r"(?ms)^\[queue\].*?(?=^\[)", "[queue]\n" + queue + "\n\n", text)
    return text + "\n" + extra


def lift_rpc_limits(config_file: Path) -> None:
    """Turn the per-node request budget off in a written config: for load tests that send thousands from one node."""
    config_file.write_text(without_rpc_limits(config_file.read_text(encoding="utf-8")), encoding="utf-8")


def make_config(tmp_path: Path, **kw: Any) -> HallConfig:
    """A validated test config (see test_config_text)."""
    text = test_config_text(tmp_path, **kw)
    path = tmp_path / "hall.toml"
    path.write_text(text, encoding="utf-8")
    return parse_config(text, path)


class RecordingPublisher:
    """Collects what the controller publishes (the engine tests run without a broker)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, bytes]] = []
        self.states: dict[str, bytes] = {}
        self.lock = threading.Lock()

    def publish(self, topic: str, payload: Any, *, qos: int = 1, retain: bool = False) -> None:
        with self.lock:
            self.events.append((topic, bytes(payload)))

    def publish_state(self, topic: str, payload: Any, *, qos: int = 1) -> None:
        with self.lock:
            self.states[topic] = bytes(payload)

    def state(self, topic: str) -> dict[str, Any]:
        with self.lock:
            return dict(msgspec.json.decode(self.states[topic]))

    def events_on(self, topic: str) -> list[dict[str, Any]]:
        with self.lock:
            return [msgspec.json.decode(p) for t, p in self.events if t == topic]


def request(method: str, body: dict[str, Any] | None = None, *, request_id: str | None = None,
            caller: str | None = "terminal-1") -> Request:
    """A validated request as the RPC server would hand it to the controller."""
    raw = {"v": 1, "request_id": request_id or str(uuid.uuid4()), **(body or {})}
    req_type = schemas.RPC_METHODS[method][0]
    return Request(method, raw["request_id"], msgspec.convert(raw, type=req_type), raw, None, None, caller)


def call(ctl: Controller, method: str, body: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
    """Run one request through the controller; return `data` or raise RpcFault."""
    reply = ctl.handle_batch([request(method, body, **kw)])[0]
    ctl.after_replies()
    if not reply.ok:
        assert reply.error is not None
        raise RpcFault(reply.error.code, reply.error.message, reply.error.message_en)
    return dict(reply.data or {})


def issue(ctl: Controller, service: str, **body: Any) -> dict[str, Any]:
    """Take a ticket; returns the ticket object."""
    return dict(call(ctl, "ticket.issue", {"service": service, **body})["ticket"])


def id_card(person: str, name: str = "张*") -> dict[str, Any]:
    """An id_card reference for a made-up person (the hash is made up too: tests never see ID numbers)."""
    return {"id_hash": f"{person:0>64}"[-64:], "name_masked": name, "card_type": "resident"}


def elder(person: str, birth: str = "1950-05-01") -> dict[str, Any]:
    """An ID card read of someone old enough for the green channel (70 and over by default)."""
    return {**id_card(person, "李*"), "birth": birth}


def login(ctl: Controller, window: str, staff: str = "s001") -> dict[str, Any]:
    """Log a staff member in at a window with their password (hall + last three digits)."""
    return dict(call(ctl, "window.login", {"window": window, "staff": staff, "password": "hall" + staff[-3:]})["window"])


def window_call(ctl: Controller, action: str, window: str, **body: Any) -> dict[str, Any]:
    """A counter action; returns the window state."""
    return dict(call(ctl, f"window.{action}", {"window": window, **body})["window"])
