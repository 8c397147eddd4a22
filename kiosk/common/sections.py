"""A screen state made of named sections that tells its listeners which sections changed (Qt-free)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

import msgspec

from hallbus import schemas
from hallbus.config import HallConfig, WindowSection

log = logging.getLogger(__name__)

Listener = Callable[[set[str]], None]
T = TypeVar("T")


class Sectioned:
    """Base of a Qt-free screen state: `view(section)` for QML, `add_listener` to hear what changed."""

    SECTIONS: tuple[str, ...] = ()

    def __init__(self) -> None:
        self._listeners: list[Listener] = []

    def add_listener(self, listener: Listener) -> None:
        """Call `listener(sections)` after every change."""
        self._listeners.append(listener)

    def _changed(self, *sections: str) -> None:
        changed = set(sections)
        for listener in list(self._listeners):
            listener(changed)

    def view(self, section: str) -> Any:
        """What the screen shows of one section (plain data for QML)."""
        return getattr(self, f"_view_{section}")()


def decode_or_none(payload: object, type_: type[T], what: str) -> T | None:
    """A bus payload decoded as `type_`, or None (logged) when it is empty or malformed."""
    if not payload:
        return None
    try:
        return schemas.decode(payload, type_)  # type: ignore[arg-type]
    except (msgspec.DecodeError, msgspec.ValidationError) as err:
        log.warning("ignored a malformed %s: %s", what, err)
        return None


def configured_window(cfg: HallConfig, window: str, screen: str) -> WindowSection:
    """The config of the window a screen belongs to; ValueError saying how to start `screen` otherwise."""
    win = cfg.window(window)
    if win is None:
        raise ValueError(f"window {window!r} is not in the config; start the {screen} with --window")
    return win
