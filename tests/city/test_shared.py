"""Two `hallcity` instances in one shared-subscription group split the load, and every alert is stored once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from city.localbroker import CityBroker
from city.sim import Publisher
from hallbus import schemas
from hallbus.topics import Topics
from tests.city.conftest import City, wait_for


def test_two_instances_share_the_messages_and_store_each_alert_once(
        make_city: Callable[..., City], city_broker: CityBroker) -> None:
    halls = [f"x-{i}" for i in range(10)]
    city = make_city(halls)
    a, b = city.ingest("inst-a"), city.ingest("inst-b")
    pub = Publisher(city_broker.url, "sim-shared")
    now = dt.datetime.now(dt.UTC).astimezone()
    alerts = [(Topics(h).alerts, schemas.encode(schemas.Alert(kind="queue_threshold", level="warn",
                                                              subject=f"{h} alert {n}", ts=now.isoformat())), False)
              for n in range(200) for h in halls]
    pub.send(alerts).wait_for_publish(10)  # type: ignore[union-attr]
    wait_for(lambda: a.stored + b.stored >= len(alerts), 20, "every alert stored")
    assert city.query("SELECT count(*)::int, count(DISTINCT subject)::int FROM city_alert") == [(2000, 2000)]
    per_hall = city.query("SELECT hall, count(*)::int FROM city_alert GROUP BY hall ORDER BY hall")
    assert per_hall == [(h, 200) for h in sorted(halls)]
    # each took a real share (Mosquitto deals shared messages round-robin)
    assert a.stored >= len(alerts) // 4 and b.stored >= len(alerts) // 4, (a.stored, b.stored)
    assert a.stored + b.stored == len(alerts)
    pub.close()


def test_a_stopped_instances_session_is_adopted_and_given_back_when_it_returns(
        make_city: Callable[..., City], city_broker: CityBroker) -> None:
    halls = ["y-1", "y-2"]
    city = make_city(halls)  # [broker] session_expiry_s = 600, adopt_after_s = 1.5 (the defaults)
    a, b = city.ingest("inst-c"), city.ingest("inst-d")
    pub = Publisher(city_broker.url, "sim-shared-2")
    now = dt.datetime.now(dt.UTC).astimezone()

    def burst(tag: str) -> list[tuple[str, bytes, bool]]:
        return [(Topics(h).alerts, schemas.encode(schemas.Alert(kind="device", level="warn", subject=f"{tag} {n}",
                                                                ts=now.isoformat())), False)
                for n in range(100) for h in halls]

    def count() -> int:
        return int(city.query("SELECT count(*)::int FROM city_alert")[0][0])

    pub.send(burst("first")).wait_for_publish(10)  # type: ignore[union-attr]
    wait_for(lambda: count() == 200, 10, "first burst stored")
    city.instances.remove(a)
    a.stop()  # a clean stop: what it took is stored and acknowledged first; its Will says "offline"
    pub.send(burst("second")).wait_for_publish(10)  # type: ignore[union-attr]
    # Mosquitto keeps dealing a's session its share; b adopts that session and stores it, without a's restart
    wait_for(lambda: count() == 400, 15, "every alert stored by b alone", count)
    assert b.health()["adopted"] == ["inst-c"], b.health()
    a2 = city.ingest("inst-c")  # a back under its name: it takes its session over, b lets it go
    wait_for(lambda: b.health()["adopted"] == [], 10, "b let a's session go")
    wait_for(lambda: b.peers.states.get("inst-c", ("",))[0] == "online", 5, "a's notice says online",
             lambda: b.peers.states)  # not our adopted connection's Will: no adoption again
    before_a, before_b = a2.stored, b.stored
    pub.send(burst("third")).wait_for_publish(10)  # type: ignore[union-attr]
    wait_for(lambda: count() == 600, 10, "the third burst stored", count)
    assert a2.stored > before_a and b.stored > before_b, (a2.stored - before_a, b.stored - before_b)
    assert b.adoptions == 1 and a2.adopted == {}, (b.health(), a2.health(), b.peers.states)
    assert city.query("SELECT count(DISTINCT (hall, subject))::int FROM city_alert") == [(600,)]
    assert b.peers.states["inst-c"][0] == "online" and b.adoptions == 1, (b.health(), b.peers.states)  # no ping-pong
    pub.close()


def test_without_kept_sessions_the_other_instance_takes_the_whole_load_at_once(
        make_city: Callable[..., City], city_broker: CityBroker) -> None:
    halls = ["z-1", "z-2"]
    city = make_city(halls, broker_extra="session_expiry_s = 0\n")
    a, b = city.ingest("inst-e"), city.ingest("inst-f")
    pub = Publisher(city_broker.url, "sim-shared-3")
    now = dt.datetime.now(dt.UTC).astimezone()
    city.instances.remove(a)
    a.stop()
    alerts = [(Topics(h).alerts, schemas.encode(schemas.Alert(kind="device", level="warn", subject=f"n {n}",
                                                              ts=now.isoformat())), False)
              for n in range(100) for h in halls]
    pub.send(alerts).wait_for_publish(10)  # type: ignore[union-attr]
    wait_for(lambda: b.stored >= 200, 10, "b stores all")
    assert city.query("SELECT count(*)::int FROM city_alert") == [(200,)]
    pub.close()
