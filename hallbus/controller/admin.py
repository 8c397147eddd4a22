"""The manager console's side in the controller (SPEC 12.2): console logins, sessions, the audit log.

hallweb cannot read the staff secrets (docs/install.md), so it asks here: `admin.login`
sends a staff id and password; the PBKDF2 check runs on the RPC server's worker thread
(`preparers`), never in the writer's transaction, and not at all while a key waits.
Failed logins back off per staff id and per client address exactly as counter logins do
(`hallbus.controller.backoff`, table `admin_login_failures`, the `[login]` limits).

A session is a random token hallweb made; the controller stores only its SHA-256 with
the staff id and its end (`SESSION_S` after the login), and the account is read from the
hall's effective staff directory (`hallbus.controller.staff_directory`: hall.toml under the
console's accounts) in the transaction of every request, so a changed role, a disabled or
a removed member counts at once (disabling also ends the member's sessions, `end_sessions`).
`acting(tx, token, roles)` is how every later console method finds who acts and refuses
anyone else: settings, follow-ups and reports call it first. The follow-up methods
(`admin.followups`, `admin.followup`, `admin.followup.move`) are in
`hallbus.controller.admin_followups`, the cases' (`admin.cases`) in
`hallbus.controller.admin_cases`, the settings methods (`admin.settings`,
`admin.settings.set`) in `hallbus.controller.admin_settings`. `report.query`
(`hallbus.reports.module`) is checked against the acting session too: `lend_acting` hands it
this module's `acting`.

The audit log (`audit_log`) is append-only: `audit(tx, ...)` adds a line; triggers in the
store refuse every UPDATE and DELETE, and no RPC method writes it but by appending.
Logins, failed logins and logouts are lines too. Supervisors and managers read it with
`admin.audit`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import json
import logging
import math
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any

from hallbus import schemas
from hallbus.config import HallConfig
from hallbus.controller import errors
from hallbus.controller.admin_cases import CaseDesk
from hallbus.controller.admin_followups import FollowupDesk
from hallbus.controller.admin_settings import SettingsDesk
from hallbus.controller.backoff import Backoff, Limits
from hallbus.controller.module import ControllerModule, ModuleContext, Tx, TxHandler
from hallbus.controller.settings import HallSettings
from hallbus.controller.staff_directory import StaffDirectory
from hallbus.passwords import verify_password
from hallbus.rpc import Request, RpcFault
from hallbus.schemas.admin import (
    AUDIT_PAGE_MAX,
    AdminAccount,
    AdminAuditReq,
    AdminLoginReq,
    AdminSessionReq,
)
from hallbus.staff_secrets import with_staff_secrets

log = logging.getLogger(__name__)

SESSION_S = 8 * 3600  # a console session ends 8 hours after its login (a working day), whatever happens
ACTOR_MAX = 40  # a typed staff id kept in the audit log is cut here
CLIENT_MAX = 64
_HASH_RE = re.compile(r"^[0-9a-f]{64}$")
READS_AUDIT = ("manager", "supervisor")

ADMIN_MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE admin_sessions (
        token_hash TEXT PRIMARY KEY,
        staff TEXT NOT NULL,
        created_ts REAL NOT NULL,
        expires_ts REAL NOT NULL,
        client TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX admin_sessions_expiry ON admin_sessions(expires_ts);
    CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        ts TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        subject TEXT NOT NULL DEFAULT '',
        before TEXT,
        after TEXT,
        client TEXT NOT NULL DEFAULT ''
    );
    CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
    CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
    CREATE TABLE admin_login_failures (
        key TEXT PRIMARY KEY,
        failures INTEGER NOT NULL,
        last_ts REAL NOT NULL,
        blocked_until REAL NOT NULL DEFAULT 0
    );
    CREATE INDEX admin_login_failures_last ON admin_login_failures(last_ts);
    """,
)


