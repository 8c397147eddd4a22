"""This node's device health, published retained on `node/{node}/devices` whenever it changes."""

from __future__ import annotations

import threading
from collections.abc import Callable

from hallbus.schemas import DeviceHealth, NodeDevices

DEVICES = ("idcard", "printer", "camera", "pcsc", "scanner")


class HealthBoard:
    """Health of every device this node has; thread-safe; publishes the whole object on each change."""

    def __init__(self, publish: Callable[[NodeDevices], None] | None = None) -> None:
        self._publish = publish
        self._lock = threading.Lock()
        self._health: dict[str, DeviceHealth] = {}
        self._listeners: list[Callable[[str, DeviceHealth], None]] = []

    def add_listener(self, listener: Callable[[str, DeviceHealth], None]) -> None:
        """Call `listener(device, health)` on every change (from the reporting thread)."""
        self._listeners.append(listener)

    def set(self, device: str, state: str, detail: str | None = None) -> None:
        """Record the health of `device`; publish when it changed."""
        if device not in DEVICES:
            raise ValueError(f"unknown device {device!r}")
        health = DeviceHealth(state=state, detail=detail or None)
        with self._lock:
            if self._health.get(device) == health:
                return
            self._health[device] = health
            snapshot = self.snapshot()
        if self._publish is not None:
            self._publish(snapshot)
        for listener in list(self._listeners):
            listener(device, health)

    def get(self, device: str) -> DeviceHealth | None:
        """The last health of `device`, or None when this node has no such device."""
        return self._health.get(device)

    def snapshot(self) -> NodeDevices:
        """The payload of `node/{node}/devices`."""
        h = dict(self._health)
        return NodeDevices(idcard=h.get("idcard"), printer=h.get("printer"), camera=h.get("camera"),
                           pcsc=h.get("pcsc"), scanner=h.get("scanner"))

    def republish(self) -> None:
        """Publish the current health again (e.g. after start)."""
        if self._publish is not None and self._health:
            self._publish(self.snapshot())
