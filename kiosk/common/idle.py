"""The idle timer of a public screen: after `idle_s` without a touch, a countdown, then reset."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Literal

Phase = Literal["active", "countdown", "expired"]


class IdleTimer:
    """Tracks the last touch; `tick()` says whether to warn (with seconds left) or to reset now."""

    def __init__(self, idle_s: float, countdown_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.idle_s = idle_s
        self.countdown_s = countdown_s
        self._clock = clock
        self._last = clock()
        self.armed = False  # nothing to forget (home screen, nobody there): no countdown

    def touch(self) -> None:
        """Someone touched the screen: start the idle period again."""
        self._last = self._clock()

    def arm(self, armed: bool) -> None:
        """Count only while there is something about a person to forget."""
        if armed and not self.armed:
            self._last = self._clock()
        self.armed = armed

    def phase(self) -> tuple[Phase, int]:
        """(`active`, 0), (`countdown`, whole seconds left) or (`expired`, 0)."""
        if not self.armed:
            return "active", 0
        quiet = self._clock() - self._last
        if quiet < self.idle_s:
            return "active", 0
        left = self.idle_s + self.countdown_s - quiet
        if left > 0:
            return "countdown", int(left + 0.999)
        return "expired", 0
