"""The city's PostgreSQL: schema migrations (tracked in `city_migrations`), the pool, batched idempotent writes.

Every write is an upsert guarded by the message's own `ts`, so any `hallcity` instance may
store any message in any order, twice or more (a QoS 1 redelivery, a shared subscription's
other member): the newest state wins and an alert is kept once (keyed by its payload's digest).

Tables:
- `city_hall`: one row per hall, its current figures (queue, stats, bridge, last heard);
- `city_part`: one row per hall per window / node status / node devices (retained state),
  with `bad` = 1 for a node offline or lost, the number of faulty devices for devices;
- `city_minute`: per hall per minute, the figures as they stood at that minute's last message;
  partitioned by UTC day, old days dropped whole (city/retention.py);
- `city_day`: per hall per day, kept;
- `city_alert`: every alert;
- `city_bad`: malformed or foreign messages counted per hall per minute.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

log = logging.getLogger(__name__)

MIGRATIONS: tuple[tuple[int, str, str], ...] = (
    (1, "city tables", """
CREATE TABLE city_hall (
    hall text PRIMARY KEY,
    last_seen timestamptz,
    waiting integer, oldest_issued_at timestamptz, queue_ts timestamptz,
    served_today integer, tickets_issued integer, satisfaction_today double precision,
    on_time_rate double precision, overdue_cases integer, followups_open integer, stats_date text,
    stats_ts timestamptz,
    bridge_up boolean, bridge_at timestamptz
);
CREATE TABLE city_part (
    hall text NOT NULL, kind text NOT NULL, key text NOT NULL,
    ts timestamptz NOT NULL, bad integer NOT NULL DEFAULT 0, payload jsonb NOT NULL,
    PRIMARY KEY (hall, kind, key)
);
CREATE TABLE city_minute (
    hall text NOT NULL, minute timestamptz NOT NULL,
    waiting integer, longest_wait_s integer, queue_ts timestamptz,
    served integer, tickets_issued integer, satisfaction double precision, on_time_rate double precision,
    overdue_cases integer, stats_ts timestamptz,
    PRIMARY KEY (hall, minute)
);
CREATE TABLE city_alert (
    hall text NOT NULL, digest text NOT NULL, ts timestamptz NOT NULL, received_at timestamptz NOT NULL,
    kind text NOT NULL, level text NOT NULL, subject text NOT NULL, detail text NOT NULL,
    PRIMARY KEY (hall, digest)
);
CREATE INDEX city_alert_ts ON city_alert (ts DESC);
CREATE INDEX city_alert_hall_ts ON city_alert (hall, ts DESC);
CREATE TABLE city_bad (
    hall text NOT NULL, minute timestamptz NOT NULL, count integer NOT NULL, last_topic text NOT NULL,
    last_error text NOT NULL, PRIMARY KEY (hall, minute)
);
"""),
    (2, "node counts kept on the hall's row", """
ALTER TABLE city_hall ADD COLUMN devices_faulty integer NOT NULL DEFAULT 0,
    ADD COLUMN nodes_offline integer NOT NULL DEFAULT 0,
    ADD COLUMN controller_down boolean NOT NULL DEFAULT false;
"""),
    (3, "figures per hall per day", """
CREATE TABLE city_day (
    hall text NOT NULL, day text NOT NULL, stats_ts timestamptz NOT NULL,
    served integer, tickets_issued integer, ratings integer, satisfaction double precision,
    on_time_rate double precision, overdue_cases integer,
    PRIMARY KEY (hall, day)
);
"""),
    # city_minute partitioned by UTC day (city/retention.py creates the days ahead and drops the old ones).
    # An existing table is not copied: it becomes one partition, city_minute_legacy, from MINVALUE to the
    # UTC midnight after its newest row (one scan to validate, no rewrite), dropped whole once that
    # midnight is older than [db] keep_minutes_days. The default partition takes a minute of a day
    # without its partition (a hall's clock, maintenance not yet run): never an error in a batch.
    (4, "city_minute partitioned by day", """
ALTER TABLE city_minute RENAME TO city_minute_legacy;
ALTER INDEX city_minute_pkey RENAME TO city_minute_legacy_pkey;
CREATE TABLE city_minute (LIKE city_minute_legacy INCLUDING DEFAULTS, PRIMARY KEY (hall, minute))
    PARTITION BY RANGE (minute);
