"""Fixtures for the records: the real controller on a real Mosquitto, a manual clock, bus clients."""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
import pytest

from hallbus.brokerurl import parse_broker_url
from hallbus.client import BusClient
from hallbus.config import DEFAULT_CONFIG, HallConfig, parse_config
from hallbus.controller.app import HallController, open_store
from hallbus.controller.clock import HallTime, ManualClock
from hallbus.localbroker import LocalBroker
from hallbus.notify.notifier import Notification
from hallbus.records.guide import Guide
from hallbus.records.importer import Importer
from hallbus.records.workdays import WorkCalendar
from hallbus.rpc import RpcClient
from tests.hallbus.helpers import with_notify

TZ = ZoneInfo("Asia/Shanghai")
KEY = bytes.fromhex("5a" * 32)
# Tuesday 3 March 2026, 09:00: a plain working week after Spring Festival.
T0 = dt.datetime(2026, 3, 3, 9, 0, tzinfo=TZ)


def records_config(tmp_path: Path, extra: str = "") -> HallConfig:
    """The shipped sample hall with every service open all day, data and key under tmp_path."""
    text = DEFAULT_CONFIG.read_text(encoding="utf-8")
    text = re.sub(r"(?m)^hours = .*\n", "", text)
    text = re.sub(r"(?m)^slots = .*\n", "", text)
    text = text.replace("[[services]]\n", '[[services]]\nhours = ["00:00-24:00"]\n')
    text = text.replace('key_file = "var/hall/hall.key"', f'key_file = "{tmp_path / "hall.key"}"')
    text = text.replace('data_dir = "var/hall"', f'data_dir = "{tmp_path / "data"}"')
    # `[notify]` on, so a `ticket.issue` with a phone number is taken (the reply contract shows it)
    text = with_notify(text, "http://127.0.0.1:9/notify") + "\n" + extra
    # s001 runs the hall's console (`admin.*`, its audit log needs a manager or a supervisor)
    text = text.replace('id = "s001"\nname = "李明"', 'id = "s001"\nname = "李明"\nrole = "manager"')
    path = tmp_path / "hall.toml"
    path.write_text(text, encoding="utf-8")
    (tmp_path / "hall.key").write_text(KEY.hex() + "\n")
    return parse_config(text, path)


def make_importer(config: HallConfig, source: str = "test") -> Importer:
    """An importer with the test hall key."""
    return Importer(config, KEY, WorkCalendar.from_config(config.calendar), HallTime.of(config), source,
                    Guide.load().promised_days())


class Inbox:
    """Collects decoded messages of a subscription."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, bytes]] = []
        self._cond = threading.Condition()

    def __call__(self, topic: str, payload: bytes, _props: Any) -> None:
        with self._cond:
            self.messages.append((topic, bytes(payload)))
            self._cond.notify_all()

    def decoded(self) -> list[dict[str, Any]]:
        with self._cond:
            return [msgspec.json.decode(p) for _t, p in self.messages]

    def wait_until(self, pred: Any, timeout: float = 5.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                got = [msgspec.json.decode(p) for _t, p in self.messages]
                if pred(got):
                    return got
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"condition not met in {timeout}s; got {got[-5:]}")
                self._cond.wait(left)


@dataclass
class Hall:
    """A running hall: controller, clock, and clients on the broker."""

    config: HallConfig
    data_dir: Path
    clock: ManualClock
    controller: HallController
    broker: LocalBroker
    buses: list[BusClient] = field(default_factory=list)
    alerts: Inbox = field(default_factory=Inbox)
    wire: Inbox = field(default_factory=Inbox)

    def client(self, node: str, role: str = "terminal") -> RpcClient:
        """An RPC client on a new bus connection as `node`."""
        bus = BusClient(hall=self.config.hall.id, node=node, role=role, broker=parse_broker_url(self.broker.url))
        assert bus.start(wait=5)
        self.buses.append(bus)
        return RpcClient(bus)

    def import_records(self, records: list[dict[str, Any]]) -> Any:
        """Import records into the running controller's database, as the CLI does."""
        from hallbus.records.importer import records_of

        with open_store(self.data_dir) as store:
            return make_importer(self.config).run(store.conn, records_of(records), now=self.clock(), where="record")

    def advance(self, seconds: float) -> None:
        """Move the hall clock on (scans run on the next tick)."""
        self.clock.advance(seconds)

    def set(self, when: dt.datetime) -> None:
        """Jump the hall clock."""
        self.clock.set(when)


class Texted:
    """The hall's notifications, kept here instead of posted (tests/hallbus/notify posts them over HTTP)."""

    def __init__(self) -> None:
        self.sent: list[Notification] = []

    def send(self, notification: Notification) -> None:
        self.sent.append(notification)


@pytest.fixture
def hall(broker: LocalBroker, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> Iterator[Hall]:
    """The real controller with the records modules, on the test broker, at T0; logs captured at DEBUG."""
    caplog.set_level(logging.DEBUG)
    config = records_config(tmp_path)
    clock = ManualClock(T0)
    data = tmp_path / "data"
    ctl = HallController(config, data_dir=data, broker=parse_broker_url(broker.url), clock=clock,
                         hall_key=KEY, tick_s=0.05, gateway=Texted())
    assert ctl.start(wait=5)
    h = Hall(config, data, clock, ctl, broker)
    for node, topic, inbox in (("watcher", "alerts", h.alerts), ("wiretap", "#", h.wire)):
        watcher = BusClient(hall=config.hall.id, node=node, role="hall", broker=parse_broker_url(broker.url))
        watcher.subscribe(watcher.topics.root + topic, inbox)
        assert watcher.start(wait=5)
        h.buses.append(watcher)
    try:
        yield h
    finally:
        for b in h.buses:
            b.stop()
        ctl.stop()
