"""No way out to the desktop: the kiosk window ignores close requests and escape keys, and counts touches."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent

from kiosk.qt.shell import ShellViewModel

_TOUCHES = {QEvent.Type.MouseButtonPress, QEvent.Type.TouchBegin, QEvent.Type.Wheel}
_BLOCKED_KEYS = {Qt.Key.Key_Escape, Qt.Key.Key_F4, Qt.Key.Key_Q, Qt.Key.Key_W, Qt.Key.Key_Tab}


class KioskGuard(QObject):
    """Event filter on the kiosk window: touches reset the idle timer; Esc, Alt+F4, Ctrl+Q/W and close are swallowed."""

    def __init__(self, shell: ShellViewModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.shell = shell
        self.allow_close = False
        self.blocked = 0

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        """Filter one event of the window."""
        kind = event.type()
        if kind in _TOUCHES:
            self.shell.touched()
            return False
        if kind == QEvent.Type.Close and not self.allow_close:
            event.ignore()
            self.blocked += 1
            return True
        if kind in (QEvent.Type.KeyPress, QEvent.Type.ShortcutOverride) and isinstance(event, QKeyEvent):
            key = event.key()
            mods = event.modifiers()
            if key == Qt.Key.Key_Escape or (
                key in _BLOCKED_KEYS and mods & (Qt.KeyboardModifier.AltModifier | Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.MetaModifier)
            ):
                self.blocked += 1
                return True
        return False
