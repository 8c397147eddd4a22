"""Retention of `city_minute`: one partition per UTC day, made days ahead, old days dropped whole.

`city_minute` grows by one row per hall per minute (500 halls: 720,000 rows a day). It is
partitioned by range of `minute`, one partition per UTC day (`city_minute_p20261130`), plus:

- `city_minute_default`, the default partition: a minute whose day has no partition yet (a hall's
  clock, messages queued at a hall for days, maintenance that could not run) lands there instead of
  failing its batch; the next maintenance moves such rows into their day's new partition, and
  deletes those of days already past the retention;
- `city_minute_legacy`, the table as it was before migration 4 (MINVALUE to the UTC midnight after
  its newest row), dropped whole like a day once its upper bound is past the retention.

`maintain` (run by every ingest instance at start and every `PERIOD_S`) makes the partitions of
yesterday, today and `AHEAD_DAYS` ahead, and DROPs each partition whose whole range is older than
`[db] keep_minutes_days` (no DELETE of rows, no vacuum debt). Why UTC days: the bounds never move
when `timezone` in city.toml changes, and a partition is a fixed 24 hours (no summer-time days).

Two instances maintaining at once take turns on an advisory lock (the second finds nothing left
to do). Every step runs with a short `lock_timeout`: a partition being read by a long query is
dropped at the next run rather than making the batches queue behind the DROP's lock.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql
from psycopg_pool import ConnectionPool, PoolTimeout

log = logging.getLogger(__name__)

LOCK_KEY = 7420131  # pg_advisory_xact_lock key of the maintenance (migrations use 7420130)
AHEAD_DAYS = 7  # partitions made ahead: a week of maintenance not running before a minute lands in the default
PERIOD_S = 3600.0
LOCK_TIMEOUT = "3s"
DAY = dt.timedelta(days=1)
EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)

_PARTITIONS_SQL = """
SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = 'city_minute'::regclass
"""
_BOUND_RE = re.compile(r"FOR VALUES FROM \((.+?)\) TO \((.+?)\)")


@dataclass
class Partition:
    """One partition of `city_minute` other than the default: its name and range (`lo` None: MINVALUE)."""

    name: str
    lo: dt.datetime | None
    hi: dt.datetime


@dataclass
class Maintenance:
    """What one run did."""

    created: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    moved: int = 0  # rows moved out of the default partition into their day's new partition
    deleted: int = 0  # rows of the default partition older than the retention
    skipped: list[str] = field(default_factory=list)  # partitions whose DROP waited past the lock timeout

    def changed(self) -> bool:
        """Something was created, dropped, moved or deleted."""
        return bool(self.created or self.dropped or self.moved or self.deleted)


def day_of(t: dt.datetime) -> dt.datetime:
    """The UTC midnight starting the day `t` falls in."""
    t = t.astimezone(dt.UTC)
    return dt.datetime(t.year, t.month, t.day, tzinfo=dt.UTC)


def _bound(text: str) -> dt.datetime | None:
    if text == "MINVALUE":
        return None
    return dt.datetime.fromisoformat(text.strip("'"))


def partitions(conn: psycopg.Connection[Any]) -> list[Partition]:
    """The partitions of `city_minute` with a range, oldest first (the caller's transaction sets TimeZone UTC)."""
    out: list[Partition] = []
    for name, expr in conn.execute(_PARTITIONS_SQL):
        m = _BOUND_RE.match(expr)
        if m is None:  # the default partition
            continue
        hi = _bound(m.group(2))
        assert hi is not None, expr
        out.append(Partition(name, _bound(m.group(1)), hi))
    out.sort(key=lambda p: p.hi)
    return out


def _begin(conn: psycopg.Connection[Any]) -> None:
    """The start of each step's transaction: the maintenance lock, then UTC and a short lock timeout."""
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
    conn.execute("SET LOCAL TimeZone = 'UTC'")
    conn.execute(sql.SQL("SET LOCAL lock_timeout = {}").format(sql.Literal(LOCK_TIMEOUT)))


def _create(conn: psycopg.Connection[Any], day: dt.datetime, move: bool) -> tuple[str, int]:
    """Make the partition of `day` (built apart, then attached: the parent is never locked against writes)."""
    name = f"city_minute_p{day:%Y%m%d}"
    table = sql.Identifier(name)
    lo, hi = day, day + DAY
    conn.execute(sql.SQL("CREATE TABLE {} (LIKE city_minute INCLUDING DEFAULTS)").format(table))
    conn.execute(sql.SQL("ALTER TABLE {} ADD PRIMARY KEY (hall, minute)").format(table))
    moved = 0
    if move:
        moved = conn.execute(sql.SQL(
            "WITH m AS (DELETE FROM city_minute_default WHERE minute >= %s AND minute < %s RETURNING *)"
            " INSERT INTO {} SELECT * FROM m").format(table), (lo, hi)).rowcount
    conn.execute(sql.SQL("ALTER TABLE city_minute ATTACH PARTITION {} FOR VALUES FROM ({}) TO ({})").format(
        table, sql.Literal(lo), sql.Literal(hi)))
    return name, moved


def maintain(conn: psycopg.Connection[Any], keep_days: int, *, now: dt.datetime | None = None,
             ahead_days: int = AHEAD_DAYS) -> Maintenance:
    """Make the days' partitions ahead, empty the default partition, drop the days past `keep_days`.

    `now` is for tests (a run as if on another day). Safe to run from several instances at once.
    """
    now = now or dt.datetime.now(dt.UTC)
    cutoff = now - keep_days * DAY  # a partition wholly before this is dropped
    done = Maintenance()
    with conn.transaction():
        _begin(conn)
        have = partitions(conn)

        def covered(d: dt.datetime) -> bool:
            return any((p.lo is None or p.lo < d + DAY) and d < p.hi for p in have)

        today = day_of(now)
        ahead = {today + i * DAY for i in range(-1, ahead_days + 1)}

        def todo() -> tuple[list[dt.datetime], set[dt.datetime], int]:
            stray = {r[0] for r in conn.execute(
                "SELECT DISTINCT date_bin('1 day', minute, %s) FROM city_minute_default", (EPOCH,))}
            days = [d for d in sorted(ahead | stray) if d + DAY > cutoff and not covered(d)]
            expired = sum(1 for d in stray if d + DAY <= cutoff)
            return days, stray, expired

        days, _stray, expired = todo()
        if days or expired:
            # No batch in flight while the partitions change: an INSERT that routed its row to the default
            # partition before an ATTACH committed would fail the partition's check, and its batch with it.
            conn.execute("LOCK TABLE city_minute IN SHARE MODE")
            days, stray, _expired = todo()
            # the default partition: rows of days past the retention go; the others get their day's partition
            done.deleted = conn.execute("DELETE FROM city_minute_default WHERE minute < %s",
                                        (day_of(cutoff),)).rowcount
            for d in days:
                name, moved = _create(conn, d, d in stray)
                have.append(Partition(name, d, d + DAY))
                done.created.append(name)
                done.moved += moved
    for p in have:
        if p.hi > cutoff:
            continue
        try:
            with conn.transaction():
                _begin(conn)
                if conn.execute("SELECT to_regclass(%s)", (p.name,)).fetchone() == (None,):
                    continue  # another instance dropped it meanwhile
                conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(p.name)))
                done.dropped.append(p.name)
        except psycopg.errors.LockNotAvailable:
            done.skipped.append(p.name)
    return done


