"""The city wall's reads with N halls and a day of history: what each wall asks every few seconds.

    .venv/bin/python bench/city_wall.py [--halls 500] [--requests 200]

A private PostgreSQL and a city Mosquitto; one `hallcity serve`; the simulator plays the halls
for a while (their state, figures and alerts), then the day so far is filled in by minute for
every hall (`city_minute`, from midnight) and this month's days (`city_day`), as a wall sees
them in the afternoon. Then over HTTP, signed in as a wall: `/city/data/halls` (every 3 s per
wall), `/city/data/halls/{hall}` (the drill-down, every 5 s), `/city/data/trends` (every 60 s;
kept 30 s by the instance), and the trends' own SQL without that keeping (`city.wall_read.trends`).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import emit, summary_ms  # noqa: E402
from bench.city_ingest import CITY_BROKER_CONF, TOKEN, health, serve, wait  # noqa: E402
from city import wall_read  # noqa: E402
from city.pgtest import LocalPostgres  # noqa: E402
from city.sim import hall_ids, write_config  # noqa: E402
from hallbus.localbroker import LocalBroker, end_process, free_port  # noqa: E402

FILL = ("""
INSERT INTO city_minute (hall, minute, waiting, longest_wait_s, served, satisfaction)
SELECT h, m, (random() * 40)::int, (random() * 3000)::int, (random() * 500)::int, 0.9 + random() * 0.1
FROM unnest(%(halls)s::text[]) h,
     generate_series(date_trunc('day', now()), now() - interval '2 minutes', interval '1 minute') m
ON CONFLICT DO NOTHING
""", """
INSERT INTO city_day (hall, day, stats_ts, served, ratings, satisfaction, overdue_cases)
SELECT h, to_char(d, 'YYYY-MM-DD'), d, (random() * 500)::int, 200, 0.9 + random() * 0.1, 1
FROM unnest(%(halls)s::text[]) h, generate_series(date_trunc('month', now()), now() - interval '1 day', interval '1 day') d
ON CONFLICT DO NOTHING
""")


def timed(client: httpx.Client, path: str, n: int) -> dict[str, float]:
    """p50/p99 of `n` reads of `path`, and the last answer's size as JSON and on the wire (gzipped)."""
    times = []
    for _ in range(n):
        t = time.perf_counter()
        r = client.get(path)
        r.raise_for_status()
        times.append(time.perf_counter() - t)
    return {**summary_ms(times), "json_bytes": len(r.content), "wire_bytes": r.num_bytes_downloaded}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--halls", type=int, default=500)
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--sim-seconds", type=float, default=30)
    args = ap.parse_args()
    ids = hall_ids(args.halls)
    with tempfile.TemporaryDirectory(prefix="city-wall-bench-") as tmp, LocalPostgres() as pg:
        broker = LocalBroker(Path(tmp) / "broker", extra_conf=CITY_BROKER_CONF)
        broker.start()
        port = free_port()
        procs: list[subprocess.Popen[bytes]] = []
        try:
            db = pg.create_database("citywall")
            cfg = Path(tmp) / "city.toml"
            (Path(tmp) / "token").write_text(TOKEN)
            write_config(cfg, ids, db, broker.url, token_file=str(Path(tmp) / "token"))
            procs.append(serve(cfg, "wall-bench", port))
            wait(lambda: health(port).get("ingest", {}).get("subscribed"), 60, "hallcity subscribed")
            sim = subprocess.Popen([sys.executable, "-m", "city.sim", "--halls", str(args.halls), "--broker",
                                    broker.url, "--duration", str(args.sim_seconds)], stdin=subprocess.DEVNULL)
            procs.append(sim)
            sim.wait(args.sim_seconds + 60)
            with psycopg.connect(db, autocommit=True) as conn:
                for statement in FILL:
                    conn.execute(statement, {"halls": ids})  # type: ignore[arg-type]
                conn.execute("ANALYZE")
                minutes = conn.execute("SELECT count(*) FROM city_minute").fetchone()
                sql = []
                for _ in range(10):
                    t = time.perf_counter()
                    wall_read.trends(conn, ids)
                    sql.append(time.perf_counter() - t)
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as c:
                c.post("/city/login", data={"token": TOKEN})
                result = {"halls_page": timed(c, "/city/data/halls", args.requests),
                          "hall_page": timed(c, f"/city/data/halls/{ids[6]}", args.requests // 2),
                          "trends_kept": timed(c, "/city/data/trends", args.requests // 4)}
        finally:
            for proc in reversed(procs):
                end_process(proc)
            broker.stop()
    emit({"bench": "city_wall", "halls": args.halls, "cores": os.cpu_count(),
          "city_minute_rows": minutes[0] if minutes else 0, **result, "trends_sql": summary_ms(sql)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
