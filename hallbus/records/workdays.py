"""PRC working days (工作日): holidays and make-up working days (调休), deadlines as moments.

The schedule comes from the `chinese-calendar` library, which knows the years the State
Council has published up to its release; `[calendar]` in hall.toml adds local holidays
and working days on top. For a year the library does not know, only weekends and the
local overrides count, and one log line says so.

Rules (see docs/records.md):

- `add_workdays(start, n)`: on a working day, the deadline is the same clock time `n`
  working days later (accepted Monday 10:00 with 1 day: due Tuesday 10:00). Started on a
  day off, counting begins with the next working day and the deadline is the end
  (24:00) of the n-th working day.
- The deadline is a moment: finished one hour after it is overdue (超1小时也是超).
- `days_left(now, due)`: how many whole working days may still be added to `now`
  before passing `due`; when overdue, minus the working days started since (at least 1).
- Warning levels: `notice` at 7 or fewer working days left, `warn` at 5, `urgent` at 3,
  `overdue` past the deadline.
"""

from __future__ import annotations

import bisect
import datetime as dt
import logging
import threading
from collections.abc import Iterable
from typing import Literal

log = logging.getLogger(__name__)

Warning_ = Literal["none", "notice", "warn", "urgent", "overdue"]
WARNING_LEVELS: tuple[Warning_, ...] = ("none", "notice", "warn", "urgent", "overdue")
# (level, at most this many working days left)
THRESHOLDS: tuple[tuple[Warning_, int], ...] = (("urgent", 3), ("warn", 5), ("notice", 7))

_ONE_DAY = dt.timedelta(days=1)


def level_rank(level: str) -> int:
    """Order of a warning level: none 0 < notice < warn < urgent < overdue 4."""
    return WARNING_LEVELS.index(level) if level in WARNING_LEVELS else 0


def _parse_day(value: str | dt.date) -> dt.date:
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(value.strip())