CREATE TABLE city_minute_default PARTITION OF city_minute DEFAULT;
DO $$
DECLARE hi timestamptz;
BEGIN
    SELECT date_bin('1 day', max(minute), timestamptz '2000-01-01 00:00:00+00') + interval '1 day' INTO hi
    FROM city_minute_legacy;
    IF hi IS NULL THEN
        DROP TABLE city_minute_legacy;
    ELSE
        EXECUTE format('ALTER TABLE city_minute ATTACH PARTITION city_minute_legacy FOR VALUES FROM (MINVALUE) TO (%L)',
                       hi);
    END IF;
END $$;
"""),
)

# After a batch's node rows: each touched hall's counts again, from its rows (the API reads 500 rows, not 10,000).
_RECOUNT = """
UPDATE city_hall h SET devices_faulty = coalesce(p.faulty, 0), nodes_offline = coalesce(p.offline, 0),
    controller_down = coalesce(p.controller_down, false)
FROM unnest(%b::text[]) AS t(hall) LEFT JOIN (
    SELECT hall, sum(bad) FILTER (WHERE kind = 'devices') AS faulty,
           count(*) FILTER (WHERE kind = 'status' AND bad > 0) AS offline,
           bool_or(kind = 'status' AND key = 'controller' AND bad > 0) AS controller_down
    FROM city_part WHERE hall = ANY(%b::text[]) AND kind IN ('devices', 'status') GROUP BY hall
) p USING (hall)
WHERE h.hall = t.hall"""


def migrate(conn: psycopg.Connection[Any]) -> list[int]:
    """Apply the migrations not yet applied (each in its own transaction); return their numbers.

    Two instances starting at once: the advisory lock lets one migrate while the other waits.
    """
    done: list[int] = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(7420130)")
        conn.execute("CREATE TABLE IF NOT EXISTS city_migrations ("
                     " version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())")
        have = {r[0] for r in conn.execute("SELECT version FROM city_migrations")}
        for version, name, sql in MIGRATIONS:
            if version in have:
                continue
            conn.execute(sql.encode())
            conn.execute("INSERT INTO city_migrations (version, name) VALUES (%s, %s)", (version, name))
            done.append(version)
    return done


def open_pool(url: str, max_size: int = 8, *, name: str = "hallcity") -> ConnectionPool[Any]:
    """A connection pool that does not wait for PostgreSQL at start (ingest buffers while it is away)."""
    return ConnectionPool(url, min_size=1, max_size=max_size, open=True, name=name, timeout=5.0,
                          kwargs={"autocommit": False, "connect_timeout": 3}, reconnect_timeout=0)


@dataclass
class Batch:
    """What one flush writes: newest state per key, figures per hall per minute, alerts, bad counts."""

    queue: dict[str, tuple[dt.datetime, int, dt.datetime | None]] = field(default_factory=dict)
    stats: dict[str, tuple[dt.datetime, dict[str, Any]]] = field(default_factory=dict)
    bridge: dict[str, tuple[dt.datetime, bool]] = field(default_factory=dict)
    seen: dict[str, dt.datetime] = field(default_factory=dict)
    parts: dict[tuple[str, str, str], tuple[dt.datetime, int, bytes]] = field(default_factory=dict)
    cleared: set[tuple[str, str, str]] = field(default_factory=set)
    minute_queue: dict[tuple[str, dt.datetime], tuple[dt.datetime, int, int | None]] = field(default_factory=dict)
    minute_stats: dict[tuple[str, dt.datetime], tuple[dt.datetime, dict[str, Any]]] = field(default_factory=dict)
    day_stats: dict[tuple[str, str], tuple[dt.datetime, dict[str, Any]]] = field(default_factory=dict)
    alerts: dict[tuple[str, str], tuple[dt.datetime, dt.datetime, str, str, str, str]] = field(default_factory=dict)
    bad: dict[tuple[str, dt.datetime], tuple[int, str, str]] = field(default_factory=dict)

    def empty(self) -> bool:
        """Nothing to write."""
        return not (self.queue or self.stats or self.bridge or self.seen or self.parts or self.cleared
                    or self.alerts or self.bad)


def _newer(old: tuple[Any, ...] | None, ts: dt.datetime) -> bool:
    return old is None or old[0] <= ts


def write_batch(conn: psycopg.Connection[Any], b: Batch) -> None:
    """Store one batch in one transaction; set-based statements over arrays (one round trip each).

    The first statement locks the row of every hall in the batch, in hall order: two instances
    writing the same hall take turns (the second one's counts then see the first one's rows), and
    never deadlock.
    """
    rows: list[tuple[Any, ...]]
    with conn.transaction(), conn.cursor() as cur:
        for h, _k, _key in (*b.parts, *b.cleared):
            b.seen.setdefault(h, dt.datetime.now(dt.UTC))
        if b.seen:
            seen_halls, times = zip(*sorted(b.seen.items()), strict=True)
            cur.execute("""
