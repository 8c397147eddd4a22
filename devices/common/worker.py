"""`Worker`: the background thread every reader and watcher in `devices/` runs on.

One place for what the QR watcher, the scanner reader, the ID card watcher and the PC/SC
monitor all need: start once, stop by a flag (plus an interrupt for a blocking call), report
each health change once, run the kiosk's callbacks so that their exceptions are logged and
never end the thread, back off between reconnects, and turn a bug that escapes the loop into
an `error` health instead of a thread that dies silently.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, Self

from devices.common.health import Health

log = logging.getLogger(__name__)

HealthCallback = Callable[[Health], None]


class Backoff:
    """Delays that double from `first` up to `most`; `reset()` after a success."""

    def __init__(self, first: float, most: float) -> None:
        self.first = first
        self.most = most
        self._next = first

    def next(self) -> float:
        """The delay to wait now; the one after it is twice as long (at most `most`)."""
        delay = self._next
        self._next = min(self._next * 2, self.most)
        return delay

    def reset(self) -> None:
        """Start again from `first`."""
        self._next = self.first


class Worker:
    """A device's thread. Subclasses write `_run()`, which loops until `stopping` is True.

    - `start()` once (a second call is a `RuntimeError`); `stop(timeout)` sets the flag, calls
      `_interrupt()` to break a blocking call, and joins (not when called from the thread itself).
    - `_set_health(health)` reports a change to `on_health` once; `_call(fn, ...)` runs a callback
      and logs what it raises.
    - `_sleep(seconds)` waits unless stopped (True when it is time to stop).
    - `_finished()` runs on the thread after `_run()` returns or fails.
    """

    def __init__(
        self,
        name: str,
        on_health: HealthCallback | None = None,
        *,
        health: Health,
        label: tuple[str, str],
    ) -> None:
        self.on_health = on_health
        self._health = health
        # What this thread is, for the crash sentence: (zh_CN, English).
        self._label = label
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)

    @property
    def health(self) -> Health:
        """The latest health."""
        return self._health

    @property
    def running(self) -> bool:
        """True while the thread is alive."""
        return self._thread.is_alive()

    @property
    def stopping(self) -> bool:
        """True once `stop()` has been called."""
        return self._stop.is_set()

    def start(self) -> Self:
        """Start the thread."""
        if self._thread.ident is not None:
            raise RuntimeError(f"{type(self).__name__} already started")
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the thread to finish and wait up to `timeout` seconds for it."""
        self._stop.set()
        self._interrupt()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- for subclasses ---------------------------------------------------------------------------

    def _run(self) -> None:
        raise NotImplementedError

    def _interrupt(self) -> None:
        """Break a blocking call of `_run()` so that `stop()` returns soon (default: nothing)."""

    def _finished(self) -> None:
        """Clean up on the thread after `_run()` (default: nothing)."""

    def _sleep(self, seconds: float) -> bool:
        return self._stop.wait(seconds)

    def _set_health(self, health: Health) -> None:
        if health == self._health:
            return
        self._health = health
        log.info("%s: %s %s", self._thread.name, health.state, health.detail)
        if self.on_health is not None:
            self._call(self.on_health, health)

    def _call(self, fn: Callable[..., Any], *args: object) -> None:
        # An error in the kiosk's callback is the kiosk's bug, never a device fault.
        try:
            fn(*args)
        except Exception:
            log.exception("%s: callback %r failed", self._thread.name, fn)

    def _main(self) -> None:
        try:
            self._run()
        except Exception as err:  # a bug, not a device fault: say so rather than die silently
            log.exception("%s crashed", self._thread.name)
            zh, en = self._label
            self._set_health(Health("error", f"{zh}线程出错：{err} / {en} failed: {err}"))
        finally:
            self._finished()