class WorkCalendar:
    """Working days of the PRC schedule with local overrides; answers in O(log n) from a per-year index."""

    def __init__(
        self,
        holidays: Iterable[str | dt.date] = (),
        workdays: Iterable[str | dt.date] = (),
        *,
        use_library: bool = True,
    ) -> None:
        self.extra_holidays = frozenset(_parse_day(d) for d in holidays)
        self.extra_workdays = frozenset(_parse_day(d) for d in workdays)
        clash = self.extra_holidays & self.extra_workdays
        if clash:
            raise ValueError(f"[calendar] names {sorted(clash)[0]} both as a holiday and as a working day")
        self._cc = None
        if use_library:
            try:
                import chinese_calendar

                self._cc = chinese_calendar
            except ImportError:  # pragma: no cover - a declared dependency
                log.warning("chinese-calendar is not installed: only weekends and [calendar] count")
        self._years: dict[int, tuple[list[int], int]] = {}  # year -> (ordinals of working days, count before)
        self._lock = threading.RLock()
        self._warned_years: set[int] = set()
        # Answers by day: the library's look-up is slow for years it does not know (it
        # scans its whole table before giving up), and a deadline scan asks per case.
        self._days: dict[dt.date, bool] = {}

    @classmethod
    def from_config(cls, section: object) -> WorkCalendar:
        """From a `[calendar]` config section (holidays, workdays)."""
        return cls(getattr(section, "holidays", ()), getattr(section, "workdays", ()))

    def set_overrides(self, holidays: Iterable[str | dt.date], workdays: Iterable[str | dt.date]) -> None:
        """Take new local holidays and make-up working days (a manager changed them): every answer after this uses them.

        Raises ValueError, changing nothing, for a day named as both.
        """
        hol = frozenset(_parse_day(d) for d in holidays)
        work = frozenset(_parse_day(d) for d in workdays)
        if hol & work:
            raise ValueError(f"[calendar] names {sorted(hol & work)[0]} both as a holiday and as a working day")
        with self._lock:
            if (hol, work) == (self.extra_holidays, self.extra_workdays):
                return
            self.extra_holidays, self.extra_workdays = hol, work
            self._years = {}
            self._days = {}

    # --- single days -------------------------------------------------------------------

    def knows(self, year: int) -> bool:
        """Whether the library has the official schedule of this year."""
        if self._cc is None:
            return False
        try:
            self._cc.is_workday(dt.date(year, 6, 1))
        except NotImplementedError:
            return False
        return True

    def is_workday(self, day: dt.date) -> bool:
        """Whether `day` is a working day (overrides first, then the official schedule)."""
        known = self._days.get(day)
        if known is None:
            known = self._days[day] = self._is_workday(day)
        return known

    def _is_workday(self, day: dt.date) -> bool:
        if day in self.extra_workdays:
            return True
        if day in self.extra_holidays:
            return False
        if self._cc is not None:
            try:
                return bool(self._cc.is_workday(day))
            except NotImplementedError:
                self._warn_unknown(day.year)
        return day.weekday() < 5

    def _warn_unknown(self, year: int) -> None:
        if not self._warned_years:  # one line per calendar, not one per day or per year
            log.warning(
                "the holiday calendar has no official schedule for %d: counting weekends and "
                "[calendar] overrides only for such years; add their holidays and 调休 days to "
                "[calendar] or update chinese-calendar",
                year,
            )
        self._warned_years.add(year)

    # --- the per-year index: W(d) = working days in [1 Jan 1900, d] -----------------------

    def _year(self, year: int) -> tuple[list[int], int]:
        with self._lock:  # re-entrant: building one year may build its neighbours
            hit = self._years.get(year)
            if hit is None:
                ords = [d.toordinal() for d in self._workdays_of(year)]
                hit = (ords, self._count_before(year, len(ords)))
                self._years[year] = hit
            return hit

    def _count_before(self, year: int, own: int) -> int:
        # Only differences of W matter, so the first year ever built anchors W at 0 and
        # other years chain from the nearest built one (years in between get built too).
        if not self._years:
            return 0
        if year > max(self._years):
            prev, before = self._year(year - 1)
            return before + len(prev)
        _nxt, nxt_before = self._year(year + 1)
        return nxt_before - own

    def _workdays_of(self, year: int) -> Iterable[dt.date]:
        day = dt.date(year, 1, 1)
        while day.year == year:
            if self.is_workday(day):
                yield day
            day += _ONE_DAY

    def count_through(self, day: dt.date) -> int:
        """W(day): working days up to and including `day`, from a fixed anchor (only differences mean anything)."""
        ords, before = self._year(day.year)
        return before + bisect.bisect_right(ords, day.toordinal())

    def nth_workday(self, w: int) -> dt.date:
        """The working day whose W is `w`."""
        # Start from a built year and walk by years.
        with self._lock:
            year = min(self._years) if self._years else dt.date.today().year
        while True:
            ords, before = self._year(year)
            if w <= before:
                year -= 1
            elif w > before + len(ords):
                year += 1
            else:
                return dt.date.fromordinal(ords[w - before - 1])

    def next_workday(self, day: dt.date) -> dt.date:
        """The first working day strictly after `day`."""
        return self.nth_workday(self.count_through(day) + 1)

    def workdays_between(self, first: dt.date, last: dt.date) -> int:
        """Working days in [first, last] (0 if last < first)."""
        if last < first:
            return 0
        return self.count_through(last) - self.count_through(first - _ONE_DAY)

    # --- moments ----------------------------------------------------------------------

    def add_workdays(self, start: dt.datetime, n: int) -> dt.datetime:
        """The moment `n` working days after `start` (see the module rules)."""
        if n < 0:
            raise ValueError("n must be >= 0")
        day = start.date()
        if self.is_workday(day):
            target = self.nth_workday(self.count_through(day) + n)
            return start.replace(year=target.year, month=target.month, day=target.day)
        if n == 0:
            first = self.next_workday(day)
            return dt.datetime.combine(first, dt.time(0), start.tzinfo)
        last = self.nth_workday(self.count_through(day) + n)
        return dt.datetime.combine(last + _ONE_DAY, dt.time(0), start.tzinfo)

    def whole_workdays(self, start: dt.datetime, end: dt.datetime) -> int:
        """The largest k with add_workdays(start, k) <= end (0 if end < start)."""
        start, end = _same_tz(start, end)
        if end <= start:
            return 0
        sday, eday = start.date(), end.date()
        if self.is_workday(sday):
            k = self.count_through(eday) - self.count_through(sday)
            if self.is_workday(eday) and end.time() < start.time():
                k -= 1
            return max(k, 0)
        # From a day off, day k ends at midnight after the k-th working day.
        return max(self.count_through(eday - _ONE_DAY) - self.count_through(sday), 0)

    def days_left(self, now: dt.datetime, due: dt.datetime) -> int:
        """Working days left before `due`; negative when overdue (at least -1 once past it)."""
        now, due = _same_tz(now, due)
        if now <= due:
            return self.whole_workdays(now, due)
        return -max(1, self.whole_workdays(due, now))

    def warning(self, now: dt.datetime, due: dt.datetime) -> Warning_:
        """Warning level of a deadline at `now`: none, notice (≤7), warn (≤5), urgent (≤3), overdue."""
        now, due = _same_tz(now, due)
        if now > due:
            return "overdue"
        left = self.whole_workdays(now, due)
        for level, limit in THRESHOLDS:
            if left <= limit:
                return level
        return "none"


def _same_tz(a: dt.datetime, b: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """Both moments in the timezone of the first, so clock times compare correctly."""
    if a.tzinfo is not None and b.tzinfo is not None:
        return a, b.astimezone(a.tzinfo)
    return a, b
