"""The reports page's charts (SPEC 12.2): daily counts over the range and satisfaction by window.

Data only, in the reader's language: the figures come from the `daily` and `windows` reports of the
same range (the page's own report when it is one of them, else asked for beside it), go into the
page as a `<script type="application/json">` block that `static/admin-reports.js` draws with ECharts
(SVG renderer, served from node_modules/ by `web.vendor`), and into small tables under each chart,
so every figure is also text (for a reader without script, a screen reader, a copy and paste).
"""

from __future__ import annotations

from typing import Any

from hallbus.reports.engine import Report

DAILY_SERIES = ("visitors", "tickets", "served")  # the daily chart's lines, in this order
SATISFACTION_KINDS = ("windows", "ratings")  # reports by window that carry `satisfaction_rate` and `ratings`


def kinds_for(kind: str) -> tuple[str, str]:
    """The report kinds the charts are drawn from when the page shows `kind`: (daily, by window)."""
    return "daily", kind if kind in SATISFACTION_KINDS else "windows"


def _head(report: Report, key: str, lang: str) -> str:
    col = next(c for c in report.columns if c.key == key)
    return col.en if lang == "en" else col.zh


def daily_chart(daily: Report, lang: str) -> dict[str, Any]:
    """x: the range's days; one series per figure of `DAILY_SERIES` (a count per day)."""
    rows = daily.as_dicts()
    return {
        "days": [r["date"] for r in rows],
        "series": [{"key": k, "name": _head(daily, k, lang), "data": [int(r[k] or 0) for r in rows]}
                   for k in DAILY_SERIES],
    }


def window_label(row: dict[str, Any], names: dict[str, str] | None = None) -> str:
    """A window as the chart's axis names it: `names[id]` (the English names), else its name when that says its
    id ("3号窗口"), else id and name."""
    key = str(row["key"])
    name = (names or {}).get(key) or str(row.get("name") or "")
    return name if key in name else (f"{key} {name}" if name else key)


def satisfaction_chart(by_window: Report, names: dict[str, str] | None = None) -> dict[str, Any]:
    """x: every window; the satisfaction rate in percent (None: no rating), the ratings' count, the hall's rate."""
    rows = by_window.as_dicts()
    total = by_window.total_dict() or {}

    def pct(rate: Any) -> float | None:
        return None if rate is None else round(float(rate) * 100, 2)

    return {
        "windows": [window_label(r, names) for r in rows],
        "satisfaction": [pct(r["satisfaction_rate"]) for r in rows],
        "ratings": [int(r["ratings"] or 0) for r in rows],
        "hall": pct(total.get("satisfaction_rate")),
    }


def chart_data(daily: Report, by_window: Report, lang: str, words: dict[str, str], printable: bool,
               names_en: dict[str, str] | None = None) -> dict[str, Any]:
    """The page's chart block: both charts, their words, the language and whether the page is for print.

    `names_en`: window id -> English name (`[[windows]] name_en`), used on an English page."""
    return {
        "lang": lang, "print": printable,
        "daily": daily_chart(daily, lang),
        "windows": satisfaction_chart(by_window, names_en if lang == "en" else None),
        "words": {k: words[k] for k in ("chart_daily", "chart_windows", "chart_pct", "chart_hall", "chart_no_ratings",
                                        "chart_ratings")},
    }
