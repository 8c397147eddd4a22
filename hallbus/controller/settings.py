"""Hall settings that change without a restart (SPEC 12.2), layered over `hall.toml`.

`hall.toml` still starts a fresh hall; what a manager changes in the console is kept here,
in the controller's store (table `settings`, one row per changed setting), and the
effective value is what every part of the controller uses from the next request on:

- `service.{code}.open`: open or close a service for today (closed: `ticket.issue` refuses
  it today with `service_closed`; it opens again at the next hall day, or when reopened);
- `service.{code}.daily_cap`, `service.{code}.slots`: the walk-in cap and the slot quotas;
- `window.{id}.services`, `window.{id}.rule`: what a window serves and its calling rule;
- `hall.notice`, `hall.notice_en`: the notice on the screens (retained `hall/notice`);
- `calendar.holidays`, `calendar.workdays`: local holidays and make-up working days.

`HallSettings.at(tx)` gives the `Effective` settings seen by that transaction: a
`HallConfig` with the changes applied, the queue's `QueueLayout` of it, the closed
services and the rows. Each change writes a new random token in `settings_meta`, so the
effective settings are cached by token (one primary-key read per look) and a change
that was rolled back is never served from the cache. The one `WorkCalendar` the cases and
ratings modules share (`HallSettings.calendar`) takes the overrides of the newest version
the writer has seen. The console's methods (`admin.settings`, `admin.settings.set`)
are in `hallbus.controller.admin_settings`.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any, cast

import msgspec

from hallbus import schemas
from hallbus.config import HallConfig, Slot, WindowRule
from hallbus.controller.module import ALL, ControllerModule, Tx
from hallbus.controller.queue_layout import QueueLayout
from hallbus.controller.staff_directory import StaffDirectory
from hallbus.records.workdays import WorkCalendar

log = logging.getLogger(__name__)

NOTICE_KEY = "notice"  # the refresh key of the retained notice

SETTINGS_MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE settings (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        version INTEGER NOT NULL,
        changed_at TEXT NOT NULL,
        changed_by TEXT NOT NULL
    );
    CREATE TABLE settings_meta (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        version INTEGER NOT NULL,
        token TEXT NOT NULL
    );
    INSERT INTO settings_meta(id, version, token) VALUES (1, 0, 'hall.toml');
    """,
)


@dataclass(frozen=True)
class Row:
    """One changed setting as stored: its value (JSON-able), the version it was written at, when and by whom."""

    value: Any
    version: int
    changed_at: str
    changed_by: str


def default_values(config: HallConfig) -> dict[str, Any]:
    """Every setting key with its `hall.toml` value (as the console shows and sends it)."""
    out: dict[str, Any] = {}
    for s in config.services:
        out[f"service.{s.code}.open"] = True
        out[f"service.{s.code}.daily_cap"] = s.daily_cap
        out[f"service.{s.code}.slots"] = [schemas.to_builtins(x) for x in s.slots]
    for w in config.windows:
        out[f"window.{w.id}.services"] = list(w.services)
        out[f"window.{w.id}.rule"] = schemas.to_builtins(w.rule)
    out["hall.notice"] = config.hall.notice
    out["hall.notice_en"] = config.hall.notice_en
    out["calendar.holidays"] = list(config.calendar.holidays)
    out["calendar.workdays"] = list(config.calendar.workdays)
    return out


def stored_value(key: str, value: Any, today: str) -> Any:
    """What is kept for a value the console sent: `service.X.open` is kept as the day it is closed ("" = open)."""
    if key.endswith(".open"):
        return "" if value else today
    return value


def shown_value(key: str, stored: Any, today: str) -> Any:
    """A stored value as the console reads it (a service closed on another day is open today)."""
    if key.endswith(".open"):
        return stored != today
    return stored


@dataclass(frozen=True)
class Effective:
    """The settings one transaction sees: the config with the changes applied, and what is derived from it."""

    token: str
    version: int
    config: HallConfig
    layout: QueueLayout
    rows: Mapping[str, Row]
    closed_on: Mapping[str, str] = field(default_factory=dict)  # service code -> the hall day it is closed

    def closed_today(self, code: str, today: str) -> bool:
        """Whether a manager closed this service for the hall day `today`."""
        return self.closed_on.get(code) == today

    def notice(self) -> schemas.HallNotice:
        """The hall's notice as the retained topic carries it."""
        hall = self.config.hall
        return schemas.HallNotice(text=hall.notice, text_en=hall.notice_en, version=self.version)


def apply_rows(base: HallConfig, rows: Mapping[str, Row]) -> tuple[HallConfig, dict[str, str]]:
    """`base` with the stored changes applied, and the services closed on some day (code -> day).

    A stored value that no longer fits this hall.toml (a service since removed from it) is left
    out, and hall.toml's value counts: the hall starts whatever was stored before.
    """
    vals = {k: r.value for k, r in rows.items()}
    replace = msgspec.structs.replace
    codes = {s.code for s in base.services}
    closed = {s.code: str(vals[f"service.{s.code}.open"]) for s in base.services
              if vals.get(f"service.{s.code}.open")}
    services = []
    for s in base.services:
        cap = _kept(f"service.{s.code}.daily_cap", vals, int, s.daily_cap)
        slots = _kept(f"service.{s.code}.slots", vals, list[Slot], s.slots)
        services.append(replace(s, daily_cap=cap, slots=slots))
    windows = []
    for w in base.windows:
        served = [c for c in vals.get(f"window.{w.id}.services", w.services) if c in codes] or w.services
        rule = _kept(f"window.{w.id}.rule", vals, WindowRule, w.rule)
        named = [*rule.weights, *rule.only_when_empty, *(c for v in rule.only_when_empty.values() for c in v)]
        if not set(named) <= codes:
            log.warning("setting window.%s.rule names a service hall.toml no longer has: hall.toml's rule counts", w.id)
            rule = w.rule
        windows.append(replace(w, services=list(served), rule=rule))
    hall = replace(base.hall, notice=str(vals.get("hall.notice", base.hall.notice)),
                   notice_en=str(vals.get("hall.notice_en", base.hall.notice_en)))
    cal = replace(base.calendar, holidays=list(vals.get("calendar.holidays", base.calendar.holidays)),
                  workdays=list(vals.get("calendar.workdays", base.calendar.workdays)))
    return replace(base, services=services, windows=windows, hall=hall, calendar=cal), closed


