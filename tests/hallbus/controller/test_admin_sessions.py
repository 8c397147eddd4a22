"""The console's side in the controller: logins checked off the writer, sessions, throttling, the audit log."""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hallbus import schemas
from hallbus.config import HallConfig, load_config
from hallbus.controller import admin
from hallbus.controller.admin import admin_module
from hallbus.controller.app import build_controller
from hallbus.controller.clock import ManualClock
from hallbus.controller.controller import Controller
from hallbus.rpc import RpcFault
from tests.hallbus.controller.helpers import RecordingPublisher, make_config, request

LOGIN = "[login]\nstaff_free_attempts = 3\nnode_free_attempts = 6\nbackoff_s = 30\nmax_backoff_s = 120\nforget_after_s = 600\n"


def with_roles(text: str) -> str:
    """The sample hall with s001 a manager and s002 a supervisor (s003.. stay staff)."""
    text = text.replace('id = "s001"\nname = "李明"', 'id = "s001"\nname = "李明"\nrole = "manager"')
    return text.replace('id = "s002"\nname = "王芳"', 'id = "s002"\nname = "王芳"\nrole = "supervisor"')


@pytest.fixture
def config(tmp_path: Path) -> HallConfig:
    make_config(tmp_path, extra=LOGIN)
    path = tmp_path / "hall.toml"
    path.write_text(with_roles(path.read_text(encoding="utf-8")), encoding="utf-8")
    return load_config(path)


@pytest.fixture
def ctl(config: HallConfig, clock: ManualClock, tmp_path: Path) -> Iterator[Controller]:
    c = build_controller(
        config, tmp_path / "data", clock=clock, hall_key=b"k" * 32, publisher=RecordingPublisher(),
        factories=[admin_module], refresh_async=False,
    )
    try:
        yield c
    finally:
        c.close()


def rpc(ctl: Controller, method: str, body: dict[str, Any], caller: str = "web") -> dict[str, Any]:
    """One request as the RPC server runs it: the slow work on this (worker) thread, then the batch."""
    req = request(method, body, caller=caller)
    work = ctl.slow_work(req)
    if work is not None:
        work()
    reply = ctl.handle_batch([req])[0]
    ctl.after_replies()
    if not reply.ok:
        assert reply.error is not None
        raise RpcFault(reply.error.code, reply.error.message, reply.error.message_en)
    return dict(reply.data or {})


def login(ctl: Controller, staff: str, password: str, client: str = "10.0.0.5") -> tuple[str, dict[str, Any]]:
    token = secrets.token_urlsafe(32)
    data = rpc(ctl, "admin.login", {"staff": staff, "password": password, "client": client,
                                    "session_hash": hashlib.sha256(token.encode()).hexdigest()})
    return token, data


def code_of(fn: Any) -> str:
    try:
        fn()
    except RpcFault as f:
        return f.code
    return "ok"


def test_a_login_opens_a_session_that_names_the_account_and_ends(ctl: Controller, clock: ManualClock) -> None:
    token, data = login(ctl, "s001", "hall001")
    reply = schemas.ADMIN_LOGIN.decode(data)
    assert (reply.account.id, reply.account.name, reply.account.role) == ("s001", "李明", "manager")
    assert reply.expires_at.startswith("2026-") and reply.expires_at.endswith("+08:00")
    again = schemas.ADMIN_SESSION.decode(rpc(ctl, "admin.session", {"session": token}))
    assert again.account.id == "s001"
    stored = ctl.store.conn.execute("SELECT token_hash FROM admin_sessions").fetchall()
    assert stored == [(hashlib.sha256(token.encode()).hexdigest(),)], "only the token's hash is kept"
    replies = ctl.store.conn.execute("SELECT reply FROM rpc_replies").fetchall()
    assert token not in repr(replies) and "hall001" not in repr(replies)
    clock.advance(admin.SESSION_S + 1)
    assert code_of(lambda: rpc(ctl, "admin.session", {"session": token})) == "session_invalid"


