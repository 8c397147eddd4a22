"""The JSON API of SPEC 13: the fields of every hall, one hall in depth, the token, /healthz."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable

from litestar.testing import TestClient

from city.api import create_app
from city.sim import Publisher, SimHall
from hallbus.localbroker import LocalBroker
from tests.city.conftest import City, wait_for

SPEC_FIELDS = {"hall", "name", "district", "online", "waiting", "longest_wait_s", "served_today",
               "satisfaction_today", "overdue_cases", "followups_open", "devices_faulty", "nodes_offline", "last_seen"}


def test_api_lists_every_hall_with_the_spec_fields_behind_the_token(
        make_city: Callable[..., City], city_broker: LocalBroker) -> None:
    city = make_city(["a-east", "a-west", "a-none"])
    ing = city.ingest()
    pub = Publisher(city_broker.url, "sim-api")
    now = dt.datetime.now(dt.UTC).astimezone()
    sims = [SimHall(h, random.Random(i)) for i, h in enumerate(["a-east", "a-west"])]
    messages = [m for s in sims for m in s.initial(now)]
    for n in range(30):
        messages += [m for s in sims for m in s.step(now + dt.timedelta(seconds=n))]
    pub.send(messages).wait_for_publish(5)  # type: ignore[union-attr]
    wait_for(lambda: ing.stored >= len(messages), 10, "the halls stored")
    app = create_app(city.cfg, city.pool, ing, token="s3cret")
    with TestClient(app) as client:
        assert client.get("/api/v1/halls").status_code == 401
        assert client.get("/api/v1/halls", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert client.get("/api/v1/halls/a-east").status_code == 401
        auth = {"Authorization": "Bearer s3cret"}
        r = client.get("/api/v1/halls", headers=auth)
        assert r.status_code == 200
        body = r.json()
        ranks = [{"red": 0, "yellow": 1, None: 2}[h["card"]] for h in body]
        assert ranks == sorted(ranks)  # red cards first, then yellow
        by = {h["hall"]: h for h in body}
        assert set(by) == {"a-east", "a-west", "a-none"}
        for h in body:
            assert SPEC_FIELDS <= set(h)
        east = by["a-east"]
        assert east["online"] is True and east["waiting"] == sum(sims[0].waiting)
        assert east["served_today"] == sims[0].served and east["name"] == "a-east 政务服务中心"
        assert by["a-none"]["online"] is False and by["a-none"]["waiting"] is None
        assert [h["hall"] for h in client.get("/api/v1/halls?district=东区", headers=auth).json()] == ["a-west"]
        d = client.get("/api/v1/halls/a-east", headers=auth).json()
        assert SPEC_FIELDS <= set(d)
        assert len(d["windows"]) == sims[0].windows and {w["window"] for w in d["windows"]} == {"1", "2", "3", "4", "5", "6"}
        assert [s["code"] for s in d["services"]] == ["A", "B", "C", "D"]
        assert sum(s["waiting"] for s in d["services"]) == east["waiting"]
        assert {n["node"] for n in d["nodes"]} >= {"controller", "terminal-1"}
        assert d["minutes"] and d["minutes"][-1]["waiting"] == east["waiting"]
        assert client.get("/api/v1/halls/nowhere", headers=auth).status_code == 404
        hz = client.get("/healthz")
        assert hz.status_code == 200
        assert hz.json()["ok"] is True and hz.json()["db"] == "ok" and hz.json()["bus"] == "connected"
    open_app = create_app(city.cfg, city.pool, ing, token=None)  # behind the city's proxy auth instead
    with TestClient(open_app) as client:
        assert client.get("/api/v1/halls").status_code == 200
    pub.close()
