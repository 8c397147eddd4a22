"""Two `hallcity` instances in one shared-subscription group split the load, and every alert is stored once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from city.sim import Publisher
from hallbus import schemas
from hallbus.localbroker import LocalBroker
from hallbus.topics import Topics
from tests.city.conftest import City, wait_for


def test_two_instances_share_the_messages_and_store_each_alert_once(
        make_city: Callable[..., City], city_broker: LocalBroker) -> None:
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


def test_a_stopped_instances_share_waits_for_its_next_session_and_nothing_is_lost(
        make_city: Callable[..., City], city_broker: LocalBroker) -> None:
    halls = ["y-1", "y-2"]
    city = make_city(halls)  # [broker] session_expiry_s = 600 (the default)
    a, b = city.ingest("inst-c"), city.ingest("inst-d")
    pub = Publisher(city_broker.url, "sim-shared-2")
    now = dt.datetime.now(dt.UTC).astimezone()

    def burst(tag: str) -> list[tuple[str, bytes, bool]]:
        return [(Topics(h).alerts, schemas.encode(schemas.Alert(kind="device", level="warn", subject=f"{tag} {n}",
                                                                ts=now.isoformat())), False)
                for n in range(100) for h in halls]

    pub.send(burst("first")).wait_for_publish(10)  # type: ignore[union-attr]
    wait_for(lambda: a.stored + b.stored >= 200, 10, "first burst stored")
    city.instances.remove(a)
    a.stop()  # a clean stop: what it took is stored and acknowledged first
    before = b.stored
    pub.send(burst("second")).wait_for_publish(10)  # type: ignore[union-attr]
    # Mosquitto keeps dealing to a's session while it is away (it expires after SESSION_EXPIRY_S):
    # b takes its own turns at once, a's share waits for a's next session.
    wait_for(lambda: b.stored - before >= 100, 10, "b takes its share")
    a2 = city.ingest("inst-c")
    wait_for(lambda: city.query("SELECT count(*)::int FROM city_alert") == [(400,)], 10, "every alert stored")
    assert a2.stored + b.stored - before == 200
    pub.close()


def test_without_kept_sessions_the_other_instance_takes_the_whole_load_at_once(
        make_city: Callable[..., City], city_broker: LocalBroker) -> None:
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
