"""The hall screen's thin QObject view-model."""

from __future__ import annotations

from PySide6.QtCore import Property, QObject, Signal

from kiosk.hall.state import HallScreenState
from kiosk.qt.sections import SectionViewModel


class HallScreenViewModel(SectionViewModel):
    """Calls, queue, windows, stats, chart and link as QML properties."""

    callsChanged = Signal()
    queueChanged = Signal()
    windowsChanged = Signal()
    statsChanged = Signal()
    chartChanged = Signal()
    linkChanged = Signal()

    def __init__(self, state: HallScreenState, parent: QObject | None = None) -> None:
        super().__init__(state, parent)
        self.hall = state

    def is_settled(self) -> bool:
        """Settled once the queue and the windows are known."""
        return self.hall.queue is not None and bool(self.hall.windows)

    calls = Property("QVariantMap", lambda self: self._get("calls"), notify=callsChanged)
    queue = Property("QVariantMap", lambda self: self._get("queue"), notify=queueChanged)
    windows = Property("QVariantList", lambda self: self._get("windows"), notify=windowsChanged)
    stats = Property("QVariantMap", lambda self: self._get("stats"), notify=statsChanged)
    chart = Property("QVariantMap", lambda self: self._get("chart"), notify=chartChanged)
    link = Property("QVariantMap", lambda self: self._get("link"), notify=linkChanged)
