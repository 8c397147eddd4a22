"""What the wall reads beside the API's hall objects: the live alert stream and the city's trends.

Both take the halls to look at (a district's, or every hall of city.toml), so the district filter
narrows the alerts and the curves as it narrows the ranking.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

# The newest alerts of the halls asked for, newest first.
_ALERTS_SQL = """
SELECT hall, ts, kind, level, subject FROM city_alert WHERE hall = ANY(%s) ORDER BY ts DESC LIMIT %s
"""

# Today by 10 minutes: each hall's last figures in each bucket, summed over the halls (a quiet hall's
# bucket without a message is left out, not counted as nobody waiting).
_DAY_SQL = """
SELECT b, sum(waiting), sum(served), max(longest_wait_s) FROM (
    SELECT DISTINCT ON (hall, b) hall, date_bin('10 minutes', minute, %s) AS b, waiting, served, longest_wait_s
    FROM city_minute WHERE hall = ANY(%s) AND minute >= %s ORDER BY hall, b, minute DESC
) per_hall GROUP BY b ORDER BY b
"""

# This month by day (the halls' own dates): served, satisfaction weighted by each day's ratings, overdue.
_MONTH_SQL = """
SELECT day, sum(served), sum(satisfaction * ratings) FILTER (WHERE satisfaction IS NOT NULL AND ratings > 0)
       / nullif(sum(ratings) FILTER (WHERE satisfaction IS NOT NULL AND ratings > 0), 0), sum(overdue_cases)
FROM city_day WHERE hall = ANY(%s) AND day >= %s GROUP BY day ORDER BY day
"""


def alerts(conn: psycopg.Connection[Any], halls: list[str], limit: int = 40) -> list[dict[str, Any]]:
    """The newest alerts of `halls`: hall, ts, kind, level, subject."""
    return [{"hall": h, "ts": ts.isoformat(), "kind": kind, "level": level, "subject": subject}
            for h, ts, kind, level, subject in conn.execute(_ALERTS_SQL, (halls, limit))]


def trends(conn: psycopg.Connection[Any], halls: list[str], zone: str = "Asia/Shanghai",
           now: dt.datetime | None = None) -> dict[str, list[dict[str, Any]]]:
    """Today by 10 minutes (people waiting, served, the longest wait) and this month by day, the halls' (`zone`).

    `now` (default: now) is for tests: the day that began at the halls' last midnight before it.
    """
    midnight = (now or dt.datetime.now(dt.UTC)).astimezone(ZoneInfo(zone)).replace(hour=0, minute=0, second=0,
                                                                                      microsecond=0)
    day = [{"t": b.isoformat(), "waiting": w, "served": s, "longest_wait_s": lw}
           for b, w, s, lw in conn.execute(_DAY_SQL, (midnight, halls, midnight))]
    first = midnight.date().replace(day=1).isoformat()
    month = [{"day": d, "served": s, "satisfaction": round(sat, 4) if sat is not None else None, "overdue": od}
             for d, s, sat, od in conn.execute(_MONTH_SQL, (halls, first))]
    return {"day": day, "month": month}
