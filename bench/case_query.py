"""Case look-up by ID among 1,000,000 cases: store level and RPC round trip (SPEC 10: p99 ≤ 5 ms).

    .venv/bin/python bench/case_query.py [--cases 1000000] [--queries 20000] [--rpc 2000] [--keep DIR]

1. Generates N made-up cases (about 3 per applicant) straight into a fresh `hall.db`
   with the records' schema (executemany in big transactions, indexes built after).
2. Store level: `CaseBook.by_id_hash` (the SQL plus turning rows into case objects, what
   the controller runs for `case.query`) for random applicants: p50/p99.
3. RPC: a real Mosquitto on loopback, the real controller on that database, a terminal
   client calling `case.query` with an `id_card`: p50/p99 of the round trip.
Prints both and a final JSON line.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import without_rpc_limits  # noqa: E402
from hallbus.brokerurl import parse_broker_url  # noqa: E402
from hallbus.client import BusClient  # noqa: E402
from hallbus.config import load_config  # noqa: E402
from hallbus.controller.app import HallController  # noqa: E402
from hallbus.controller.clock import HallTime  # noqa: E402
from hallbus.localbroker import LocalBroker  # noqa: E402
from hallbus.records.cases import (
    CASES_MIGRATIONS,  # noqa: E402
    CaseBook,  # noqa: E402
)
from hallbus.records.samples import FAST_COLUMNS, case_rows_fast  # noqa: E402
from hallbus.records.workdays import WorkCalendar  # noqa: E402
from hallbus.rpc import RpcClient  # noqa: E402

KEY = bytes.fromhex("3c" * 32)
BATCH = 50_000


def pct(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of values, in the same unit."""
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100 * len(s)) - 1))]


def generate(db_file: Path, n: int, now: dt.datetime) -> list[str]:
    """Write n cases; return the distinct applicant hashes."""
    conn = sqlite3.connect(db_file, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = OFF")  # generation only; the controller opens it with FULL
    table_only = CASES_MIGRATIONS[0].split("CREATE INDEX")[0]
    conn.executescript(table_only)
    marks = ", ".join("?" * len(FAST_COLUMNS.split(",")))
    sql = f"INSERT INTO rec_cases ({FAST_COLUMNS}) VALUES ({marks})"
    hashes: set[str] = set()
    batch: list[tuple[object, ...]] = []
    t0 = time.perf_counter()
    for row in case_rows_fast(n, KEY, now=now, calendar=WorkCalendar()):
        batch.append(row)
        hashes.add(str(row[4]))
        if len(batch) >= BATCH:
            conn.execute("BEGIN")
            conn.executemany(sql, batch)
            conn.execute("COMMIT")
            batch.clear()
    if batch:
        conn.execute("BEGIN")
        conn.executemany(sql, batch)
        conn.execute("COMMIT")
    t1 = time.perf_counter()
    conn.executescript(CASES_MIGRATIONS[0])  # the indexes, built once over the whole table
    conn.execute("ANALYZE")
    conn.close()
    print(f"generated {n:,} cases for {len(hashes):,} applicants in {t1 - t0:.1f} s, "
          f"indexed in {time.perf_counter() - t1:.1f} s ({db_file.stat().st_size / 1e6:.0f} MB)", flush=True)
    return sorted(hashes)


def store_level(db_file: Path, hashes: list[str], queries: int, now: dt.datetime) -> dict[str, float]:
    """by_id_hash timings in ms."""
    cfg = load_config()
    book = CaseBook(WorkCalendar(), HallTime.of(cfg))
    conn = sqlite3.connect(db_file, isolation_level=None)
    rng = random.Random(1)
    found = 0
    times = []
    for _ in range(200):  # warm the page cache like a running controller
        book.by_id_hash(conn, rng.choice(hashes), now)
    for _ in range(queries):
        h = rng.choice(hashes)
        t = time.perf_counter()
        found += len(book.by_id_hash(conn, h, now))
        times.append((time.perf_counter() - t) * 1000)
    conn.close()
    return {"p50_ms": pct(times, 50), "p99_ms": pct(times, 99), "mean_ms": statistics.fmean(times),
            "cases_per_query": found / queries}


def rpc_level(data_dir: Path, hashes: list[str], calls: int) -> dict[str, float]:
    """case.query round trips through a real broker and the real controller, in ms."""
    cfg = without_rpc_limits(load_config())  # thousands of look-ups back to back from one terminal
    with tempfile.TemporaryDirectory(prefix="bench-broker-") as bdir:
        broker = LocalBroker(Path(bdir))
        broker.start()
        ctl = HallController(cfg, data_dir=data_dir, broker=parse_broker_url(broker.url), hall_key=KEY)
        bus = BusClient(hall=cfg.hall.id, node="terminal-1", role="terminal", broker=parse_broker_url(broker.url))
        try:
            assert ctl.start(wait=10)
            assert bus.start(wait=10)
            client = RpcClient(bus)
            rng = random.Random(2)
            for _ in range(100):
                client.call("case.query", {"id_card": {"id_hash": rng.choice(hashes)}})
            times = []
            for _ in range(calls):
                h = rng.choice(hashes)
                t = time.perf_counter()
                got = client.call("case.query", {"id_card": {"id_hash": h}})
                times.append((time.perf_counter() - t) * 1000)
                assert got["cases"], "every generated applicant has a case"
        finally:
            bus.stop()
            ctl.stop()
            broker.stop()
    return {"p50_ms": pct(times, 50), "p99_ms": pct(times, 99), "mean_ms": statistics.fmean(times)}


def main() -> int:
    """Run the benchmark and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=1_000_000)
    ap.add_argument("--queries", type=int, default=20_000)
    ap.add_argument("--rpc", type=int, default=2_000)
    ap.add_argument("--keep", type=Path, default=None, help="keep the database in this folder")
    args = ap.parse_args()
    now = dt.datetime.now(HallTime.of(load_config()).tz)
    with tempfile.TemporaryDirectory(prefix="bench-cases-") as tmp:
        data_dir = args.keep or Path(tmp)
        data_dir.mkdir(parents=True, exist_ok=True)
        db_file = data_dir / "hall.db"
        if db_file.exists():
            db_file.unlink()
        hashes = generate(db_file, args.cases, now)
        store = store_level(db_file, hashes, args.queries, now)
        print(f"store  case.query by id_hash ({args.queries:,} queries): p50 {store['p50_ms']:.3f} ms, "
              f"p99 {store['p99_ms']:.3f} ms (target p99 <= 5 ms), {store['cases_per_query']:.1f} cases each", flush=True)
        rpc = rpc_level(data_dir, hashes, args.rpc)
        print(f"rpc    case.query round trip ({args.rpc:,} calls, loopback Mosquitto + controller): "
              f"p50 {rpc['p50_ms']:.3f} ms, p99 {rpc['p99_ms']:.3f} ms", flush=True)
    ok = store["p99_ms"] <= 5.0
    print(json.dumps({"bench": "case_query", "cases": args.cases, "store": store, "rpc": rpc,
                      "target_p99_ms": 5.0, "ok": ok}))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
