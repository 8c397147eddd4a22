"""The kiosk's composition root: config in, every part built and wired, one window out.

`Kiosk(options)` reads config and builds the bus client, RPC client, the bridge to the GUI
thread, the device owners (real drivers, or simulators where config says `"sim"`), the shell
view-model and the role's parts; `start()` shows the QML page first (so the first frame is
not held up by the network or devices) and then connects and starts devices; `stop()` undoes
all of it. Nothing else in the kiosk reads config or picks drivers.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, QUrl
from PySide6.QtGui import QFont, QGuiApplication, QImage
from PySide6.QtQml import QQmlApplicationEngine
from PySide6.QtQuick import QQuickWindow

from hallbus import schemas
from hallbus.cli_common import broker_from_config, node_key_from_config
from hallbus.client import BusClient
from hallbus.config import REPO_ROOT, HallConfig, load_config
from hallbus.privacy import load_hall_key
from hallbus.rpc import RpcClient
from kiosk.common.i18n import Catalogue
from kiosk.context import RoleContext, RoleParts
from kiosk.owners.badge import BadgeOwner
from kiosk.owners.health import HealthBoard
from kiosk.owners.idcard import IdCardOwner
from kiosk.owners.printer import PrinterOwner
from kiosk.owners.qr import QrOwner
from kiosk.qt.bridge import BusBridge
from kiosk.qt.guard import KioskGuard
from kiosk.qt.qrimage import QrImageProvider
from kiosk.qt.shell import ShellViewModel
from kiosk.qt.worker import OnGui, QtPort
from kiosk.roles import load_role

log = logging.getLogger(__name__)

QML_DIR = REPO_ROOT / "assets" / "qml"
FONT_FAMILY = "Noto Sans CJK SC"


@dataclass
class Options:
    """What the command line (or a test) asks of the kiosk."""

    role: str
    node: str
    config: Path | None = None
    window: str | None = None
    broker: str | None = None
    data: Path | None = None
    language: str | None = None
    elderly: bool = False
    size: tuple[int, int] | None = None  # windowed at this size instead of full screen
    screenshot: Path | None = None
    settle_s: float = 3.0


class DeviceSet:
    """The node's device owners and any simulators the composition root started for `"sim"` devices."""

    def __init__(self) -> None:
        self.owners: dict[str, Any] = {}
        self.simulators: dict[str, Any] = {}

    def start(self) -> None:
        """Start every owner (each keeps retrying its device in the background)."""
        for name, owner in self.owners.items():
            try:
                owner.start()
            except Exception:
                log.exception("device %s did not start", name)

    def stop(self) -> None:
        """Stop owners, then simulators."""
        for owner in self.owners.values():
            try:
                owner.stop()
            except Exception:
                log.exception("device %s did not stop cleanly", owner)
        for sim in self.simulators.values():
            try:
                (getattr(sim, "stop", None) or sim.close)()
            except Exception:
                log.exception("simulator %s did not stop cleanly", sim)


def build_devices(cfg: HallConfig, node: str, data_dir: Path, board: HealthBoard) -> DeviceSet:
    """Owners for the node's devices: a port URL opens the real device, `"sim"` a simulator on a pty.

    Simulators are imported only where config asks for one, so a real kiosk never loads them
    (the printer's pulls in its PNG renderer)."""
    spec = cfg.node_devices(node)
    devs = DeviceSet()
    sim_dir = data_dir / "dev" / node

    def sim_path(name: str) -> str:
        sim_dir.mkdir(parents=True, exist_ok=True)
        return str(sim_dir / name)

    if spec.idcard:
        url = spec.idcard
        if url == "sim":
            from devices.idcard.sim import SamSimulator

            url = sim_path("idcard")
            devs.simulators["idcard"] = SamSimulator(link=url, card=None).start()
        devs.owners["idcard"] = IdCardOwner(url, board)
    if spec.printer:
        url = spec.printer
        if url == "sim":
            from devices.printer.sim import PrinterSimulator

            url = sim_path("printer")
            out_dir = data_dir / "printed" / node
            out_dir.mkdir(parents=True, exist_ok=True)
            devs.simulators["printer"] = PrinterSimulator(url, out_dir, width=spec.printer_width)
        devs.owners["printer"] = PrinterOwner(url, board, width=spec.printer_width)
    if spec.scanner:
        url = spec.scanner
        if url == "sim":
            from devices.scanner.sim import ScannerSimulator

            url = sim_path("scanner")
            devs.simulators["scanner"] = ScannerSimulator(url)
        devs.owners["scanner"] = QrOwner("scanner", url, board)
    if spec.pcsc:
        devs.owners["pcsc"] = BadgeOwner(spec.pcsc, board)  # staff badges at a counter
    if spec.camera and spec.camera != "sim":
        devs.owners["camera"] = QrOwner("camera", spec.camera, board)
    return devs


