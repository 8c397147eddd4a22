"""The console's cases (`admin.cases`) in the controller's writer: time per request with many open cases.

    .venv/bin/python bench/admin_cases.py [--cases 20000] [--runs 50]

N open cases, due from 60 days ago to 30 days ahead (the worst case: most of them listed,
most red), saved into a fresh store with the records' schema; one deadline pass sends
their alerts (and so writes their escalations); then a manager's session asks
`admin.cases` (no filter, and one department) `--runs` times, as the RPC server runs it
(the writer's batch: the queue waits meanwhile). Prints p50/p99 and the reply's size,
then a JSON line.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import random
import secrets
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import msgspec  # noqa: E402

from bench._common import emit, summary_ms  # noqa: E402
from hallbus import schemas  # noqa: E402
from hallbus.config import DEFAULT_CONFIG, parse_config  # noqa: E402
from hallbus.controller.app import build_controller, feature_module_factories, open_store  # noqa: E402
from hallbus.controller.clock import ManualClock  # noqa: E402
from hallbus.controller.controller import Controller  # noqa: E402
from hallbus.records.cases import CaseRecord, CasesModule, save_case  # noqa: E402
from hallbus.rpc import Request  # noqa: E402

T0 = dt.datetime(2026, 3, 3, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def ask(ctl: Controller, method: str, body: dict[str, Any]) -> dict[str, Any]:
    """One request as the RPC server runs it: its slow work (if any) first, then the writer's batch."""
    raw = {"v": 1, "request_id": secrets.token_hex(8), **body}
    req = Request(method, raw["request_id"], msgspec.convert(raw, type=schemas.RPC_METHODS[method][0]), raw, None, None,
                  "web")
    work = ctl.slow_work(req)
    if work is not None:
        work()
    reply = ctl.handle_batch([req])[0]
    assert reply.ok, reply.error
    ctl.after_replies()
    return dict(reply.data or {})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=20000)
    ap.add_argument("--runs", type=int, default=50)
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-cases-"))
    text = DEFAULT_CONFIG.read_text(encoding="utf-8").replace('data_dir = "var/hall"', f'data_dir = "{tmp / "data"}"')
    text = text.replace('key_file = "var/hall/hall.key"', f'key_file = "{tmp / "hall.key"}"')
    text = text.replace('id = "s001"\nname = "李明"', 'id = "s001"\nname = "李明"\nrole = "manager"')
    path = tmp / "hall.toml"
    path.write_text(text, encoding="utf-8")
    (tmp / "hall.key").write_text("5a" * 32 + "\n")
    config = parse_config(text, path)
    rng = random.Random(1)
    with open_store(tmp / "data") as store:
        for k in range(a.cases):
            due = T0 + dt.timedelta(days=rng.uniform(-60, 30))
            save_case(store.conn, CaseRecord(
                case_no=f"ZW{k:010d}", item="个体工商户设立登记", item_code=None, applicant_masked="张*", id_hash=None,
                id_masked=None, verify_hash=None, status="reviewing", open=1,
                accepted_ts=(due - dt.timedelta(days=20)).timestamp(), promised_days=10, due_ts=due.timestamp(),
                finished_ts=None, handler=f"承办人{k % 40}", department=f"部门{k % 12}", result=None, pickup_window=None,
                timeline="[]", source="bench", updated_ts=T0.timestamp()))
        store.conn.commit()
    ctl = build_controller(config, tmp / "data", clock=ManualClock(T0), hall_key=b"k" * 32,
                           factories=feature_module_factories(), refresh_async=False)
    try:
        cases = next(m for m in ctl.modules if isinstance(m, CasesModule))
        t = time.perf_counter()
        sent = ctl.run_tx(cases.scan_deadlines)
        scan_s = time.perf_counter() - t
        token = secrets.token_urlsafe(32)
        ask(ctl, "admin.login", {"staff": "s001", "password": "hall001",
                                 "session_hash": hashlib.sha256(token.encode()).hexdigest()})
        out: dict[str, Any] = {"bench": "admin_cases", "cases": a.cases, "alerts": sent, "pass_ms": round(scan_s * 1000)}
        for name, extra in (("all", {}), ("one_department", {"department": "部门3"})):
            times = []
            for _ in range(a.runs):
                t = time.perf_counter()
                got = ask(ctl, "admin.cases", {"session": token, **extra})
                times.append(time.perf_counter() - t)
            size = len(json.dumps(got, ensure_ascii=False).encode())
            s = summary_ms(times)
            print(f"admin.cases {name}: {got['total']} listed ({got['red']} red, {got['yellow']} yellow), "
                  f"{len(got['cases'])} sent; p50 {s['p50_ms']:.1f} ms, p99 {s['p99_ms']:.1f} ms; reply {size / 1024:.1f} KiB")
            out[name] = {**s, "listed": got["total"], "reply_kib": round(size / 1024, 1)}
        emit(out)
    finally:
        ctl.close()


if __name__ == "__main__":
    main()