def token_hash(token: str) -> str:
    """The SHA-256 (hex) under which a session's token is kept."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def client_key(client: str) -> str:
    """The throttle key of a browser's address: an IPv4 address, or an IPv6 address's /64 (one household)."""
    try:
        addr = ipaddress.ip_address(client.strip())
    except ValueError:
        return "client:?"
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is None:
        return "client:" + str(ipaddress.IPv6Network((addr, 64), strict=False).network_address) + "/64"
    return f"client:{addr.ipv4_mapped or addr}" if isinstance(addr, ipaddress.IPv6Address) else f"client:{addr}"


def _clean(text: str, limit: int) -> str:
    """Free text for the audit log: printable, cut to `limit` characters."""
    return "".join(c if c.isprintable() else "?" for c in text.strip())[:limit]


def audit(
    tx: Tx, *, actor: str, action: str, subject: str = "", before: Any = None, after: Any = None, client: str = ""
) -> None:
    """Append one line to the audit log (who, when, what, before → after) in this transaction."""
    tx.execute(
        "INSERT INTO audit_log(ts, actor, action, subject, before, after, client) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            tx.now_iso, _clean(actor, ACTOR_MAX), action, subject,
            None if before is None else json.dumps(before, ensure_ascii=False, sort_keys=True),
            None if after is None else json.dumps(after, ensure_ascii=False, sort_keys=True),
            _clean(client, CLIENT_MAX),
        ),
    )


def session_invalid() -> RpcFault:
    """A token that names no live session (logged out, expired, or the account is gone)."""
    return RpcFault(
        "session_invalid", "登录已过期或已退出，请重新登录。", "The session has ended or expired; please sign in again."
    )


def login_failed() -> RpcFault:
    """Unknown staff id or wrong password (the same answer for both, on purpose)."""
    return RpcFault(
        "login_failed", "工号或密码不正确，请重新输入；忘记密码请联系大厅管理员。",
        "Wrong staff id or password. Please try again; if you forgot your password, ask the hall manager.",
    )


def role_forbidden(role: str) -> RpcFault:
    """An account whose role may not do this."""
    return RpcFault(
        "forbidden", f"您的账号角色（{role}）无权进行此操作。", f"Your account's role ({role}) may not do this."
    )


def throttled(wait_s: float, *, staff: str | None) -> RpcFault:
    """Too many failed console logins for a staff id or from one address: how long to wait."""
    minutes = max(1, math.ceil(wait_s / 60))
    if staff is not None:
        return RpcFault(
            "login_throttled",
            f"工号{staff}密码错误次数过多，已暂停登录，请约{minutes}分钟后再试；如非本人操作，请告知大厅管理员。",
            f"Too many wrong passwords for {staff}: sign-in is paused. Try again in about {minutes} min. "
            "Not you? Tell the hall manager.",
        )
    return RpcFault(
        "login_throttled",
        f"本机登录失败次数过多，已暂停登录，请约{minutes}分钟后再试。",
        f"Too many failed sign-ins from this computer: sign-in is paused. Try again in about {minutes} min.",
    )


class AdminModule(ControllerModule):
    """Console logins and sessions, and the audit log."""

    name = "admin"
    migrations = ADMIN_MIGRATIONS

    def __init__(
        self, config: HallConfig, directory: StaffDirectory | None = None, settings: HallSettings | None = None
    ) -> None:
        self.config = config
        # The one process that may know the hashes (the composition root already merged them;
        # merging again is a no-op then, and makes a module built alone in a tool right too).
        self.directory = directory or StaffDirectory(with_staff_secrets(config))
        rules = config.login
        self.backoff = Backoff("admin_login_failures", forget_s=rules.forget_after_s)
        self.staff_limits = Limits(rules.staff_free_attempts, rules.backoff_s, rules.max_backoff_s)
        self.client_limits = Limits(rules.node_free_attempts, rules.backoff_s, rules.max_backoff_s)
        self._waits: dict[str, float] = {}  # the hashing thread's hint, as in login_throttle
        self._now = 0.0
        self.followups = FollowupDesk(config, self.acting, audit)
        self.cases = CaseDesk(config, self.acting)
        self.settings = SettingsDesk(settings, self.acting, audit) if settings is not None else None

    def handlers(self) -> Mapping[str, TxHandler]:
        return {
            "admin.login": self._login,
            "admin.session": self._session,
            "admin.logout": self._logout,
            "admin.audit": self._audit,
            **self.followups.handlers(),
            **self.cases.handlers(),
            **(self.settings.handlers() if self.settings is not None else {}),
        }

    def preparers(self) -> Mapping[str, Callable[[Request], None]]:
        """The password is hashed on the RPC server's worker thread, and only while no key of it waits."""
        return {"admin.login": self._prepare_login}

    # --- accounts and sessions -----------------------------------------------------------

    def account(self, tx: Tx, staff_id: str) -> AdminAccount | None:
        """The console account of a staff id of the hall who may sign in now, or None."""
        return account_of(tx, self.directory, staff_id)

    def acting(self, tx: Tx, token: str, roles: Collection[str] | None = None) -> AdminAccount:
        """The account a session's token acts for, if it may act in one of `roles` (None: any role).

        Raises `session_invalid` for a token of no live session, `forbidden` for a role not allowed.
        """
        return acting_in(tx, self.directory, token, roles)

    def _keys(self, b: AdminLoginReq) -> tuple[str | None, str]:
        sid = b.staff.strip()
        return (f"staff:{sid}" if self.directory.known(sid) else None), client_key(b.client)

    def _prepare_login(self, req: Request) -> None:
        b: AdminLoginReq = req.body
        staff_key, client = self._keys(b)
        if any(self._waits.get(k, 0.0) > self._now for k in (staff_key, client) if k is not None):
            return
        stored = self.directory.hash_hint(b.staff)
        req.prepared = {"password_ok": bool(stored and verify_password(b.password, stored)), "hash": stored}

    def _check_wait(self, tx: Tx, staff_key: str | None, client: str) -> None:
        self._now = max(self._now, tx.now_ts)
        for key in (staff_key, client):
            if key is None:
                continue
            until = self.backoff.blocked_until(tx, key)
            if until > tx.now_ts:
                self._waits[key] = until
                raise throttled(until - tx.now_ts, staff=key.split(":", 1)[1] if key == staff_key else None)

    def _failed(self, tx: Tx, b: AdminLoginReq, staff_key: str | None, client: str) -> None:
        for key, limits in ((client, self.client_limits), (staff_key, self.staff_limits)):
            if key is None:
                continue
            failures, until = self.backoff.fail(tx, key, limits)
            if until:
                self._waits[key] = until
                log.warning("console login: %s failed %d times; it waits %.0f s", key, failures, until - tx.now_ts)
        audit(tx, actor=b.staff, action="login_failed", client=b.client)

    def _login(self, req: Request, tx: Tx) -> Mapping[str, Any]:
        b: AdminLoginReq = req.body
        if not _HASH_RE.match(b.session_hash):
            raise errors.bad_request("会话标识无效。", "session_hash must be a hex SHA-256.")
        staff_key, client = self._keys(b)
        self._check_wait(tx, staff_key, client)  # before the password counts at all
        checked = (req.prepared or {}).get("password_ok")
        if checked is None:  # the hint said a key waited, and its wait ended within the last tick
            for key in (staff_key, client):
                self._waits.pop(key or "", None)  # the next attempt is hashed; the writer hashes nothing
            raise RpcFault("login_throttled", "登录暂停刚刚结束，请再试一次。", "The pause has just ended; please try again.")
        if req.prepared is not None and req.prepared.get("hash") != self.directory.hash_of(tx.conn, b.staff):
            raise RpcFault("login_retry", "该工号的密码刚刚被更改，请再输入一次。",
                           "The password of this staff id has just been changed; please enter it once more.")
        acc = self.account(tx, b.staff.strip())
        if not checked or acc is None:
            tx.keep_on_fault(lambda t: self._failed(t, b, staff_key, client))
            raise login_failed()
        if staff_key is not None:
            self.backoff.clear(tx, staff_key)
            self._waits.pop(staff_key, None)
        expires = tx.now_ts + SESSION_S
        tx.execute(
            "INSERT INTO admin_sessions(token_hash, staff, created_ts, expires_ts, client) VALUES (?, ?, ?, ?, ?)",
            (b.session_hash, acc.id, tx.now_ts, expires, _clean(b.client, CLIENT_MAX)),
        )
        audit(tx, actor=acc.id, action="login", after={"role": acc.role}, client=b.client)
        return self._reply(tx, acc, expires)

    def _reply(self, tx: Tx, acc: AdminAccount, expires_ts: float) -> Mapping[str, Any]:
        ends = dt.datetime.fromtimestamp(expires_ts, tx.now.tzinfo).isoformat(timespec="seconds")
        return {"account": schemas.to_builtins(acc), "expires_at": ends}

    def _session(self, req: Request, tx: Tx) -> Mapping[str, Any]:
        b: AdminSessionReq = req.body
        acc = self.acting(tx, b.session)
        row = tx.execute("SELECT expires_ts FROM admin_sessions WHERE token_hash = ?", (token_hash(b.session),)).fetchone()
        return self._reply(tx, acc, float(row[0]))

    def _logout(self, req: Request, tx: Tx) -> Mapping[str, Any]:
        b: AdminSessionReq = req.body
        th = token_hash(b.session)
        row = tx.execute("SELECT staff FROM admin_sessions WHERE token_hash = ?", (th,)).fetchone()
        if row is None:
            return {"ended": True}
        tx.execute("DELETE FROM admin_sessions WHERE token_hash = ?", (th,))
        acc = self.account(tx, str(row[0]))
        audit(tx, actor=str(row[0]), action="logout", before={"role": acc.role if acc else None}, client=b.client)
        return {"ended": True}

    def _audit(self, req: Request, tx: Tx) -> Mapping[str, Any]:
        b: AdminAuditReq = req.body
        self.acting(tx, b.session, READS_AUDIT)
        limit = max(1, min(b.limit, AUDIT_PAGE_MAX))
        before = b.before if b.before is not None else 2**62
        rows = tx.execute(
            "SELECT id, ts, actor, action, subject, before, after, client FROM audit_log WHERE id < ? "
            "ORDER BY id DESC LIMIT ?",
            (before, limit + 1),
        ).fetchall()
        entries = [
            {"id": r[0], "ts": r[1], "actor": r[2], "action": r[3], "subject": r[4], "before": r[5], "after": r[6],
             "client": r[7]}
            for r in rows[:limit]
        ]
        return {"entries": entries, "more": len(rows) > limit}

    def tick(self, tx: Tx) -> None:
        """Forget ended sessions and back-off keys whose time is up."""
        tx.execute("DELETE FROM admin_sessions WHERE expires_ts <= ?", (tx.now_ts,))
        self.backoff.prune(tx)
        self._now = max(self._now, tx.now_ts)
        for key in [k for k, until in self._waits.items() if until <= tx.now_ts]:
            self._waits.pop(key, None)