INSERT INTO city_hall (hall, last_seen) SELECT * FROM unnest(%b::text[], %b::timestamptz[])
ON CONFLICT (hall) DO UPDATE SET last_seen = GREATEST(city_hall.last_seen, excluded.last_seen)""",
                        (list(seen_halls), list(times)))
        if b.queue:
            rows = [(h, ts, w, o) for h, (ts, w, o) in b.queue.items()]
            cur.execute("""
INSERT INTO city_hall (hall, queue_ts, waiting, oldest_issued_at)
SELECT * FROM unnest(%b::text[], %b::timestamptz[], %b::int[], %b::timestamptz[])
ON CONFLICT (hall) DO UPDATE SET queue_ts = excluded.queue_ts, waiting = excluded.waiting,
    oldest_issued_at = excluded.oldest_issued_at
WHERE city_hall.queue_ts IS NULL OR city_hall.queue_ts <= excluded.queue_ts""", _columns(rows, 4))
        if b.stats:
            rows = [(h, ts, s["served"], s["tickets_issued"], s["satisfaction_rate"], s["on_time_rate"],
                     s["overdue_cases"], s["followups_open"], s["date"]) for h, (ts, s) in b.stats.items()]
            cur.execute("""
INSERT INTO city_hall (hall, stats_ts, served_today, tickets_issued, satisfaction_today, on_time_rate,
    overdue_cases, followups_open, stats_date)
SELECT * FROM unnest(%b::text[], %b::timestamptz[], %b::int[], %b::int[], %b::float8[], %b::float8[],
    %b::int[], %b::int[], %b::text[])
ON CONFLICT (hall) DO UPDATE SET stats_ts = excluded.stats_ts, served_today = excluded.served_today,
    tickets_issued = excluded.tickets_issued, satisfaction_today = excluded.satisfaction_today,
    on_time_rate = excluded.on_time_rate, overdue_cases = excluded.overdue_cases,
    followups_open = excluded.followups_open, stats_date = excluded.stats_date
WHERE city_hall.stats_ts IS NULL OR city_hall.stats_ts <= excluded.stats_ts""", _columns(rows, 9))
        if b.bridge:
            rows = [(h, ts, up) for h, (ts, up) in b.bridge.items()]
            cur.execute("""
INSERT INTO city_hall (hall, bridge_at, bridge_up)
SELECT * FROM unnest(%b::text[], %b::timestamptz[], %b::bool[])
ON CONFLICT (hall) DO UPDATE SET bridge_at = excluded.bridge_at, bridge_up = excluded.bridge_up
WHERE city_hall.bridge_at IS NULL OR city_hall.bridge_at <= excluded.bridge_at""", _columns(rows, 3))
        if b.parts:
            rows = [(h, k, key, ts, bad, p.decode()) for (h, k, key), (ts, bad, p) in b.parts.items()]
            cur.execute("""
INSERT INTO city_part (hall, kind, key, ts, bad, payload)
SELECT * FROM unnest(%b::text[], %b::text[], %b::text[], %b::timestamptz[], %b::int[], %b::text[]::jsonb[])
ON CONFLICT (hall, kind, key) DO UPDATE SET ts = excluded.ts, bad = excluded.bad, payload = excluded.payload
WHERE city_part.ts <= excluded.ts""", _columns(rows, 6))
        if b.cleared:
            halls, kinds, keys = _columns(sorted(b.cleared), 3)
            cur.execute("DELETE FROM city_part p USING unnest(%b::text[], %b::text[], %b::text[]) AS c(hall, kind, key)"
                        " WHERE p.hall = c.hall AND p.kind = c.kind AND p.key = c.key", (halls, kinds, keys))
        touched = sorted({h for h, k, _key in (*b.parts, *b.cleared) if k in ("status", "devices")})
        if touched:
            cur.execute(_RECOUNT, (touched, touched))
        if b.minute_queue:
            rows = [(h, m, ts, w, lw) for (h, m), (ts, w, lw) in b.minute_queue.items()]
            cur.execute("""
