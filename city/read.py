"""The city's figures as the API and the wall show them: one object per hall, its cards, one hall in depth.

A hall is online while its bridge has not said it is gone (the broker's `0` for it), its
controller is not offline or lost, and (with `[thresholds] silent_after_s`) it was heard from
lately. An offline hall's figures are null, its last known ones under `last_known`: a silent hall
never shows as a hall where nobody waits.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg

from city.config import CityConfig, HallEntry, ThresholdsSection

_HALLS_SQL = """
SELECT hall, last_seen, waiting, oldest_issued_at, served_today, satisfaction_today, on_time_rate,
       overdue_cases, followups_open, bridge_up, bridge_at, devices_faulty, nodes_offline, controller_down, stats_date
FROM city_hall h
"""

# This month's satisfaction: every day's rate weighted by that day's ratings (city_day, the halls' own days).
_MONTH_SQL = """
SELECT hall, sum(satisfaction * ratings) FILTER (WHERE satisfaction IS NOT NULL AND ratings > 0)
             / nullif(sum(ratings) FILTER (WHERE satisfaction IS NOT NULL AND ratings > 0), 0)
FROM city_day WHERE day >= %s GROUP BY hall
"""

FIGURES = ("waiting", "longest_wait_s", "served_today", "satisfaction_today", "on_time_rate", "overdue_cases",
           "followups_open", "devices_faulty", "nodes_offline")


def _iso(t: dt.datetime | None) -> str | None:
    return t.isoformat() if t is not None else None


def hall_object(entry: HallEntry, row: tuple[Any, ...] | None, th: ThresholdsSection, now: dt.datetime,
                month: float | None = None, today: str | None = None) -> dict[str, Any]:
    """The SPEC 13 object of one hall (plus `kind`, `satisfaction_month`, `card`, `reasons`, `offline_since`, `last_known`)."""
    out: dict[str, Any] = {"hall": entry.id, "name": entry.name, "district": entry.district, "kind": entry.kind,
                           "satisfaction_month": round(month, 4) if month is not None else None}
    if row is None:
        out.update({"online": False, "last_seen": None, "offline_since": None, **dict.fromkeys(FIGURES),
                    "last_known": None, "card": "red", "reasons": ["never_heard"]})
        return out
    (_h, last_seen, waiting, oldest, served, satisfaction, on_time, overdue, followups, bridge_up, bridge_at,
     faulty, nodes_off, controller_down, stats_date) = row
    if today is not None and stats_date and stats_date < today:
        # its figures are of a day gone by (no message since its midnight): nobody served yet today, no rating
        served, satisfaction = 0, None
    longest = max(0, int((now - oldest).total_seconds())) if oldest is not None and waiting else 0
    figures = {"waiting": waiting, "longest_wait_s": longest if waiting is not None else None,
               "served_today": served, "satisfaction_today": satisfaction, "on_time_rate": on_time,
               "overdue_cases": overdue, "followups_open": followups, "devices_faulty": int(faulty),
               "nodes_offline": int(nodes_off)}
    silent = bool(th.silent_after_s) and last_seen is not None and (now - last_seen).total_seconds() > th.silent_after_s
    online = last_seen is not None and bridge_up is not False and not controller_down and not silent
    since: dt.datetime | None = None
    if not online:
        since = bridge_at if bridge_up is False else last_seen
    out.update({"online": online, "last_seen": _iso(last_seen), "offline_since": _iso(since)})
    if online:
        out.update(figures)
        out["last_known"] = None
    else:
        out.update(dict.fromkeys(FIGURES))
        out["last_known"] = figures
    out["card"], out["reasons"] = card(out, th)
    return out


def card(h: dict[str, Any], th: ThresholdsSection) -> tuple[str | None, list[str]]:
    """The hall's card (`red`, `yellow` or None) and why, from the thresholds of city.toml."""
    if not h["online"]:
        return "red", ["offline"]
    red: list[str] = []
    yellow: list[str] = []

    def rate(key: str, value: float | None, y: float, r: float, worse_high: bool = True) -> None:
        if value is None:
            return
        if (value >= r) if worse_high else (value < r):
            red.append(key)
        elif (value >= y) if worse_high else (value < y):
            yellow.append(key)

    rate("longest_wait", h["longest_wait_s"], th.wait_yellow_s, th.wait_red_s)
    rate("satisfaction", h["satisfaction_today"], th.satisfaction_yellow, th.satisfaction_red, worse_high=False)
    rate("overdue_cases", h["overdue_cases"], th.overdue_yellow, th.overdue_red)
    rate("devices_faulty", h["devices_faulty"], th.devices_faulty_yellow, th.devices_faulty_red)
    if red:
        return "red", red + yellow
    return ("yellow", yellow) if yellow else (None, [])


