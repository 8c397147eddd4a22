"""What the shell hands a role when building it (`RoleContext`), and what the role hands back (`RoleParts`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, SignalInstance

from hallbus.client import BusClient
from hallbus.config import HallConfig
from hallbus.rpc import RpcClient
from kiosk.common.i18n import Catalogue
from kiosk.common.routes import Routes
from kiosk.owners.health import HealthBoard
from kiosk.qt.bridge import BusBridge
from kiosk.qt.shell import ShellViewModel
from kiosk.qt.worker import OnGui, QtPort


@dataclass
class RoleContext:
    """Everything the composition root built that a role may use."""

    role: str
    cfg: HallConfig
    node: str
    window: str | None
    catalogue: Catalogue
    bus: BusClient
    rpc: RpcClient
    bridge: BusBridge
    port: QtPort
    gui: OnGui
    board: HealthBoard
    devices: dict[str, Any]  # device name -> owner (idcard, printer, scanner, camera, pcsc)
    data_dir: Path
    hall_key: bytes | None
    shell: ShellViewModel

    def follow(self, routes: Routes, on_connection: Callable[[bool], None]) -> None:
        """Subscribe the role's topics and deliver their messages, and the broker link going up or down, on the GUI thread."""

        def deliver(topic: str, payload: object) -> None:
            routes.deliver(topic, payload)

        # A plain function holds `routes`; a bound method of it would be held weakly by PySide
        # and its connection would vanish with the role's last reference to `routes`.
        self.bridge.message.connect(deliver)
        self.bridge.connection.connect(on_connection)
        for topic_filter in routes.filters:
            self.bridge.subscribe(topic_filter)


@dataclass
class RoleParts:
    """What a role gives back: its QML page, the objects QML gets, and how to reset and stop it."""

    qml: str  # path under assets/qml/, e.g. "terminal/Terminal.qml"
    properties: dict[str, QObject]  # set on the page (e.g. {"vm": view_model})
    has_session: Callable[[], bool] = lambda: False  # anything about a person to forget?
    reset: Callable[[], None] = lambda: None  # forget it (idle timeout)
    settled: SignalInstance | None = None  # emitted once the first state arrived (screenshots)
    stop: Callable[[], None] = lambda: None
    keep: list[Any] = field(default_factory=list)  # objects that must live as long as the page
    chrome: bool = True  # False: the page fills the screen (display roles draw their own connection mark)