INSERT INTO city_minute (hall, minute, queue_ts, waiting, longest_wait_s)
SELECT * FROM unnest(%b::text[], %b::timestamptz[], %b::timestamptz[], %b::int[], %b::int[])
ON CONFLICT (hall, minute) DO UPDATE SET queue_ts = excluded.queue_ts, waiting = excluded.waiting,
    longest_wait_s = excluded.longest_wait_s
WHERE city_minute.queue_ts IS NULL OR city_minute.queue_ts <= excluded.queue_ts""", _columns(rows, 5))
        if b.minute_stats:
            rows = [(h, m, ts, s["served"], s["tickets_issued"], s["satisfaction_rate"], s["on_time_rate"],
                     s["overdue_cases"]) for (h, m), (ts, s) in b.minute_stats.items()]
            cur.execute("""
INSERT INTO city_minute (hall, minute, stats_ts, served, tickets_issued, satisfaction, on_time_rate, overdue_cases)
SELECT * FROM unnest(%b::text[], %b::timestamptz[], %b::timestamptz[], %b::int[], %b::int[], %b::float8[],
    %b::float8[], %b::int[])
ON CONFLICT (hall, minute) DO UPDATE SET stats_ts = excluded.stats_ts, served = excluded.served,
    tickets_issued = excluded.tickets_issued, satisfaction = excluded.satisfaction,
    on_time_rate = excluded.on_time_rate, overdue_cases = excluded.overdue_cases
WHERE city_minute.stats_ts IS NULL OR city_minute.stats_ts <= excluded.stats_ts""", _columns(rows, 8))
        if b.day_stats:
            rows = [(h, d, ts, s["served"], s["tickets_issued"], s["ratings"], s["satisfaction_rate"],
                     s["on_time_rate"], s["overdue_cases"]) for (h, d), (ts, s) in sorted(b.day_stats.items())]
            cur.execute("""
INSERT INTO city_day (hall, day, stats_ts, served, tickets_issued, ratings, satisfaction, on_time_rate, overdue_cases)
SELECT * FROM unnest(%b::text[], %b::text[], %b::timestamptz[], %b::int[], %b::int[], %b::int[], %b::float8[],
    %b::float8[], %b::int[])
ON CONFLICT (hall, day) DO UPDATE SET stats_ts = excluded.stats_ts, served = excluded.served,
    tickets_issued = excluded.tickets_issued, ratings = excluded.ratings, satisfaction = excluded.satisfaction,
    on_time_rate = excluded.on_time_rate, overdue_cases = excluded.overdue_cases
WHERE city_day.stats_ts <= excluded.stats_ts""", _columns(rows, 9))
        if b.alerts:
            rows = [(h, d, *v) for (h, d), v in b.alerts.items()]
            cur.execute("""
INSERT INTO city_alert (hall, digest, ts, received_at, kind, level, subject, detail)
SELECT * FROM unnest(%b::text[], %b::text[], %b::timestamptz[], %b::timestamptz[], %b::text[], %b::text[],
    %b::text[], %b::text[])
ON CONFLICT (hall, digest) DO NOTHING""", _columns(rows, 8))
        if b.bad:
            rows = [(h, m, n, t, e) for (h, m), (n, t, e) in b.bad.items()]
            cur.execute("""
INSERT INTO city_bad (hall, minute, count, last_topic, last_error)
SELECT * FROM unnest(%b::text[], %b::timestamptz[], %b::int[], %b::text[], %b::text[])
ON CONFLICT (hall, minute) DO UPDATE SET count = city_bad.count + excluded.count,
    last_topic = excluded.last_topic, last_error = excluded.last_error""", _columns(rows, 5))


def _columns(rows: Sequence[tuple[Any, ...]], n: int) -> tuple[list[Any], ...]:
    """Rows as `n` column lists (what `unnest(%b::type[], ...)` takes)."""
    cols: tuple[list[Any], ...] = tuple([] for _ in range(n))
    for row in rows:
        for i in range(n):
            cols[i].append(row[i])
    return cols
