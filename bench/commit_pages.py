"""WAL frames (B-tree pages) a `ticket.issue` commit writes: what the commit's fsync has to carry.

    .venv/bin/python bench/commit_pages.py [--n 2000] [--warmup 300]

The controller core runs in this process (no broker) on the bench hall: 26 walk-in
services, tickets taken round-robin as in bench/ticket_issue.py, one request per batch.
Nothing checkpoints meanwhile, so the WAL only grows and each commit's frames are the
growth of the `-wal` file divided by the frame size (page + 24-byte header).
Target: five frames in the usual case (tickets table, its (day, number) key, the
service-queue index, the stored reply and its request_id key); page splits and the
database growing (page 1 records the size) add one now and then.
"""

from __future__ import annotations

import argparse
import collections
import logging
import sys
import tempfile
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import msgspec  # noqa: E402

from bench._common import emit  # noqa: E402
from bench._hall import SERVICES, bench_config  # noqa: E402
from hallbus import schemas  # noqa: E402
from hallbus.config import load_config  # noqa: E402
from hallbus.controller.app import build_controller  # noqa: E402
from hallbus.controller.store import db_path  # noqa: E402
from hallbus.rpc import Request  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=2000, help="measured commits")
    ap.add_argument("--warmup", type=int, default=300)
    args = ap.parse_args()
    logging.disable(logging.WARNING)
    req_type = schemas.RPC_METHODS["ticket.issue"][0]
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        ctl = build_controller(load_config(bench_config(tmp)), tmp / "data", refresh_async=False)
        try:
            wal = Path(str(db_path(tmp / "data")) + "-wal")
            page = int(ctl.store.conn.execute("PRAGMA page_size").fetchone()[0])
            frame = page + 24

            def issue(i: int) -> None:
                rid = str(uuid.uuid4())
                raw = {"v": 1, "request_id": rid, "ts": schemas.now_iso(), "service": SERVICES[i % len(SERVICES)]}
                req = Request("ticket.issue", rid, msgspec.convert(raw, req_type), None, "reply/x", None, "bench")
                reply = ctl.handle_batch([req])[0]
                if not reply.ok:
                    raise RuntimeError(f"ticket.issue failed: {reply.error}")

            for i in range(args.warmup):
                issue(i)
            counts: collections.Counter[int] = collections.Counter()
            for i in range(args.warmup, args.warmup + args.n):
                before = wal.stat().st_size
                issue(i)
                counts[(wal.stat().st_size - before) // frame] += 1
        finally:
            ctl.close()
    total = sum(k * v for k, v in counts.items())
    mean = total / args.n
    usual = counts.most_common(1)[0][0]
    print(f"frames per ticket.issue commit: mean {mean:.2f}, usual {usual} ({counts[usual] / args.n:.0%} of commits)")
    print("distribution   : " + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())))
    emit({"bench": "commit_pages", "n": args.n, "page_size": page, "mean_frames": round(mean, 2),
          "usual_frames": usual, "distribution": dict(sorted(counts.items())), "ok": usual <= 5})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
