"""Reports (SPEC 12.2): every figure of a day range, by day, service, window or staff; ratings; follow-ups.

Read-only and Qt-free: it takes a connection (the CLI's read-only one, the controller's
reader thread for `report.query`) and never writes. Where the figures come from:

- queue and rating figures: for a day the roll-over archived, its rows in `report_days`
  (`hallbus.reports.daybook`); for any other day (today, or a day before the archive
  began) the same rows computed from the raw tables by the same code. So a report over
  a past day says what a report over that day said while it was today.
- follow-ups (差评整改) and cases (办件): from their tables as they stand now, since a
  follow-up is closed and a case finished days after it began. A follow-up belongs to
  the hall day its bad rating opened it, a case to the day it was finished.

Definitions (docs/reports.md):
- wait: first call minus issue, of every ticket called at least once; average wait is
  their mean (seconds, one decimal, as `stats/today`);
- 90th-percentile wait (`p90`): each wait in whole seconds (rounded down); of the n
  waits of the group and range, the ⌈0.9·n⌉-th smallest (the nearest-rank method: the
  smallest wait that at least 90% of the waits do not exceed); none when n = 0;
- average handling: mean `service_s` (call to finish) of the served tickets;
- satisfaction rate: ratings of levels 3-5 over all ratings (four decimals); bad ratings: levels 1-2;
- a follow-up closed on time: state `closed`, its last move no later than its deadline;
  overdue: not closed and past its deadline now;
- on-time rate of cases: finished cases with no deadline or finished by it, over all finished.
"""

from __future__ import annotations

import bisect
import datetime as dt
import json
import math
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hallbus.config import HallConfig
from hallbus.controller.clock import HallTime
from hallbus.controller.staff_directory import effective_staff
from hallbus.reports.daybook import (
    COUNT_COLS,
    SUM_COLS,
    DayRow,
    archived_days,
    archived_rows,
    day_rows,
)
from hallbus.rpc import RpcFault
from hallbus.schemas.rating import LEVELS, REASONS

KINDS = ("daily", "services", "windows", "staff", "ratings", "followups")
MAX_YEARS = 5
MAX_DAYS = MAX_YEARS * 366  # the longest range a report takes (first and last day included)
FIRST_DAY, LAST_DAY = dt.date(1970, 1, 2), dt.date(9998, 12, 30)  # a hall day's bounds stay representable
KIND_NAMES = {
    "daily": ("每日汇总", "Daily"), "services": ("按事项", "By service"), "windows": ("按窗口", "By window"),
    "staff": ("按人员", "By staff"), "ratings": ("好差评", "Ratings"), "followups": ("差评整改", "Follow-ups"),
}


class ReportError(RpcFault):
    """A report that cannot be made: bad kind or range (`code`; `message` in zh_CN, `message_en` in English).

    An RpcFault, so `report.query` answers it as it is; the command line prints both messages.
    """


@dataclass(frozen=True)
class Column:
    """One column of a report: key, Chinese and English header, and how to show it."""

    key: str
    zh: str
    en: str
    kind: str = "int"  # text, int, seconds (one decimal), rate (0..1), date


@dataclass
class Report:
    """A report: its kind, range, columns, rows (lists in column order) and the total row."""

    kind: str
    date_from: str
    date_to: str
    columns: list[Column]
    rows: list[list[Any]]
    total: list[Any] | None
    made_at: str

    def as_dicts(self) -> list[dict[str, Any]]:
        """The rows as column key -> value."""
        keys = [c.key for c in self.columns]
        return [dict(zip(keys, r, strict=True)) for r in self.rows]

    def total_dict(self) -> dict[str, Any] | None:
        """The total row as column key -> value."""
        return None if self.total is None else dict(zip([c.key for c in self.columns], self.total, strict=True))


def p90(waits: np.ndarray) -> int | None:
    """The nearest-rank 90th percentile of whole-second waits: the ⌈0.9·n⌉-th smallest (None when empty)."""
    n = len(waits)
    if n == 0:
        return None
    k = math.ceil(0.9 * n) - 1
    return int(np.partition(waits, k)[k])


# --- ranges -----------------------------------------------------------------------------


