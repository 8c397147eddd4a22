"""Drive the real QML as a finger would, outside pytest (the demo's scripted citizen and staff)."""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QEventLoop, QPoint, QPointF, Qt
from PySide6.QtQuick import QQuickItem, QQuickWindow
from PySide6.QtTest import QTest


def pump(seconds: float) -> None:
    """Run the event loop for a while (timers, bus signals and rendering go on)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
        time.sleep(0.005)


def wait_until(pred: Callable[[], bool], timeout: float = 10.0, what: str = "") -> bool:
    """Run the event loop until `pred()` holds; False (never an exception) after `timeout`."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if pred():
                return True
        except Exception:  # the item may not exist yet
            pass
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
        time.sleep(0.005)
    return False


def visible_items(root: QQuickItem) -> list[QQuickItem]:
    """Every visible item under `root`, walking the visual tree (Repeater and Loader items included)."""
    out: list[QQuickItem] = []
    stack = [root]
    while stack:
        node = stack.pop()
        if node.isVisible():
            out.append(node)
            stack.extend(node.childItems())
    return out


def find(window: QQuickWindow, name: str) -> QQuickItem | None:
    """The last visible item called `name` in the window, or None."""
    found = [i for i in visible_items(window.contentItem()) if i.objectName() == name]
    return found[-1] if found else None


def next_frame(window: QQuickWindow, timeout: float = 2.0) -> bool:
    """Ask for a frame and run the event loop until the window has drawn it."""
    drawn: list[bool] = []

    def swapped() -> None:
        drawn.append(True)

    window.frameSwapped.connect(swapped)
    try:
        window.update()
        return wait_until(lambda: bool(drawn), timeout)
    finally:
        window.frameSwapped.disconnect(swapped)


def tap(window: QQuickWindow, target: QQuickItem) -> None:
    """Tap the middle of `target` once it stays put from one frame to the next (a new page is laid
    out over a few frames: a tap before that lands on whatever was there)."""
    last = None
    for _ in range(50):
        centre = target.mapToScene(QPointF(target.width() / 2, target.height() / 2))
        if centre == last:
            break
        last = centre
        next_frame(window)
    QTest.mouseClick(window, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     QPoint(int(centre.x()), int(centre.y())))


def touch(window: QQuickWindow, name: str, timeout: float = 10.0) -> bool:
    """Tap the visible item called `name` as a finger would; False if it never appeared."""
    if not wait_until(lambda: (i := find(window, name)) is not None and i.width() > 0, timeout):
        return False
    target = find(window, name)
    assert target is not None
    tap(window, target)
    return True


def text(window: QQuickWindow, name: str) -> str:
    """The `text` of the visible item called `name` ("" when absent)."""
    item = find(window, name)
    return str(item.property("text")) if item is not None else ""
