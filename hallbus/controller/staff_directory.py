"""The hall's effective staff directory: hall.toml's `[[staff]]` (with the secrets file) under the console's accounts.

Staff come from hall.toml (names, titles, photos, roles; every node reads it) and the
controller-only secrets file (badge UIDs, password hashes; `hallbus.staff_secrets`). The
console keeps accounts in the controller's store (table `staff_accounts`, module
`staff_accounts`, `hallbus.controller.staff_accounts`), layered over them: a row adds a
member hall.toml does not have (`added`), or changes one it has; each column of a row is
either NULL (hall.toml's value counts) or the console's value, which wins. The newer change
counts: with each value it sets, the console keeps the files' value of that moment
(`file_values`), and when hall.toml or the secrets file say something else later (a name
edited there, a password set with `hallbus staff-secrets create-manager`), theirs counts
again. A disabled member signs in nowhere.

Every lookup that decides who someone is (window.login by badge or by id and password,
the console's login and sessions, the window state's name/title/photo, reports) reads
here, inside the transaction it serves, so a change counts at the next request. A store
without the table (an engine built without the accounts module) has hall.toml's staff
only.

The password check of a login runs on the RPC server's worker thread, which has no
store: `hash_hint(sid)` is the hash it checks against, and the handler accepts its
result only when the hash the transaction reads is the same one (`hash_of`); the hints
are set whenever a hash changes here and read again from the store at every tick.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass

import msgspec

from hallbus.config import HallConfig, StaffSection
from hallbus.staff_secrets import badge_key

TABLE = "staff_accounts"
PROFILE = ("name", "title", "department", "role", "photo")  # columns shown on screens or deciding the console role
SECRET = ("badge_uid", "password_hash")  # columns only the controller reads
_COLS = ("id", "added", *PROFILE, *SECRET, "disabled", "version", "updated_at", "updated_by", "file_values")


def file_value(s: StaffSection, key: str) -> str:
    """A field of hall.toml's (and the secrets file's) section as the table stores it ("" for none)."""
    if key == "badge_uid":
        return badge_key(s.badge_uid) if s.badge_uid else ""
    value = getattr(s, key)
    return "" if value is None else str(value)


@dataclass(frozen=True)
class Member:
    """One member as the hall knows them now: the effective section, and where it came from."""

    staff: StaffSection  # hall.toml's values with the console's on top (secrets included)
    disabled: bool
    version: int  # 0 for a hall.toml member the console never changed; +1 at every change
    added: bool  # added in the console (hall.toml does not have them)
    changed: tuple[str, ...]  # the fields whose value is the console's (`password` for a new hash, `disabled`)
    updated_at: str = ""
    updated_by: str = ""


class StaffDirectory:
    """hall.toml's staff (secrets merged) with the console's accounts over them, read in a transaction."""

    def __init__(self, config: HallConfig) -> None:
        self.base: dict[str, StaffSection] = {s.id: s for s in config.staff}
        self._base_badges: dict[str, str] = {badge_key(s.badge_uid): s.id for s in config.staff if s.badge_uid}
        self._has_table = False
        self._lock = threading.Lock()
        self._hints: dict[str, str | None] = {s.id: s.password_hash for s in config.staff}

    # --- reading ---------------------------------------------------------------------------

    def _table(self, conn: sqlite3.Connection) -> bool:
        if not self._has_table:
            self._has_table = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (TABLE,)
            ).fetchone() is not None
        return self._has_table

    def _rows(self, conn: sqlite3.Connection, sid: str | None = None) -> list[tuple[object, ...]]:
        if not self._table(conn):
            return []
        sql = f"SELECT {', '.join(_COLS)} FROM {TABLE}"
        return conn.execute(sql + " WHERE id = ?", (sid,)).fetchall() if sid is not None else conn.execute(sql).fetchall()

    def _member(self, sid: str, row: tuple[object, ...] | None) -> Member | None:
        base = self.base.get(sid)
        if row is None:
            return None if base is None else Member(base, False, 0, False, ())
        values = dict(zip(_COLS, row, strict=True))
        changes = {k: values[k] for k in (*PROFILE, *SECRET) if values[k] is not None}
        seen = json.loads(str(values["file_values"] or "{}"))
        if base is not None:  # the files changed since the console did: theirs is the newer change
            changes = {k: v for k, v in changes.items() if k not in seen or seen[k] == file_value(base, k)}
        if "badge_uid" in changes and changes["badge_uid"] == "":
            changes["badge_uid"] = None  # the console took the badge away
        start = base if base is not None else StaffSection(id=sid, name=sid)
        section = msgspec.structs.replace(start, **changes)
        changed = [k for k in PROFILE if k in changes] + (["badge_uid"] if "badge_uid" in changes else [])
        changed += (["password"] if "password_hash" in changes else []) + (["disabled"] if values["disabled"] else [])
        return Member(section, bool(values["disabled"]), int(str(values["version"])), bool(values["added"]),
                      tuple(changed), str(values["updated_at"] or ""), str(values["updated_by"] or ""))

    def member(self, conn: sqlite3.Connection, sid: str) -> Member | None:
        """The member `sid` (disabled ones too), or None."""
        sid = sid.strip()
        rows = self._rows(conn, sid)
        return self._member(sid, rows[0] if rows else None)

    def members(self, conn: sqlite3.Connection) -> list[Member]:
        """Everyone: hall.toml's order, then those added in the console by id."""
        rows = {str(r[0]): r for r in self._rows(conn)}
        out = [m for sid in self.base if (m := self._member(sid, rows.get(sid))) is not None]
        out += [m for sid in sorted(rows) if sid not in self.base and (m := self._member(sid, rows[sid])) is not None]
        return out

    def active(self, conn: sqlite3.Connection, sid: str) -> StaffSection | None:
        """The member `sid` when they may sign in (known and not disabled), else None."""
        m = self.member(conn, sid)
        return None if m is None or m.disabled else m.staff

    def badge_owner(self, conn: sqlite3.Connection, uid: str) -> Member | None:
        """Whose badge `uid` is (disabled members too), or None: hall.toml's owner, or whom the console gave it."""
        key = badge_key(uid)
        if not key:
            return None
        ids = {str(r[0]) for r in conn.execute(f"SELECT id FROM {TABLE} WHERE badge_uid = ?", (key,))} \
            if self._table(conn) else set()
        ids |= {self._base_badges[key]} if key in self._base_badges else set()
        for sid in sorted(ids):  # each checked as the hall sees them now (a badge taken away, a newer file)
            m = self.member(conn, sid)
            if m is not None and m.staff.badge_uid and badge_key(m.staff.badge_uid) == key:
                return m
        return None

    def by_badge(self, conn: sqlite3.Connection, uid: str) -> StaffSection | None:
        """The member who may sign in with badge `uid`, or None (unknown badge, or its owner is disabled)."""
        m = self.badge_owner(conn, uid)
        return None if m is None or m.disabled else m.staff

    # --- the password check off the writer ---------------------------------------------------

    def hash_hint(self, sid: str) -> str | None:
        """The password hash a worker thread checks a login against (thread-safe; may be a moment old)."""
        with self._lock:
            return self._hints.get(sid.strip())

    def known(self, sid: str) -> bool:
        """Whether `sid` names a member (hall.toml's or the console's; thread-safe): a throttle key of its own."""
        sid = sid.strip()
        with self._lock:
            return sid in self.base or sid in self._hints

    def hash_of(self, conn: sqlite3.Connection, sid: str) -> str | None:
        """The hash a login of `sid` must match now (None: no password, unknown, or disabled)."""
        m = self.active(conn, sid)
        return None if m is None else m.password_hash

    def hint(self, sid: str, password_hash: str | None) -> None:
        """A hash changed in this transaction: the next check off the writer uses it."""
        with self._lock:
            self._hints[sid] = password_hash

    def sync_hints(self, conn: sqlite3.Connection) -> None:
        """Read every hash again (each tick: a batch rolled back after `hint` is put right within a second)."""
        hints = {m.staff.id: (None if m.disabled else m.staff.password_hash) for m in self.members(conn)}
        with self._lock:
            self._hints = hints


def effective_staff(conn: sqlite3.Connection, config: HallConfig) -> list[StaffSection]:
    """Everyone the hall has now (disabled members too), for names in reports and tools reading `conn`."""
    return [m.staff for m in StaffDirectory(config).members(conn)]
