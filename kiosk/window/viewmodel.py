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

    def __init__(self, state: WindowDisplayState, parent: QObject | None = None) -> None:
        super().__init__(state, parent)
        self.display = state

    def is_settled(self) -> bool:
        """Settled once the window's state is known."""
        return self.display.state is not None

    window = Property("QVariantMap", lambda self: self._get("window"), notify=windowChanged)
    call = Property("QVariantMap", lambda self: self._get("call"), notify=callChanged)
    link = Property("QVariantMap", lambda self: self._get("link"), notify=linkChanged)
