"""The window display's thin QObject view-model."""

from __future__ import annotations

from PySide6.QtCore import Property, QObject, Signal

from kiosk.qt.sections import SectionViewModel
from kiosk.window.state import WindowDisplayState


class WindowDisplayViewModel(SectionViewModel):
    """`window`, `call` and `link` sections as QML properties."""

    windowChanged = Signal()
    callChanged = Signal()
    linkChanged = Signal()
    settled = Signal()

    def __init__(self, state: WindowDisplayState, parent: QObject | None = None) -> None:
        super().__init__(state, parent)
        self.display = state
        self._settled = False

    def flushed(self, sections: set[str]) -> None:
        """`settled` once the window's state is known."""
        if not self._settled and self.display.state is not None:
            self._settled = True
            self.settled.emit()

    window = Property("QVariantMap", lambda self: self._get("window"), notify=windowChanged)
    call = Property("QVariantMap", lambda self: self._get("call"), notify=callChanged)
    link = Property("QVariantMap", lambda self: self._get("link"), notify=linkChanged)