def lend_acting(modules: Iterable[ControllerModule]) -> None:
    """Give the admin module's `acting` to the other modules that check a console session (`takes_acting`)."""
    mods = list(modules)
    admin = next((m for m in mods if isinstance(m, AdminModule)), None)
    if admin is None:
        return
    for m in mods:
        if getattr(m, "takes_acting", False):
            m.acting = admin.acting  # type: ignore[attr-defined]


def account_of(tx: Tx, directory: StaffDirectory, staff_id: str) -> AdminAccount | None:
    """The console account of `staff_id` in the directory now, or None (unknown or disabled)."""
    s = directory.active(tx.conn, staff_id)
    return None if s is None else AdminAccount(id=s.id, name=s.name, role=s.role, department=s.department)


def acting_in(tx: Tx, directory: StaffDirectory, token: str, roles: Collection[str] | None = None) -> AdminAccount:
    """The account a session's token acts for (see `AdminModule.acting`); for modules beside this one."""
    row = tx.execute(
        "SELECT staff, expires_ts FROM admin_sessions WHERE token_hash = ?", (token_hash(token),)
    ).fetchone()
    acc = account_of(tx, directory, str(row[0])) if row is not None and float(row[1]) > tx.now_ts else None
    if acc is None:
        raise session_invalid()
    if roles is not None and acc.role not in roles:
        raise role_forbidden(acc.role)
    return acc


def end_sessions(tx: Tx, staff_id: str) -> int:
    """End every console session of `staff_id` (a disabled member); how many there were."""
    return tx.execute("DELETE FROM admin_sessions WHERE staff = ?", (staff_id,)).rowcount


def admin_module(ctx: ModuleContext) -> AdminModule:
    """The module factory (`hallbus.controller.app.feature_module_factories`)."""
    return AdminModule(ctx.config, ctx.staff, ctx.settings)
