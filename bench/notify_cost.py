"""What 到号提醒 adds to a call: the notify module's work inside `window.call_next`'s transaction.

    .venv/bin/python bench/notify_cost.py [--waiting 400] [--calls 300]

The controller core on a store on disk, `[notify]` on with `ahead = 3`, `--waiting` tickets
of one service each with a phone number; one window calls and finishes `--calls` of them.
Timed: the module's `on_queue_event` for each `called` event (the called ticket's row, the
near check of the queue's front and the near row it makes), and the whole `call_next` batch
(with its commit) beside it. No gateway: the dispatcher is not part of the batch.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import emit, summary_ms  # noqa: E402
from hallbus import schemas  # noqa: E402
from hallbus.config import parse_config  # noqa: E402
from hallbus.controller.app import build_controller, feature_module_factories  # noqa: E402
from hallbus.controller.controller import Controller  # noqa: E402
from hallbus.controller.module import QueueEvent, Tx  # noqa: E402
from hallbus.notify.module import NotifyModule  # noqa: E402
from hallbus.rpc import Request  # noqa: E402
from hallbus.sample import all_day_text  # noqa: E402

NOTIFY = '[notify]\nenabled = true\nurl = "http://127.0.0.1:9/notify"\nahead = 3\n\n'


def rpc(ctl: Controller, method: str, body: dict[str, Any]) -> None:
    """One request as the RPC server hands it over; fails loudly on an error reply."""
    raw = {"v": 1, "request_id": str(uuid.uuid4()), **body}
    req = Request(method, raw["request_id"], msgspec.convert(raw, schemas.RPC_METHODS[method][0]), raw, None, None,
                  "counter-1")
    reply = ctl.handle_batch([req])[0]
    ctl.after_replies()
    assert reply.ok, reply.error


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--waiting", type=int, default=400)
    ap.add_argument("--calls", type=int, default=300)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(dir=Path.cwd()) as tmp:
        base = Path(tmp)
        text = re.sub(r"(?ms)^\[notify\].*?(?=^\[)", lambda _m: NOTIFY, all_day_text(base), count=1)
        config = parse_config(text, base / "hall.toml")
        ctl = build_controller(config, base / "data", hall_key=b"k" * 32, factories=feature_module_factories(),
                               refresh_async=False)
        module = next(m for m in ctl.modules if isinstance(m, NotifyModule))
        spent: list[float] = []
        hear = module.on_queue_event

        def timed(tx: Tx, event: QueueEvent) -> None:
            t = time.perf_counter()
            hear(tx, event)
            if event.kind == "called":
                spent.append(time.perf_counter() - t)

        module.on_queue_event = timed  # type: ignore[method-assign]
        for i in range(args.waiting):
            rpc(ctl, "ticket.issue", {"service": "A", "phone": f"138{i:08d}"})
        staff = config.staff[0]
        rpc(ctl, "window.login", {"window": "1", "staff": staff.id, "password": "hall" + staff.id[-3:]})
        calls: list[float] = []
        for _ in range(min(args.calls, args.waiting)):
            t = time.perf_counter()
            rpc(ctl, "window.call_next", {"window": "1"})
            calls.append(time.perf_counter() - t)
            rpc(ctl, "window.finish", {"window": "1"})
        rows = ctl.store.conn.execute("SELECT kind, COUNT(*) FROM notify_outbox GROUP BY kind").fetchall()
        ctl.close()
    emit({"bench": "notify_cost", "waiting_with_numbers": args.waiting, "notify_work": summary_ms(spent),
          "call_next_batch": summary_ms(calls), "outbox": dict(rows)})


if __name__ == "__main__":
    main()
