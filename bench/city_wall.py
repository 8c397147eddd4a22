"""The city wall's reads with N halls and a day of history: what each wall asks every few seconds.

    .venv/bin/python bench/city_wall.py [--halls 500] [--requests 200]

A private PostgreSQL and a city Mosquitto; one `hallcity serve`; the simulator plays the halls
for a while (their state, figures and alerts), then the day so far is filled in by minute for
every hall (`city_minute`, from midnight) and this month's days (`city_day`), as a wall sees
them in the afternoon. The simulator goes on playing while the wall's reads are measured (the halls
live), then stops (a quiet city). Over HTTP, signed in as a wall: `/city/data/halls` (every 3 s per
wall; its size as JSON and gzipped), `/city/data/halls/{hall}` (the drill-down, every 5 s),
`/city/data/trends` (every 60 s; kept 30 s by the instance), and the trends' own SQL without that
keeping (`city.wall_read.trends`). The ranking's figures built without the instance's 1 s keeping
(`city.read.halls` and `city.wall_data`, in this process); `--walls` walls polling every 3 s with
their ETag at once (p50/p99 and how many answers were 304), live and quiet; and what the poll cost
before (every API object of every hall, gzipped), read in the same run.
"""

from __future__ import annotations

import argparse
import gzip
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import msgspec
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import emit, summary_ms  # noqa: E402
from bench.city_ingest import TOKEN, health, serve, wait  # noqa: E402
from city import read, wall_data, wall_read  # noqa: E402
from city.config import load_city_config  # noqa: E402
from city.localbroker import CityBroker  # noqa: E402
from city.pgtest import LocalPostgres  # noqa: E402
from city.sim import hall_ids, write_config  # noqa: E402
from hallbus.localbroker import end_process, free_port  # noqa: E402

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


def walls(base: str, cookies: httpx.Cookies, n: int, polls: int, every_s: float = 3.0) -> dict[str, float]:
    """`n` walls polling `/city/data/halls` every `every_s` with their last ETag: p50/p99, and the share of 304."""
    times: list[float] = []
    statuses: list[int] = []
    lock = threading.Lock()

    def one(k: int) -> None:
        etag = ""
        with httpx.Client(base_url=base, cookies=cookies, timeout=10) as c:
            time.sleep(every_s * k / n)  # the walls were not switched on at the same moment
            for _ in range(polls):
                t = time.perf_counter()
                r = c.get("/city/data/halls", headers={"If-None-Match": etag} if etag else {})
                took = time.perf_counter() - t
                etag = r.headers.get("etag", etag)
                with lock:
                    times.append(took)
                    statuses.append(r.status_code)
                time.sleep(max(0.0, every_s - took))

    threads = [threading.Thread(target=one, args=(k,)) for k in range(n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return {"walls": n, **summary_ms(times), "not_modified": round(statuses.count(304) / len(statuses), 3)}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--halls", type=int, default=500)
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--sim-seconds", type=float, default=30)
    ap.add_argument("--walls", type=int, default=20, help="walls polling at once")
    ap.add_argument("--polls", type=int, default=5, help="polls of each wall, 3 s apart, while the halls live")
    ap.add_argument("--quiet-polls", type=int, default=25,
                    help="polls of each wall once the halls are still (75 s: the waits shown in minutes change)")
    args = ap.parse_args()
    ids = hall_ids(args.halls)
    with tempfile.TemporaryDirectory(prefix="city-wall-bench-") as tmp, LocalPostgres() as pg:
        broker = CityBroker(Path(tmp) / "broker")
        broker.start()
        port = free_port()
        procs: list[subprocess.Popen[bytes]] = []
        try:
            db = pg.create_database("citywall")
            cfg = Path(tmp) / "city.toml"
            (Path(tmp) / "token").write_text(TOKEN)
            write_config(cfg, ids, db, broker.url, token_file=str(Path(tmp) / "token"), broker_login=broker.toml_lines())
            procs.append(serve(cfg, "wall-bench", port))
            wait(lambda: health(port).get("ingest", {}).get("subscribed"), 60, "hallcity subscribed")
            sim = subprocess.Popen([sys.executable, "-m", "city.sim", "--halls", str(args.halls), "--broker",
                                    broker.url], stdin=subprocess.DEVNULL)  # until stopped: the halls live
            procs.append(sim)
            time.sleep(args.sim_seconds)
            city = load_city_config(cfg)
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
                districts = sorted({h.district for h in city.halls})
                built, before = [], []
                for _ in range(args.requests // 4):
                    t = time.perf_counter()
                    now = wall_data.answer(wall_data.body(read.halls(conn, city), districts, None,
                                                          wall_read.alerts(conn, ids), False, city.thresholds))
                    built.append(time.perf_counter() - t)
                    t = time.perf_counter()  # what the wall's poll was before: every API object, gzipped
                    was = msgspec.json.encode({"halls": read.halls(conn, city), "alerts": wall_read.alerts(conn, ids),
                                               "delayed": False, "now": time.time()})
                    was_gz = gzip.compress(was, 1)
                    before.append(time.perf_counter() - t)
                sizes = {"json_bytes": len(now.raw), "gzip_bytes": len(now.gz),
                         "before_json_bytes": len(was), "before_gzip_bytes": len(was_gz)}
            base = f"http://127.0.0.1:{port}"
            with httpx.Client(base_url=base, timeout=10) as c:
                c.post("/city/login", data={"token": TOKEN})
                result = {"halls_page": timed(c, "/city/data/halls", args.requests),
                          "halls_built": summary_ms(built), "halls_built_before": summary_ms(before),
                          "halls_sizes": sizes,
                          "hall_page": timed(c, f"/city/data/halls/{ids[6]}", args.requests // 2),
                          "trends_kept": timed(c, "/city/data/trends", args.requests // 4)}
                result["walls_live"] = walls(base, c.cookies, args.walls, args.polls)
                end_process(sim)
                time.sleep(3)  # the last messages stored
                result["walls_quiet"] = walls(base, c.cookies, args.walls, args.quiet_polls)
        finally:
            for proc in reversed(procs):
                end_process(proc)
            broker.stop()
    emit({"bench": "city_wall", "halls": args.halls, "cores": os.cpu_count(),
          "city_minute_rows": minutes[0] if minutes else 0, **result, "trends_sql": summary_ms(sql)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
