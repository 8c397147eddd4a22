"""Working-day arithmetic around Spring Festival and National Day, with their 调休 days."""

from __future__ import annotations

import datetime as dt
import logging
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hallbus.records.workdays import WorkCalendar

TZ = ZoneInfo("Asia/Shanghai")


def at(y: int, m: int, d: int, h: int = 10, mi: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, h, mi, tzinfo=TZ)


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return WorkCalendar()


@pytest.mark.parametrize(
    ("day", "working"),
    [
        # Spring Festival 2025: off 28 Jan - 4 Feb; Sunday 26 Jan and Saturday 8 Feb are 调休 working days.
        ("2025-01-26", True),
        ("2025-01-28", False),
        ("2025-02-04", False),
        ("2025-02-05", True),
        ("2025-02-08", True),
        ("2025-02-09", False),
        # National Day 2025 (with Mid-Autumn): off 1-8 Oct; Sunday 28 Sep and Saturday 11 Oct worked.
        ("2025-09-28", True),
        ("2025-10-01", False),
        ("2025-10-08", False),
        ("2025-10-09", True),
        ("2025-10-11", True),
        # Spring Festival 2026: off 15-23 Feb; Saturdays 14 and 28 Feb worked.
        ("2026-02-14", True),
        ("2026-02-15", False),
        ("2026-02-23", False),
        ("2026-02-24", True),
        ("2026-02-28", True),
        # National Day 2026: off 1-7 Oct; Sunday 20 Sep and Saturday 10 Oct worked.
        ("2026-09-20", True),
        ("2026-09-25", False),  # Mid-Autumn
        ("2026-10-07", False),
        ("2026-10-08", True),
        ("2026-10-10", True),
        # Ordinary weekend and weekday
        ("2025-03-08", False),
        ("2025-03-10", True),
    ],
)
def test_official_schedule(cal: WorkCalendar, day: str, working: bool) -> None:
    assert cal.is_workday(dt.date.fromisoformat(day)) is working


def test_deadline_across_spring_festival_2026(cal: WorkCalendar) -> None:
    start = at(2026, 2, 12, 10, 30)  # Thursday before the festival
    got = [cal.add_workdays(start, n) for n in range(6)]
    assert [g.date().isoformat() for g in got] == [
        "2026-02-12",
        "2026-02-13",
        "2026-02-14",  # Saturday 调休
        "2026-02-24",  # first day back
        "2026-02-25",
        "2026-02-26",
    ]
    assert all(g.time() == dt.time(10, 30) for g in got)


def test_deadline_across_national_day_2025(cal: WorkCalendar) -> None:
    # Friday 26 Sep + 2: Sunday 28 Sep is a working day, Monday 29 the second
    assert cal.add_workdays(at(2025, 9, 26, 15), 2) == at(2025, 9, 29, 15)
    # Tuesday 30 Sep + 1 jumps the eight-day holiday to Thursday 9 Oct
    assert cal.add_workdays(at(2025, 9, 30, 15), 1) == at(2025, 10, 9, 15)
    # + 3: Thu 9, Fri 10, Sat 11 (调休)
    assert cal.add_workdays(at(2025, 9, 30, 15), 3) == at(2025, 10, 11, 15)


def test_national_day_2026_twenty_days(cal: WorkCalendar) -> None:
    start = at(2026, 9, 15, 9)
    due = cal.add_workdays(start, 20)
    # 16-18 Sep (3), Sunday 20 Sep 调休 (4), 21-24 (8), Mid-Autumn Friday 25 Sep off,
    # 28-30 (11), 1-7 Oct off, 8-10 Oct with Saturday 调休 (14), 12-16 (19), Monday 19 (20)
    assert due == at(2026, 10, 19, 9)
    assert cal.days_left(start, due) == 20