class Maintainer:
    """The thread of an ingest instance that runs `maintain` at start and every `PERIOD_S`."""

    def __init__(self, pool: ConnectionPool[Any], keep_days: int, period_s: float = PERIOD_S) -> None:
        self.pool = pool
        self.keep_days = keep_days
        self.period_s = period_s
        self.runs = 0
        self.last: Maintenance | None = None
        self.last_at: dt.datetime | None = None  # when the last run that worked ended
        self.last_error = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Run now, then every period, until `stop`."""
        self._thread = threading.Thread(target=self._loop, name="hallcity-retention", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """End the thread (after the run in progress, if any)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)

    def run_once(self) -> Maintenance | None:
        """One run; logs one line when it changed something, one when it failed (not again until it works)."""
        try:
            with self.pool.connection(timeout=5.0) as conn:
                done = maintain(conn, self.keep_days)
        except (psycopg.Error, PoolTimeout) as err:
            if not self.last_error:
                log.warning("city_minute maintenance failed (%s); the default partition takes the minutes meanwhile,"
                            " retried in %d s", str(err).strip()[:200], self.period_s)
            self.last_error = str(err).strip()[:200]
            return None
        self.runs += 1
        self.last, self.last_at, self.last_error = done, dt.datetime.now(dt.UTC), ""
        if done.changed() or done.skipped:
            log.info("city_minute: partitions made %s, dropped %s (older than %d days)%s%s%s",
                     done.created or "none", done.dropped or "none", self.keep_days,
                     f"; {done.moved} rows moved out of the default partition" if done.moved else "",
                     f"; {done.deleted} rows past the retention deleted from it" if done.deleted else "",
                     f"; {done.skipped} busy, dropped next time" if done.skipped else "")
        return done

    def health(self) -> dict[str, Any]:
        """What /healthz says of the maintenance: runs that worked, when the last one ended, the error since."""
        return {"runs": self.runs, "last_at": self.last_at.isoformat(timespec="seconds") if self.last_at else None,
                "error": self.last_error, "keep_minutes_days": self.keep_days}

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # a bug here must not end the hourly runs: the default partition takes the minutes
                log.exception("city_minute maintenance failed; retried in %d s", self.period_s)
            self._stop.wait(self.period_s)
