"""Driving the real QML: find items by objectName, touch them, wait for the view-model."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, QPoint, QPointF, Qt
from PySide6.QtQuick import QQuickItem, QQuickWindow
from PySide6.QtTest import QTest

from kiosk.qt.drive import find


def item(qtbot: Any, window: QQuickWindow, name: str, timeout: int = 5000) -> QQuickItem:
    """Wait until a visible item called `name` exists, and return it."""
    qtbot.waitUntil(lambda: find(window, name) is not None, timeout=timeout)
    found = find(window, name)
    assert found is not None
    return found


def touch(qtbot: Any, window: QQuickWindow, name: str, timeout: int = 5000) -> None:
    """Tap the middle of the visible item called `name`, as a finger would, once it has settled."""
    target = item(qtbot, window, name, timeout)
    qtbot.waitUntil(lambda: target.width() > 0 and target.height() > 0, timeout=timeout)
    # A new page is laid out over a few frames (Grid, Flow): wait until the item stops moving.
    last = None
    for _ in range(50):
        centre = target.mapToScene(QPointF(target.width() / 2, target.height() / 2))
        if centre == last:
            break
        last = centre
        qtbot.wait(20)
    QTest.mouseClick(window, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(int(centre.x()), int(centre.y())))


def text_of(qobj: QObject) -> str:
    """The `text` property of a QML Text item."""
    return str(qobj.property("text"))
