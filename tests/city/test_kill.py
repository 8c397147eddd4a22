"""`hallcity serve` killed (SIGKILL) or stopped (SIGTERM) in the middle of a flood: nothing it acknowledged is lost.

Alone, it finds its session again at its restart. With a peer (kept sessions, the default), the
peer adopts its session within seconds and carries the whole load without the restart; the
killed one, back under its name, takes its session back and both share again.
"""

from __future__ import annotations

import datetime as dt
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from city.localbroker import CityBroker
from city.sim import Publisher
from hallbus import schemas
from hallbus.localbroker import end_process, free_port
from hallbus.topics import Topics
from tests.city.conftest import City, wait_for


def _serve(cfg: Path, port: int, name: str = "killed-one", log: Path | None = None) -> subprocess.Popen[bytes]:
    exe = Path(sys.executable).with_name("hallcity")
    err = log.open("ab") if log is not None else subprocess.DEVNULL
    return subprocess.Popen([str(exe), "serve", "--config", str(cfg), "--listen", f"127.0.0.1:{port}",
                             "--instance", name], stdin=subprocess.DEVNULL, stderr=err)


def _ingest(port: int) -> dict[str, Any]:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).json().get("ingest", {})  # type: ignore[no-any-return]
    except (httpx.HTTPError, ValueError):
        return {}


def _alerts(tag: str, n: int, halls: tuple[str, ...]) -> list[tuple[str, bytes, bool]]:
    ts = dt.datetime.now(dt.UTC).astimezone().isoformat()
    return [(Topics(h).alerts, schemas.encode(schemas.Alert(kind="device", level="warn", subject=f"{tag} {h} {i}", ts=ts)),
             False) for i in range(n) for h in halls]


def _count(city: City) -> int:
    return int(city.query("SELECT count(*)::int FROM city_alert")[0][0])


@pytest.mark.slow
def test_a_killed_instance_loses_nothing_it_acknowledged(make_city: Callable[..., City], city_broker: CityBroker) -> None:
    city = make_city(["kill-1", "kill-2"])
    port = free_port()
    proc = _serve(city.path, port)
    try:
        wait_for(lambda: _ingest(port).get("subscribed"), 20, "hallcity subscribed")
        pub = Publisher(city_broker.url, "sim-kill")
        alerts = _alerts("k", 3000, ("kill-1", "kill-2"))
        info = pub.send(alerts[:3000])
        wait_for(lambda: int(_ingest(port).get("stored", 0)) > 0, 10, "some stored")
        proc.send_signal(signal.SIGKILL)  # mid-flood: some taken and not committed, some not yet read
        proc.wait(5)
        info = pub.send(alerts[3000:])  # while it is down: queued for its session
        assert info is not None
        info.wait_for_publish(10)
        proc = _serve(city.path, port)  # the same --instance: its session, with what it had not acknowledged
        wait_for(lambda: _count(city) == 6000, 30, "every alert stored", lambda: _count(city))
        assert city.query("SELECT count(DISTINCT subject)::int FROM city_alert") == [(6000,)]
        pub.close()
    finally:
        end_process(proc)


class _Pair:
    """Two `hallcity serve` processes sharing one group with kept sessions (the defaults)."""

    def __init__(self, city: City, logs: Path) -> None:
        self.city, self.logs = city, logs
        self.names = ("inst-a", "inst-b")
        self.ports = {n: free_port() for n in self.names}
        self.procs = {n: self.start(n) for n in self.names}
        for n in self.names:
            wait_for(lambda n=n: self.health(n).get("subscribed"), 20, f"{n} subscribed", self.show)  # type: ignore[misc]

    def start(self, name: str) -> subprocess.Popen[bytes]:
        return _serve(self.city.path, self.ports[name], name, self.logs / f"{name}.log")

    def health(self, name: str) -> dict[str, Any]:
        return _ingest(self.ports[name])

    def show(self) -> str:
        return "; ".join(f"{n}: {self.health(n)}" for n in self.names) + f"; stored {_count(self.city)}"

    def close(self) -> None:
        for proc in self.procs.values():
            end_process(proc)


@pytest.mark.slow
def test_a_killed_instances_session_is_adopted_at_once_and_given_back_at_its_restart(
        make_city: Callable[..., City], city_broker: CityBroker, tmp_path: Path) -> None:
    halls = ("fo-1", "fo-2")
    city = make_city(list(halls))
    pair = _Pair(city, tmp_path)
    pub = Publisher(city_broker.url, "sim-failover")
    try:
        alerts = _alerts("flood", 3000, halls)
        pub.send(alerts[:3000])
        wait_for(lambda: int(pair.health("inst-a").get("stored", 0)) > 0, 10, "inst-a stores its share", pair.show)
        pair.procs["inst-a"].send_signal(signal.SIGKILL)  # mid-flood: some of its share taken, not acknowledged
        killed = time.monotonic()
        pair.procs["inst-a"].wait(5)
        info = pub.send(alerts[3000:])  # after the kill: Mosquitto still deals inst-a's session its share
        assert info is not None
        info.wait_for_publish(10)
        wait_for(lambda: _count(city) == 6000, 30, "every alert stored without inst-a's restart", pair.show)
        took = time.monotonic() - killed
        print(f"\nkill -> the survivor stored the last of {len(alerts)} alerts (3000 sent after the kill): {took:.1f} s")
        assert took < 15, took
        assert city.query("SELECT count(DISTINCT (hall, subject))::int FROM city_alert") == [(6000,)]
        b = pair.health("inst-b")
        assert b["adopted"] == ["inst-a"] and b["adoptions"] == 1, b
        assert httpx.get(f"http://127.0.0.1:{pair.ports['inst-b']}/healthz", timeout=2).json()["adopted"] == ["inst-a"]

        pair.procs["inst-a"] = pair.start("inst-a")  # back under its name: it takes its session over
        wait_for(lambda: pair.health("inst-a").get("subscribed") and pair.health("inst-b").get("adopted") == [], 20,
                 "inst-a back and inst-b letting its session go", pair.show)
        before = {n: int(pair.health(n)["stored"]) for n in pair.names}
        info = pub.send(_alerts("after", 500, halls))
        assert info is not None
        info.wait_for_publish(10)
        wait_for(lambda: _count(city) == 7000, 20, "the alerts after the restart stored", pair.show)
        after = {n: pair.health(n) for n in pair.names}
        assert all(int(after[n]["stored"]) > before[n] for n in pair.names), (before, after)  # both share again
        assert after["inst-b"]["adopted"] == [] and after["inst-b"]["adoptions"] == 1, after  # no ping-pong
        assert after["inst-a"]["adopted"] == [] and after["inst-a"]["adoptions"] == 0, after
    finally:
        pub.close()
        pair.close()


@pytest.mark.slow
def test_a_stopped_instances_session_is_adopted_too(make_city: Callable[..., City], city_broker: CityBroker,
                                                     tmp_path: Path) -> None:
    halls = ("st-1", "st-2")
    city = make_city(list(halls))
    pair = _Pair(city, tmp_path)
    pub = Publisher(city_broker.url, "sim-stop")
    try:
        end_process(pair.procs["inst-b"])  # SIGTERM: it stores and acknowledges what it took; its session stays
        info = pub.send(_alerts("stopped", 1000, halls))
        assert info is not None
        info.wait_for_publish(10)
        wait_for(lambda: _count(city) == 2000, 20, "every alert stored by inst-a alone", pair.show)
        a = pair.health("inst-a")
        assert a["adopted"] == ["inst-b"] and a["stored"] >= 2000, a  # inst-b's share came through its session
    finally:
        pub.close()
        pair.close()
