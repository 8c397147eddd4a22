"""A bench's finger and eye inside a kiosk process, only when `KIOSK_PROBE=1` (bench/felt.py).

Commands arrive on stdin, one a line; answers and reports leave on stdout as JSON lines,
stamped with CLOCK_MONOTONIC in ms (the clock every process on the machine shares):

    tap NAME        a left click in the middle of the visible item NAME, through the window's
                    real mouse path (QML MouseArea / TapHandler)          -> {"ev": "tap", ...}
    key KEY         a key click (Qt.Key_KEY, e.g. F1) on the window, through its real key path
                    (QML Keys.onPressed on the focused item)              -> {"ev": "key", ...}
    watch NAME ...  from now on, after every frame swapped, the text of each visible item NAME;
                    a text that differs from the last one reported (the item appearing, text
                    "" if it has none; going away, text null) is reported as {"ev": "paint", "t": ms,
                    "name", "text", "frame_began": ms} (when that frame's scene sync began)
    visible NAME    is NAME visible now                                   -> {"ev": "visible", ...}

"Painted" is the frame swap that first shows a text: with the software render loop the
offscreen kiosks use, `frameSwapped` is emitted on the GUI thread right after the frame that
drew the items' current state was flushed, so the text read then is what that frame showed.
`kiosk.app.run` builds one only when `KIOSK_PROBE` is set.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

from PySide6.QtCore import QObject, QPoint, QPointF, QSocketNotifier, Qt
from PySide6.QtQuick import QQuickItem, QQuickWindow
from PySide6.QtTest import QTest

from kiosk.qt.drive import find


def _now_ms() -> float:
    return time.monotonic() * 1000


class Probe(QObject):
    """Reads commands from stdin on the GUI thread; reports taps, keys and painted texts on stdout."""

    def __init__(self, window: QQuickWindow, fd: int = 0) -> None:
        super().__init__(window)
        self.window = window
        self.fd = fd
        self._buf = b""
        self._watch: dict[str, str | None] = {}
        self._items: dict[str, QQuickItem] = {}
        os.set_blocking(fd, False)
        self._notifier = QSocketNotifier(fd, QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._readable)
        self._frame_at = 0.0
        window.beforeSynchronizing.connect(self._frame_begins)
        window.frameSwapped.connect(self._swapped)
        self._say({"ev": "ready", "t": _now_ms()})

    def _say(self, msg: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(msg, ensure_ascii=False) + "\n")
        sys.stdout.flush()

    def _readable(self) -> None:
        try:
            data = os.read(self.fd, 4096)
        except BlockingIOError:
            return
        if not data:  # the bench went away
            self._notifier.setEnabled(False)
            return
        self._buf += data
        while b"\n" in self._buf:
            line, self._buf = self._buf.split(b"\n", 1)
            self._command(line.decode("utf-8").split())

    def _command(self, words: list[str]) -> None:
        if not words:
            return
        verb, args = words[0], words[1:]
        if verb == "tap" and args:
            item = find(self.window, args[0])
            if item is None or item.width() <= 0:
                self._say({"ev": "tap", "t": _now_ms(), "name": args[0], "ok": False})
                return
            centre = item.mapToScene(QPointF(item.width() / 2, item.height() / 2))
            t = _now_ms()
            QTest.mouseClick(self.window, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                             QPoint(int(centre.x()), int(centre.y())))
            self._say({"ev": "tap", "t": t, "name": args[0], "ok": True})
        elif verb == "key" and args:
            key = getattr(Qt.Key, f"Key_{args[0]}", None)
            t = _now_ms()
            if key is not None:
                QTest.keyClick(self.window, key)
            self._say({"ev": "key", "t": t, "name": args[0], "ok": key is not None})
        elif verb == "watch":
            for name in args:
                self._watch.setdefault(name, None)
            self.window.update()  # a frame now reports the current texts
        elif verb == "visible" and args:
            self._say({"ev": "visible", "t": _now_ms(), "name": args[0], "ok": find(self.window, args[0]) is not None})

    def _text(self, name: str) -> str | None:
        item = self._items.get(name)
        try:
            if item is None or not item.isVisible():
                item = find(self.window, name)
        except RuntimeError:  # the cached item was deleted (a Loader or Repeater rebuilt it)
            item = find(self.window, name)
        if item is None:
            self._items.pop(name, None)
            return None
        self._items[name] = item
        text = item.property("text")
        return "" if text is None else str(text)  # an item without text: "" while it is shown

    def _frame_begins(self) -> None:
        self._frame_at = _now_ms()

    def _swapped(self) -> None:
        if not self._watch:
            return
        t = _now_ms()
        for name, last in self._watch.items():
            text = self._text(name)
            if text != last:
                self._watch[name] = text
                self._say({"ev": "paint", "t": t, "name": name, "text": text, "frame_began": self._frame_at})