def parse_range(date_from: str, date_to: str) -> tuple[dt.date, dt.date]:
    """The first and last day of a range (YYYY-MM-DD each), checked; raises ReportError."""
    days: list[dt.date] = []
    for name, text in (("from", date_from), ("to", date_to)):
        try:
            if len(text) != 10:
                raise ValueError(text)
            days.append(dt.date.fromisoformat(text))
        except (ValueError, TypeError):
            raise ReportError(
                "bad_range", f"日期“{text}”不对，应为 YYYY-MM-DD，例如 2026-03-01。",
                f"The date {name}={text!r} is not a date like 2026-03-01 (YYYY-MM-DD).",
            ) from None
    first, last = days
    for day in days:
        if not FIRST_DAY <= day <= LAST_DAY:
            raise ReportError(
                "bad_range", f"日期 {day} 超出可统计的范围（{FIRST_DAY} 至 {LAST_DAY}）。",
                f"The date {day} is outside the days a report can cover ({FIRST_DAY} to {LAST_DAY}).",
            )
    if first > last:
        raise ReportError(
            "bad_range", f"开始日期 {first} 晚于结束日期 {last}，请调换后再试。",
            f"The range starts ({first}) after it ends ({last}).",
        )
    if (last - first).days + 1 > MAX_DAYS:
        raise ReportError(
            "bad_range", f"一次最多统计 {MAX_YEARS} 年（{MAX_DAYS} 天），请缩短日期范围。",
            f"A report covers at most {MAX_YEARS} years ({MAX_DAYS} days); shorten the range.",
        )
    return first, last


