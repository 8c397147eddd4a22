"""The controller's sense of time: the hall's clock, its business day and opening hours."""

from __future__ import annotations

import datetime as dt
import functools
import threading
from zoneinfo import ZoneInfo

from hallbus.controller.module import Clock


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
    """Minutes after local midnight."""
    return when.hour * 60 + when.minute


def business_day(when: dt.datetime, rollover: str) -> dt.date:
    """The hall day `when` belongs to: before the roll-over time it is still the previous day."""
    if minute_of_day(when) < parse_hhmm(rollover):
        return when.date() - dt.timedelta(days=1)
    return when.date()


def within(when: dt.datetime, span: str) -> bool:
    """True when `when` falls inside `"08:30-12:00"` (start included, end excluded)."""
    start, end = span.split("-")
    m = minute_of_day(when)
    return parse_hhmm(start) <= m < parse_hhmm(end)


def in_hours(when: dt.datetime, hours: list[str]) -> bool:
    """True when `when` falls inside any of the opening spans (no spans = always open)."""
    return not hours or any(within(when, h) for h in hours)
