"""The console's hall settings (SPEC 12.2): `admin.settings` reads them, `admin.settings.set` changes one.

Managers change, supervisors read (`AdminModule.acting` checks the session and the role).
A change names the version of the setting the manager saw: when someone changed it since,
it is refused (`conflict`, with who and when) and nothing changes. A value that would
break the hall is refused with the reason, and nothing changes either: a window with no
service, an unknown service, a cap below the walk-in tickets already issued today,
malformed or overlapping slots, a bad date or a day both holiday and working day, a
notice too long. Every change is an audit line (`setting.set`, subject the key,
before → after) in the same transaction, and the screens get it at once: the change
marks every retained state (`ALL`) for the refresh after the commit.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Collection, Mapping
from typing import Any

import msgspec

from hallbus import schemas
from hallbus.config import Slot, WindowRule
from hallbus.controller.clock import parse_hhmm
from hallbus.controller.module import ALL, Tx, TxHandler
from hallbus.controller.rules import parse_ratio
from hallbus.controller.settings import HallSettings, shown_value, stored_value
from hallbus.rpc import Request, RpcFault
from hallbus.schemas.admin import AdminAccount
from hallbus.schemas.settings import NOTICE_MAX, AdminSettingSetReq, AdminSettingsReq

READ_ROLES = ("manager", "supervisor")
CHANGE_ROLES = ("manager",)
MAX_DAYS = 400  # holidays or make-up days in the list at most
MAX_SLOTS = 24
_DAY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_HHMM_RE = re.compile(r"^\d{2}:\d{2}$")


def refused(code: str, zh: str, en: str) -> RpcFault:
    """A setting refused for a reason the manager can act on."""
    return RpcFault(code, zh, en)


def kind_of(key: str) -> tuple[str, str]:
    """(kind, subject) of a key: `service.A.daily_cap` -> (`daily_cap`, `A`); `hall.notice` -> (`notice`, "")."""
    parts = key.split(".")
    return (parts[2], parts[1]) if len(parts) == 3 else (parts[1], "")


class SettingsDesk:
    """The settings methods of the console, over the admin module's sessions and audit log."""

    def __init__(
        self, settings: HallSettings, acting: Callable[[Tx, str, Collection[str]], AdminAccount],
        audit: Callable[..., None],
    ) -> None:
        self.settings = settings
        self.acting = acting
        self.audit = audit
        self.services = {s.code for s in settings.defaults.services}

    def handlers(self) -> Mapping[str, TxHandler]:
        return {"admin.settings": self._read, "admin.settings.set": self._set}

    def _read(self, req: Request, tx: Tx) -> Mapping[str, Any]:
        b: AdminSettingsReq = req.body
        self.acting(tx, b.session, READ_ROLES)
        return self._all(tx)

    def _all(self, tx: Tx) -> dict[str, Any]:
        eff = self.settings.at(tx)
        out = []
        for key, default in self.settings.default_values.items():
            row = eff.rows.get(key)
            value = default if row is None else shown_value(key, row.value, tx.today)
            kind, subject = kind_of(key)
            out.append(schemas.to_builtins(schemas.convert({
                "key": key, "kind": kind, "subject": subject, "value": value, "default": default,
                "differs": value != default, "version": 0 if row is None else row.version,
                "changed_at": None if row is None else row.changed_at, "changed_by": None if row is None else row.changed_by,
            }, schemas.Setting)))
        return {"settings": out, "version": eff.version}

    def _set(self, req: Request, tx: Tx) -> Mapping[str, Any]:
        b: AdminSettingSetReq = req.body
        acc = self.acting(tx, b.session, CHANGE_ROLES)
        if b.key not in self.settings.default_values:
            raise refused("unknown_setting", f"没有名为“{b.key[:60]}”的设置。", f"There is no setting “{b.key[:60]}”.")
        eff = self.settings.at(tx)
        row = eff.rows.get(b.key)
        if b.version != (0 if row is None else row.version):
            if row is None:  # a version this setting never had
                raise refused("conflict", "此设置与页面显示的不同，请刷新页面看到最新值后再修改。",
                              "This setting is not as your page showed it; reload the page, then change it again.")
            at = row.changed_at[11:16]
            raise refused(
                "conflict", f"{row.changed_by}已于{at}修改了此设置，请刷新页面看到最新值后再修改。",
                f"Someone else ({row.changed_by}) changed this at {at}; reload the page to see it, then change it again.",
            )
        value = self._checked(tx, b.key, b.value)
        before = self.settings.default_values[b.key] if row is None else shown_value(b.key, row.value, tx.today)
        self.settings.write(tx, b.key, stored_value(b.key, value, tx.today), acc.id)
        self.audit(tx, actor=acc.id, action="setting.set", subject=b.key, before=before, after=value, client=b.client)
        tx.mark(ALL)  # every screen takes the change: the queue, the windows, the notice
        return self._all(tx)

    # --- validation ------------------------------------------------------------------------

    def _checked(self, tx: Tx, key: str, value: Any) -> Any:
        kind, subject = kind_of(key)
        check = {
            "open": self._open, "daily_cap": self._cap, "slots": self._slots, "services": self._window_services,
            "rule": self._rule, "notice": self._notice, "notice_en": self._notice, "holidays": self._days,
            "workdays": self._days,
        }[kind]
        return check(tx, subject, value, kind)

    def _open(self, tx: Tx, subject: str, value: Any, kind: str) -> Any:
        if not isinstance(value, bool):
            raise bad_value("开放状态应为“开放”或“今日暂停”。", "Open must be true or false.")
        return value

    def _cap(self, tx: Tx, code: str, value: Any, kind: str) -> Any:
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 999:
            raise bad_value("每日上限应为1到999之间的整数（号码只有三位）。",
                            "The daily cap must be a whole number from 1 to 999 (numbers have three digits).")
        issued = tx.execute(  # as issuing counts them: the service's numbers today, walk-ins only
            "SELECT COUNT(*) FROM tickets WHERE day = ? AND number BETWEEN ? AND ? AND channel = 'onsite'",
            (tx.today, f"{code}000", f"{code}999"),
        ).fetchone()[0]
        if value < issued:
            raise refused("cap_below_issued", f"今天已发出{issued}个现场号，每日上限不能低于{issued}。",
                          f"{issued} walk-in tickets were issued today: the daily cap cannot be below {issued}.")
        return value

    def _slots(self, tx: Tx, code: str, value: Any, kind: str) -> Any:
        if not isinstance(value, list) or len(value) > MAX_SLOTS:
            raise bad_slots(f"时段应为最多{MAX_SLOTS}个“开始-结束 上限”。", f"Slots must be a list of at most {MAX_SLOTS}.")
        spans = []
        for i, slot in enumerate(value, start=1):
            try:
                s = msgspec.convert(slot, Slot)
                if not (_HHMM_RE.match(s.start) and _HHMM_RE.match(s.end)):
                    raise ValueError(s.start)
                start, end = parse_hhmm(s.start), parse_hhmm(s.end)
            except (msgspec.ValidationError, ValueError) as err:
                raise bad_slots(f"第{i}个时段格式不对，应像 08:30-10:00 上限 20。",
                                f"Slot {i} is malformed; write it like 08:30-10:00 cap 20.") from err
            if start >= end or s.cap < 1 or s.cap > 999:
                raise bad_slots(f"第{i}个时段的结束应晚于开始，上限应为1到999。",
                                f"Slot {i}: the end must come after the start and the cap be 1 to 999.")
            spans.append((start, end, s))
        spans.sort(key=lambda x: x[0])
        for (_s1, e1, a), (s2, _e2, b) in zip(spans, spans[1:], strict=False):
            if s2 < e1:
                raise bad_slots(f"时段 {a.start}-{a.end} 与 {b.start}-{b.end} 重叠。",
                                f"Slots {a.start}-{a.end} and {b.start}-{b.end} overlap.")
        return [schemas.to_builtins(x[2]) for x in spans]

    def _codes(self, value: Any) -> list[str]:
        if not isinstance(value, list) or not all(isinstance(c, str) for c in value):
            raise bad_value("业务应为业务代码的列表。", "Services must be a list of service codes.")
        for c in value:
            if c not in self.services:
                raise refused("unknown_service", f"没有代码为“{c[:10]}”的业务。", f"There is no service “{c[:10]}”.")
        return list(dict.fromkeys(value))

    def _window_services(self, tx: Tx, wid: str, value: Any, kind: str) -> Any:
        codes = self._codes(value)
        if not codes:
            raise refused("window_without_service", f"窗口{wid}至少要办理一项业务。",
                          f"Window {wid} must serve at least one service.")
        return codes

    def _rule(self, tx: Tx, wid: str, value: Any, kind: str) -> Any:
        try:
            rule = msgspec.convert(value, WindowRule)
            parse_ratio(rule.ratio)
        except (msgspec.ValidationError, ValueError) as err:
            raise refused("bad_rule", f"叫号规则不对：{err}", f"The calling rule is not valid: {err}") from err
        for code in [*rule.weights, *rule.only_when_empty, *(c for v in rule.only_when_empty.values() for c in v)]:
            self._codes([code])
        if any(w < 0 for w in rule.weights.values()):
            raise refused("bad_rule", "权重不能为负数。", "Weights cannot be negative.")
        return schemas.to_builtins(rule)

    def _notice(self, tx: Tx, subject: str, value: Any, kind: str) -> Any:
        if not isinstance(value, str):
            raise bad_value("提示文字应为文本。", "The notice must be text.")
        text = value.strip().replace("\r\n", "\n")
        if len(text) > NOTICE_MAX:
            raise refused("notice_too_long", f"提示文字最多{NOTICE_MAX}个字，现在有{len(text)}个。",
                          f"The notice may have at most {NOTICE_MAX} characters; it has {len(text)}.")
        if any(not (c.isprintable() or c == "\n") for c in text):
            raise bad_value("提示文字里有不能显示的控制字符。", "The notice holds control characters that cannot be shown.")
        return text

    def _days(self, tx: Tx, subject: str, value: Any, kind: str) -> Any:
        if not isinstance(value, list) or len(value) > MAX_DAYS:
            raise bad_date(f"日期应为最多{MAX_DAYS}个 YYYY-MM-DD。", f"Dates must be a list of at most {MAX_DAYS} YYYY-MM-DD.")
        days = []
        for d in value:
            try:
                if not isinstance(d, str) or not _DAY_RE.match(d.strip()):
                    raise ValueError(d)
                days.append(dt.date.fromisoformat(d.strip()).isoformat())
            except ValueError as err:
                raise bad_date(f"“{str(d)[:20]}”不是有效日期，应像 2026-10-01。",
                               f"“{str(d)[:20]}” is not a valid date; write it like 2026-10-01.") from err
        other = self.settings.at(tx).config.calendar
        clash = set(days) & set(other.workdays if kind == "holidays" else other.holidays)
        if clash:
            day = sorted(clash)[0]
            raise bad_date(f"{day}不能既是节假日又是调休上班日。", f"{day} cannot be both a holiday and a working day.")
        return sorted(set(days))


def bad_value(zh: str, en: str) -> RpcFault:
    return refused("bad_value", zh, en)


def bad_slots(zh: str, en: str) -> RpcFault:
    return refused("bad_slots", zh, en)


def bad_date(zh: str, en: str) -> RpcFault:
    return refused("bad_date", zh, en)
