"""`hallcity serve` killed (SIGKILL) in the middle of a flood: after its restart every alert is stored, once."""

from __future__ import annotations

import datetime as dt
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from city.sim import Publisher
from hallbus import schemas
from hallbus.localbroker import LocalBroker, end_process, free_port
from hallbus.topics import Topics
from tests.city.conftest import City, wait_for


def _serve(cfg: Path, port: int) -> subprocess.Popen[bytes]:
    exe = Path(sys.executable).with_name("hallcity")
    return subprocess.Popen([str(exe), "serve", "--config", str(cfg), "--listen", f"127.0.0.1:{port}",
                             "--instance", "killed-one"], stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _ingest(port: int) -> dict[str, object]:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).json().get("ingest", {})  # type: ignore[no-any-return]
    except (httpx.HTTPError, ValueError):
        return {}


@pytest.mark.slow
def test_a_killed_instance_loses_nothing_it_acknowledged(make_city: Callable[..., City], city_broker: LocalBroker) -> None:
    city = make_city(["kill-1", "kill-2"])
    port = free_port()
    proc = _serve(city.path, port)
    try:
        wait_for(lambda: _ingest(port).get("subscribed"), 20, "hallcity subscribed")
        pub = Publisher(city_broker.url, "sim-kill")
        ts = dt.datetime.now(dt.UTC).astimezone().isoformat()
        alerts = [(Topics(h).alerts, schemas.encode(schemas.Alert(kind="device", level="warn", subject=f"{h} {n}",
                                                                  ts=ts)), False)
                  for n in range(3000) for h in ("kill-1", "kill-2")]
        info = pub.send(alerts[:3000])
        wait_for(lambda: int(_ingest(port).get("stored", 0)) > 0, 10, "some stored")  # type: ignore[call-overload]
        proc.send_signal(signal.SIGKILL)  # mid-flood: some taken and not committed, some not yet read
        proc.wait(5)
        info = pub.send(alerts[3000:])  # while it is down: queued for its session
        assert info is not None
        info.wait_for_publish(10)
        proc = _serve(city.path, port)  # the same --instance: its session, with what it had not acknowledged
        wait_for(lambda: city.query("SELECT count(*)::int FROM city_alert") == [(6000,)], 30, "every alert stored",
                 lambda: city.query("SELECT count(*)::int FROM city_alert"))
        assert city.query("SELECT count(DISTINCT subject)::int FROM city_alert") == [(6000,)]
        pub.close()
    finally:
        end_process(proc)
