"""PostgreSQL restarted under ingest: messages wait in memory up to the bound, the rest are counted, none is lost silently."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient

from city.api import create_app
from city.pgtest import LocalPostgres
from city.sim import Publisher
from hallbus import schemas
from hallbus.localbroker import LocalBroker
from hallbus.topics import Topics
from tests.city.conftest import City, wait_for


@pytest.fixture
def own_pg() -> Iterator[LocalPostgres]:
    server = LocalPostgres()  # its own server: this test stops it
    server.start()
    try:
        yield server
    finally:
        server.cleanup()


def _alerts(hall: str, tag: str, n: int) -> list[tuple[str, bytes, bool]]:
    ts = dt.datetime.now(dt.UTC).astimezone().isoformat()
    return [(Topics(hall).alerts, schemas.encode(schemas.Alert(kind="device", level="warn", subject=f"{tag} {i}",
                                                               ts=ts)), False) for i in range(n)]


def test_postgres_restart_holds_messages_to_the_bound_counts_the_rest_and_stores_the_held(
        own_pg: LocalPostgres, city_broker: LocalBroker, tmp_path: Path) -> None:
    city = City(own_pg, city_broker, tmp_path, ["r-1"], extra="", db_extra="buffer_max = 150\n")
    try:
        ing = city.ingest()
        pub = Publisher(city_broker.url, "sim-restart")
        pub.send(_alerts("r-1", "before", 100)).wait_for_publish(5)  # type: ignore[union-attr]
        wait_for(lambda: city.query("SELECT count(*)::int FROM city_alert") == [(100,)], 10, "first alerts stored")
        wait_for(lambda: ing.health()["buffered"] == 0, 5, "nothing held")
        app = create_app(city.cfg, city.pool, ing)
        own_pg.stop()
        pub.send(_alerts("r-1", "during", 200)).wait_for_publish(5)  # type: ignore[union-attr]
        h = wait_for(lambda: (x := ing.health())["db"] == "delayed" and x["buffered"] + x["dropped"] >= 200 and x,
                     15, "ingest says delayed", ing.health)
        assert (h["buffered"], h["dropped"]) == (150, 50), h
        with TestClient(app) as client:
            hz = client.get("/healthz")
            assert hz.status_code == 503 and hz.json()["ok"] is False and hz.json()["db"] in ("down", "delayed")
            assert hz.json()["ingest"]["dropped"] == 50
        own_pg.start()
        wait_for(lambda: ing.health()["db"] == "ok" and ing.health()["buffered"] == 0, 20, "ingest caught up")
        assert city.query("SELECT count(*)::int FROM city_alert") == [(250,)]  # 100 before + the 150 held
        assert ing.dropped == 50
        with TestClient(app) as client:
            assert client.get("/healthz").json()["db"] == "ok"
        pub.close()
    finally:
        city.close()
