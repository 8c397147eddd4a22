"""Fixtures for the kiosk: a real broker, the real controller with the records, device simulators on ptys,
and the terminal's real QML window (offscreen) driven by pytest-qt. Everything is stopped afterwards."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from devices.idcard.sim import SamSimulator
from devices.printer.sim import PrinterSimulator
from devices.scanner.sim import ScannerSimulator
from hallbus.brokerurl import parse_broker_url
from hallbus.config import HallConfig, parse_config
from hallbus.controller.app import HallController, open_store
from hallbus.controller.clock import HallTime, ManualClock
from hallbus.localbroker import LocalBroker
from hallbus.records.guide import Guide
from hallbus.records.importer import Importer, records_of
from hallbus.records.workdays import WorkCalendar
from hallbus.sample import all_day_text

TZ = ZoneInfo("Asia/Shanghai")
KEY = bytes.fromhex("6b" * 32)
T0 = dt.datetime(2026, 3, 3, 9, 0, tzinfo=TZ)  # a Tuesday morning
NODE = "terminal-1"


def kiosk_config(
    tmp_path: Path, devices: dict[str, str] | None = None, extra: str = "", edit: Callable[[str], str] = str
) -> HallConfig:
    """The shipped sample hall, every service open all day, key and data under tmp_path, our devices (`edit` applied)."""
    text = edit(all_day_text(tmp_path))
    text = text.replace("idle_s = 60", "idle_s = 60")
    if devices is not None:
        text += f"\n[devices.{NODE}]\n" + "".join(f'{k} = "{v}"\n' for k, v in devices.items())
    text += "\n" + extra
    path = tmp_path / "hall.toml"
    path.write_text(text, encoding="utf-8")
    (tmp_path / "hall.key").write_text(KEY.hex() + "\n")
    return parse_config(text, path)


@dataclass
class Sims:
    """The terminal's simulated devices, on real ptys."""

    idcard: SamSimulator
    printer: PrinterSimulator
    scanner: ScannerSimulator
    paths: dict[str, str] = field(default_factory=dict)


@pytest.fixture
def sims(tmp_path: Path) -> Iterator[Sims]:
    """A SAM ID card reader (no card yet), an ESC/POS printer and a QR scan engine, each on a pty."""
    dev = tmp_path / "dev"
    dev.mkdir()
    idcard = SamSimulator(link=dev / "idcard", card=None).start()
    printer = PrinterSimulator(dev / "printer", tmp_path / "printed", width=80)
    scanner = ScannerSimulator(dev / "scanner")
    s = Sims(idcard, printer, scanner, {"idcard": str(dev / "idcard"), "printer": str(dev / "printer"), "scanner": str(dev / "scanner")})
    try:
        yield s
    finally:
        idcard.stop()
        printer.close()
        scanner.close()


@dataclass
class Hall:
    """The running hall: config, the in-process controller and its clock."""

    config: HallConfig
    data_dir: Path
    clock: ManualClock
    controller: HallController
    broker: LocalBroker
    node_config: HallConfig  # the kiosk's copy of hall.toml (the controller's, unless a test edits that)

    def import_records(self, records: list[dict[str, Any]]) -> Any:
        """Cases and appointments into the controller's database, as `hallbus cases import` does."""
        importer = Importer(self.config, KEY, WorkCalendar.from_config(self.config.calendar), HallTime.of(self.config),
                            "test", Guide.load().promised_days())
        with open_store(self.data_dir) as store:
            report = importer.run(store.conn, records_of(records), now=self.clock(), where="record")
        assert report.errors == [], report.errors
        return report


@pytest.fixture
def controller_edit() -> tuple[str, str] | None:
    """(old, new) text replaced in the controller's copy of hall.toml only; parametrize a test to set it."""
    return None


@pytest.fixture
def hall(broker: LocalBroker, sims: Sims, tmp_path: Path, controller_edit: tuple[str, str] | None) -> Iterator[Hall]:
    """The real hall controller (queue + records) on the test broker, with the terminal's devices in config."""
    node_config = config = kiosk_config(tmp_path, sims.paths)
    if controller_edit is not None:  # a hall whose manager changed the controller's copy and not the terminal's
        text = (tmp_path / "hall.toml").read_text(encoding="utf-8")
        assert controller_edit[0] in text
        path = tmp_path / "controller.toml"
        path.write_text(text.replace(*controller_edit), encoding="utf-8")
        config = parse_config(path.read_text(encoding="utf-8"), path)
    clock = ManualClock(T0)
    data = tmp_path / "data"
    ctl = HallController(config, data_dir=data, broker=parse_broker_url(broker.url), clock=clock, hall_key=KEY, tick_s=0.1)
    assert ctl.start(wait=5), "controller did not connect"
    try:
        yield Hall(config, data, clock, ctl, broker, node_config)
    finally:
        ctl.stop()


@pytest.fixture
def kiosk(hall: Hall, qtbot: Any, tmp_path: Path) -> Iterator[Any]:
    """The terminal kiosk (real QML, offscreen, 1280x800) on the test broker, connected and showing queue state."""
    from kiosk.app import Kiosk, Options

    k = Kiosk(
        Options(role="terminal", node=NODE, broker=hall.broker.url, data=tmp_path / "kiosk", size=(1280, 800)),
        hall.node_config,
    )
    window = k.start()
    try:
        qtbot.waitExposed(window)
        qtbot.waitUntil(lambda: k.shell.connected, timeout=5000)
        qtbot.waitUntil(lambda: bool(k.role.keep[0].queue), timeout=5000)
        yield k
    finally:
        k.stop()