class Kiosk:
    """One kiosk process: a role on a node, its window, bus and devices."""

    def __init__(self, options: Options, cfg: HallConfig | None = None) -> None:
        self.options = options
        self.cfg = cfg or load_config(options.config)
        schemas.set_timezone(self.cfg.hall.timezone)
        node = self.cfg.node(options.node)
        self.window_id = options.window or (node.window if node else None)
        self.data_dir = Path(options.data) if options.data else self.cfg.resolve(self.cfg.hall.data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.catalogue = Catalogue()
        self.hall_key = self._hall_key()
        self.bus = BusClient(
            hall=self.cfg.hall.id,
            node=options.node,
            role=options.role,
            broker=broker_from_config(self.cfg, options.broker),
            keepalive=self.cfg.broker.keepalive,
        )
        # Signed node id: in a hall with node keys the controller refuses unsigned window.* and ratings.
        self.rpc = RpcClient(self.bus, node_key=node_key_from_config(self.cfg))
        self.board = HealthBoard(self.bus.publish_devices)
        self.devices = build_devices(self.cfg, options.node, self.data_dir, self.board)
        self.bridge = BusBridge(self.bus)
        self.port = QtPort(self.rpc)
        self.gui = OnGui()
        self.shell = ShellViewModel(self.cfg, self.catalogue, role=options.role, language=options.language, elderly=options.elderly)
        self.bridge.connection.connect(self.shell.setConnected)
        ctx = RoleContext(
            role=options.role, cfg=self.cfg, node=options.node, window=self.window_id,
            catalogue=self.catalogue, bus=self.bus, rpc=self.rpc, bridge=self.bridge, port=self.port,
            gui=self.gui, board=self.board, devices=self.devices.owners, data_dir=self.data_dir,
            hall_key=self.hall_key, shell=self.shell,
        )
        self.role: RoleParts = load_role(options.role)(ctx)
        self.shell.has_session = self.role.has_session
        self.shell.resetRequested.connect(self.role.reset)
        self.engine: QQmlApplicationEngine | None = None
        self.window: QQuickWindow | None = None
        self.guard = KioskGuard(self.shell)
        self.first_frame_s: float | None = None
        self._t0 = time.perf_counter()

    def _hall_key(self) -> bytes | None:
        path = self.cfg.resolve(self.cfg.privacy.key_file)
        try:
            return load_hall_key(path)
        except (FileNotFoundError, ValueError) as err:
            log.warning("no hall key (%s): ID cards cannot be used on this kiosk", err)
            return None

    # --- life ---------------------------------------------------------------------------

    def start(self) -> QQuickWindow:
        """Show the window, then connect to the bus and start devices."""
        self._t0 = time.perf_counter()
        app = QGuiApplication.instance()
        if isinstance(app, QGuiApplication):
            app.setFont(QFont(FONT_FAMILY))  # CJK and Latin from one family, the same on every screen
        engine = QQmlApplicationEngine()
        engine.addImageProvider("qr", QrImageProvider())
        engine.addImportPath(str(QML_DIR))
        props: dict[str, Any] = {
            "shell": self.shell,
            "rolePage": QUrl.fromLocalFile(str(QML_DIR / self.role.qml)),
            "roleProps": self.role.properties,
            "chrome": self.role.chrome,
            "windowed": self.options.size is not None,
        }
        if self.options.size:
            props["width"], props["height"] = self.options.size
        engine.setInitialProperties(props)
        engine.load(QUrl.fromLocalFile(str(QML_DIR / "Shell.qml")))
        roots = engine.rootObjects()
        if not roots:
            raise RuntimeError(f"the QML of role {self.options.role} did not load; see the errors above")
        window = roots[0]
        assert isinstance(window, QQuickWindow)
        window.installEventFilter(self.guard)
        window.frameSwapped.connect(self._first_frame)
        self.engine, self.window = engine, window
        self.shell.start()
        self.bus.start()
        self.devices.start()
        return window

    def _first_frame(self) -> None:
        if self.first_frame_s is None and self.window is not None:
            self.first_frame_s = time.perf_counter() - self._t0
            self.window.frameSwapped.disconnect(self._first_frame)
            log.info("first frame after %.0f ms", self.first_frame_s * 1000)

    def stop(self) -> None:
        """Stop everything this kiosk started, in reverse order."""
        self.shell.stop()
        self.role.stop()
        self.devices.stop()
        self.bus.stop()
        self.port.shutdown()
        self.guard.allow_close = True
        if self.window is not None:
            self.window.close()
        if self.engine is not None:
            # Delete the QML now, while the view-models it binds to still exist.
            from shiboken6 import delete

            delete(self.engine)
            self.engine = None
            self.window = None

    def grab(self, path: Path) -> QImage:
        """Write a PNG of the window as it is now."""
        assert self.window is not None
        image = self.window.grabWindow()
        path.parent.mkdir(parents=True, exist_ok=True)
        if not image.save(str(path), "PNG"):
            raise OSError(f"could not write {path}")
        return image


def run(options: Options) -> int:
    """Run a kiosk until the process is told to stop; with `screenshot`, settle, write the PNG and exit."""
    app = QGuiApplication.instance() or QGuiApplication([])
    assert isinstance(app, QGuiApplication)
    app.setApplicationName(f"hallkit-kiosk-{options.role}")
    kiosk = Kiosk(options)
    window = kiosk.start()
    probe = _probe(window)
    status = {"code": 0}
    if options.screenshot is not None:
        target = options.screenshot

        def shoot() -> None:
            try:
                kiosk.grab(target)
                log.info("wrote %s", target)
            except OSError as err:
                log.error("%s", err)
                status["code"] = 1
            app.exit(status["code"])  # exit(), not quit(): quit() asks the window, which refuses to close

        def settled() -> None:
            QTimer.singleShot(300, shoot)  # a few frames for the new state to be drawn

        timer = QTimer()
        timer.setSingleShot(True)
        timer.timeout.connect(shoot)
        timer.start(int(options.settle_s * 1000))
        if kiosk.role.settled is not None:
            kiosk.role.settled.connect(lambda: (timer.stop(), settled()))
    _quit_on_signals(app)
    try:
        app.exec()
    finally:
        kiosk.stop()
        del probe
    return status["code"]


def _probe(window: QQuickWindow) -> QObject | None:
    """With KIOSK_PROBE=1 (bench/felt.py): taps and keys in on stdin, painted texts out (kiosk/qt/probe.py)."""
    import os

    if os.environ.get("KIOSK_PROBE", "") in ("", "0"):
        return None
    from kiosk.qt.probe import Probe  # QtTest only in a process a bench drives

    return Probe(window)


def _quit_on_signals(app: QGuiApplication) -> QObject:
    """SIGTERM/SIGINT end the event loop cleanly (systemd stop, Ctrl+C on a console), without polling."""
    import signal
    import socket

    from PySide6.QtCore import QSocketNotifier

    reader, writer = socket.socketpair()
    reader.setblocking(False)
    writer.setblocking(False)
    signal.set_wakeup_fd(writer.fileno())
    signal.signal(signal.SIGTERM, lambda *_: None)
    signal.signal(signal.SIGINT, lambda *_: None)
    notifier = QSocketNotifier(reader.fileno(), QSocketNotifier.Type.Read, app)

    def woken() -> None:
        try:
            reader.recv(64)
        except OSError:
            pass
        app.exit(0)  # not quit(): that asks the windows to close first, and the kiosk window refuses

    notifier.activated.connect(woken)
    notifier.setProperty("_sockets", (reader, writer))  # keep both ends alive with the notifier
    return notifier
