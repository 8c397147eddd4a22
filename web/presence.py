"""Whether the hall controller can answer: its retained presence and hallweb's own link to the broker.

The controller's `node/controller/status` (retained, its last will `lost`) says `online`
while it runs and `offline` or `lost` once it stopped or died; the role `web` may read it
(every role may: `hallbus.deploy.brokerconf.acl_rules`). While hallweb itself is cut off from
the broker nothing can be asked either. Either way the pages keep the last known state and
say in plain words that the hall's server is away, and take that back when it returns.

Before the first presence message arrives (just started, or a controller that never ran)
the controller counts as there: the first request finds out.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from hallbus import schemas
from hallbus.client import BusClient
from hallbus.deploy.brokerconf import CONTROLLER

log = logging.getLogger(__name__)


class ControllerPresence:
    """The controller's presence as hallweb sees it; `listener(away)` hears every change (bus thread)."""

    def __init__(self, bus: BusClient) -> None:
        self.bus = bus
        self._state: str | None = None  # the last presence message's `state`; None: none seen yet
        self._lock = threading.Lock()
        self._listeners: list[Callable[[bool], None]] = []
        self._told: bool | None = None
        bus.subscribe(bus.topics.node_status(CONTROLLER), self._on_status)
        bus.add_connection_listener(self._on_connection)

    @property
    def away(self) -> bool:
        """True while the controller cannot answer: hallweb's bus is down, or the controller is offline or lost."""
        return not self.bus.connected or self._state in ("offline", "lost")

    def add_listener(self, listener: Callable[[bool], None]) -> None:
        """Call `listener(away)` whenever `away` changes (from the bus's network thread)."""
        with self._lock:
            self._listeners.append(listener)

    def _on_status(self, _topic: str, payload: bytes, _props: Any) -> None:
        try:
            status = schemas.decode(payload, schemas.NodeStatus)
        except ValueError as err:  # a bad payload says nothing about the controller
            log.warning("ignored a controller presence that does not decode: %s", err)
            return
        self._state = status.state
        self._tell()

    def _on_connection(self, _up: bool) -> None:
        self._tell()

    def _tell(self) -> None:
        away = self.away
        with self._lock:
            if away == self._told:
                return
            self._told = away
            listeners = list(self._listeners)
        if away:
            log.warning("the hall controller is away (bus %s, presence %s)",
                        "up" if self.bus.connected else "down", self._state)
        for listener in listeners:
            listener(away)