def test_logout_ends_the_session_and_a_wrong_token_is_no_session(ctl: Controller) -> None:
    token, _ = login(ctl, "s002", "hall002")
    assert code_of(lambda: rpc(ctl, "admin.session", {"session": token + "x"})) == "session_invalid"
    assert rpc(ctl, "admin.logout", {"session": token}) == {"ended": True}
    assert code_of(lambda: rpc(ctl, "admin.session", {"session": token})) == "session_invalid"


def test_wrong_passwords_back_off_per_staff_id_and_per_client(ctl: Controller, clock: ManualClock) -> None:
    outcomes = [code_of(lambda i=i: login(ctl, "s001", f"guess{i}", client="10.0.0.7")) for i in range(6)]
    assert outcomes == ["login_failed"] * 3 + ["login_throttled"] * 3
    # the right password from another computer waits too: the staff id's key
    assert code_of(lambda: login(ctl, "s001", "hall001", client="10.0.0.8")) == "login_throttled"
    # another staff member from the guesser's computer is not held up by s001's key, until the client's own runs out
    assert code_of(lambda: login(ctl, "s002", "hall002", client="10.0.0.7")) == "ok"
    clock.advance(31)
    ctl.tick()  # the controller ticks every second: the hashing thread's hint follows the store
    assert code_of(lambda: login(ctl, "s001", "hall001", client="10.0.0.8")) == "ok"
    # one address guessing many ids is slowed by the client key (6 free)
    codes = [code_of(lambda i=i: login(ctl, f"nobody{i}", "x", client="10.9.9.9")) for i in range(8)]
    assert codes == ["login_failed"] * 6 + ["login_throttled"] * 2
    # IPv6: one /64 is one client
    codes = [code_of(lambda i=i: login(ctl, f"n{i}", "x", client=f"2001:db8::{i + 1}")) for i in range(7)]
    assert codes[-1] == "login_throttled"


def test_the_password_is_hashed_off_the_writer_thread(ctl: Controller, monkeypatch: pytest.MonkeyPatch) -> None:
    """The batch (the writer) never runs PBKDF2: only the slow work does, on its own thread."""
    seen: list[str] = []
    real = admin.verify_password

    def counting(password: str, stored: str) -> bool:
        seen.append(threading.current_thread().name)
        return real(password, stored)

    monkeypatch.setattr(admin, "verify_password", counting)
    token = secrets.token_urlsafe(32)
    req = request("admin.login", {"staff": "s001", "password": "hall001",
                                  "session_hash": hashlib.sha256(token.encode()).hexdigest()}, caller="web")
    work = ctl.slow_work(req)
    assert work is not None
    worker = threading.Thread(target=work, name="rpc-slow")
    worker.start()
    worker.join(30)
    assert seen == ["rpc-slow"]
    assert ctl.handle_batch([req])[0].ok
    assert seen == ["rpc-slow"], "the writer's batch hashed nothing"
    # a request that arrives without its slow work is refused, not hashed on the writer
    bare = request("admin.login", {"staff": "s001", "password": "hall001", "session_hash": "0" * 64}, caller="web")
    reply = ctl.handle_batch([bare])[0]
    assert not reply.ok and reply.error is not None and reply.error.code == "login_throttled"
    assert seen == ["rpc-slow"]


def test_logins_failed_logins_and_logouts_are_in_the_audit_log(ctl: Controller) -> None:
    assert code_of(lambda: login(ctl, "s003", "wrong", client="10.0.0.9")) == "login_failed"
    assert code_of(lambda: login(ctl, "<script>x", "wrong")) == "login_failed"
    token, _ = login(ctl, "s002", "hall002", client="10.0.0.2")
    rpc(ctl, "admin.logout", {"session": token, "client": "10.0.0.2"})
    boss, _ = login(ctl, "s001", "hall001")
    page = schemas.ADMIN_AUDIT.decode(rpc(ctl, "admin.audit", {"session": boss}))
    got = [(e.actor, e.action, e.client) for e in page.entries]
    assert got == [
        ("s001", "login", "10.0.0.5"), ("s002", "logout", "10.0.0.2"), ("s002", "login", "10.0.0.2"),
        ("<script>x", "login_failed", "10.0.0.5"), ("s003", "login_failed", "10.0.0.9"),
    ]
    assert page.entries[0].after == '{"role": "manager"}' and page.entries[0].ts.endswith("+08:00")
    older = schemas.ADMIN_AUDIT.decode(rpc(ctl, "admin.audit", {"session": boss, "limit": 2}))
    assert [e.id for e in older.entries] == [page.entries[0].id, page.entries[1].id] and older.more
    rest = schemas.ADMIN_AUDIT.decode(rpc(ctl, "admin.audit", {"session": boss, "before": older.entries[-1].id}))
    assert [e.id for e in rest.entries] == [e.id for e in page.entries[2:]] and not rest.more


