"""`ticket.issue` round trip through loopback Mosquitto vs a bare paho echo, interleaved.

    .venv/bin/python bench/ticket_issue.py [--n 2000]

The controller is a real `hallbus serve` process with its SQLite store on disk (WAL,
synchronous=FULL: every answered ticket is fsynced before its reply). The echo is the
floor: one plain paho client publishes, another plain paho client answers, TCP_NODELAY
on both. Requests alternate one by one, so machine noise hits both alike.
Targets: ticket.issue p50 within 2x and p99 within 3x of the echo.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import BareEcho, emit, interleaved, summary_ms  # noqa: E402
from bench._hall import SERVICES, BenchHall, disk_note  # noqa: E402
from hallbus.rpc import RpcClient  # noqa: E402


def commit_cost(where: Path, n: int = 300, idle_s: float = 0.0) -> list[float]:
    """Durations of one-row SQLite commits (WAL, synchronous=FULL) on the same disk: the fsync floor.

    With `idle_s`, the process sleeps that long before each commit, as the controller does
    between requests in this bench; an fsync after an idle gap costs more on a VM.
    """
    import sqlite3

    conn = sqlite3.connect(where / f"floor-{idle_s}.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("CREATE TABLE t (a INTEGER)")
    out = []
    for i in range(n):
        if idle_s:
            time.sleep(idle_s)
        t0 = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO t VALUES (?)", (i,))
        conn.execute("COMMIT")
        out.append(time.perf_counter() - t0)
    conn.close()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=2000, help="requests of each kind")
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--dir", type=Path, default=None, help="where the bench hall's data lives (default: a temp dir)")
    args = ap.parse_args()
    if args.n + args.warmup > 26 * 999:
        ap.error("at most 25974 tickets a day in the bench hall")

    with tempfile.TemporaryDirectory(dir=args.dir) as tmp_s, BenchHall(Path(tmp_s)) as hall:
        host, port = hall.broker.host, hall.broker.port
        echo = BareEcho(host, port, b'{"v":1,"ts":"2026-01-01T00:00:00+08:00","request_id":"x","service":"A"}')
        rpc = RpcClient(hall.bus("terminal-1"))
        time.sleep(0.3)
        count = [0]

        def issue_once() -> float:
            service = SERVICES[count[0] % len(SERVICES)]
            count[0] += 1
            t0 = time.perf_counter()
            rpc.call("ticket.issue", {"service": service}, timeout=5)
            return time.perf_counter() - t0

        echo_t, issue_t = interleaved(echo.once, issue_once, args.n, args.warmup)
        note = disk_note(Path(tmp_s))
        echo.close()
        floor = summary_ms(commit_cost(Path(tmp_s)))
        # Between two issues the controller idles for about one echo round trip.
        idle_floor = summary_ms(commit_cost(Path(tmp_s), idle_s=statistics.median(echo_t)))

    e, r = summary_ms(echo_t), summary_ms(issue_t)
    ratio50 = r["p50_ms"] / e["p50_ms"]
    ratio99 = r["p99_ms"] / e["p99_ms"]
    print(f"bare paho echo : p50 {e['p50_ms']:.3f} ms  p99 {e['p99_ms']:.3f} ms  (n={e['n']})")
    print(f"ticket.issue   : p50 {r['p50_ms']:.3f} ms  p99 {r['p99_ms']:.3f} ms  (n={r['n']}, durable, store on {note})")
    print(f"durable commit : p50 {floor['p50_ms']:.3f} ms  p99 {floor['p99_ms']:.3f} ms  (one fsync on that disk, back to back)")
    print(f"  after idling : p50 {idle_floor['p50_ms']:.3f} ms  p99 {idle_floor['p99_ms']:.3f} ms  "
          f"(the same, each after an echo's time asleep, as the controller meets it)")
    best = (e["p50_ms"] + idle_floor["p50_ms"]) / e["p50_ms"]
    print(f"  floor ratio  : p50 {best:.2f}x  (echo + that commit alone: what a controller doing nothing else would get)")
    print(f"ratio          : p50 {ratio50:.2f}x  p99 {ratio99:.2f}x  (targets: p50 <= 2x, p99 <= 3x)")
    emit({"bench": "ticket_issue", "echo": e, "ticket_issue": r, "ratio_p50": round(ratio50, 3),
          "ratio_p99": round(ratio99, 3), "store": note, "durable_commit": floor, "durable_commit_after_idle": idle_floor,
          "floor_ratio_p50": round(best, 3),
          "ok": ratio50 <= 2.0 and ratio99 <= 3.0})
    return 0


if __name__ == "__main__":
    sys.exit(main())
