"""Voice calls on the hall screen: every call through the `devices.voice` announcer, one at a time, in order.

`CallVoice` keeps its own queue of calls and hands the announcer one call at a time (rendering
the WAV off the GUI thread), waiting until it has played before the next: calls never overlap,
a recall is announced again, and with `skip_to_newest` a burst collapses to its newest call
instead of keeping the hall listening for minutes. Qt-free; the player behind the announcer
may be the kiosk's QtMultimedia player, the null player, or a recording one in tests.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from typing import Protocol

log = logging.getLogger(__name__)


class Speaker(Protocol):
    """What CallVoice needs of `devices.voice.announcer.Announcer`."""

    def call(self, ticket: str, window: str) -> None:
        """Queue one call (chime, the call twice)."""
        ...

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until everything queued has played."""
        ...

    def close(self) -> None:
        """Stop."""
        ...


class CallVoice:
    """A queue of calls in front of the announcer; `spoken` records what was announced, in order."""

    def __init__(self, announcer: Speaker, *, skip_to_newest: bool = False) -> None:
        self.announcer = announcer
        self.skip_to_newest = skip_to_newest
        self.spoken: list[tuple[str, str]] = []
        self.skipped = 0
        self._pending: deque[tuple[str, str]] = deque()
        self._cond = threading.Condition()
        self._busy = False
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="hall-voice", daemon=True)
        self._thread.start()

    def call(self, ticket: str, window: str) -> None:
        """Queue a call (returns at once)."""
        with self._cond:
            if self.skip_to_newest and self._pending:
                self.skipped += len(self._pending)
                self._pending.clear()
            self._pending.append((ticket, window))
            self._cond.notify()

    def pending(self) -> int:
        """Calls waiting to be announced (not counting the one playing)."""
        with self._cond:
            return len(self._pending)

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until every queued call has been announced."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._pending and not self._busy, timeout)

    def close(self) -> None:
        """Stop after the call playing now; queued calls are dropped."""
        with self._cond:
            self._stop = True
            self._pending.clear()
            self._cond.notify_all()
        self._thread.join(3)
        if not self._busy:  # else the announcer's thread ends with the process (it is a daemon)
            self.announcer.close()

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._pending or self._stop)
                if self._stop:
                    return
                ticket, window = self._pending.popleft()
                self._busy = True
            try:
                self.announcer.call(ticket, window)
                self.announcer.wait_idle()
                self.spoken.append((ticket, window))
            except Exception:
                log.exception("announcing %s at window %s failed", ticket, window)
            with self._cond:
                self._busy = False
                self._cond.notify_all()
