"""What staff accounts kept in the console cost a login: badge and password logins as the hall grows.

    .venv/bin/python bench/staff_accounts.py [--added 400] [--logins 200]

The controller core with the console's modules on a store on disk, the sample hall (its
staff in hall.toml and the sample secrets file; s001 a manager). Timed, each a whole batch
with its commit: a badge `window.login` (and the logout after it) with hall.toml's staff
only, then again after `--added` members were added in the console (`admin.staff.add`,
timed too) with badges and passwords; a password login of a console member (the PBKDF2
check on this thread first, as the RPC server's worker does); `admin.staff.list`.
"""

from __future__ import annotations

import argparse
import hashlib
import secrets
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import emit, summary_ms  # noqa: E402
from hallbus import schemas  # noqa: E402
from hallbus.config import parse_config  # noqa: E402
from hallbus.controller.admin import admin_module  # noqa: E402
from hallbus.controller.app import build_controller  # noqa: E402
from hallbus.controller.controller import Controller  # noqa: E402
from hallbus.controller.staff_accounts import staff_accounts_module  # noqa: E402
from hallbus.rpc import Request  # noqa: E402
from hallbus.sample import all_day_text  # noqa: E402

PASSWORD = "Bench-pass-2026"


def rpc(ctl: Controller, method: str, body: dict[str, Any], caller: str) -> dict[str, Any]:
    """One request as the RPC server runs it (its slow work first); fails loudly on an error reply."""
    raw = {"v": 1, "request_id": str(uuid.uuid4()), **body}
    req = Request(method, raw["request_id"], msgspec.convert(raw, schemas.RPC_METHODS[method][0]), raw, None, None,
                  caller)
    work = ctl.slow_work(req)
    if work is not None:
        work()
    reply = ctl.handle_batch([req])[0]
    ctl.after_replies()
    assert reply.ok, reply.error
    return dict(reply.data or {})


def timed(n: int, step: Callable[[int], object], after: Callable[[int], object] | None = None) -> list[float]:
    spent = []
    for i in range(n):
        t = time.perf_counter()
        step(i)
        spent.append(time.perf_counter() - t)
        if after is not None:
            after(i)
    return spent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--added", type=int, default=400)
    ap.add_argument("--logins", type=int, default=200)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(dir=Path.cwd()) as tmp:
        base = Path(tmp)
        text = all_day_text(base).replace('id = "s001"\nname = "李明"', 'id = "s001"\nname = "李明"\nrole = "manager"')
        config = parse_config(text, base / "hall.toml")
        ctl = build_controller(config, base / "data", hall_key=b"k" * 32,
                               factories=[admin_module, staff_accounts_module], refresh_async=False)
        token = secrets.token_urlsafe(32)
        rpc(ctl, "admin.login", {"staff": "s001", "password": "hall001",
                                 "session_hash": hashlib.sha256(token.encode()).hexdigest()}, "web")
        badge = next(s.badge_uid for s in ctl.config.staff if s.badge_uid)

        def sit(body: dict[str, Any]) -> None:
            rpc(ctl, "window.login", {"window": "1", **body}, "counter-1")

        def leave(_i: int) -> None:
            rpc(ctl, "window.logout", {"window": "1"}, "counter-1")

        before = timed(args.logins, lambda _i: sit({"badge_uid": badge}), leave)
        adds = timed(args.added, lambda i: rpc(ctl, "admin.staff.add", {
            "session": token, "id": f"n{i:04d}", "name": f"新人{i}", "badge_uid": f"0b{i:06x}",
            **({"password": PASSWORD} if i == 0 else {})}, "web"))
        after = timed(args.logins, lambda i: sit({"badge_uid": f"0b{(args.added - 1 - i) % args.added:06x}"}), leave)
        by_password = timed(min(args.logins, 20), lambda _i: sit({"staff": "n0000", "password": PASSWORD}), leave)
        listed = timed(50, lambda _i: rpc(ctl, "admin.staff.list", {"session": token}, "web"))
        ctl.close()
    emit({"bench": "staff_accounts", "hall_toml_staff": len(config.staff), "added_in_console": args.added,
          "badge_login_hall_toml_only": summary_ms(before), "admin_staff_add": summary_ms(adds),
          "badge_login_with_added": summary_ms(after), "password_login_console_member": summary_ms(by_password),
          "admin_staff_list": summary_ms(listed)})


if __name__ == "__main__":
    main()
