"""Bus messages from paho's network thread to Qt signals on the GUI thread."""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal, Slot

from hallbus.client import BusClient
from kiosk.qt.compat import emit


class BusBridge(QObject):
    """Subscribes on the bus and re-emits every message and connection change on the GUI thread.

    paho calls us on its own thread; a signal emitted there and connected with a queued
    connection is delivered by the GUI thread's event loop, so view-models never see a
    foreign thread.
    """

    message = Signal(str, object)  # topic, payload bytes
    connection = Signal(bool)
    _incoming = Signal(str, object)
    _link = Signal(bool)

    def __init__(self, bus: BusClient, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.bus = bus
        self._incoming.connect(self._deliver, Qt.ConnectionType.QueuedConnection)
        self._link.connect(self._deliver_link, Qt.ConnectionType.QueuedConnection)
        bus.add_connection_listener(lambda up: emit(self._link, up))

    def subscribe(self, topic_filter: str) -> None:
        """Route messages of `topic_filter` to `message` (GUI thread)."""
        self.bus.subscribe(topic_filter, lambda topic, payload, _props: emit(self._incoming, topic, bytes(payload)))

    @Slot(str, object)
    def _deliver(self, topic: str, payload: object) -> None:
        emit(self.message, topic, payload)

    @Slot(bool)
    def _deliver_link(self, up: bool) -> None:
        emit(self.connection, up)
