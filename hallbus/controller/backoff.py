"""A persisted back-off (退避): failed attempts per key in a named table of `hall.db`.

One idea serves both places where the hall must slow down guessing: staff logins
(`login_throttle`, per staff id and per node) and case look-ups by number
(`hallbus.records.lookups`, per source, a node or a phone the web service names, and per
case number). Each names its own table, made by its own module's migrations with the
columns `key TEXT PRIMARY KEY, failures INTEGER, last_ts REAL, blocked_until REAL` (POSIX
times), and each key counts alone:

- a key may fail `Limits.free` times; the failure that reaches it and every further one
  make it wait `Limits.base_s`, doubled per failure past the free ones, never more than
  `Limits.cap_s`: a wait, never a lock-out an attacker can make lasting;
- a key with no failure for `forget_s` starts again from nothing, and its row is removed
  by `prune` then and no sooner: the table is bounded by time, never by a count a flood
  of junk could overflow to push a real key out (the callers choose keys from what the
  hall configures, or, for phones, from what the web node sends within its request
  budget, so junk cannot add keys faster than that budget);
- the rows live in the controller's store, so a restart forgets nothing.

The caller decides what is refused while a key waits (`wait_s`, `blocked_until`) and
counts a failure once the request is refused (`Tx.keep_on_fault`, so the refusal's
rollback keeps it). The class holds no counts itself: the store is the authority.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

from hallbus.controller.module import Tx

MAX_DOUBLINGS = 20  # 2**20 first waits are far past any cap; keeps the arithmetic finite
_TABLE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Limits:
    """How one kind of key backs off: free failures, the first wait, the longest wait."""

    free: int
    base_s: float
    cap_s: float

    def wait_after(self, failures: int) -> float:
        """Seconds to wait after the `failures`-th failure in a row (0 while some are still free)."""
        if failures < self.free:
            return 0.0
        return float(min(self.cap_s, self.base_s * 2 ** min(failures - self.free, MAX_DOUBLINGS)))


class Failure(NamedTuple):
    """A key's count after one more failure, and until when it waits (0: not at all)."""

    failures: int
    blocked_until: float


@dataclass(frozen=True)
class Backoff:
    """Failures per key in `table` (key, failures, last_ts, blocked_until); stateless itself."""

    table: str
    forget_s: float

    def __post_init__(self) -> None:
        if not _TABLE_NAME.match(self.table):  # it is written into SQL: a plain name only
            raise ValueError(f"not a table name: {self.table!r}")

    def blocked_until(self, tx: Tx, key: str) -> float:
        """When `key` may fail again, as a POSIX time (0 or past: it may now)."""
        row = tx.execute(f"SELECT blocked_until FROM {self.table} WHERE key = ?", (key,)).fetchone()
        return float(row[0]) if row is not None else 0.0

    def wait_s(self, tx: Tx, key: str) -> float:
        """Seconds until `key` may try again (0 when it may now)."""
        return max(0.0, self.blocked_until(tx, key) - tx.now_ts)

    def fail(self, tx: Tx, key: str, limits: Limits) -> Failure:
        """Count one failure of `key`; its count and until when it waits (0 while its failures are free)."""
        now = tx.now_ts
        row = tx.execute(f"SELECT failures, last_ts FROM {self.table} WHERE key = ?", (key,)).fetchone()
        failures = int(row[0]) + 1 if row is not None and now - float(row[1]) < self.forget_s else 1
        wait = limits.wait_after(failures)
        until = now + wait if wait else 0.0
        tx.execute(
            f"INSERT INTO {self.table}(key, failures, last_ts, blocked_until) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(key) DO UPDATE SET failures = excluded.failures, last_ts = excluded.last_ts, "
            "blocked_until = excluded.blocked_until",
            (key, failures, now, until),
        )
        return Failure(failures, until)

    def clear(self, tx: Tx, key: str) -> None:
        """Forget `key`'s failures (the owner proved themself)."""
        tx.execute(f"DELETE FROM {self.table} WHERE key = ?", (key,))

    def prune(self, tx: Tx) -> int:
        """Remove the keys forgotten by now (no failure for `forget_s`, no wait left); how many."""
        cur = tx.execute(
            f"DELETE FROM {self.table} WHERE last_ts < ? AND blocked_until <= ?", (tx.now_ts - self.forget_s, tx.now_ts)
        )
        return int(cur.rowcount)
