"""The roles a kiosk can play, and what the shell hands a role when building it.

A role is: a Qt-free state object, a thin QObject view-model over it, a QML page under
`assets/qml/<role>/`, and one registration line in `ROLES` pointing at its `build(ctx)`.
See docs/kiosk.md.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, SignalInstance

from hallbus.client import BusClient
from hallbus.config import HallConfig
from hallbus.rpc import RpcClient
from kiosk.common.i18n import Catalogue
from kiosk.devices.health import HealthBoard
from kiosk.qt.bridge import BusBridge
from kiosk.qt.shell import ShellViewModel
from kiosk.qt.worker import OnGui, QtPort

# role name -> "module:function" building it; add a line here for a new role.
ROLES: dict[str, str] = {
    "terminal": "kiosk.terminal.role:build",
    "counter": "kiosk.counter.role:build",
    "tablet": "kiosk.tablet.role:build",
    "window": "kiosk.display.role:build",
    "hall": "kiosk.hallscreen.role:build",
}


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


def load_role(name: str) -> Callable[[RoleContext], RoleParts]:
    """The `build` function of role `name`; ValueError naming the known roles otherwise."""
    target = ROLES.get(name)
    if target is None:
        raise ValueError(f"unknown role {name!r}; this kiosk knows: {', '.join(sorted(ROLES))}")
    module, func = target.split(":")
    builder: Callable[[RoleContext], RoleParts] = getattr(importlib.import_module(module), func)
    return builder
