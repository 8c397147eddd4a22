"""Staff accounts changed in the console without a restart (SPEC 12.2): the `admin.staff.*` methods.

The accounts live in the controller's store (table `staff_accounts`, this module's
migrations) over hall.toml's `[[staff]]` and the secrets file; `StaffDirectory`
(`hallbus.controller.staff_directory`) is how everyone else reads the result, in their
transaction. A row of a hall.toml member keeps only what the console changed (a value set
back to hall.toml's is NULL again, so the list shows what differs); a member added in the
console has a whole row (`added`).

Managers change, supervisors read the list, staff are refused: each method checks the
acting console session first (`acting_in`). A change names the version the manager saw;
a member changed since is refused (`conflict`) with who changed them and when, nothing
written. A manager cannot disable or demote themselves (`own_account`); as only an enabled
manager changes accounts, the hall never loses its last enabled manager. A badge UID belongs to one member
(`badge_in_use` says whose). Disabling a member ends their console sessions at once; they
are refused at every counter and console login; a member already seated at a window
stays until they log out there (a citizen may be in service).

A new password is hashed (PBKDF2, `hallbus.passwords`) on the RPC server's worker thread
(`preparers`), never in the writer's transaction. Every change is an audit line
(`staff.add`, `staff.update`, `staff.disable`, `staff.enable`, `staff.password`; subject
`staff-{id}`; before -> after of what changed): never a password or a hash, and a badge
only by its last 4 characters.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from collections.abc import Set as AbstractSet
from typing import Any

from hallbus import schemas
from hallbus.config import LoginSection, StaffSection
from hallbus.controller.admin import acting_in, audit, end_sessions
from hallbus.controller.backoff import Backoff, Limits
from hallbus.controller.module import ALL, ControllerModule, ModuleContext, Tx, TxHandler
from hallbus.controller.staff_directory import TABLE, Member, StaffDirectory, file_value
from hallbus.passwords import hash_password, verify_password
from hallbus.rpc import Request, RpcFault
from hallbus.schemas.admin_staff import (
    PASSWORD_MAX,
    PASSWORD_MIN,
    PHOTO_MAX,
    TEXT_MAX,
    AdminOwnPasswordReq,
    AdminStaffAddReq,
    AdminStaffDisableReq,
    AdminStaffListReq,
    AdminStaffPasswordReq,
    AdminStaffUpdateReq,
    StaffAccount,
)
from hallbus.staff_secrets import badge_key

HINTS_EVERY_S = 30.0  # the worker thread's password hashes read again from the store this often (and at start)
CHANGES = ("manager",)  # who may change accounts
READS = ("manager", "supervisor")  # who may read the list
_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,39}")
_BADGE_RE = re.compile(r"[0-9a-f]{4,32}")
_URL_RE = re.compile(r"https?://[A-Za-z0-9.-]+(:\d{1,5})?(/[A-Za-z0-9._~%/-]*)?")
_PATH_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._/-]*")
_IMAGE = (".png", ".jpg", ".jpeg", ".webp", ".svg")
_WORDS = {"name": ("姓名", "name"), "title": ("职务", "title"), "department": ("部门", "department")}

STAFF_MIGRATIONS: tuple[str, ...] = (
    f"""
    CREATE TABLE {TABLE} (
        id TEXT PRIMARY KEY,
        added INTEGER NOT NULL DEFAULT 0,
        name TEXT, title TEXT, department TEXT, role TEXT, photo TEXT,
        badge_uid TEXT,
        password_hash TEXT,
        disabled INTEGER NOT NULL DEFAULT 0,
        version INTEGER NOT NULL,
        updated_at TEXT NOT NULL,
        updated_by TEXT NOT NULL,
        file_values TEXT NOT NULL DEFAULT '{{}}'  -- JSON: the files' value of each column when the console set it
    );
    CREATE INDEX {TABLE}_badge ON {TABLE}(badge_uid);
    """,
)


def fault(code: str, zh: str, en: str) -> RpcFault:
    return RpcFault(code, zh, en)


def mask_badge(uid: str | None) -> str:
    """A badge as the console and the audit log show it: its last 4 characters."""
    return "" if not uid else "…" + badge_key(uid)[-4:]


def account_view(m: Member) -> dict[str, Any]:
    """A member as `StaffAccount` (no secret)."""
    s = m.staff
    view: dict[str, Any] = schemas.to_builtins(StaffAccount(
        id=s.id, name=s.name, title=s.title, department=s.department, role=s.role, photo=s.photo or "",
        badge=mask_badge(s.badge_uid), has_password=bool(s.password_hash), disabled=m.disabled, version=m.version,
        source="console" if m.added else "hall.toml", changed=list(m.changed), updated_at=m.updated_at,
        updated_by=m.updated_by,
    ))
    return view


def _shown(s: StaffSection, disabled: bool) -> dict[str, Any]:
    """What the audit log keeps of a member (no secret)."""
    return {"name": s.name, "title": s.title, "department": s.department, "role": s.role, "photo": s.photo or "",
            "badge": mask_badge(s.badge_uid), "disabled": disabled}


def check_text(key: str, value: str, *, required: bool = False) -> str:
    text = value.strip()
    zh, en = _WORDS[key]
    if required and not text:
        raise fault("bad_name", f"请填写{zh}。", f"Please give the {en}.")
    if len(text) > TEXT_MAX or not all(c.isprintable() for c in text):
        raise fault(f"bad_{key}", f"{zh}最多 {TEXT_MAX} 个字，且不能含控制字符。",
                    f"The {en} may have at most {TEXT_MAX} characters and no control characters.")
    return text


def check_photo(value: str) -> str:
    """A photo as `[[staff]] photo`: an http(s) URL, or an image path relative to hall.toml; "" for none."""
    text = value.strip()
    if not text:
        return ""
    ok = len(text) <= PHOTO_MAX and (
        _URL_RE.fullmatch(text) is not None
        or (_PATH_RE.fullmatch(text) is not None and ".." not in text.split("/") and text.lower().endswith(_IMAGE))
    )
    if not ok:
        raise fault(
            "bad_photo",
            "照片应为 http(s):// 开头的网址，或相对于 hall.toml 的图片路径（.png、.jpg、.webp、.svg），不能含“..”。",
            "The photo must be an http(s):// address, or an image path relative to hall.toml "
            "(.png, .jpg, .webp, .svg) without “..”.",
        )
    return text


def check_badge(value: str) -> str:
    """A badge UID as stored (lower-case hex, no separators); "" for none."""
    key = badge_key(value)
    if key and not _BADGE_RE.fullmatch(key):
        raise fault("bad_badge", "工牌号应为 4 到 32 位十六进制字符（读卡器读出的 UID）。",
                    "The badge UID must be 4 to 32 hexadecimal characters (as the reader gives it).")
    return key


def check_password(password: str, staff_id: str) -> None:
    if not (PASSWORD_MIN <= len(password) <= PASSWORD_MAX) or not password.strip() or password == staff_id:
        raise fault(
            "bad_password",
            f"密码应为 {PASSWORD_MIN} 到 {PASSWORD_MAX} 个字符，且不能与工号相同。",
            f"The password must have {PASSWORD_MIN} to {PASSWORD_MAX} characters and differ from the staff id.",
        )


class StaffAccountsModule(ControllerModule):
    """The `admin.staff.*` methods over the `staff_accounts` table."""

    name = "staff_accounts"
    migrations = STAFF_MIGRATIONS

    def __init__(self, directory: StaffDirectory, login: LoginSection | None = None) -> None:
        self.directory = directory
        self._synced = float("-inf")  # hall time of the hints' latest reading
        rules = login or LoginSection()
        # wrong old passwords count where wrong console passwords do (the admin module's table and limits)
        self.backoff = Backoff("admin_login_failures", forget_s=rules.forget_after_s)
        self.limits = Limits(rules.staff_free_attempts, rules.backoff_s, rules.max_backoff_s)

    def handlers(self) -> Mapping[str, TxHandler]:
        return {
            "admin.staff.list": self._list,
            "admin.staff.add": self._add,
            "admin.staff.update": self._update,
            "admin.staff.disable": self._disable,
            "admin.staff.enable": self._enable,
            "admin.staff.password": self._password,
            "admin.staff.own_password": self._own_password,
        }

    def preparers(self) -> Mapping[str, Callable[[Request], None]]:
        """New passwords are hashed on the RPC server's worker thread."""
        return {"admin.staff.add": self._prepare_hash, "admin.staff.password": self._prepare_hash,
                "admin.staff.own_password": self._prepare_own}

    def _prepare_hash(self, req: Request) -> None:
        password = str(getattr(req.body, "password", ""))
        if PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
            req.prepared = {"hash": hash_password(password)}

    def _prepare_own(self, req: Request) -> None:
        b: AdminOwnPasswordReq = req.body
        stored = self.directory.hash_hint(b.staff)
        req.prepared = {"old_ok": bool(stored and verify_password(b.old_password, stored)), "checked": stored,
                        **({"hash": hash_password(b.new_password)}
                           if PASSWORD_MIN <= len(b.new_password) <= PASSWORD_MAX else {})}

    def _hash(self, req: Request, password: str) -> str:
        done = (req.prepared or {}).get("hash")
        return str(done) if done else hash_password(password)  # unprepared only when called directly (tools)

    def tick(self, tx: Tx) -> None:
        """Now and then the worker thread's password hashes are read again (a rolled-back change is put right)."""
        if not 0.0 <= tx.now_ts - self._synced < HINTS_EVERY_S:
            self._synced = tx.now_ts
            self.directory.sync_hints(tx.conn)

    def refresh(self, tx: Tx, keys: AbstractSet[str]) -> None:
        """At start-up (`ALL`) the worker thread learns the console's hashes before the first login."""
        if ALL in keys:
            self.directory.sync_hints(tx.conn)

    # --- reading -----------------------------------------------------------------------------

    def _list(self, req: Request, tx: Tx) -> Mapping[str, Any]:
        b: AdminStaffListReq = req.body
        acting_in(tx, self.directory, b.session, READS)
        return {"staff": [account_view(m) for m in self.directory.members(tx.conn)]}

    def _current(self, tx: Tx, sid: str, version: int) -> Member:
        m = self.directory.member(tx.conn, sid)
        if m is None:
            raise fault("staff_not_found", f"没有工号为“{sid[:40]}”的人员。", f"There is no staff member {sid[:40]!r}.")
        if m.version != version:
            raise fault(
                "conflict",
                f"{m.staff.name}（{m.staff.id}）的信息已在 {m.updated_at[:16].replace('T', ' ')} 被 {m.updated_by} "
                "修改，本次修改未保存；请刷新后再改。",
                f"{m.staff.name} ({m.staff.id}) was changed by {m.updated_by} at "
                f"{m.updated_at[:16].replace('T', ' ')}; nothing was saved. Reload and change it again.",
            )
        return m

    def _badge_free(self, tx: Tx, badge: str, sid: str) -> None:
        if not badge:
            return
        owner = self.directory.badge_owner(tx.conn, badge)
        if owner is not None and owner.staff.id != sid:
            raise fault(
                "badge_in_use",
                f"该工牌已登记给 {owner.staff.name}（{owner.staff.id}），一张工牌只能给一个人；请先从该人员处移除。",
                f"That badge belongs to {owner.staff.name} ({owner.staff.id}); a badge is one person's. "
                "Take it from them first.",
            )

    @staticmethod
    def _guard_own(acting: str, m: Member, losing: tuple[str, str]) -> None:
        """Refuse taking the acting manager's own rights.

        Only an enabled manager changes accounts, and never their own rights: so the hall always
        keeps the one who acts, and can never lose its last enabled manager this way.
        """
        if m.staff.id == acting and m.staff.role == "manager" and not m.disabled:
            raise fault("own_account", f"不能{losing[0]}自己的账号；请由另一位大厅管理员操作。",
                        f"You cannot {losing[1]} your own account; ask another hall manager.")

    # --- writing -----------------------------------------------------------------------------

    def _write(self, tx: Tx, m: Member | None, sid: str, values: dict[str, Any], actor: str) -> Member:
        """Store `values` for `sid` (a value equal to hall.toml's is stored as NULL) and count a version."""
        base = self.directory.base.get(sid)
        cols = {k: (None if base is not None and k != "disabled" and v == file_value(base, k) else v)
                for k, v in values.items()}
        row = tx.execute(f"SELECT file_values FROM {TABLE} WHERE id = ?", (sid,)).fetchone()
        seen = json.loads(str(row[0])) if row is not None else {}
        if base is not None:  # what the files said when the console set each value (the newer change counts)
            seen = {k: v for k, v in seen.items() if cols.get(k, "") is not None}
            seen |= {k: file_value(base, k) for k, v in cols.items() if v is not None and k != "disabled"}
        version = (m.version if m is not None else 0) + 1
        if m is None or (m.version == 0 and not m.added):
            tx.execute(
                f"INSERT INTO {TABLE}(id, added, version, updated_at, updated_by) VALUES (?, ?, ?, ?, ?)",
                (sid, int(m is None), version, tx.now_iso, actor),
            )
        sets = "".join(f"{k} = ?, " for k in cols)
        tx.execute(
            f"UPDATE {TABLE} SET {sets}file_values = ?, version = ?, updated_at = ?, updated_by = ? WHERE id = ?",
            (*cols.values(), json.dumps(seen, sort_keys=True), version, tx.now_iso, actor, sid),
        )
        after = self.directory.member(tx.conn, sid)
        assert after is not None
        self.directory.hint(sid, None if after.disabled else after.staff.password_hash)
        for (wid,) in tx.execute("SELECT id FROM windows WHERE staff = ?", (sid,)).fetchall():
            tx.mark(f"window:{wid}")  # the window screens show the new name, title, photo at once
        return after

    def _add(self, req: Request, tx: Tx) -> Mapping[str, Any]:
        b: AdminStaffAddReq = req.body
        acc = acting_in(tx, self.directory, b.session, CHANGES)
        sid = b.id.strip()
        if not _ID_RE.fullmatch(sid):
            raise fault("bad_id", "工号应为 1 到 40 位字母、数字、“_”“.”“-”，以字母或数字开头。",
                        "The staff id must be 1 to 40 letters, digits, “_”, “.” or “-”, starting with a letter or digit.")
        if self.directory.member(tx.conn, sid) is not None:
            raise fault("staff_exists", f"工号 {sid} 已存在。", f"Staff id {sid} is taken.")
        values: dict[str, Any] = {
            "name": check_text("name", b.name, required=True), "title": check_text("title", b.title),
            "department": check_text("department", b.department), "role": b.role, "photo": check_photo(b.photo),
            "badge_uid": check_badge(b.badge_uid),
        }
        self._badge_free(tx, values["badge_uid"], sid)
        if b.password:
            check_password(b.password, sid)
            values["password_hash"] = self._hash(req, b.password)
        after = self._write(tx, None, sid, values, acc.id)
        audit(tx, actor=acc.id, action="staff.add", subject=f"staff-{sid}", client=b.client,
              after={**_shown(after.staff, False), "password": "set" if b.password else "none"})
        return {"member": account_view(after)}

    def _update(self, req: Request, tx: Tx) -> Mapping[str, Any]:
        b: AdminStaffUpdateReq = req.body
        acc = acting_in(tx, self.directory, b.session, CHANGES)
        m = self._current(tx, b.id.strip(), b.version)
        given: dict[str, Any] = {}
        if b.name is not None:
            given["name"] = check_text("name", b.name, required=True)
        for key in ("title", "department"):
            if (v := getattr(b, key)) is not None:
                given[key] = check_text(key, v)
        if b.photo is not None:
            given["photo"] = check_photo(b.photo)
        if b.badge_uid is not None:
            given["badge_uid"] = check_badge(b.badge_uid)
            self._badge_free(tx, given["badge_uid"], m.staff.id)
        if b.role is not None:
            given["role"] = b.role
            if b.role != "manager":
                self._guard_own(acc.id, m, ("取消管理员角色", "demote"))
        current = {k: file_value(m.staff, k) for k in given}
        diff = {k: v for k, v in given.items() if v != current[k]}
        if not diff:
            return {"member": account_view(m)}
        after = self._write(tx, m, m.staff.id, diff, acc.id)
        before_shown, after_shown = _shown(m.staff, m.disabled), _shown(after.staff, after.disabled)
        keys = [k for k in after_shown if before_shown[k] != after_shown[k]]
        audit(tx, actor=acc.id, action="staff.update", subject=f"staff-{m.staff.id}", client=b.client,
              before={k: before_shown[k] for k in keys}, after={k: after_shown[k] for k in keys})
        return {"member": account_view(after)}

    def _switch(self, req: Request, tx: Tx, disabled: bool) -> Mapping[str, Any]:
        b: AdminStaffDisableReq = req.body
        acc = acting_in(tx, self.directory, b.session, CHANGES)
        m = self._current(tx, b.id.strip(), b.version)
        if m.disabled == disabled:
            return {"member": account_view(m)}
        if disabled:
            self._guard_own(acc.id, m, ("停用", "disable"))
        after = self._write(tx, m, m.staff.id, {"disabled": int(disabled)}, acc.id)
        ended = end_sessions(tx, m.staff.id) if disabled else 0
        audit(tx, actor=acc.id, action="staff.disable" if disabled else "staff.enable", subject=f"staff-{m.staff.id}",
              client=b.client, before={"disabled": not disabled},
              after={"disabled": disabled, **({"sessions_ended": ended} if disabled else {})})
        return {"member": account_view(after)}

    def _disable(self, req: Request, tx: Tx) -> Mapping[str, Any]:
        return self._switch(req, tx, True)

    def _enable(self, req: Request, tx: Tx) -> Mapping[str, Any]:
        return self._switch(req, tx, False)

    def _password(self, req: Request, tx: Tx) -> Mapping[str, Any]:
        b: AdminStaffPasswordReq = req.body
        acc = acting_in(tx, self.directory, b.session, CHANGES)
        m = self._current(tx, b.id.strip(), b.version)
        check_password(b.password, m.staff.id)
        after = self._write(tx, m, m.staff.id, {"password_hash": self._hash(req, b.password)}, acc.id)
        audit(tx, actor=acc.id, action="staff.password", subject=f"staff-{m.staff.id}", client=b.client,
              before={"password": "set" if m.staff.password_hash else "none"}, after={"password": "new"})
        return {"member": account_view(after)}

    def _wrong_old(self, tx: Tx, key: str, sid: str, client: str) -> None:
        """A wrong old password: counted against the member's console key, and in the audit log."""
        self.backoff.fail(tx, key, self.limits)
        audit(tx, actor=sid, action="staff.own_password_failed", subject=f"staff-{sid}", client=client)

    def _own_password(self, req: Request, tx: Tx) -> Mapping[str, Any]:
        """A member's own new password: the session's member only, the old password first, throttled as logins are."""
        b: AdminOwnPasswordReq = req.body
        acc = acting_in(tx, self.directory, b.session)
        if acc.id != b.staff.strip():
            raise fault("forbidden", "只能修改本人的密码。", "You can change your own password only.")
        key = f"staff:{acc.id}"
        until = self.backoff.blocked_until(tx, key)
        if until > tx.now_ts:
            minutes = max(1, math.ceil((until - tx.now_ts) / 60))
            raise fault("login_throttled", f"原密码错误次数过多，请约{minutes}分钟后再试。",
                        f"Too many wrong passwords: try again in about {minutes} min.")
        m = self.directory.member(tx.conn, acc.id)
        assert m is not None  # acting found them
        prepared = req.prepared or {}
        if prepared.get("checked") != m.staff.password_hash:
            raise fault("login_retry", "密码刚刚被更改，请再输入一次。",
                        "The password has just been changed; please enter it once more.")
        if not prepared.get("old_ok"):
            tx.keep_on_fault(lambda t: self._wrong_old(t, key, acc.id, b.client))
            raise fault("wrong_password", "原密码不正确。", "The current password is wrong.")
        check_password(b.new_password, acc.id)
        self.backoff.clear(tx, key)
        after = self._write(tx, m, acc.id, {"password_hash": self._hash(req, b.new_password)}, acc.id)
        audit(tx, actor=acc.id, action="staff.own_password", subject=f"staff-{acc.id}", client=b.client,
              before={"password": "set"}, after={"password": "new"})
        return {"member": account_view(after)}


def staff_accounts_module(ctx: ModuleContext) -> StaffAccountsModule:
    """The module factory (`hallbus.controller.app.feature_module_factories`)."""
    return StaffAccountsModule(ctx.staff, ctx.config.login)