def test_staff_may_not_read_the_audit_log(ctl: Controller) -> None:
    token, data = login(ctl, "s003", "hall003")
    assert data["account"]["role"] == "staff"
    assert code_of(lambda: rpc(ctl, "admin.audit", {"session": token})) == "forbidden"
    sup, _ = login(ctl, "s002", "hall002")
    assert rpc(ctl, "admin.audit", {"session": sup})["entries"]
    assert code_of(lambda: rpc(ctl, "admin.audit", {"session": "nope"})) == "session_invalid"


def test_staff_may_neither_read_nor_move_follow_ups(ctl: Controller) -> None:
    token, _ = login(ctl, "s003", "hall003")
    assert code_of(lambda: rpc(ctl, "admin.followups", {"session": token})) == "forbidden"
    move = {"session": token, "id": 1, "from_state": "open", "to_state": "verified", "note": "x"}
    assert code_of(lambda: rpc(ctl, "admin.followup.move", move)) == "forbidden"
    assert code_of(lambda: rpc(ctl, "admin.followup.move", {**move, "session": "nope"})) == "session_invalid"


def test_the_audit_log_is_append_only(ctl: Controller) -> None:
    """No RPC edits it (only admin methods touch it, and they append), and the store refuses edits."""
    login(ctl, "s001", "hall001")
    conn = ctl.store.conn
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("UPDATE audit_log SET actor = 'someone else'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("DELETE FROM audit_log")
    assert conn.execute("SELECT actor FROM audit_log").fetchall() == [("s001",)]
    admin_methods = sorted(m for m in ctl.handlers if m.startswith("admin."))
    assert admin_methods == ["admin.audit", "admin.cases", "admin.followup", "admin.followup.move", "admin.followups",
                             "admin.login", "admin.logout", "admin.session", "admin.settings", "admin.settings.set"]
    assert "audit_log" not in str(ctl.handlers.keys()), "no method is named for writing the log"


def test_only_configured_staff_ids_become_throttle_keys(ctl: Controller) -> None:
    """Junk ids count only against the client: nothing a request sends can grow the table but addresses."""
    for i in range(4):
        login_code = code_of(lambda i=i: login(ctl, f"junk-{i}", "x", client="10.1.1.1"))
        assert login_code == "login_failed"
    keys = {k for (k,) in ctl.store.conn.execute("SELECT key FROM admin_login_failures")}
    assert keys == {"client:10.1.1.1"}


def test_only_the_signed_web_node_may_use_the_console_methods(ctl: Controller, config: HallConfig) -> None:
    """Behind the broker ACL, the controller's node guard: admin.* from a counter (or unsigned) is refused."""
    from hallbus.nodeauth import NodeGuard
    from hallbus.nodesign import sign

    keys = {"web": b"w" * 32, "counter-1": b"c" * 32}
    guard = NodeGuard(ctl, config, keys)

    def signed(node: str | None, method: str, body: dict[str, Any]) -> str:
        req = request(method, body, caller=node)
        if node is not None:
            req = request(method, {**body, "node": node, "sig": sign(keys[node], node, method, req.request_id)},
                          request_id=req.request_id, caller=node)
        work = guard.slow_work(req)
        if work is not None:
            work()
        reply = guard.handle_batch([req])[0]
        return "ok" if reply.ok else (reply.error.code if reply.error else "?")

    body = {"staff": "s001", "password": "hall001", "session_hash": hashlib.sha256(b"t").hexdigest()}
    assert signed("counter-1", "admin.login", body) == "forbidden"
    assert signed(None, "admin.login", body) == "forbidden"
    assert signed("web", "admin.login", body) == "ok"
