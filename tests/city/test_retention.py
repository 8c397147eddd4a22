"""city_minute's retention: partitions by UTC day made ahead, old days dropped whole, the upgrade keeps old rows."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg_pool import ConnectionPool

from city import db, read, retention, wall_read
from city.config import parse_city_config
from city.db import Batch, migrate, open_pool, write_batch
from city.pgtest import LocalPostgres
from city.retention import DAY, day_of, maintain
from city.sim import Publisher
from hallbus import schemas
from hallbus.config import ConfigError
from hallbus.localbroker import LocalBroker
from hallbus.topics import Topics
from tests.city.conftest import City, wait_for

UTC = dt.UTC


@pytest.fixture
def pool(pg: LocalPostgres) -> Iterator[ConnectionPool[Any]]:
    """A database of the test's own, not yet migrated."""
    p = open_pool(pg.create_database(f"city_r{uuid.uuid4().hex[:10]}"), 4, name="test-retention")
    try:
        yield p
    finally:
        p.close()


def q(pool: ConnectionPool[Any], sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with pool.connection() as conn:
        return conn.execute(sql, args).fetchall()  # type: ignore[arg-type]


def run(pool: ConnectionPool[Any], keep: int = 35, now: dt.datetime | None = None) -> retention.Maintenance:
    with pool.connection() as conn:
        return maintain(conn, keep, now=now)


def names(pool: ConnectionPool[Any]) -> list[str]:
    """The partitions of city_minute."""
    return [r[0] for r in q(pool, "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
                                  " WHERE i.inhparent = 'city_minute'::regclass ORDER BY 1")]


def minutes(pool: ConnectionPool[Any], rows: list[tuple[str, dt.datetime, int]]) -> None:
    """Store (hall, minute, waiting) rows as ingest does (write_batch), one figure each."""
    b = Batch()
    for hall, m, waiting in rows:
        b.minute_queue[(hall, m)] = (m + dt.timedelta(seconds=30), waiting, 60 * waiting)
    with pool.connection() as conn:
        write_batch(conn, b)


def where(pool: ConnectionPool[Any]) -> dict[tuple[str, dt.datetime], str]:
    """Each row of city_minute and the partition holding it."""
    return {(h, m): t for h, m, t in q(pool, "SELECT hall, minute, tableoid::regclass::text FROM city_minute")}


def p(day: dt.datetime) -> str:
    return f"city_minute_p{day:%Y%m%d}"


def test_partitions_are_made_ahead_once_and_a_second_run_does_nothing(pool: ConnectionPool[Any]) -> None:
    with pool.connection() as conn:
        migrate(conn)
    assert names(pool) == ["city_minute_default"]  # a new database has no old table to keep
    today = day_of(dt.datetime.now(UTC))
    done = run(pool)
    expected = [p(today + i * DAY) for i in range(-1, retention.AHEAD_DAYS + 1)]
    assert done.created == expected and not done.dropped
    assert names(pool) == sorted([*expected, "city_minute_default"])
    assert not run(pool).changed()
    # the ranges are whole UTC days
    bounds = q(pool, "SELECT pg_get_expr(c.relpartbound, c.oid) FROM pg_class c WHERE relname = %s", p(today))
    with pool.connection() as conn:
        conn.execute("SET TimeZone = 'UTC'")
        got = {x.name: (x.lo, x.hi) for x in retention.partitions(conn)}
    assert got[p(today)] == (today, today + DAY), bounds


def test_old_days_are_dropped_whole_newer_kept_and_the_days_figures_stay(pool: ConnectionPool[Any]) -> None:
    with pool.connection() as conn:
        migrate(conn)
    now = dt.datetime.now(UTC)
    then = now - 40 * DAY
    run(pool, now=then)  # as the instance did 40 days ago: that day's partitions
    old, edge, recent = then.replace(second=0, microsecond=0), (now - 34 * DAY).replace(second=0, microsecond=0), \
        (now - DAY).replace(second=0, microsecond=0)
    minutes(pool, [("h1", old, 5), ("h2", old, 6), ("h1", edge, 7), ("h1", recent, 8), ("h1", now.replace(second=0, microsecond=0), 9)])
    b = Batch()
    for d in (old, recent):
        b.day_stats[("h1", d.date().isoformat())] = (d, {"served": 100, "tickets_issued": 110, "ratings": 50,
                                                         "satisfaction_rate": 0.96, "on_time_rate": 1.0, "overdue_cases": 0})
    with pool.connection() as conn:
        write_batch(conn, b)
    before = where(pool)
    assert before[("h1", old)] == p(day_of(old))
    assert before[("h1", edge)] == p(day_of(edge))  # made ahead, 40 days ago
    assert before[("h1", recent)] == "city_minute_default"  # no partition made for it yet: kept, not refused

    done = run(pool, keep=35)
    assert p(day_of(old)) in done.dropped and p(day_of(old)) not in names(pool)
    assert done.moved == 2 and done.deleted == 0  # yesterday's and today's rows out of the default partition
    after = where(pool)
    assert set(after) == {("h1", edge), ("h1", recent), ("h1", now.replace(second=0, microsecond=0))}
    assert after[("h1", recent)] == p(day_of(recent)) and after[("h1", edge)] == p(day_of(edge))
    assert q(pool, "SELECT count(*) FROM city_minute_default") == [(0,)]
    # a partition dropped: everything of those days, by DROP (no row of the 40-day-old day left anywhere)
    assert q(pool, "SELECT count(*) FROM city_minute WHERE minute < %s", now - 35 * DAY) == [(0,)]
    # the per-day table is history kept: the day of 40 days ago still there
    assert sorted(r[0] for r in q(pool, "SELECT day FROM city_day WHERE hall = 'h1'")) == \
        sorted([old.date().isoformat(), recent.date().isoformat()])
    # every partition left ends after the cutoff
    with pool.connection() as conn, conn.transaction():
        conn.execute("SET LOCAL TimeZone = 'UTC'")
        assert all(x.hi > now - 35 * DAY for x in retention.partitions(conn))


def test_a_minute_without_its_partition_is_stored_then_moved_or_expired(pool: ConnectionPool[Any]) -> None:
    """Clock skew, or midnight before maintenance ran: the batch holding such a minute is stored whole."""
    with pool.connection() as conn:
        migrate(conn)
    now = dt.datetime.now(UTC).replace(second=0, microsecond=0)
    run(pool)
    # the day after the partitions made ahead, a day ten days back, one far past the retention: one batch with today's
    far_ahead = day_of(now) + (retention.AHEAD_DAYS + 1) * DAY + dt.timedelta(minutes=1)
    back, expired = now - 10 * DAY, now - 50 * DAY
    minutes(pool, [("h1", now, 1), ("h1", far_ahead, 2), ("h1", back, 3), ("h1", expired, 4)])
    rows = where(pool)
    assert rows[("h1", now)] == p(day_of(now))
    assert {rows[("h1", t)] for t in (far_ahead, back, expired)} == {"city_minute_default"}
    done = run(pool)
    assert done.deleted == 1 and done.moved == 2
    assert {p(day_of(far_ahead)), p(day_of(back))} <= set(done.created)
    rows = where(pool)
    assert (rows[("h1", far_ahead)], rows[("h1", back)]) == (p(day_of(far_ahead)), p(day_of(back)))
    assert ("h1", expired) not in rows
    # written again after the move: the upsert finds the row in its new partition
    minutes(pool, [("h1", back, 30)])
    assert q(pool, "SELECT waiting FROM city_minute WHERE hall = 'h1' AND minute = %s", back) == [(30,)]


def test_two_maintainers_at_once_make_each_partition_once(pool: ConnectionPool[Any]) -> None:
    with pool.connection() as conn:
        migrate(conn)
    now = dt.datetime.now(UTC).replace(second=0, microsecond=0)
    run(pool, now=now - 40 * DAY)
    minutes(pool, [("h1", now - 40 * DAY, 1), ("h1", now - 3 * DAY, 2), ("h1", now, 3)])
    start = threading.Barrier(2)
    results: list[retention.Maintenance] = []
    errors: list[BaseException] = []

    def one() -> None:
        try:
            with psycopg.connect(pool.conninfo) as conn:
                start.wait(5)
                results.append(maintain(conn, 35))
        except BaseException as err:  # noqa: BLE001  (reported below, in the test's thread)
            errors.append(err)

    threads = [threading.Thread(target=one) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    assert len(results) == 2
    a, b = results
    assert not set(a.created) & set(b.created) and not set(a.dropped) & set(b.dropped)
    made = sorted(a.created + b.created)
    assert len(made) == len(set(made)) and p(day_of(now)) in made and p(day_of(now - 3 * DAY)) in made
    # the days made 40 days ago whose end is past the 35 days kept: each dropped once
    assert sorted(a.dropped + b.dropped) == sorted(p(day_of(now - 40 * DAY) + k * DAY) for k in range(-1, 5))
    assert a.moved + b.moved == 2
    assert {r[0] for r in q(pool, "SELECT waiting FROM city_minute")} == {2, 3}
    assert not run(pool).changed()


def test_the_upgrade_keeps_the_old_tables_rows_and_drops_them_later(
        pool: ConnectionPool[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """A city on migration 3 (city_minute a plain table, with rows) upgrades: its history is kept."""
    with monkeypatch.context() as m:
        m.setattr(db, "MIGRATIONS", db.MIGRATIONS[:3])
        with pool.connection() as conn:
            assert migrate(conn) == [1, 2, 3]
    now = dt.datetime.now(UTC).replace(second=0, microsecond=0)
    old_rows = [(f"h{i}", now - d * DAY - dt.timedelta(minutes=i), i + d) for i in range(3) for d in (0, 1, 20)]
    minutes(pool, old_rows)
    assert q(pool, "SELECT relkind FROM pg_class WHERE relname = 'city_minute'") == [("r",)]
    with pool.connection() as conn:
        assert migrate(conn) == [4]
    assert q(pool, "SELECT relkind FROM pg_class WHERE relname = 'city_minute'") == [("p",)]
    rows = where(pool)
    assert set(rows) == {(h, t) for h, t, _w in old_rows}
    assert set(rows.values()) == {"city_minute_legacy"}
    assert sorted(q(pool, "SELECT hall, minute, waiting FROM city_minute")) == sorted(old_rows)
    # maintenance after the upgrade: the days after the old table's, ingest goes on into them
    done = run(pool)
    assert p(day_of(now)) not in done.created and p(day_of(now) + DAY) in done.created  # today is the old table's
    minutes(pool, [("h0", now, 99), ("h0", now + DAY, 98)])
    rows = where(pool)
    assert (rows[("h0", now)], rows[("h0", now + DAY)]) == ("city_minute_legacy", p(day_of(now) + DAY))
    # the old table goes whole once its newest day is past the retention
    later = day_of(now) + DAY + 35 * DAY + dt.timedelta(hours=1)
    assert "city_minute_legacy" in run(pool, now=later).dropped
    assert "city_minute_legacy" not in names(pool)


def test_the_wall_and_the_halls_page_read_across_midnight(pool: ConnectionPool[Any], tmp_path: Any) -> None:
    """Today's curve and the last 24 hours by minute read rows of two partitions as one."""
    with pool.connection() as conn:
        migrate(conn)
    cfg = parse_city_config(f'[db]\nurl = "{pool.conninfo}"\n[[halls]]\nid = "m3"\nname = "m3"\n',
                            tmp_path / "city.toml")
    # the wall's day, Asia/Shanghai: it began at 16:00 UTC the day before; "now" 03:00 UTC, 11:00 there
    utc_midnight = day_of(dt.datetime.now(UTC)) - DAY
    fake_now = utc_midnight + dt.timedelta(hours=3)
    run(pool, now=fake_now)
    rows = []
    t = utc_midnight - dt.timedelta(hours=8)
    while t < fake_now:
        rows += [("m1", t, 1), ("m2", t, 2)]
        t += dt.timedelta(minutes=5)
    minutes(pool, rows)
    assert {v for (h, m), v in where(pool).items()} == {p(utc_midnight - DAY), p(utc_midnight)}
    with pool.connection() as conn:
        day = wall_read.trends(conn, ["m1", "m2"], "Asia/Shanghai", now=fake_now)["day"]
    assert len(day) == 11 * 6  # every 10 minutes of 11 hours, the buckets on both sides of the boundary
    assert {x["waiting"] for x in day} == {3}
    assert dt.datetime.fromisoformat(day[0]["t"]) == utc_midnight - dt.timedelta(hours=8)
    # the hall's page: the last 24 hours by minute, across today's UTC midnight (now)
    now = dt.datetime.now(UTC).replace(second=0, microsecond=0)
    run(pool)
    recent = [("m3", now - dt.timedelta(minutes=k), k) for k in range(0, 24 * 60 - 1, 7)]
    minutes(pool, recent)
    parts = {where(pool)[(h, m)] for h, m, _w in recent}
    assert parts == {p(day_of(m)) for _h, m, _w in recent}
    assert len(parts) == 2 or now - day_of(now) > dt.timedelta(minutes=1435)  # (one only in a UTC day's last minutes)
    with pool.connection() as conn:
        got = read.hall_detail(conn, cfg, cfg.halls[0])["minutes"]
    assert [g["waiting"] for g in got if dt.datetime.fromisoformat(g["minute"]) > now - dt.timedelta(hours=24)] == \
        [w for _h, _m, w in reversed(recent)]


def test_ingest_maintains_at_start_and_a_message_of_a_day_without_partition_is_stored(
        make_city: Callable[..., City], city_broker: LocalBroker) -> None:
    """A running instance made today's partitions; a hall's message of ten days ago lands in the default partition."""
    city = make_city(["r-one"])
    ing = city.ingest()
    wait_for(lambda: ing.retention.runs >= 1, 10, "the first maintenance")
    today = day_of(dt.datetime.now(UTC))
    assert p(today) in (ing.retention.last.created if ing.retention.last else [])
    said = ing.health()["retention"]  # what /healthz says of it
    assert said["runs"] >= 1 and said["error"] == "" and said["keep_minutes_days"] == 35
    assert dt.datetime.fromisoformat(said["last_at"]) > dt.datetime.now(UTC) - dt.timedelta(minutes=1)
    ten_days_ago = dt.datetime.now(UTC) - 10 * DAY
    topics = Topics("r-one")
    queue = schemas.encode(schemas.QueueState(services=[], total_waiting=4, ts=ten_days_ago.isoformat()))
    now_q = schemas.encode(schemas.QueueState(services=[], total_waiting=5, ts=dt.datetime.now(UTC).isoformat()))
    pub = Publisher(city_broker.url, "sim-retention")
    pub.send([(topics.queue_state, queue, False), (topics.queue_state, now_q, False)]).wait_for_publish(5)  # type: ignore[union-attr]
    wait_for(lambda: ing.stored >= 2, 10, "two messages stored")
    got = city.query("SELECT waiting, tableoid::regclass::text FROM city_minute ORDER BY minute")
    assert got == [(4, "city_minute_default"), (5, p(today))]
    done = ing.retention.run_once()
    assert done is not None and done.moved == 1
    assert city.query("SELECT waiting, tableoid::regclass::text FROM city_minute ORDER BY minute")[0] == \
        (4, p(day_of(ten_days_ago)))
    pub.close()


def test_batches_writing_while_partitions_are_made_lose_nothing(pool: ConnectionPool[Any]) -> None:
    """A batch routing a minute to the default partition while its day's partition is being attached still commits."""
    with pool.connection() as conn:
        migrate(conn)
    start = day_of(dt.datetime.now(UTC)) + 30 * DAY
    days = [start + 10 * i * DAY for i in range(8)]  # each beyond the last run's days ahead
    stop = threading.Event()
    errors: list[BaseException] = []
    written: set[tuple[str, dt.datetime]] = set()
    current = [0]  # the day the writers write: the one whose partition the next run makes

    def writer(hall: str) -> None:
        n = 0
        with psycopg.connect(pool.conninfo) as conn:
            while not stop.is_set():
                b = Batch()
                m = days[current[0]] + dt.timedelta(minutes=n % 1440)
                b.minute_queue[(hall, m)] = (m, n, 0)
                try:
                    write_batch(conn, b)
                except psycopg.Error as err:
                    errors.append(err)
                    return
                written.update(b.minute_queue)
                n += 1

    threads = [threading.Thread(target=writer, args=(h,)) for h in ("w1", "w2")]
    for t in threads:
        t.start()
    try:
        for i, d in enumerate(days):
            current[0] = i
            seen = len(written)
            wait_for(lambda: len(written) > seen + 20 or errors, 10, "batches written")  # noqa: B023
            assert p(d) in run(pool, keep=10_000, now=d).created
    finally:
        stop.set()
        for t in threads:
            t.join(10)
    assert not errors, errors
    assert set(where(pool)) == written
    assert q(pool, "SELECT count(*) FROM city_minute_default") == [(0,)]


def test_hallcity_migrate_makes_the_partitions(make_city: Callable[..., City]) -> None:
    city = make_city(["c-one"])
    exe = Path(sys.executable).with_name("hallcity")
    done = subprocess.run([str(exe), "migrate", "--config", str(city.path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "city_minute: partitions made" in done.stderr
    assert p(day_of(dt.datetime.now(UTC))) in names(city.pool)


def test_keep_minutes_days_below_two_is_refused_naming_the_key(tmp_path: Path) -> None:
    text = '[db]\nurl = "postgresql://u@127.0.0.1:5432/c"\nkeep_minutes_days = 1\n'
    with pytest.raises(ConfigError) as err:
        parse_city_config(text, tmp_path / "city.toml")
    assert "city.toml:3: db.keep_minutes_days" in str(err.value)
    assert parse_city_config(text.replace("= 1", "= 62"), tmp_path / "city.toml").db.keep_minutes_days == 62
    assert parse_city_config(text.replace("keep_minutes_days = 1\n", ""), tmp_path / "c.toml").db.keep_minutes_days == 35
