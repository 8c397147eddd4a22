"""Failed look-ups, counted per client address and per case number, with a growing wait (SPEC 12.1).

`POST /api/v1/cases/query` answers 429 with `Retry-After` while a key waits. Each key has
`free` failures; every failure after them doubles the wait from `base_s` up to `max_s`; a
key with no failure for `forget_s` starts again. A success clears the client's count, not
the case number's (a stranger guessing one case must not be helped by the owner's success).
Kept in memory: a restart of `hallweb` forgets it; the controller's own throttle on
`case.query` (per node and case number, in its store) stays behind it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Count:
    failures: int = 0
    last: float = 0.0
    until: float = 0.0


class FailureThrottle:
    """Growing waits after failed attempts, per key."""

    def __init__(self, *, free: int = 5, base_s: float = 30.0, max_s: float = 900.0, forget_s: float = 3600.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.free, self.base_s, self.max_s, self.forget_s, self.clock = free, base_s, max_s, forget_s, clock
        self._counts: dict[str, _Count] = {}
        self._lock = threading.Lock()

    def wait_s(self, *keys: str) -> int:
        """Whole seconds until every key may try again (0: now)."""
        now = self.clock()
        with self._lock:
            left = max((c.until - now for k in keys if (c := self._counts.get(k)) is not None), default=0.0)
        return max(0, int(left + 0.999))

    def failed(self, *keys: str) -> None:
        """Count a failed attempt against every key."""
        now = self.clock()
        with self._lock:
            if len(self._counts) > 100_000:  # a flood of made-up keys must not grow without end
                self._counts = {k: c for k, c in self._counts.items() if now - c.last < self.forget_s}
            for key in keys:
                c = self._counts.get(key)
                if c is None or now - c.last >= self.forget_s:
                    c = self._counts[key] = _Count()
                c.failures += 1
                c.last = now
                over = c.failures - self.free
                if over > 0:
                    c.until = now + min(self.max_s, self.base_s * 2 ** (over - 1))

    def succeeded(self, key: str) -> None:
        """Forget a key's failures."""
        with self._lock:
            self._counts.pop(key, None)