def _kept(key: str, vals: Mapping[str, Any], type_: Any, default: Any) -> Any:
    """A stored value as `type_`, or `default` when none is stored or it cannot be read."""
    if key not in vals:
        return default
    try:
        return msgspec.convert(vals[key], type_)
    except msgspec.ValidationError:
        log.warning("setting %s cannot be read: hall.toml's value counts", key)
        return default


class HallSettings(ControllerModule):
    """The effective settings (`at(tx)`), the shared working-day calendar, and the retained notice."""

    name = "settings"
    migrations = SETTINGS_MIGRATIONS

    def __init__(self, config: HallConfig, directory: StaffDirectory | None = None) -> None:
        self.defaults = config
        self.directory = directory or StaffDirectory(config)  # the controller's one, for the layouts made here
        self.default_values = default_values(config)
        self.calendar = WorkCalendar.from_config(config.calendar)
        self._cache: dict[str, Effective] = {}
        self._lock = threading.Lock()
        self._synced = (0, "hall.toml")  # the (version, token) whose calendar overrides `calendar` holds
        self._writes = 0  # settings written or rolled back by this process (the writer's only)

    def at(self, tx: Tx) -> Effective:
        """The settings as this transaction sees them (cached by the version's token, and on the Tx itself).

        A Tx (and a request's Tx made from it) keeps what it read until this process writes or
        rolls back a setting (`_writes`), so a request that looks many times reads once.
        """
        kept = tx.__dict__.get("_settings")
        if kept is not None and kept[0] == self._writes:
            return cast(Effective, kept[1])
        writes = self._writes
        version, token = tx.execute("SELECT version, token FROM settings_meta WHERE id = 1").fetchone()
        eff = self._cache.get(token)
        if eff is None:
            eff = self._load(tx, int(version), str(token))
        self._sync_calendar(eff)
        tx.__dict__["_settings"] = (writes, eff)
        return eff

    def _load(self, tx: Tx, version: int, token: str) -> Effective:
        rows = {
            str(r[0]): Row(json.loads(r[1]), int(r[2]), str(r[3]), str(r[4]))
            for r in tx.execute("SELECT key, value, version, changed_at, changed_by FROM settings")
        }
        config, closed = apply_rows(self.defaults, rows)
        eff = Effective(token, version, config, QueueLayout(config, self.directory), rows, closed)
        with self._lock:
            if len(self._cache) >= 4:  # the committed one and a change or two in flight
                self._cache.pop(next(iter(self._cache)))
            self._cache[token] = eff
        return eff

    def _sync_calendar(self, eff: Effective, *, force: bool = False) -> None:
        """Give the shared calendar a newer version's overrides (a reader's older view never moves it back)."""
        with self._lock:
            version, token = self._synced
            if eff.token == token or (eff.version < version and not force):
                return
            self._synced = (eff.version, eff.token)
        cal = eff.config.calendar
        try:
            self.calendar.set_overrides(cal.holidays, cal.workdays)
        except ValueError as err:  # never through admin.settings.set, which refuses it; hall.toml's counts then
            log.warning("the stored holidays and working days cannot be used (%s): hall.toml's count", err)
            self.calendar.set_overrides(self.defaults.calendar.holidays, self.defaults.calendar.workdays)

    def _resync(self, tx: Tx) -> None:
        """After a change was rolled back: the calendar takes the stored overrides again."""
        self._writes += 1
        version, token = tx.execute("SELECT version, token FROM settings_meta WHERE id = 1").fetchone()
        eff = self._cache.get(str(token)) or self._load(tx, int(version), str(token))
        self._sync_calendar(eff, force=True)

    def write(self, tx: Tx, key: str, value: Any, actor: str) -> int:
        """Store one setting's new value under a new version (same transaction); the new version."""
        version = int(tx.execute("SELECT version FROM settings_meta WHERE id = 1").fetchone()[0]) + 1
        tx.execute("UPDATE settings_meta SET version = ?, token = ? WHERE id = 1", (version, secrets.token_hex(8)))
        tx.execute(
            "INSERT OR REPLACE INTO settings(key, value, version, changed_at, changed_by) VALUES (?, ?, ?, ?, ?)",
            (key, json.dumps(value, ensure_ascii=False), version, tx.now_iso, actor),
        )
        self._writes += 1
        tx.keep_on_fault(self._resync)
        return version

    # --- the module's hooks --------------------------------------------------------------

    def tick(self, tx: Tx) -> None:
        """Keep the shared calendar on the stored version (after a batch that failed as a whole)."""
        self.at(tx)

    def refresh(self, tx: Tx, keys: AbstractSet[str]) -> None:
        """Publish the retained notice."""
        if ALL in keys or NOTICE_KEY in keys:
            tx.publish_state(tx.topics.hall_notice, self.at(tx).notice())
