"""Driving the real QML: find items by objectName, touch them, wait for the view-model."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtGui import QImage
from PySide6.QtQuick import QQuickItem, QQuickWindow

from kiosk.qt.drive import find, tap


def item(qtbot: Any, window: QQuickWindow, name: str, timeout: int = 5000) -> QQuickItem:
    """Wait until a visible item called `name` exists, and return it."""
    qtbot.waitUntil(lambda: find(window, name) is not None, timeout=timeout)
    found = find(window, name)
    assert found is not None
    return found


def next_frame(qtbot: Any, window: QQuickWindow, timeout: int = 2000) -> None:
    """Ask for a frame and wait until the window has drawn it (everything changed before is in it)."""
    with qtbot.waitSignal(window.frameSwapped, timeout=timeout):
        window.update()


def settled_image(qtbot: Any, window: QQuickWindow, frames: int = 50) -> QImage:
    """The window's picture once two frames in a row draw the same (pending changes and layout are done)."""
    next_frame(qtbot, window)
    last = window.grabWindow()
    for _ in range(frames):
        next_frame(qtbot, window)
        image = window.grabWindow()
        if image == last:
            return image
        last = image
    raise AssertionError(f"the window still changed after {frames} frames")


def touch(qtbot: Any, window: QQuickWindow, name: str, timeout: int = 5000) -> None:
    """Tap the middle of the visible item called `name`, as a finger would, once it has settled."""
    target = item(qtbot, window, name, timeout)
    qtbot.waitUntil(lambda: target.width() > 0 and target.height() > 0, timeout=timeout)
    tap(window, target)


def text_of(qobj: QObject) -> str:
    """The `text` property of a QML Text item."""
    return str(qobj.property("text"))


def take_card_off(reader: Any, timeout: float = 5.0) -> None:
    """Take the card off the simulated SAM reader and wait until the kiosk's reader has seen it gone.

    A card laid on again before that would look to the reader as if it had never left. The
    watcher's removal callback cannot be waited on here: a SAM that stops finding a card once
    read (the simulator's default) reports "removed" a couple of polls after the read, while the
    card still lies there. What holds for both kinds: once the reader has asked `find` three times
    after the removal, it has had at least two "no card" answers, its removal threshold.
    """
    reader.remove()
    polls = reader.commands_seen.count("find")
    assert reader.wait_for(
        lambda: reader.commands_seen.count("find") >= polls + 3, timeout=timeout
    ), "the kiosk's ID card reader stopped polling after the card was taken off"
