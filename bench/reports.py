"""Reports over one year of a busy hall (SPEC 14: a year, 1,000,000 tickets, 100,000 ratings, in ≤ 1 s).

    .venv/bin/python bench/reports.py [--tickets 1000000] [--ratings 100000] [--cases 20000] [--runs 11]
                                      [--xlsx-runs 3] [--web-runs 5] [--no-web] [--quick]

A real store (`open_store`: every module's migrations, the tables the controller writes) in a
temporary folder, filled in bulk with a year of the sample hall ending today: tickets over
the services, windows and staff (done, no-show, expired, cancelled; waits and handling
times drawn at random), every finish's handling (`rec_rating_requests`), the ratings (about
7% bad, each with its follow-up, most of the old ones closed) and the cases
(`hallbus.records.samples.case_rows_fast`). Then every day but today is archived by the
roll-over's own code (`hallbus.reports.daybook.archive_day`, timed: it runs in the writer's
transaction once a day), today stays live.

Timed, `--runs` times each on one read-only connection, as `report.query`'s worker and the
command line run it: every report kind over the whole year and over the last month (p50,
p99, max). Then the XLSX export of each kind over the year and over the month (`hallbus.reports.xlsx`,
as hallweb writes it; `--xlsx-runs` times each), and all six of the year in one workbook.

Then the web path (`--no-web` skips it), as a manager's browser goes: a private Mosquitto, the
controller (`hallbus serve`) on this store and `hallweb serve` as their own processes, a console
session signed in through the login form, and `--web-runs` times each, every kind over the year and
the month: `GET /admin/reports?kind=&from=&to=` (the page: the report and the charts' two, asked
of the controller over the bus page by page, rendered) and `GET /admin/reports/{kind}.xlsx?...`.

`--quick`: a tenth of the hall (100,000 tickets, 10,000 ratings, 2,000 cases), 5 runs, 3 web runs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import emit, summary_ms  # noqa: E402
from bench._console import Console, as_console_hall  # noqa: E402
from hallbus.config import load_config  # noqa: E402
from hallbus.controller.app import open_store  # noqa: E402
from hallbus.controller.clock import HallTime  # noqa: E402
from hallbus.controller.store import open_readonly  # noqa: E402
from hallbus.records.samples import FAST_COLUMNS, case_rows_fast  # noqa: E402
from hallbus.records.workdays import WorkCalendar  # noqa: E402
from hallbus.reports.daybook import archive_day  # noqa: E402
from hallbus.reports.engine import KINDS, ReportEngine  # noqa: E402
from hallbus.reports.xlsx import write_xlsx  # noqa: E402
from hallbus.sample import all_day_text  # noqa: E402

REPO = Path(__file__).resolve().parent.parent

DAYS = 365
KEY = b"k" * 32
STATUSES = (("done", 0.85), ("no_show", 0.07), ("expired", 0.05), ("cancelled", 0.03))
LEVELS = ((5, 0.70), (4, 0.15), (3, 0.08), (2, 0.04), (1, 0.03))
T_COLS = ("arrival, id, day, prefix, seq, number, service, channel, priority, status, sort_key, issued_at, issued_ts, "
          "issued_min, node, id_hash, name_masked, case_no, target_window, window, staff, attempt, called_at, called_ts, "
          "first_called_ts, ended_ts, service_s, transfers")


def pick(rng: random.Random, table: tuple[tuple[Any, float], ...]) -> Any:
    x, acc = rng.random(), 0.0
    for value, p in table:
        acc += p
        if x < acc:
            return value
    return table[-1][0]


def tickets_of(rng: random.Random, cfg: Any, days: list[dt.date], total: int, clock: HallTime
               ) -> Iterator[tuple[tuple[Any, ...], tuple[Any, ...] | None]]:
    """(ticket row, handling row or None) of every ticket of every day: `total` tickets spread evenly."""
    services = [s.code for s in cfg.services]
    serving = {code: [w.id for w in cfg.windows if code in w.services] or [cfg.windows[0].id] for code in services}
    staff = [s.id for s in cfg.staff]
    arrival = 0
    for i, day in enumerate(days):
        iso = day.isoformat()
        start = dt.datetime.combine(day, dt.time(8, 30), clock.tz).timestamp()
        desk = {w.id: staff[i % len(staff)] for i, w in enumerate(cfg.windows)}  # who sits where that day
        seqs = dict.fromkeys(services, 0)
        for _ in range(total // len(days) + (1 if i < total % len(days) else 0)):
            arrival += 1
            code = rng.choice(services)
            seqs[code] += 1
            number = f"{code}{seqs[code]:03d}"
            issued = start + rng.random() * 9 * 3600
            status = pick(rng, STATUSES)
            tid = f"{iso.replace('-', '')}-{number.lower()}-{rng.getrandbits(64):016x}"
            called = window = who = service_s = None
            if status in ("done", "no_show"):
                called = issued + min(3 * 3600.0, rng.expovariate(1 / 600))
                window = rng.choice(serving[code])
                who = desk[window]
                service_s = rng.expovariate(1 / 300) if status == "done" else None
            ended = (called or issued) + (service_s or 60.0)
            card = f"{rng.randrange(400_000):064x}" if rng.random() < 0.7 else None
            iso_at = clock.iso(issued)
            yield (
                (arrival, tid, iso, code, seqs[code], number, code, "onsite", 0, status, issued, iso_at, issued,
                 int((issued - start) // 60) + 510, "terminal-1", card, None, None, None, window, who,
                 1 if called else 0, clock.iso(called) if called else None, called, called, ended, service_s, 0),
                (str(uuid.UUID(int=rng.getrandbits(128))), window, number, tid, None, who, ended, ended + 60)
                if status == "done" else None,
            )


def fill(data: Path, cfg: Any, args: argparse.Namespace) -> dict[str, Any]:
    """The year, straight into the store's own tables; returns what was made and the archive's cost."""
    rng = random.Random(19)
    clock = HallTime.of(cfg)
    today = clock.business_day(dt.datetime.now(clock.tz))
    days = [today - dt.timedelta(days=DAYS - 1 - i) for i in range(DAYS)]
    t0 = time.perf_counter()
    handlings: list[tuple[Any, ...]] = []
    with open_store(data) as store:
        conn = store.conn
        conn.execute("BEGIN")
        batch: list[tuple[Any, ...]] = []
        sql = f"INSERT INTO tickets ({T_COLS}) VALUES ({', '.join('?' * len(T_COLS.split(',')))})"
        for ticket, handling in tickets_of(rng, cfg, days, args.tickets, clock):
            batch.append(ticket)
            if handling is not None:
                handlings.append(handling)
            if len(batch) >= 50_000:
                conn.executemany(sql, batch)
                batch = []
        conn.executemany(sql, batch)
        conn.executemany("INSERT INTO rec_rating_requests VALUES (?, ?, ?, ?, ?, ?, ?, ?)", handlings)
        rated = rng.sample(handlings, min(args.ratings, len(handlings)))
        ratings, followups = [], []
        now_ts = time.time()
        for n, (hid, window, number, _tid, _case, staff, ended, _exp) in enumerate(rated):
            level = pick(rng, LEVELS)
            rid = f"r{n:07d}"
            at = ended + 30
            day = clock.business_day(clock.at(at) or dt.datetime.now(clock.tz)).isoformat()
            reasons = json.dumps(["attitude"] if level <= 2 else [])
            ratings.append((rid, hid, window, number, None, staff, level, reasons, "", "tablet", at, at, day, "{}"))
            if level <= 2:
                due = at + 5 * 86400
                old = now_ts - at > 10 * 86400
                state = pick(rng, (("closed", 0.85), ("appealed", 0.05), ("open", 0.10))) if old else "open"
                updated = at + rng.uniform(1, 7) * 86400 if state == "closed" else at
                followups.append((rid, state, level, reasons, "", window, staff, number, None, at, due, "none", "[]",
                                  updated))
        conn.executemany(
            "INSERT INTO rec_ratings(rating_id, handling, window, ticket, case_no, staff, level, reasons, comment, "
            "caller, made_ts, at_ts, day, answer) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", ratings)
        conn.executemany(
            "INSERT INTO rec_followups(rating_id, state, level, reasons, comment, window, staff, ticket, case_no, "
            "opened_ts, due_ts, alerted, history, updated_ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            followups)
        marks = ", ".join("?" * len(FAST_COLUMNS.split(",")))
        conn.executemany(f"INSERT INTO rec_cases ({FAST_COLUMNS}) VALUES ({marks})",
                         case_rows_fast(args.cases, KEY, now=dt.datetime.now(clock.tz), calendar=WorkCalendar()))
        conn.execute("INSERT OR REPLACE INTO queue_meta(key, value) VALUES ('day', ?)", (today.isoformat(),))
        conn.execute("COMMIT")
        filled = time.perf_counter() - t0
        archive: list[float] = []
        for day in days[:-1]:  # each as the roll-over archives it, in a write transaction of its own
            a0 = time.perf_counter()
            conn.execute("BEGIN IMMEDIATE")
            archive_day(conn, day.isoformat(), clock.iso(time.time()) or "")
            conn.execute("COMMIT")
            archive.append(time.perf_counter() - a0)
        conn.execute("ANALYZE")
        conn_count = conn.execute("SELECT COUNT(*) FROM tickets").fetchone()[0]
    return {
        "tickets": conn_count, "handlings": len(handlings), "ratings": len(ratings), "followups": len(followups),
        "cases": args.cases, "first_day": days[0].isoformat(), "today": today.isoformat(),
        "fill_s": round(filled, 1), "archive_a_day": summary_ms(archive),
        "db_mb": round(os.path.getsize(data / "hall.db") / 2**20, 1),
    }


def timed(runs: int, work: Any) -> tuple[dict[str, float], Any]:
    """`work()` `runs` times: p50/p99/mean/max in ms and the last result."""
    times, got = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        got = work()
        times.append(time.perf_counter() - t0)
    return {**summary_ms(times), "max_ms": round(max(times) * 1000, 3)}, got


def xlsx_times(base: Path, reports: dict[str, dict[str, Any]], cfg: Any, runs: int, result: dict[str, Any]) -> None:
    """Each kind's report written to XLSX, over the year and the month, and the year's six in one workbook."""
    for name, by_kind in reports.items():
        for kind, rep in by_kind.items():
            out = base / f"{name}-{kind}.xlsx"
            s, _ = timed(runs, lambda rep=rep, out=out: write_xlsx(out, [rep], cfg.hall.name))
            size = out.stat().st_size
            result[f"xlsx.{name}.{kind}"] = {"p50_ms": s["p50_ms"], "max_ms": s["max_ms"], "kb": round(size / 1024, 1)}
            print(f"xlsx  {name:5} {kind:9} p50 {s['p50_ms']:8.1f} ms  max {s['max_ms']:8.1f} ms  "
                  f"({len(rep.rows)} rows, {size / 1024:.0f} KB)", file=sys.stderr)
    s, _ = timed(1, lambda: write_xlsx(base / "all.xlsx", list(reports["year"].values()), cfg.hall.name))
    result["xlsx.year.all_ms"] = s["p50_ms"]
    print(f"xlsx  year  all six   {s['p50_ms']:8.1f} ms", file=sys.stderr)


def web_times(base: Path, data: Path, ranges: dict[str, tuple[str, str]], runs: int, result: dict[str, Any]) -> None:
    """The console's report page and XLSX URL through the real hallweb, controller and bus, signed in."""
    console = Console(base / "web", base / "hall.toml", data)
    (base / "web").mkdir(exist_ok=True)
    try:
        t0 = time.perf_counter()
        console.start()
        print(f"web: broker, controller and hallweb up, signed in, in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        for name, (first, last) in ranges.items():
            for kind in KINDS:
                def page(kind: str = kind, first: str = first, last: str = last) -> Any:
                    r = console.get("/admin/reports", kind=kind, **{"from": first, "to": last})
                    if r.status_code != 200 or 'id="chart-data"' not in r.text:
                        raise RuntimeError(f"page {kind} {first}..{last}: {r.status_code} {r.text[:300]}")
                    return r

                def xlsx(kind: str = kind, first: str = first, last: str = last) -> Any:
                    r = console.get(f"/admin/reports/{kind}.xlsx", **{"from": first, "to": last})
                    if r.status_code != 200 or not r.content.startswith(b"PK"):
                        raise RuntimeError(f"xlsx {kind} {first}..{last}: {r.status_code} {r.text[:300]}")
                    return r

                sp, got = timed(runs, page)
                sx, _ = timed(runs, xlsx)
                result[f"web.{name}.{kind}"] = {"page_p50_ms": sp["p50_ms"], "page_p99_ms": sp["p99_ms"],
                                                "xlsx_p50_ms": sx["p50_ms"], "xlsx_p99_ms": sx["p99_ms"],
                                                "page_kb": round(len(got.content) / 1024, 1)}
                print(f"web   {name:5} {kind:9} page p50 {sp['p50_ms']:8.1f} p99 {sp['p99_ms']:8.1f} ms   "
                      f"xlsx p50 {sx['p50_ms']:8.1f} p99 {sx['p99_ms']:8.1f} ms", file=sys.stderr)
    finally:
        console.stop()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tickets", type=int, default=None, help="default 1,000,000 (--quick 100,000)")
    ap.add_argument("--ratings", type=int, default=None, help="default 100,000 (--quick 10,000)")
    ap.add_argument("--cases", type=int, default=None, help="default 20,000 (--quick 2,000)")
    ap.add_argument("--runs", type=int, default=None, help="engine runs per kind and range (default 11, --quick 5)")
    ap.add_argument("--xlsx-runs", type=int, default=3)
    ap.add_argument("--web-runs", type=int, default=None, help="web runs per kind and range (default 5, --quick 3)")
    ap.add_argument("--no-web", action="store_true", help="skip the web path (no broker, controller, hallweb)")
    ap.add_argument("--quick", action="store_true", help="a tenth of the hall, fewer runs")
    ap.add_argument("--keep", type=Path, default=None, help="make the store here and keep it (else a temporary folder)")
    args = ap.parse_args()
    tenth = 10 if args.quick else 1
    args.tickets = args.tickets or 1_000_000 // tenth
    args.ratings = args.ratings or 100_000 // tenth
    args.cases = args.cases or 20_000 // tenth
    args.runs = args.runs or (5 if args.quick else 11)
    args.web_runs = args.web_runs or (3 if args.quick else 5)
    with tempfile.TemporaryDirectory() as tmp:
        base = args.keep or Path(tmp)
        text = all_day_text(base, (REPO / "assets/hall.example.toml").read_text())
        text = as_console_hall(text, REPO / "assets/staff-secrets.example.toml")
        (base / "hall.toml").write_text(text, encoding="utf-8")
        cfg = load_config(base / "hall.toml")
        data = base / "data"
        data.mkdir(parents=True, exist_ok=True)
        made = fill(data, cfg, args)
        print(f"made: {made}", file=sys.stderr)
        today = dt.date.fromisoformat(made["today"])
        ranges = {"year": (made["first_day"], made["today"]),
                  "month": ((today - dt.timedelta(days=29)).isoformat(), made["today"])}
        result: dict[str, Any] = {"bench": "reports", **made, "loadavg": os.getloadavg()[0]}
        reports: dict[str, dict[str, Any]] = {}
        with closing(open_readonly(data)) as conn:
            engine = ReportEngine(conn, cfg)
            for name, (first, last) in ranges.items():
                reports[name] = {}
                for kind in KINDS:
                    s, rep = timed(args.runs, lambda kind=kind, first=first, last=last: engine.build(
                        kind, first, last, dt.datetime.now(HallTime.of(cfg).tz)))
                    reports[name][kind] = rep
                    result[f"{name}.{kind}"] = {**s, "rows": len(rep.rows)}
                    print(f"{name:5} {kind:9} p50 {s['p50_ms']:8.1f} ms  p99 {s['p99_ms']:8.1f} ms  "
                          f"({len(rep.rows)} rows)", file=sys.stderr)
        xlsx_times(base, reports, cfg, args.xlsx_runs, result)
        if not args.no_web:
            web_times(base, data, ranges, args.web_runs, result)
    emit(result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
