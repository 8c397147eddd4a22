"""The hall's sense of time: its clock, its time zone, its business day and opening hours.

`HallTime` is the one place a moment becomes a hall day: the controller's day, the
records' deadlines and the admin CLI's "today" all come from it. Every moment is read
in the hall's zone first, so a clock or a record that speaks another zone (a host clock
in UTC, an import with an offset) still lands on the hall's day and dial.
"""

from __future__ import annotations

import datetime as dt
import functools
import threading
from collections.abc import Callable
from zoneinfo import ZoneInfo

from hallbus.config import HallConfig

Clock = Callable[[], dt.datetime]
"""Now, aware (injectable for tests); the controller reads it in the hall's zone."""


def system_clock(timezone: str) -> Clock:
    """Now from the system clock, aware, in the hall's time zone."""
    tz = ZoneInfo(timezone)

    def now() -> dt.datetime:
        return dt.datetime.now(tz)

    return now


class ManualClock:
    """A clock a test or a scripted demo moves by hand."""

    def __init__(self, start: dt.datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> dt.datetime:
        with self._lock:
            return self._now

    def set(self, when: dt.datetime) -> None:
        """Jump to a moment."""
        with self._lock:
            self._now = when

    def advance(self, seconds: float) -> dt.datetime:
        """Move forward and return the new now."""
        with self._lock:
            self._now = self._now + dt.timedelta(seconds=seconds)
            return self._now


@functools.lru_cache(maxsize=1024)  # the same few spans are parsed on every request
def parse_hhmm(text: str) -> int:
    """`"08:30"` -> minutes after midnight (`"24:00"` is 1440)."""
    hh, mm = text.strip().split(":")
    minutes = int(hh) * 60 + int(mm)
    if not 0 <= minutes <= 24 * 60 or int(mm) >= 60:
        raise ValueError(f"not a time of day: {text!r}")
    return minutes


def minute_of_day(when: dt.datetime) -> int:
    """Minutes after midnight on `when`'s own dial (give it a moment in the hall's zone)."""
    return when.hour * 60 + when.minute


def within(when: dt.datetime, span: str) -> bool:
    """True when `when` (in the hall's zone) falls inside `"08:30-12:00"` (start included, end excluded)."""
    start, end = span.split("-")
    m = minute_of_day(when)
    return parse_hhmm(start) <= m < parse_hhmm(end)


def in_hours(when: dt.datetime, hours: list[str]) -> bool:
    """True when `when` (in the hall's zone) falls inside any of the opening spans (no spans = always open)."""
    return not hours or any(within(when, h) for h in hours)


class HallTime:
    """Moments in the hall's time zone, and the hall day (before the roll-over time it is still yesterday)."""

    def __init__(self, timezone: str, rollover: str) -> None:
        self.tz = ZoneInfo(timezone)
        self.rollover_min = parse_hhmm(rollover)
        self.rollover = dt.time(self.rollover_min // 60, self.rollover_min % 60)

    @staticmethod
    def of(config: HallConfig) -> HallTime:
        """The hall time of a config (one object per zone and roll-over, shared)."""
        return _hall_time(config.hall.timezone, config.hall.rollover)

    def local(self, when: dt.datetime) -> dt.datetime:
        """An aware moment on the hall's dial."""
        if when.tzinfo is None:
            raise ValueError(f"a naive moment has no place in the hall's day: {when.isoformat()}")
        return when.astimezone(self.tz)

    def business_day(self, when: dt.datetime) -> dt.date:
        """The hall day of an aware moment."""
        local = self.local(when)
        if minute_of_day(local) < self.rollover_min:
            return local.date() - dt.timedelta(days=1)
        return local.date()

    def today(self, clock: Clock) -> dt.date:
        """The hall day now."""
        return self.business_day(clock())

    def day_bounds(self, day: dt.date) -> tuple[float, float]:
        """POSIX seconds of the start and end of a hall day."""
        start = dt.datetime.combine(day, self.rollover, self.tz)
        end = dt.datetime.combine(day + dt.timedelta(days=1), self.rollover, self.tz)
        return start.timestamp(), end.timestamp()

    def at(self, ts: float | None) -> dt.datetime | None:
        """POSIX seconds as an aware moment in the hall's zone."""
        return None if ts is None else dt.datetime.fromtimestamp(ts, self.tz)

    def iso(self, ts: float | None) -> str | None:
        """POSIX seconds as ISO-8601 with the hall's offset."""
        m = self.at(ts)
        return None if m is None else m.isoformat(timespec="seconds")

    def parse(self, text: str) -> dt.datetime:
        """An ISO-8601 date or date-time (also `YYYY/MM/DD HH:MM`); naive means the hall's zone."""
        t = text.strip().replace("/", "-")
        if "T" not in t and " " in t:
            t = t.replace(" ", "T", 1)
        moment = dt.datetime.fromisoformat(t)
        return moment.replace(tzinfo=self.tz) if moment.tzinfo is None else moment.astimezone(self.tz)


@functools.lru_cache(maxsize=8)
def _hall_time(timezone: str, rollover: str) -> HallTime:
    return HallTime(timezone, rollover)
