"""`city_minute` at city scale: a day's rows and megabytes for N halls, the upgrade, making and dropping partitions.

    .venv/bin/python bench/city_retention.py [--halls 500] [--minutes 1440]

A private PostgreSQL (city/pgtest.py). First a database on the old schema (migrations 1-3,
`city_minute` a plain table) holding yesterday (UTC) written as ingest writes it; then the
upgrade (migration 4: that table attached as `city_minute_legacy`, no copy) is timed. Then a
day is written into its own partition the way ingest writes it (`city.db.write_batch`, minute by
minute: each hall's queue, its figures, its queue again, so every row is inserted once and
updated twice as in a day of messages), after which the partition's size is read (heap, index,
total, after a VACUUM as autovacuum would run). Last, the maintenance that drops it, timed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import emit  # noqa: E402
from city import db  # noqa: E402
from city.db import Batch, migrate, open_pool, write_batch  # noqa: E402
from city.pgtest import LocalPostgres  # noqa: E402
from city.retention import DAY, day_of, maintain  # noqa: E402
from city.sim import hall_ids  # noqa: E402

SIZE_SQL = """
SELECT pg_relation_size(%(t)s), pg_indexes_size(%(t)s), pg_total_relation_size(%(t)s), (SELECT count(*) FROM {t})
"""


def write_day(pool: object, halls: list[str], day: dt.datetime, minutes: int) -> float:
    """A day of `minutes` for every hall, in the batches ingest would write; returns the seconds taken."""
    t0 = time.perf_counter()
    with pool.connection() as conn:  # type: ignore[attr-defined]
        for i in range(minutes):
            m = day + dt.timedelta(minutes=i)
            for step in range(3):
                b = Batch()
                for n, h in enumerate(halls):
                    ts = m + dt.timedelta(seconds=10 + 20 * step)
                    if step == 1:
                        b.minute_stats[(h, m)] = (ts, {"served": i // 3 + n % 7, "tickets_issued": i // 3 + 5,
                                                       "satisfaction_rate": 0.95, "on_time_rate": 0.99,
                                                       "overdue_cases": n % 3})
                    else:
                        b.minute_queue[(h, m)] = (ts, (n + i + step) % 30, 60 * ((n + i) % 40))
                write_batch(conn, b)
            conn.commit()
    return time.perf_counter() - t0


def old_schema(pool: object) -> None:
    """Migrations 1-3 only: the schema a city upgrades from (city_minute a plain table)."""
    keep = db.MIGRATIONS
    db.MIGRATIONS = keep[:3]
    try:
        with pool.connection() as conn:  # type: ignore[attr-defined]
            migrate(conn)
    finally:
        db.MIGRATIONS = keep


def batch_cost(pools: dict[str, object], halls: list[str], rounds: int) -> dict[str, float]:
    """Median ms of one ingest batch (every hall's queue, figures and last-heard) per schema, A/B interleaved."""
    times: dict[str, list[float]] = {k: [] for k in pools}
    start = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    for r in range(rounds):
        m = start + dt.timedelta(minutes=r // 2)
        for name, pool in pools.items():
            b = Batch()
            for n, h in enumerate(halls):
                ts = m + dt.timedelta(seconds=r % 2 * 20 + 5)
                b.seen[h] = ts
                b.queue[h] = (ts, n % 30, None)
                b.minute_queue[(h, m)] = (ts, n % 30, 60 * (n % 40))
                b.stats[h] = (ts, {"served": r, "tickets_issued": r, "satisfaction_rate": 0.95, "on_time_rate": 1.0,
                                   "overdue_cases": 0, "followups_open": 0, "date": f"{m:%Y-%m-%d}"})
                b.minute_stats[(h, m)] = (ts, b.stats[h][1])
            with pool.connection() as conn:  # type: ignore[attr-defined]
                t0 = time.perf_counter()
                write_batch(conn, b)
                times[name].append(time.perf_counter() - t0)
    return {k: round(1000 * statistics.median(v), 2) for k, v in times.items()}


def size(pool: object, table: str) -> dict[str, float]:
    with pool.connection() as conn:  # type: ignore[attr-defined]
        conn.commit()
        conn.autocommit = True
        conn.execute(f"VACUUM {table}")
        conn.autocommit = False
        heap, index, total, rows = conn.execute(SIZE_SQL.replace("{t}", table), {"t": table}).fetchone()
    mb = 1024 * 1024
    return {"rows": rows, "heap_mb": round(heap / mb, 1), "index_mb": round(index / mb, 1),
            "total_mb": round(total / mb, 1), "bytes_per_row": round(total / max(rows, 1))}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--halls", type=int, default=500)
    ap.add_argument("--minutes", type=int, default=1440)
    ap.add_argument("--rounds", type=int, default=200)  # batches per schema for the write cost
    args = ap.parse_args()
    halls = hall_ids(args.halls)
    now = dt.datetime.now(dt.UTC)
    today = day_of(now)
    result: dict[str, object] = {"bench": "city_retention", "halls": args.halls, "minutes": args.minutes}
    with LocalPostgres() as pg:
        pool = open_pool(pg.create_database("city_retention"), 2, name="bench-retention")
        try:
            plain = open_pool(pg.create_database("city_plain"), 2, name="bench-plain")
            try:
                old_schema(plain)
                with pool.connection() as conn:
                    migrate(conn)
                    maintain(conn, 35)
                    conn.commit()
                result["batch_ms_plain_vs_partitioned"] = batch_cost({"plain": plain, "partitioned": pool}, halls,
                                                                     args.rounds)
            finally:
                plain.close()
            pool.close()
            pool = open_pool(pg.create_database("city_upgrade"), 2, name="bench-retention")
            old_schema(pool)
            write_day(pool, halls, today - DAY, args.minutes)
            t0 = time.perf_counter()
            with pool.connection() as conn:
                assert migrate(conn) == [4]
            result["upgrade_s"] = round(time.perf_counter() - t0, 2)
            result["legacy"] = size(pool, "city_minute_legacy")
            t0 = time.perf_counter()
            with pool.connection() as conn:
                made = maintain(conn, 35, now=now)
            result["maintain_make_s"] = round(time.perf_counter() - t0, 3)
            result["made"] = len(made.created)
            day = today + DAY
            result["write_day_s"] = round(write_day(pool, halls, day, args.minutes), 1)
            result["day"] = size(pool, f"city_minute_p{day:%Y%m%d}")
            t0 = time.perf_counter()
            with pool.connection() as conn:
                gone = maintain(conn, 35, now=day + 37 * DAY)
            result["maintain_drop_s"] = round(time.perf_counter() - t0, 3)
            result["dropped"] = len(gone.dropped)
        finally:
            pool.close()
    emit(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
