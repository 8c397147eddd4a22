"""Ingest: each hall's figures land on that hall, garbage is counted and changes nothing, halls go offline."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from city import read
from city.sim import Publisher
from hallbus import schemas
from hallbus.localbroker import LocalBroker
from hallbus.topics import Topics
from tests.city.conftest import City, wait_for

NOW = dt.datetime(2026, 11, 30, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def _queue(waiting: list[int], ts: dt.datetime, oldest: dt.datetime | None = None) -> bytes:
    services = [schemas.ServiceQueue(code=c, name=c, waiting=w, est_wait_s=60 * w, windows_open=1,
                                     oldest_issued_at=oldest.isoformat() if oldest and w else None)
                for c, w in zip("ABC", waiting, strict=False)]
    return schemas.encode(schemas.QueueState(services=services, total_waiting=sum(waiting), ts=ts.isoformat()))


def _stats(served: int, rate: float | None, overdue: int, ts: dt.datetime) -> bytes:
    return schemas.encode(schemas.StatsToday(served=served, satisfaction_rate=rate, overdue_cases=overdue,
                                             followups_open=2, date="2026-11-30", ts=ts.isoformat()))


def _halls(city: City) -> dict[str, dict[str, Any]]:
    with city.pool.connection() as conn:
        return {h["hall"]: h for h in read.halls(conn, city.cfg)}


def test_each_hall_gets_its_own_figures_newest_first_and_alerts_kept_once(
        make_city: Callable[..., City], city_broker: LocalBroker) -> None:
    city = make_city(["i-east", "i-west"])
    ing = city.ingest()
    pub = Publisher(city_broker.url, "sim-a")
    east, west = Topics("i-east"), Topics("i-west")
    alert = schemas.encode(schemas.Alert(kind="case_deadline", level="overdue", subject="C1 超期", ts=NOW.isoformat()))
    info = pub.send([
        (east.queue_state, _queue([3, 4], NOW + dt.timedelta(seconds=10), NOW - dt.timedelta(minutes=30)), True),
        (east.queue_state, _queue([1], NOW), False),  # older: arrives later, must not win
        (west.queue_state, _queue([0], NOW), True),
        (east.stats_today, _stats(40, 0.98, 0, NOW), True),
        (west.stats_today, _stats(7, 0.80, 6, NOW), True),
        (east.alerts, alert, False), (east.alerts, alert, False),  # a redelivery: one alert
        (west.node_status("controller"), schemas.encode(schemas.NodeStatus(state="online", role="controller", session="s", ts=NOW.isoformat())), True),
        (west.node_status("terminal-1"), schemas.encode(schemas.NodeStatus(state="lost", role="terminal", session="s", ts=NOW.isoformat())), True),
        (west.node_devices("terminal-1"), schemas.encode(schemas.NodeDevices(
            printer=schemas.DeviceHealth(state="paper_out"), idcard=schemas.DeviceHealth(state="ok"), ts=NOW.isoformat())), True),
    ])
    assert info is not None
    info.wait_for_publish(5)
    wait_for(lambda: ing.stored >= 10, 10, "ten messages stored")
    halls = _halls(city)
    e, w = halls["i-east"], halls["i-west"]
    assert (e["online"], e["waiting"], e["served_today"], e["satisfaction_today"], e["overdue_cases"]) == (True, 7, 40, 0.98, 0)
    assert 30 * 60 <= e["longest_wait_s"]
    assert (w["waiting"], w["longest_wait_s"], w["served_today"], w["overdue_cases"]) == (0, 0, 7, 6)
    assert (w["nodes_offline"], w["devices_faulty"], e["nodes_offline"], e["devices_faulty"]) == (1, 1, 0, 0)
    assert w["card"] == "red" and {"satisfaction", "overdue_cases"} <= set(w["reasons"])
    assert e["card"] == "red" and e["reasons"] == ["longest_wait"]  # waiting since 30 min before NOW: past the red 40 min by today
    assert city.query("SELECT hall, kind, level FROM city_alert") == [("i-east", "case_deadline", "overdue")]
    minutes = city.query("SELECT hall, waiting, served FROM city_minute ORDER BY hall")
    assert minutes == [("i-east", 7, 40), ("i-west", 0, 7)]
    pub.close()


def test_days_are_kept_and_this_months_satisfaction_is_weighted_by_ratings(
        make_city: Callable[..., City], city_broker: LocalBroker) -> None:
    city = make_city(["d-east"])
    ing = city.ingest()
    pub = Publisher(city_broker.url, "sim-days")
    t = Topics("d-east")
    first = dt.date.today().replace(day=1)
    last_month = first - dt.timedelta(days=1)
    days = [(last_month, 1000, 0.10), (first, 100, 0.90)]
    if dt.date.today() != first:
        days.append((dt.date.today(), 300, 0.98))
    now = dt.datetime.now(dt.UTC).astimezone()
    msgs = [(t.stats_today, schemas.encode(schemas.StatsToday(served=r, ratings=r, satisfaction_rate=sat, date=d.isoformat(),
                                                              ts=(now + dt.timedelta(seconds=i)).isoformat())), True)
            for i, (d, r, sat) in enumerate(days)]
    pub.send(msgs).wait_for_publish(5)  # type: ignore[union-attr]
    wait_for(lambda: len(city.query("SELECT day FROM city_day")) == len(days), 10, "every day stored")
    in_month = [(r, sat) for d, r, sat in days if d >= first]
    expected = sum(r * sat for r, sat in in_month) / sum(r for r, _sat in in_month)
    with city.pool.connection() as conn:
        h = read.halls(conn, city.cfg)[0]
        d = read.hall_detail(conn, city.cfg, city.cfg.halls[0])
    assert h["satisfaction_month"] == round(expected, 4)
    assert [x["day"] for x in d["days"]] == [x[0].isoformat() for x in days]
    assert d["satisfaction_month"] == h["satisfaction_month"]
    assert ing.health()["refused"] == 0
    pub.close()


def test_a_halls_figures_of_a_day_gone_by_are_not_todays(make_city: Callable[..., City], city_broker: LocalBroker) -> None:
    """A hall that sent nothing since its midnight served nobody yet today: never yesterday's count as today's."""
    city = make_city(["y-late", "y-early"])
    ing = city.ingest()
    zone = ZoneInfo(city.cfg.timezone)
    today = city.cfg.today()
    last_night = dt.datetime.combine(today, dt.time(0, 0), zone) - dt.timedelta(minutes=1)
    this_morning = dt.datetime.now(zone) - dt.timedelta(seconds=30)
    pub = Publisher(city_broker.url, "sim-day")
    late, early = Topics("y-late"), Topics("y-early")

    def stats(day: dt.date, ts: dt.datetime) -> bytes:
        return schemas.encode(schemas.StatsToday(served=795, ratings=40, satisfaction_rate=0.93, date=day.isoformat(),
                                                 ts=ts.isoformat()))

    pub.send([(late.stats_today, stats(today - dt.timedelta(days=1), last_night), True),
              (early.stats_today, stats(today, this_morning), True),
              (late.queue_state, _queue([0], this_morning), True),
              (early.queue_state, _queue([0], this_morning), True)]).wait_for_publish(5)  # type: ignore[union-attr]
    wait_for(lambda: ing.stored >= 4, 10, "four messages stored")
    halls = _halls(city)
    y, t = halls["y-late"], halls["y-early"]
    assert (y["online"], y["served_today"], y["satisfaction_today"]) == (True, 0, None), y
    assert (t["served_today"], t["satisfaction_today"]) == (795, 0.93)
    with city.pool.connection() as conn:
        assert read.hall_detail(conn, city.cfg, city.cfg.halls[0])["served_today"] == 0
    pub.close()
