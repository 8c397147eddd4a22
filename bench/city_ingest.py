"""The city's ingest and API (SPEC 14): messages/s one `hallcity` stores, two instances, `/api/v1/halls` p50/p99.

    .venv/bin/python bench/city_ingest.py [--halls 500] [--messages 100000] [--requests 300]

A private PostgreSQL (city/pgtest.py) and a city Mosquitto on free ports (the config, logins and
ACL `hallcity broker-config` writes; the simulator publishes as `hallsim`); `hallcity serve`
runs as real processes (one, then two sharing `$share/hallcity/...`). Each ingest phase: the
instances subscribe, are stopped (their MQTT sessions stay at the broker), the simulator's
messages for N halls (city/sim.py: queue, figures, devices, windows, alerts; QoS 1 as a
bridge sends them) are published and queued for them, then the instances start again and
drain the queue: the rate is the messages stored (committed in PostgreSQL, then acknowledged)
per second from the first to the last, read from each instance's /healthz. Publishing first
keeps the simulator's own speed out of the figure.
Then `/api/v1/halls` over HTTP against one instance with all N halls in the database.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import emit, summary_ms  # noqa: E402
from city.localbroker import CityBroker  # noqa: E402
from city.pgtest import LocalPostgres  # noqa: E402
from city.sim import Publisher, SimHall, hall_ids, stream, write_config  # noqa: E402
from hallbus.localbroker import LocalBroker, end_process, free_port  # noqa: E402

TOKEN = "bench-token"


def serve(cfg: Path, name: str, port: int) -> subprocess.Popen[bytes]:
    """One `hallcity serve` process."""
    exe = Path(sys.executable).with_name("hallcity")
    return subprocess.Popen([str(exe), "serve", "--config", str(cfg), "--listen", f"127.0.0.1:{port}",
                             "--instance", name], stdin=subprocess.DEVNULL)


def health(port: int) -> dict[str, Any]:
    try:
        r = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
        return r.json()  # type: ignore[no-any-return]
    except (httpx.HTTPError, ValueError):
        return {}


def wait(cond: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.05)
    raise SystemExit(f"bench: timed out waiting for {what}")


def ingest_phase(cfg: Path, broker: LocalBroker, instances: int, messages: list[tuple[str, bytes, bool]],
                 tag: str) -> dict[str, Any]:
    """Instances subscribe, stop, the messages are queued for them, they start and drain: the rate."""
    # a group of the phase's own: the sessions of an earlier phase's instances stay (session_expiry_s)
    # and would be dealt a share of this phase's messages; no adoption (adopt_after_s = 0): the phase
    # stops its instances to queue the flood for their sessions, and one instance adopting the
    # other's session would start draining it before the clock starts
    phase_cfg = cfg.with_name(f"city-{tag}.toml")
    phase_cfg.write_text(cfg.read_text(encoding="utf-8").replace(
        "[broker]\n", f'[broker]\ngroup = "bench-{tag}"\nadopt_after_s = 0\n', 1), encoding="utf-8")
    cfg = phase_cfg
    names = [f"bench-{tag}-{i}" for i in range(instances)]
    ports = [free_port() for _ in names]
    procs = [serve(cfg, n, p) for n, p in zip(names, ports, strict=True)]
    wait(lambda: all(health(p).get("ingest", {}).get("subscribed") for p in ports), 60, "instances subscribed")
    time.sleep(3.5)  # the retained sweep ends (RETAINED_SWEEP_S): the queue holds only the flood
    for proc in procs:
        end_process(proc)
    pub = Publisher(broker.url, f"bench-pub-{tag}")
    t = time.monotonic()
    info = pub.send(messages)
    assert info is not None
    info.wait_for_publish(300)
    pub.close()
    publish_s = time.monotonic() - t
    procs = [serve(cfg, n, p) for n, p in zip(names, ports, strict=True)]
    first = None
    stored: list[int] = [0] * instances
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        answers = [health(p).get("ingest") for p in ports]
        stamp = time.monotonic()
        for i, a in enumerate(answers):
            if a:
                stored[i] = a["stored"]
        # the first look counts only when every instance answered it: a late one's count would
        # otherwise jump in later with messages stored before that look
        if first is None and all(answers) and sum(stored) > 0:
            first = (stamp, sum(stored))
        if sum(stored) >= len(messages):
            break
        time.sleep(0.1)  # each look is an HTTP request the instance answers: not too often
    end = time.monotonic()
    for proc in procs:
        end_process(proc)
    if first is None:
        raise SystemExit("bench: the queue was drained before every instance answered /healthz: use more --messages")
    n = sum(stored) - first[1]
    return {"instances": instances, "messages": len(messages), "stored": sum(stored), "per_instance": stored,
            "msgs_per_s": round(n / max(end - first[0], 1e-9)), "publish_s": round(publish_s, 1)}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--halls", type=int, default=500)
    ap.add_argument("--messages", type=int, default=300_000)  # a drain of several seconds: the rate is not one poll's luck
    ap.add_argument("--requests", type=int, default=300)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="city-bench-") as tmp, LocalPostgres() as pg:
        broker = CityBroker(Path(tmp) / "broker")
        broker.start()
        try:
            db = pg.create_database("citybench")
            cfg = Path(tmp) / "city.toml"
            (Path(tmp) / "token").write_text(TOKEN)
            ids = hall_ids(args.halls)
            write_config(cfg, ids, db, broker.url, token_file=str(Path(tmp) / "token"), broker_login=broker.toml_lines())
            rng = random.Random(7)
            halls = [SimHall(h, random.Random(rng.random())) for h in ids]
            now = dt.datetime.now(dt.UTC).astimezone()
            pub = Publisher(broker.url, "bench-initial")
            info = pub.send([m for h in halls for m in h.initial(now)])
            assert info is not None
            info.wait_for_publish(60)
            pub.close()
            flood = [(t, p, False) for t, p, _r in itertools.islice(stream(halls, now), args.messages)]
            one = ingest_phase(cfg, broker, 1, flood, "one")
            print(f"one instance: {one}", file=sys.stderr)
            flood2 = [(t, p, False) for t, p, _r in itertools.islice(stream(halls, now + dt.timedelta(hours=1)),
                                                                     args.messages)]
            two = ingest_phase(cfg, broker, 2, flood2, "two")
            print(f"two instances: {two}", file=sys.stderr)
            port = free_port()
            proc = serve(cfg, "bench-api", port)
            try:
                wait(lambda: health(port).get("ok"), 60, "API up")
                times = []
                with httpx.Client(headers={"Authorization": f"Bearer {TOKEN}"}) as c:
                    for _ in range(10):
                        c.get(f"http://127.0.0.1:{port}/api/v1/halls").raise_for_status()
                    for _ in range(args.requests):
                        t = time.perf_counter()
                        r = c.get(f"http://127.0.0.1:{port}/api/v1/halls")
                        times.append(time.perf_counter() - t)
                        r.raise_for_status()
                    assert len(r.json()) == args.halls
            finally:
                end_process(proc)
            api = summary_ms(times)
        finally:
            broker.stop()
    emit({"bench": "city_ingest", "halls": args.halls, "cores": os.cpu_count(),
          "one_instance_msgs_per_s": one["msgs_per_s"], "two_instances_msgs_per_s": two["msgs_per_s"],
          "two_instances_split": two["per_instance"], "api_halls": api,
          "bars": {"one_instance_msgs_per_s": ">= 20000", "api_halls_p99_ms": "<= 200"}})
    return 0


if __name__ == "__main__":
    sys.exit(main())
