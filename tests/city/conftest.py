"""The city's tests: one private PostgreSQL and one city Mosquitto for the whole session, a database per test."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from city.config import CityConfig, parse_city_config
from city.db import migrate, open_pool
from city.ingest import Ingest
from city.localbroker import CityBroker
from city.pgtest import LocalPostgres


@pytest.fixture(scope="session")
def pg() -> Iterator[LocalPostgres]:
    server = LocalPostgres()  # its own folder under /tmp: pytest's tmp folders are root's alone (0700)
    server.start()
    try:
        yield server
    finally:
        server.cleanup()


@pytest.fixture
def city_broker(tmp_path: Path) -> Iterator[CityBroker]:
    """A city broker of the test's own: the config `hallcity broker-config` writes, with its logins and ACL.

    No retained state or kept session of another test. `url` logs in as the simulator (it may
    write every hall's topics); the city.toml of `City` logs in as hallcity.
    """
    broker = CityBroker(tmp_path / "city-broker")
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


def city_toml(db_url: str, port: int, halls: list[str], *, group: str, extra: str = "", broker_extra: str = "",
              db_extra: str = "", login: str = "") -> str:
    """A city.toml for tests (`login`: the `[broker]` keys of hallcity's login, `CityBroker.toml_lines`)."""
    lines = ["[broker]", 'host = "127.0.0.1"', f"port = {port}", f'group = "{group}"', login, broker_extra, "",
             "[db]", f'url = "{db_url}"', "batch_ms = 20", db_extra, "", extra]
    for i, h in enumerate(halls):
        lines += ["[[halls]]", f'id = "{h}"', f'name = "{h} 政务服务中心"', f'district = "{"东区" if i % 2 else "西区"}"', ""]
    return "\n".join(lines)


class City:
    """One test's city: its database, config, and the ingest instances it started."""

    def __init__(self, pg: LocalPostgres, broker: CityBroker, tmp: Path, halls: list[str], extra: str = "",
                 broker_extra: str = "", db_extra: str = "") -> None:
        n = uuid.uuid4().hex[:10]  # unique: this module may be imported twice (as conftest and by name)
        self.db_url = pg.create_database(f"city_t{n}")
        self.path = tmp / "city.toml"
        self.path.write_text(city_toml(self.db_url, broker.port, halls, group=f"g{n}", extra=extra,
                                       broker_extra=broker_extra, db_extra=db_extra,
                                       login=broker.toml_lines()), encoding="utf-8")
        self.cfg: CityConfig = parse_city_config(self.path.read_text(encoding="utf-8"), self.path)
        self.pool = open_pool(self.db_url, 4, name=f"test-{n}")
        with self.pool.connection() as conn:
            migrate(conn)
        self.instances: list[Ingest] = []

    def ingest(self, name: str | None = None) -> Ingest:
        """Start an ingest instance and wait until it is subscribed."""
        ing = Ingest(self.cfg, self.pool, instance=name)
        ing.start()
        self.instances.append(ing)
        assert ing.subscribed.wait(5), "ingest did not subscribe"
        return ing

    def query(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        with self.pool.connection() as conn:
            return conn.execute(sql, args).fetchall()  # type: ignore[arg-type]

    def close(self) -> None:
        for ing in self.instances:
            ing.stop()
        self.pool.close()


def wait_for(cond: Callable[[], Any], timeout: float, what: str, show: Callable[[], Any] | None = None) -> Any:
    """Poll `cond` until it is truthy (the store is the event: no notification from PostgreSQL here)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}" + (f": {show()}" if show else ""))


@pytest.fixture
def make_city(pg: LocalPostgres, city_broker: CityBroker, tmp_path: Path) -> Iterator[Callable[..., City]]:
    made: list[City] = []

    def make(halls: list[str], extra: str = "", broker_extra: str = "") -> City:
        c = City(pg, city_broker, tmp_path, halls, extra, broker_extra)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()
