"""Bad input and silence: garbage is counted and changes no figure; a silent hall is offline, never 'nobody waiting'."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

import pytest

from city import read
from city.sim import Publisher
from hallbus import schemas
from hallbus.localbroker import LocalBroker
from hallbus.topics import Topics
from tests.city.conftest import City, wait_for
from tests.city.test_ingest import _queue, _stats


def _halls(city: City) -> dict[str, dict[str, Any]]:
    with city.pool.connection() as conn:
        return {h["hall"]: h for h in read.halls(conn, city.cfg)}


def test_garbage_is_counted_per_hall_logged_once_a_minute_and_changes_no_figure(
        make_city: Callable[..., City], city_broker: LocalBroker, caplog: pytest.LogCaptureFixture) -> None:
    city = make_city(["g-east", "g-west"])
    ing = city.ingest()
    pub = Publisher(city_broker.url, "sim-garbage")
    east, west = Topics("g-east"), Topics("g-west")
    now = dt.datetime.now(dt.UTC).astimezone()
    pub.send([(east.queue_state, _queue([5], now), True), (east.stats_today, _stats(12, 0.99, 0, now), True)])
    wait_for(lambda: ing.stored >= 2, 10, "east's figures")
    caplog.set_level(logging.WARNING, logger="city.parse")
    later = now + dt.timedelta(seconds=5)
    garbage: list[tuple[str, bytes, bool]] = [
        (east.queue_state, b"{not json", False),
        (east.queue_state, b'{"v":1,"ts":"' + later.isoformat().encode() + b'","services":"many","total_waiting":-1}', False),
        (east.queue_state, schemas.encode({"v": 1, "ts": later.isoformat(), "services": [], "total_waiting": -3}), False),
        (east.stats_today, b'{"v":1,"ts":"yesterday","served":999}', False),
        (east.stats_today, b'{"v":1,"ts":"2026-11-30T10:00:00","served":999}', False),  # no offset
        (east.alerts, b'{"v":1,"kind":"fire","level":"warn","subject":"x"}', False),
        (east.window_state("1"), b'{"v":1,"ts":"' + later.isoformat().encode() + b'","window":"1","name":"\\u0000"}', False),
        (east.node_status("x"), b"\xff\xfe\x00", False),
        ("hall/v1/g-east/window/No_Such!/state", b"{}", False),  # no valid window id
        ("hall/v1/nowhere/queue/state", _queue([100], later), False),  # a hall not in city.toml
        ("hall/v1/Bad_Id/queue/state", _queue([100], later), False),
    ] * 20
    pub.send(garbage)
    pub.send([(west.queue_state, _queue([2], later), True)]).wait_for_publish(5)  # type: ignore[union-attr]
    wait_for(lambda: ing.stored >= 3 + len(garbage), 10, "garbage counted")
    halls = _halls(city)
    assert (halls["g-east"]["waiting"], halls["g-east"]["served_today"]) == (5, 12)
    assert halls["g-west"]["waiting"] == 2
    assert "nowhere" not in halls
    bad = dict(city.query("SELECT hall, sum(count)::int FROM city_bad GROUP BY hall"))
    assert bad == {"g-east": 9 * 20, "?": 2 * 20}  # a hall not in city.toml and a topic naming none: "?"
    assert city.query("SELECT count(*) FROM city_alert") == [(0,)]
    assert ing.health()["refused"] == len(garbage)
    lines = [r for r in caplog.records if "refused a message" in r.getMessage()]
    assert len({r.getMessage().split(":")[0] for r in lines}) == len(lines) <= 3 * 2  # one line per hall per minute
    # and ingest goes on
    pub.send([(east.queue_state, _queue([6], later), True)]).wait_for_publish(5)  # type: ignore[union-attr]
    wait_for(lambda: _halls(city)["g-east"]["waiting"] == 6, 10, "east's next figure")
    pub.close()


def test_a_hall_whose_bridge_drops_is_offline_since_then_with_its_last_figures_apart(
        make_city: Callable[..., City], city_broker: LocalBroker) -> None:
    city = make_city(["b-east", "b-west"])
    ing = city.ingest()
    pub = Publisher(city_broker.url, "sim-silent")
    east = Topics("b-east")
    now = dt.datetime.now(dt.UTC).astimezone()
    bridge = f"{east.root}bridge/city-b-east/connected"
    pub.send([(bridge, b"1", True), (east.queue_state, _queue([4], now), True)]).wait_for_publish(5)  # type: ignore[union-attr]
    wait_for(lambda: ing.stored >= 2, 10, "east online")
    h = _halls(city)
    assert h["b-east"]["online"] is True and h["b-east"]["waiting"] == 4
    assert h["b-west"]["online"] is False and h["b-west"]["last_seen"] is None and h["b-west"]["waiting"] is None
    assert h["b-west"]["card"] == "red" and h["b-west"]["reasons"] == ["never_heard"]
    # The city broker publishes the bridge's will when the hall's link dies
    pub.send([(bridge, b"0", True)]).wait_for_publish(5)  # type: ignore[union-attr]
    e = wait_for(lambda: (x := _halls(city)["b-east"])["online"] is False and x, 10, "east offline")
    assert e["waiting"] is None and e["served_today"] is None  # never "nobody waiting"
    assert e["last_known"]["waiting"] == 4
    assert e["offline_since"] is not None and e["last_seen"] is not None
    assert e["card"] == "red" and e["reasons"] == ["offline"]
    pub.send([(bridge, b"1", True)]).wait_for_publish(5)  # type: ignore[union-attr]
    wait_for(lambda: _halls(city)["b-east"]["online"], 10, "east back")
    pub.close()


@pytest.mark.slow
def test_a_hall_silent_past_the_threshold_is_offline_and_a_lost_controller_too(
        make_city: Callable[..., City], city_broker: LocalBroker) -> None:
    city = make_city(["s-east", "s-west"], extra="[thresholds]\nsilent_after_s = 1\n")
    ing = city.ingest()
    pub = Publisher(city_broker.url, "sim-quiet")
    east, west = Topics("s-east"), Topics("s-west")
    now = dt.datetime.now(dt.UTC).astimezone()
    status = schemas.NodeStatus(state="lost", role="controller", session="s1", ts=now.isoformat())
    pub.send([(east.queue_state, _queue([1], now), True), (west.queue_state, _queue([1], now), True),
              (west.node_status("controller"), schemas.encode(status), True)]).wait_for_publish(5)  # type: ignore[union-attr]
    wait_for(lambda: ing.stored >= 3, 10, "both halls heard")
    h = _halls(city)
    assert h["s-east"]["online"] is True
    assert h["s-west"]["online"] is False and h["s-west"]["last_known"]["waiting"] == 1  # its controller is lost
    e = wait_for(lambda: (x := _halls(city)["s-east"])["online"] is False and x, 5, "east silent past 1 s")
    assert e["waiting"] is None and e["offline_since"] == e["last_seen"]
    pub.close()


def test_ingest_comes_back_by_itself_after_a_broker_restart(
        make_city: Callable[..., City], city_broker: LocalBroker) -> None:
    city = make_city(["k-east"])
    ing = city.ingest()
    first = ing.sub.generation
    city_broker.restart()
    wait_for(lambda: ing.sub.generation > first and ing.subscribed.is_set(), 10, "ingest back on the restarted broker")
    pub = Publisher(city_broker.url, "sim-after-restart")
    now = dt.datetime.now(dt.UTC).astimezone()
    pub.send([(Topics("k-east").queue_state, _queue([3], now), True)]).wait_for_publish(5)  # type: ignore[union-attr]
    wait_for(lambda: _halls(city)["k-east"]["waiting"] == 3, 10, "a figure after the restart")
    pub.close()


def test_a_message_too_big_for_the_city_broker_never_reaches_ingest_and_the_next_one_does(
        make_city: Callable[..., City], city_broker: LocalBroker) -> None:
    # The city broker (hallcity broker-config) ends a connection that sends a packet past its
    # limit (a hall's own limit, city.brokerconf.MESSAGE_SIZE_LIMIT) before reading it; ingest's
    # own bound (city.mqttin.MAX_PACKET) is for a broker set up with a bigger one.
    city = make_city(["m-east"])
    ing = city.ingest()
    t = Topics("m-east")
    now = dt.datetime.now(dt.UTC).astimezone().isoformat()
    big = schemas.encode(schemas.Alert(kind="device", level="warn", subject="big", detail="x" * 600_000, ts=now))
    small = schemas.encode(schemas.Alert(kind="device", level="warn", subject="small", ts=now))
    bad = Publisher(city_broker.url, "sim-big")
    bad.client.publish(t.alerts, big, qos=0)  # QoS 0: not sent again when it reconnects
    pub = Publisher(city_broker.url, "sim-small")
    pub.send([(t.alerts, small, False)]).wait_for_publish(5)  # type: ignore[union-attr]
    wait_for(lambda: city.query("SELECT subject FROM city_alert") == [("small",)], 10, "the small alert")
    assert ing.bus_up and ing.health()["refused"] == 0
    bad.close()
    pub.close()
