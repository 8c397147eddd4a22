"""Pipelined `ticket.issue`: acknowledged, durable ticket issues per second.

    .venv/bin/python bench/ticket_throughput.py [--n 20000] [--window 500] [--clients 2]

A real `hallbus serve` process with its store on disk (WAL, synchronous=FULL). Client
processes keep `--window` requests in flight each and count a ticket only when its reply
arrives, which the controller sends only after the batch holding it is committed (group
commit: one fsync per batch). Afterwards every acknowledged number is checked against
`hallbus tickets --json`: present, and none issued twice. Target: at least 1,000/s.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import emit  # noqa: E402
from bench._hall import HALL, REPO, SERVICES, BenchHall, disk_note  # noqa: E402


def client(url: str, index: int, n: int, window: int, out: mp.Queue) -> None:  # type: ignore[type-arg]
    """One terminal keeping `window` requests in flight; reports (numbers, first, last)."""
    from hallbus.brokerurl import parse_broker_url
    from hallbus.client import BusClient
    from hallbus.rpc import RpcClient

    bus = BusClient(hall=HALL, node=f"terminal-{index}", role="terminal", broker=parse_broker_url(url))
    bus.start(wait=5)
    rpc = RpcClient(bus)
    slots = threading.Semaphore(window)
    numbers: list[str] = []
    errors: list[str] = []
    lock = threading.Lock()
    done = threading.Event()
    remaining = [n]

    def on_done(fut: object) -> None:
        try:
            t = fut.result()["ticket"]["number"]  # type: ignore[attr-defined]
            with lock:
                numbers.append(t)
        except Exception as err:  # a failed request is counted, not acknowledged
            with lock:
                errors.append(str(err))
        slots.release()
        with lock:
            remaining[0] -= 1
            if remaining[0] == 0:
                done.set()

    t0 = time.monotonic()
    for i in range(n):
        slots.acquire()
        service = SERVICES[(i * 7 + index) % len(SERVICES)]
        rpc.call_async("ticket.issue", {"service": service}, timeout=30).add_done_callback(on_done)
    done.wait(120)
    t1 = time.monotonic()
    bus.stop()
    out.put((numbers, errors[:5], len(errors), t0, t1))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=20000, help="tickets in all (at most 25974: 26 services x 999)")
    ap.add_argument("--window", type=int, default=500, help="requests in flight per client")
    ap.add_argument("--clients", type=int, default=2, help="client processes")
    ap.add_argument("--dir", type=Path, default=None, help="where the bench hall's data lives (default: a temp dir)")
    args = ap.parse_args()
    if args.n > 26 * 999:
        ap.error("at most 25974 tickets a day in the bench hall")

    with tempfile.TemporaryDirectory(dir=args.dir) as tmp_s, BenchHall(Path(tmp_s)) as hall:
        out: mp.Queue = mp.Queue()  # type: ignore[type-arg]
        per = args.n // args.clients
        procs = [mp.Process(target=client, args=(hall.broker.url, i + 1, per, args.window, out)) for i in range(args.clients)]
        for p in procs:
            p.start()
        results = [out.get(timeout=180) for _ in procs]
        for p in procs:
            p.join(10)
        acked = [num for r in results for num in r[0]]
        failed = sum(r[2] for r in results)
        first = min(r[3] for r in results)
        last = max(r[4] for r in results)
        listing = subprocess.run(
            [sys.executable, "-m", "hallbus", "tickets", "--json", "--config", str(hall.config)],
            cwd=REPO, capture_output=True, text=True, timeout=60, check=True,
        ).stdout.splitlines()
        stored = [json.loads(line)["number"] for line in listing]
        note = disk_note(Path(tmp_s))

    rate = len(acked) / (last - first)
    unique = len(stored) == len(set(stored))
    present = set(acked) <= set(stored)
    print(f"acknowledged   : {len(acked)} tickets in {last - first:.2f} s ({failed} failed)")
    print(f"throughput     : {rate:,.0f} durable issues/s  (target >= 1,000; store on {note})")
    print(f"clients        : {args.clients} x {args.window} in flight")
    print(f"check          : all acknowledged stored: {present}; none twice: {unique}")
    emit({"bench": "ticket_throughput", "acknowledged": len(acked), "failed": failed,
          "seconds": round(last - first, 3), "issues_per_s": round(rate, 1), "clients": args.clients,
          "in_flight_per_client": args.window, "all_acknowledged_stored": present, "none_twice": unique,
          "store": note, "ok": rate >= 1000 and present and unique and failed == 0})
    return 0


if __name__ == "__main__":
    sys.exit(main())
