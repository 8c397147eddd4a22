"""The thin QObject over a `Sectioned` state: cached views, and change signals coalesced per turn of the event loop."""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import QObject, QTimer

from kiosk.common.sections import Sectioned


class SectionViewModel(QObject):
    """Subclasses declare `<section>Changed` signals and Properties reading `self._get(section)`.

    A burst of bus messages (100 calls in a second) changes the state many times between two
    frames; the view-model emits each changed section once per turn of the event loop, so QML
    rebuilds at most once per burst slice instead of once per message.
    """

    def __init__(self, state: Sectioned, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.state = state
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
            getattr(self, f"{section}Changed").emit()
        self.flushed(dirty)
        if self.record_flushes:
            self.flush_times.append(time.perf_counter() - t0)

    def flushed(self, sections: set[str]) -> None:
        """Hook after a flush (e.g. `settled` for screenshots)."""

    def _get(self, section: str) -> Any:
        if section not in self._cache:
            self._cache[section] = self.state.view(section)
        return self._cache[section]
