"""The thin QObject over a `Sectioned` state: cached views scrubbed for QML, and change signals coalesced per turn of the event loop."""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from kiosk.common.sections import Sectioned
from kiosk.qt.compat import emit


def qml_value(value: Any) -> Any:
    """Plain data for QML with every None replaced by "": PySide's QVariant conversion of None
    inside maps and lists has been seen to corrupt None's reference count (a crash at exit)."""
    if value is None:
        return ""
    if isinstance(value, dict):
        return {k: qml_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [qml_value(v) for v in value]
    return value


class SectionViewModel(QObject):
    """Subclasses declare `<section>Changed` signals and Properties reading `self._get(section)`.

    A burst of bus messages (100 calls in a second) changes the state many times between two
    frames; the view-model emits each changed section once per turn of the event loop, so QML
    rebuilds at most once per burst slice instead of once per message.
    """

    settled = Signal()  # once, when `is_settled()` first holds after a flush (screenshots wait for it)

    def __init__(self, state: Sectioned, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self._settled = False
        self._cache: dict[str, Any] = {}
        self._dirty: set[str] = set()
        self._flush = QTimer(self)
        self._flush.setSingleShot(True)
        self._flush.setInterval(0)
        self._flush.timeout.connect(self.flush)
        self.flush_times: list[float] = []  # seconds each flush took (benchmarks read it)
        self.record_flushes = False
        state.add_listener(self._on_change)

    def _on_change(self, sections: set[str]) -> None:
        for section in sections:
            self._cache.pop(section, None)
        self._dirty |= sections
        if not self._flush.isActive():
            self._flush.start()

    def flush(self) -> None:
        """Emit the change signal of every section changed since the last flush (QML re-reads them)."""
        t0 = time.perf_counter()
        dirty, self._dirty = self._dirty, set()
        for section in sorted(dirty):
            emit(getattr(self, f"{section}Changed"))
        self.flushed(dirty)
        if not self._settled and self.is_settled():
            self._settled = True
            emit(self.settled)
        if self.record_flushes:
            self.flush_times.append(time.perf_counter() - t0)

    def flushed(self, sections: set[str]) -> None:
        """Hook after a flush."""

    def is_settled(self) -> bool:
        """True once the screen has the first state it needs (e.g. the window's retained state)."""
        return True

    def _get(self, section: str) -> Any:
        if section not in self._cache:
            self._cache[section] = qml_value(self.state.view(section))
        return self._cache[section]