def test_start_on_a_holiday_counts_from_the_next_working_day(cal: WorkCalendar) -> None:
    # Submitted online on the first day of the 2026 festival: day 1 is 24 Feb, due at its end.
    due = cal.add_workdays(at(2026, 2, 16, 20), 1)
    assert due == dt.datetime(2026, 2, 25, 0, 0, tzinfo=TZ)
    assert cal.days_left(at(2026, 2, 16, 20), due) == 1


def test_over_by_one_hour_is_over(cal: WorkCalendar) -> None:
    due = cal.add_workdays(at(2026, 2, 12, 10), 3)  # 24 Feb 10:00
    assert cal.warning(at(2026, 2, 24, 9, 59), due) == "urgent"
    assert cal.days_left(at(2026, 2, 24, 9, 59), due) == 0
    assert cal.warning(at(2026, 2, 24, 11), due) == "overdue"
    assert cal.days_left(at(2026, 2, 24, 11), due) == -1
    assert cal.days_left(at(2026, 2, 26, 11), due) == -2


def test_days_left_and_warning_levels(cal: WorkCalendar) -> None:
    start = at(2025, 3, 3, 9)  # a quiet March, no holidays
    due = cal.add_workdays(start, 20)
    levels = []
    for n in range(21):
        now = cal.add_workdays(start, n)
        assert cal.days_left(now, due) == 20 - n
        levels.append(cal.warning(now, due))
    assert levels[: 20 - 7] == ["none"] * 13
    assert levels[13:15] == ["notice", "notice"]  # 7, 6 left
    assert levels[15:17] == ["warn", "warn"]  # 5, 4
    assert levels[17:21] == ["urgent"] * 4  # 3, 2, 1, 0


def test_days_left_falls_by_one_per_working_day_over_the_holiday(cal: WorkCalendar) -> None:
    due = at(2025, 10, 14, 17)
    assert cal.days_left(at(2025, 9, 30, 17), due) == 5  # 9, 10, 11 (Sat 调休), 13, 14 at 17:00
    assert cal.days_left(at(2025, 10, 3, 12), due) == 4  # from a holiday: 9, 10, 11, 13 end before it


def test_local_overrides() -> None:
    plain = WorkCalendar()
    local = WorkCalendar(holidays=["2025-03-10"], workdays=["2025-03-08"])
    assert plain.is_workday(dt.date(2025, 3, 10)) and not local.is_workday(dt.date(2025, 3, 10))
    assert not plain.is_workday(dt.date(2025, 3, 8)) and local.is_workday(dt.date(2025, 3, 8))
    assert local.add_workdays(at(2025, 3, 7), 2) == at(2025, 3, 11)
    with pytest.raises(ValueError, match="both"):
        WorkCalendar(holidays=["2025-03-10"], workdays=["2025-03-10"])


def test_year_beyond_the_library_uses_weekends_and_says_so_once(caplog: pytest.LogCaptureFixture) -> None:
    cal = WorkCalendar(workdays=["2031-01-04"])
    with caplog.at_level(logging.WARNING, logger="hallbus.records.workdays"):
        assert cal.is_workday(dt.date(2031, 1, 1))  # a Wednesday: no official data, so a working day
        assert not cal.is_workday(dt.date(2031, 1, 5))  # Sunday
        assert cal.is_workday(dt.date(2031, 1, 4))  # local override
        assert cal.add_workdays(at(2031, 1, 3), 1) == at(2031, 1, 4)
    lines = [r for r in caplog.records if "no official schedule" in r.getMessage()]
    assert len(lines) == 1


@settings(max_examples=200, deadline=None)
@given(
    st.datetimes(min_value=dt.datetime(2024, 6, 1), max_value=dt.datetime(2026, 12, 1)),
    st.integers(min_value=0, max_value=40),
)
def test_add_then_days_left_round_trips(start: dt.datetime, n: int) -> None:
    cal = _shared
    start = start.replace(tzinfo=TZ, microsecond=0)
    due = cal.add_workdays(start, n)
    assert due >= start
    assert cal.days_left(start, due) == n
    if due > start:
        assert cal.warning(due + dt.timedelta(seconds=1), due) == "overdue"


_shared = WorkCalendar()