def _days(first: dt.date, last: dt.date) -> list[str]:
    return [(first + dt.timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]


# --- accumulating day rows --------------------------------------------------------------


@dataclass
class Acc:
    """A group's figures over a range: day rows added up, waits gathered for the percentile."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNT_COLS, 0))
    sums: dict[str, float] = field(default_factory=lambda: dict.fromkeys(SUM_COLS, 0.0))
    waits: list[np.ndarray] = field(default_factory=list)
    live: dict[str, int] = field(default_factory=dict)  # follow-ups and cases

    def add(self, row: DayRow) -> None:
        """Add one day's row of the group."""
        for k, v in row.counts.items():
            self.counts[k] += v
        for k, f in row.sums.items():
            self.sums[k] += f
        if len(row.waits):
            self.waits.append(row.waits)

    def merge(self, other: Acc) -> None:
        """Add another group's day rows (the figures of follow-ups and cases are counted apart)."""
        for k, v in other.counts.items():
            self.counts[k] += v
        for k, f in other.sums.items():
            self.sums[k] += f
        self.waits.extend(other.waits)

    def bump(self, key: str, n: int = 1) -> None:
        """Count a follow-up or case figure."""
        self.live[key] = self.live.get(key, 0) + n

    def figures(self) -> dict[str, Any]:
        """Every figure of the group (see the module docstring)."""
        c, s = self.counts, self.sums
        levels = [c[f"l{i}"] for i in range(1, 6)]
        ratings = sum(levels)
        satisfied = sum(levels[2:])
        waits = np.concatenate(self.waits) if self.waits else np.zeros(0, dtype="<u4")
        live = self.live
        done, on_time = live.get("cases_done", 0), live.get("cases_on_time", 0)
        return {
            **{k: c[k] for k in ("visitors", "tickets", "served", "no_show", "expired", "cancelled")},
            "avg_wait_s": round(s["wait_sum"] / c["wait_n"], 1) if c["wait_n"] else None,
            "p90_wait_s": p90(waits),
            "avg_service_s": round(s["svc_sum"] / c["svc_n"], 1) if c["svc_n"] else None,
            "ratings": ratings,
            "satisfaction_rate": round(satisfied / ratings, 4) if ratings else None,
            "bad_ratings": levels[0] + levels[1],
            **{f"l{i}": levels[i - 1] for i in range(1, 6)},
            "avg_level": round(sum(i * n for i, n in enumerate(levels, 1)) / ratings, 2) if ratings else None,
            **{k: live.get(k, 0) for k in ("followups", "followups_closed", "followups_on_time", "followups_overdue")},
            "followups_on_time_rate": (
                round(live.get("followups_on_time", 0) / live["followups"], 4) if live.get("followups") else None
            ),
            "cases_done": done,
            "cases_on_time": on_time,
            "on_time_rate": round(on_time / done, 4) if done else None,
        }


QUEUE_COLUMNS = [
    Column("visitors", "接待人数", "Visitors"), Column("tickets", "取号数", "Tickets"),
    Column("served", "办结数", "Served"), Column("no_show", "过号数", "No-shows"),
    Column("avg_wait_s", "平均等候(秒)", "Avg wait (s)", "seconds"),
    Column("p90_wait_s", "90%等候(秒)", "90th pct wait (s)", "int"),
    Column("avg_service_s", "平均办理(秒)", "Avg handling (s)", "seconds"),
]
RATING_COLUMNS = [
    Column("ratings", "评价数", "Ratings"), Column("satisfaction_rate", "满意率", "Satisfaction", "rate"),
    Column("bad_ratings", "差评数", "Bad ratings"),
]
FOLLOWUP_COLUMNS = [
    Column("followups", "整改任务", "Follow-ups"), Column("followups_on_time", "按时整改", "Closed on time"),
    Column("followups_on_time_rate", "按时整改率", "Follow-ups on-time rate", "rate"),
    Column("followups_overdue", "超期未结", "Overdue"),
]
CASE_COLUMNS = [
    Column("cases_done", "办结办件", "Cases done"), Column("cases_on_time", "按时办结", "Cases on time"),
    Column("on_time_rate", "按时办结率", "Cases on-time rate", "rate"),
]
LEVEL_COLUMNS = [Column(f"l{i}", LEVELS[i][0], LEVELS[i][1]) for i in (5, 4, 3, 2, 1)]


class ReportEngine:
    """Builds reports from one connection (read only) and the hall's config."""

    def __init__(self, conn: sqlite3.Connection, config: HallConfig) -> None:
        self.conn = conn
        self.config = config
        self.clock = HallTime.of(config)
        self._tables: dict[str, bool] = {}
        self._live: dict[str, list[DayRow]] = {}  # the rows of the days not archived, per build
        self.staff = effective_staff(conn, config)  # hall.toml's and the console's, disabled members too

    def build(self, kind: str, date_from: str, date_to: str, now: dt.datetime) -> Report:
        """A report of `kind` over the range; raises ReportError for a bad kind or range."""
        if kind not in KINDS:
            raise ReportError(
                "bad_kind", f"没有“{kind}”这种报表，可选：{'、'.join(KINDS)}。",
                f"No report kind {kind!r}; the kinds are {', '.join(KINDS)}.",
            )
        first, last = parse_range(date_from, date_to)
        self._live = {}
        # One snapshot for every read: a roll-over committing meanwhile must not count a day twice
        # (archived and live) or not at all.
        own = not self.conn.in_transaction
        if own:
            self.conn.execute("BEGIN")
        try:
            return self._build(kind, _days(first, last), now)
        finally:
            if own:
                self.conn.execute("COMMIT")

    def _build(self, kind: str, days: list[str], now: dt.datetime) -> Report:
        made = self.clock.local(now).isoformat(timespec="seconds")
        if kind == "followups":
            return self._followup_list(days, now, made)
        dim = {"daily": "hall", "services": "service", "windows": "window", "staff": "staff", "ratings": "window"}[kind]
        groups, total = self._groups(dim, days, by_day=kind == "daily", now=now)
        names = self._names(dim)
        if kind == "daily":
            cols = [Column("date", "日期", "Date", "date"), *QUEUE_COLUMNS, *RATING_COLUMNS, *FOLLOWUP_COLUMNS,
                    *CASE_COLUMNS]
            keys = days
        elif kind == "ratings":
            cols = [Column("key", "窗口", "Window", "text"), Column("name", "名称", "Name", "text"), *RATING_COLUMNS,
                    Column("avg_level", "平均分", "Avg level", "seconds"), *LEVEL_COLUMNS, *FOLLOWUP_COLUMNS]
            keys = self._order(dim, groups)
        else:
            head = {"service": ("事项", "Service"), "window": ("窗口", "Window"), "staff": ("工号", "Staff id")}[dim]
            cols = [Column("key", head[0], head[1], "text"), Column("name", "名称", "Name", "text"), *QUEUE_COLUMNS,
                    *RATING_COLUMNS, *FOLLOWUP_COLUMNS]
            if dim == "staff":
                cols += CASE_COLUMNS
            keys = self._order(dim, groups)
        rows = []
        for key in keys:
            figs = groups.get(key, Acc()).figures() | {"date": key, "key": key, "name": names.get(key, key)}
            rows.append([figs[c.key] for c in cols])
        tot = total.figures() | {"date": "合计 Total", "key": "合计 Total", "name": ""}
        if kind == "ratings":
            tot["name"] = "含办件评价 incl. case ratings"
        return Report(kind, days[0], days[-1], cols, rows, [tot[c.key] for c in cols], made)

    # --- groups -------------------------------------------------------------------------

    def _day_rows(self, dim: str, days: Sequence[str]) -> Iterable[tuple[str, DayRow]]:
        """(day, row) of every day of the range: the archive's, else computed as the roll-over would."""
        have: set[str] = set()
        if self._table("report_days"):  # else a database the controller has not opened since this release
            have = archived_days(self.conn, days[0], days[-1])
            yield from archived_rows(self.conn, dim, days[0], days[-1])
        for day in days:
            if day not in have and self._has_any(day):
                if day not in self._live:  # a report reads a day's groups and the hall's: computed once
                    self._live[day] = day_rows(self.conn, day)
                yield from ((day, row) for row in self._live[day] if row.dim == dim)

    def _has_any(self, day: str) -> bool:
        if self.conn.execute("SELECT 1 FROM tickets WHERE day = ? LIMIT 1", (day,)).fetchone():
            return True
        return self._table("rec_ratings") and bool(
            self.conn.execute("SELECT 1 FROM rec_ratings WHERE day = ? LIMIT 1", (day,)).fetchone()
        )

    def _groups(self, dim: str, days: Sequence[str], *, by_day: bool, now: dt.datetime) -> tuple[dict[str, Acc], Acc]:
        """Each group's figures (by day for the hall), and the hall's over the whole range."""
        groups: dict[str, Acc] = {}
        total = Acc()
        for day, row in self._day_rows(dim, days):
            groups.setdefault(day if by_day else row.key, Acc()).add(row)
        if by_day:
            for acc in groups.values():
                total.merge(acc)
        else:  # the hall's own rows: they count what no group has (a case's rating, a ticket never called)
            for _day, row in self._day_rows("hall", days):
                total.add(row)
        self._followups(dim, days, by_day, groups, total, now)
        if dim in ("hall", "staff"):
            self._cases(dim, days, by_day, groups, total)
        return groups, total

    def _bounds(self, days: Sequence[str]) -> list[float]:
        """Start of every day of the range and the end of the last (POSIX seconds)."""
        starts = [self.clock.day_bounds(dt.date.fromisoformat(d))[0] for d in days]
        return [*starts, self.clock.day_bounds(dt.date.fromisoformat(days[-1]))[1]]

    def _followups(self, dim: str, days: Sequence[str], by_day: bool, groups: dict[str, Acc], total: Acc,
                   now: dt.datetime) -> None:
        if not self._table("rec_followups"):
            return
        bounds = self._bounds(days)
        col = {"hall": "''", "window": "f.window", "staff": "f.staff", "service": "t.service"}[dim]
        join = _HANDLING_TICKET if dim == "service" else ""
        for opened, key, state, due, updated in self.conn.execute(
            f"SELECT f.opened_ts, {col}, f.state, f.due_ts, f.updated_ts FROM rec_followups f {join} "
            "WHERE f.opened_ts >= ? AND f.opened_ts < ?",
            (bounds[0], bounds[-1]),
        ):
            group = days[bisect.bisect_right(bounds, opened) - 1] if by_day else (key or "")
            targets = [total] + ([groups.setdefault(group, Acc())] if group else [])
            for acc in targets:
                acc.bump("followups")
                if state == "closed":
                    acc.bump("followups_closed")
                    acc.bump("followups_on_time", int(updated <= due))
                elif due < now.timestamp():
                    acc.bump("followups_overdue")

    def _cases(self, dim: str, days: Sequence[str], by_day: bool, groups: dict[str, Acc], total: Acc) -> None:
        if not self._table("rec_cases"):
            return
        bounds = self._bounds(days)
        staff_of = {s.name: s.id for s in self.staff} | {s.id: s.id for s in self.staff}
        for finished, due, handler in self.conn.execute(
            "SELECT finished_ts, due_ts, handler FROM rec_cases WHERE finished_ts >= ? AND finished_ts < ? AND open = 0",
            (bounds[0], bounds[-1]),
        ):
            if by_day:
                group = days[bisect.bisect_right(bounds, finished) - 1]
            else:
                group = staff_of.get(str(handler or "").strip(), "") if dim == "staff" else ""
            on_time = int(due is None or finished <= due)
            for acc in [total] + ([groups.setdefault(group, Acc())] if group else []):
                acc.bump("cases_done")
                acc.bump("cases_on_time", on_time)

    def _table(self, name: str) -> bool:
        if name not in self._tables:
            self._tables[name] = bool(
                self.conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone()
            )
        return self._tables[name]

    def _names(self, dim: str) -> dict[str, str]:
        c = self.config
        if dim == "service":
            return {s.code: s.name for s in c.services}
        if dim == "window":
            return {w.id: w.name for w in c.windows}
        if dim == "staff":
            return {s.id: s.name for s in self.staff}
        return {}

    def _order(self, dim: str, groups: dict[str, Acc]) -> list[str]:
        """The configured groups in config order (each shown, even without figures), then any others found."""
        c = self.config
        known = {"service": [s.code for s in c.services], "window": [w.id for w in c.windows],
                 "staff": [s.id for s in self.staff]}.get(dim, [])
        return known + sorted(k for k in groups if k not in known)

    # --- the follow-up list --------------------------------------------------------------

    def _followup_list(self, days: list[str], now: dt.datetime, made: str) -> Report:
        cols = [
            Column("id", "编号", "Id"), Column("opened_at", "差评时间", "Rated at", "text"),
            Column("level", "评价", "Level", "text"), Column("reasons", "原因", "Reasons", "text"),
            Column("comment", "意见", "Comment", "text"), Column("window", "窗口", "Window", "text"),
            Column("staff", "人员", "Staff", "text"), Column("state", "状态", "State", "text"),
            Column("due_at", "整改期限", "Deadline", "text"), Column("closed_at", "办结时间", "Closed at", "text"),
            Column("on_time", "按时", "On time", "text"),
        ]
        rows: list[list[Any]] = []
        if self._table("rec_followups"):
            from hallbus.records.ratings import STATE_NAMES

            bounds = self._bounds(days)
            wnames = self._names("window")
            snames = self._names("staff")
            for fid, opened, level, reasons, comment, window, staff, state, due, updated in self.conn.execute(
                "SELECT id, opened_ts, level, reasons, comment, window, staff, state, due_ts, updated_ts "
                "FROM rec_followups WHERE opened_ts >= ? AND opened_ts < ? ORDER BY opened_ts, id",
                (bounds[0], bounds[-1]),
            ):
                closed = state == "closed"
                if closed:
                    on_time = "是 yes" if updated <= due else "否 no"
                else:
                    on_time = "超期 overdue" if due < now.timestamp() else ""
                rows.append([
                    int(fid), self.clock.iso(opened), LEVELS.get(int(level), (str(level),))[0],
                    "、".join(REASONS.get(r, (r,))[0] for r in json.loads(reasons or "[]")), comment or "",
                    wnames.get(window or "", window or ""), snames.get(staff or "", staff or ""),
                    STATE_NAMES.get(state, state), self.clock.iso(due), self.clock.iso(updated) if closed else "",
                    on_time,
                ])
        return Report("followups", days[0], days[-1], cols, rows, None, made)


# A follow-up's (or rating's) service: the handling's ticket (its id names its day and number).
_HANDLING_TICKET = (
    "LEFT JOIN rec_ratings r ON r.rating_id = f.rating_id "
    "LEFT JOIN rec_rating_requests q ON q.request_id = r.handling "
    "LEFT JOIN tickets t ON t.day = substr(q.ticket_id, 1, 4) || '-' || substr(q.ticket_id, 5, 2) || '-' "
    "|| substr(q.ticket_id, 7, 2) AND t.number = q.ticket"
)
