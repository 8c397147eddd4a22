"""The notification dispatcher: a thread beside the controller that posts the outbox through a `Notifier`.

It reads pending rows on its own read connection, oldest first, posts each, and reports
the outcome to the notify module (which records it at the controller's next tick): it
never takes the writer's lock, so a slow or dead gateway never holds a request up.

While the gateway cannot be reached (or answers 408/429/5xx) the dispatcher waits, from
`RETRY_MIN_S` doubling up to `[notify] retry_max_s`, and tries the oldest again: the
order holds and nothing is skipped. A notification older than `[notify] give_up_s`, or
refused by the gateway for good (another 4xx), is given up with a logged reason.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable

from hallbus.controller.clock import Clock
from hallbus.notify.module import NotifyModule, Pending, Report, pending_rows
from hallbus.notify.notifier import DeliveryError, Notification, Notifier

log = logging.getLogger(__name__)

RETRY_MIN_S = 0.5
IDLE_S = 30.0  # a look at the outbox at least this often even without a wake-up
SETTLE_S = 0.2  # rows reported but not yet recorded by a tick: look again this soon
UNRECORDED_S = 60.0  # reported done but still pending this long (a tick's commit failed): post again, same key


class NotifyDispatcher:
    """Posts pending notifications in order; retries with back-off; gives up after a bound."""

    def __init__(
        self,
        module: NotifyModule,
        reader: Callable[[], sqlite3.Connection],
        notifier: Notifier,
        clock: Clock,
        *,
        retry_min_s: float = RETRY_MIN_S,
    ) -> None:
        self.module = module
        self._reader = reader
        self.notifier = notifier
        self.clock = clock
        self.retry_min_s = retry_min_s
        self.retry_max_s = max(retry_min_s, module.settings.retry_max_s)
        self.give_up_s = module.settings.give_up_s
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._done: dict[str, float] = {}  # reported sent or failed (when), until a tick has recorded it
        self._tries: dict[str, int] = {}  # tries so far, ahead of the tick that records them
        self.delivered = 0
        self.retries = 0
        self.given_up = 0

    def start(self) -> None:
        """Start the thread (it finds what a previous run left pending at once)."""
        self.module.wake = self.wake
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="notify-dispatcher", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Look at the outbox now (a commit made notifications)."""
        self._wake.set()

    def stop(self) -> None:
        """Stop after the post in hand; what is not delivered stays pending for the next start."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(self.module.settings.timeout_s + 5)
            self._thread = None
        self.module.wake = lambda: None

    def _run(self) -> None:
        conn = self._reader()
        delay = self.retry_min_s
        try:
            while not self._stop.is_set():
                try:
                    rows = pending_rows(conn)
                except sqlite3.Error:
                    log.exception("notify: cannot read the outbox")
                    rows = []
                keys = {r.key for r in rows}
                stale = time.monotonic() - UNRECORDED_S
                # recorded by a tick (or dropped): no longer ours to remember; never recorded: try again
                self._done = {k: at for k, at in self._done.items() if k in keys and at > stale}
                self._tries = {k: n for k, n in self._tries.items() if k in keys}
                due = [r for r in rows if r.key not in self._done]
                if not due:
                    self._wake.wait(SETTLE_S if rows else IDLE_S)
                    self._wake.clear()
                    continue
                down = False
                for row in due:
                    if self._stop.is_set():
                        return
                    if not self._post(row):
                        down = True
                        break
                if down:
                    log.info("notify: gateway unavailable; trying again in %.1f s", delay)
                    self._stop.wait(delay)
                    delay = min(delay * 2, self.retry_max_s)
                else:
                    delay = self.retry_min_s
        finally:
            conn.close()

    def _post(self, row: Pending) -> bool:
        """One row: posted, given up or to retry; False when the gateway is down (stop this round)."""
        age = self.clock().timestamp() - row.created_ts
        ticket = row.body.get("ticket", "?")
        if row.phone is None:
            self._finish(Report(row.key, "failed", "no phone number any more (the ticket ended)"))
            return True
        attempt = max(row.attempts, self._tries.get(row.key, 0)) + 1
        n = Notification(key=row.key, kind=row.kind, phone=row.phone, body=row.body, attempt=attempt)
        try:
            self.notifier.send(n)
        except DeliveryError as err:
            if err.retry and age < self.give_up_s:
                self.retries += 1
                self._tries[row.key] = attempt
                if not self.module.report(Report(row.key, "retry", err.reason)):
                    log.warning("notify: reports pile up (no tick?)")
                return False
            why = err.reason if not err.retry else f"gave up after {n.attempt} tries in {age:.0f} s: {err.reason}"
            log.warning("notify: %s for ticket %s not delivered: %s", n.kind, ticket, why)
            self.given_up += 1
            self._finish(Report(row.key, "failed", why))
            return True
        except Exception as err:  # a broken adapter must not end the thread
            log.exception("notify: the notifier failed on %r", n)
            self._tries[row.key] = attempt
            self.module.report(Report(row.key, "retry", f"notifier error: {err.__class__.__name__}"))
            return False
        self.delivered += 1
        log.info("notify: %s for ticket %s delivered (try %d)", n.kind, ticket, n.attempt)
        self._finish(Report(row.key, "sent"))
        return True

    def _finish(self, report: Report) -> None:
        while not self.module.report(report):  # the tick records them; wait for room rather than forget
            if self._stop.wait(0.5):
                return
        self._done[report.key] = time.monotonic()
        self._tries.pop(report.key, None)

