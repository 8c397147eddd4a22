"""`python -m city.sim` against the city broker: every hall shows up with its figures, a dropped one offline."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable

import pytest

from city import read
from city.sim import hall_ids
from hallbus.localbroker import LocalBroker
from tests.city.conftest import City, wait_for


@pytest.mark.slow
def test_the_simulator_plays_halls_and_drops_one(make_city: Callable[..., City], city_broker: LocalBroker) -> None:
    ids = hall_ids(5)
    city = make_city(ids)
    ing = city.ingest()
    done = subprocess.run([sys.executable, "-m", "city.sim", "--halls", "5", "--broker", city_broker.url,
                           "--rate", "10", "--duration", "1.5", "--drop-every", "1"],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert "dropped off" in done.stderr

    def halls() -> dict[str, dict[str, object]]:
        with city.pool.connection() as conn:
            return {h["hall"]: h for h in read.halls(conn, city.cfg)}

    h = wait_for(lambda: (x := halls()) and all(v["last_seen"] for v in x.values())
                 and sum(1 for v in x.values() if not v["online"]) == 1 and x, 10, "five halls, one dropped",
                 lambda: (ing.health(), halls()))
    online = [v for v in h.values() if v["online"]]
    assert len(online) == 4 and all(isinstance(v["served_today"], int) and v["waiting"] is not None for v in online)
    dropped = next(v for v in h.values() if not v["online"])
    assert dropped["offline_since"] and dropped["last_known"]