def halls(conn: psycopg.Connection[Any], cfg: CityConfig, *, district: str | None = None) -> list[dict[str, Any]]:
    """Every hall of city.toml (or of one district), red first, then yellow, then by people waiting."""
    now = dt.datetime.now(dt.UTC)
    rows = {r[0]: r for r in conn.execute(_HALLS_SQL)}
    today = cfg.today(now)
    month = dict(conn.execute(_MONTH_SQL, (today.replace(day=1).isoformat(),)).fetchall())
    out = [hall_object(e, rows.get(e.id), cfg.thresholds, now, month.get(e.id), today.isoformat()) for e in cfg.halls
           if district is None or e.district == district]
    rank = {"red": 0, "yellow": 1, None: 2}
    out.sort(key=lambda h: (rank[h["card"]], -(h["waiting"] or 0), h["hall"]))
    return out


def hall_detail(conn: psycopg.Connection[Any], cfg: CityConfig, entry: HallEntry) -> dict[str, Any]:
    """One hall: its object, plus its windows, services, nodes, recent alerts and today's figures by minute."""
    now = dt.datetime.now(dt.UTC)
    row = conn.execute(_HALLS_SQL + " WHERE h.hall = %s", (entry.id,)).fetchone()
    today = cfg.today(now)
    month = dict(conn.execute(_MONTH_SQL.replace("GROUP BY", "AND hall = %s GROUP BY"),
                              (today.replace(day=1).isoformat(), entry.id)).fetchall())
    out = hall_object(entry, row, cfg.thresholds, now, month.get(entry.id), today.isoformat())
    parts = conn.execute("SELECT kind, key, payload FROM city_part WHERE hall = %s ORDER BY kind, key",
                         (entry.id,)).fetchall()
    out["windows"] = [{k: p.get(k) for k in ("window", "name", "status", "since", "services")}
                      | {"ticket": (p.get("ticket") or {}).get("number"),
                         "staff": (p.get("staff") or {}).get("name")}
                      for kind, _key, p in parts if kind == "window"]
    queue = next((p for kind, _k, p in parts if kind == "queue"), None)
    out["services"] = [{k: s.get(k) for k in ("code", "name", "waiting", "est_wait_s", "windows_open",
                                               "oldest_issued_at")} for s in (queue or {}).get("services", [])]
    devices = {key: p for kind, key, p in parts if kind == "devices"}
    out["nodes"] = [{"node": key, "state": p.get("state"), "role": p.get("role"),
                     "devices": {d: v for d, v in devices.get(key, {}).items() if isinstance(v, dict)}}
                    for kind, key, p in parts if kind == "status"]
    out["alerts"] = [{"ts": _iso(ts), "kind": kind, "level": level, "subject": subject, "detail": detail}
                     for ts, kind, level, subject, detail in conn.execute(
                         "SELECT ts, kind, level, subject, detail FROM city_alert WHERE hall = %s"
                         " ORDER BY ts DESC LIMIT 50", (entry.id,))]
    out["minutes"] = [{"minute": _iso(m), "waiting": w, "longest_wait_s": lw, "served": s, "satisfaction": sat}
                      for m, w, lw, s, sat in conn.execute(
                          "SELECT minute, waiting, longest_wait_s, served, satisfaction FROM city_minute"
                          " WHERE hall = %s AND minute > %s ORDER BY minute", (entry.id, now - dt.timedelta(hours=24)))]
    out["days"] = [{"day": d, "served": sv, "ratings": r, "satisfaction": sat, "on_time_rate": ot, "overdue_cases": od}
                   for d, sv, r, sat, ot, od in conn.execute(
                       "SELECT day, served, ratings, satisfaction, on_time_rate, overdue_cases FROM city_day"
                       " WHERE hall = %s ORDER BY day DESC LIMIT 31", (entry.id,))][::-1]
    return out

