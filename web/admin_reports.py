"""The console's reports (报表, SPEC 12.2): the page over any day range and the XLSX export.

The controller makes every report (`report.query`, the web node only; docs/reports.md);
hallweb asks for it page by page (`hallbus.reports.module.fetch_report`, on a worker thread:
it blocks) and shows it as a table, a printable page (`?print=1`, no navigation; the
stylesheet's print rules hide it on any page) or an `.xlsx` download
(`GET /admin/reports/{kind}.xlsx?from=YYYY-MM-DD&to=YYYY-MM-DD`, `hallbus.reports.xlsx`). Above the table,
two charts of the same range (`web.report_charts`): daily counts and satisfaction by window; the
reports they come from are asked for beside the page's own, at the same time.
A bad kind or range answers 400 with the sentence in the reader's language before the
controller is asked; the controller away answers 503 saying so. Managers and supervisors
only (the guard's default): a `staff` session gets 403, and the controller, which gets the
session with every `report.query`, would give it nothing but its own figures anyway
(the staff's own page, `web.admin_own`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from litestar import MediaType, Request, Response, get
from litestar.exceptions import HTTPException
from litestar.params import FromPath

from hallbus.config import HallConfig
from hallbus.controller.clock import HallTime, system_clock
from hallbus.reports.engine import KIND_NAMES, Column, Report, ReportError, parse_range
from hallbus.reports.module import fetch_report
from hallbus.reports.xlsx import xlsx_bytes
from hallbus.rpc import RpcClient, RpcFault
from web.admin_words import admin_link
from web.presence import ControllerPresence
from web.public import lang_of
from web.report_charts import chart_data, kinds_for

KINDS = tuple(KIND_NAMES)  # daily, services, windows, staff, ratings, followups
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FETCH_TIMEOUT_S = 30.0
AWAY_CODES = ("timeout", "unavailable", "busy")


@dataclass(frozen=True)
class Ask:
    """What the reader asked for, checked: kind and range, or the sentence why not (`error`)."""

    kind: str
    date_from: str
    date_to: str
    error: tuple[str, str] | None = None  # (zh_CN, English)

    def say(self, lang: str) -> str:
        """The reason in the reader's language ("" when there is none)."""
        return "" if self.error is None else self.error[1 if lang == "en" else 0]


def this_month(config: HallConfig) -> tuple[str, str]:
    """The default range: the first of this month to today (hall days)."""
    return month_to(HallTime.of(config).today(system_clock(config.hall.timezone)))


def month_to(today: dt.date) -> tuple[str, str]:
    """The first of `today`'s month to `today`."""
    return today.replace(day=1).isoformat(), today.isoformat()


def check(kind: str | None, date_from: str | None, date_to: str | None, config: HallConfig) -> Ask:
    """The request's kind and range (defaults: `daily`, this month), with the reason it cannot be made if so."""
    first, last = this_month(config)
    kind = kind or "daily"
    ask = Ask(kind, (date_from or first).strip(), (date_to or last).strip())
    if kind not in KIND_NAMES:
        names = ", ".join(KINDS)
        msg = (f"没有名为“{kind[:40]}”的报表，可选：{names}。", f"There is no report “{kind[:40]}”; the kinds are {names}.")
        return Ask(kind[:40], ask.date_from[:20], ask.date_to[:20], msg)
    try:
        parse_range(ask.date_from, ask.date_to)
    except ReportError as err:
        return Ask(kind, ask.date_from[:20], ask.date_to[:20], (err.message, err.message_en or err.message))
    return ask


def cell(value: Any, col: Column) -> str:
    """One figure as the page shows it (rates as percentages, seconds with one decimal, nothing as —)."""
    if value is None or value == "":
        return "—"
    if col.kind == "rate":
        return f"{float(value) * 100:.2f}%"
    if col.kind == "seconds":
        return f"{float(value):.1f}"
    return str(value)


def table(report: Report, lang: str) -> dict[str, Any]:
    """The report as the template draws it: headers in the reader's language, cells formatted."""
    cols = report.columns
    return {
        "heads": [(c.en if lang == "en" else c.zh, c.kind) for c in cols],
        "rows": [[cell(v, c) for v, c in zip(row, cols, strict=True)] for row in report.rows],
        "total": [cell(v, c) for v, c in zip(report.total, cols, strict=True)] if report.total else None,
        "made_at": report.made_at[:19].replace("T", " "),
    }


def file_name(hall_id: str, ask: Ask) -> str:
    """The download's name: hall, kind and range (ASCII, so every browser keeps it)."""
    return f"{hall_id}-{ask.kind}-{ask.date_from}-{ask.date_to}.xlsx"


class Fetcher:
    """`report.query` for the console: the whole report, or ReportAway / the controller's RpcFault."""

    def __init__(self, rpc: RpcClient, presence: ControllerPresence) -> None:
        self.rpc = rpc
        self.presence = presence

    async def fetch(self, ask: Ask, session: str) -> Report:
        """The report for the console session `session` (the controller checks whose figures it may see)."""
        if self.presence.away:
            raise ReportAway()
        try:
            return await asyncio.to_thread(fetch_report, self.rpc, ask.kind, ask.date_from, ask.date_to,
                                           session=session, timeout=FETCH_TIMEOUT_S)
        except RpcFault as fault:
            if fault.code in AWAY_CODES:
                raise ReportAway() from fault
            if fault.code == "session_invalid":  # ended at the controller (disabled, signed out elsewhere, expired)
                raise SessionEnded() from fault
            raise

    async def fetch_with_charts(self, ask: Ask, session: str) -> tuple[Report, Report, Report]:
        """The asked report and the charts' two (`kinds_for`), each asked for once and all at the same time."""
        daily, by_window = kinds_for(ask.kind)
        wanted = list(dict.fromkeys((ask.kind, daily, by_window)))
        got = dict(zip(wanted, await asyncio.gather(*(self.fetch(replace(ask, kind=k), session) for k in wanted)), strict=True))
        return got[ask.kind], got[daily], got[by_window]


class ReportAway(Exception):
    """The controller cannot make the report now (away, or no answer in time)."""


class SessionEnded(HTTPException):
    """The controller says the console session has ended: the console sends the browser to its login page."""

    status_code = 401


def report_routes(
    config: HallConfig, rpc: RpcClient, presence: ControllerPresence, page: Callable[..., Response[str]],
    words: Callable[[str], dict[str, str]],
) -> list[Any]:
    """`GET /reports` (the page, `?print=1` printable) and `GET /reports/{name}` (`{kind}.xlsx`)."""
    fetcher = Fetcher(rpc, presence)

    @get("/reports")
    async def reports_page(request: Request[Any, Any, Any]) -> Response[str]:
        lang = lang_of(request.query_params.get("lang"))
        q = request.query_params
        ask = check(q.get("kind"), q.get("from"), q.get("to"), config)
        printable = request.query_params.get("print") == "1"
        kinds = [(k, KIND_NAMES[k][1] if lang == "en" else KIND_NAMES[k][0]) for k in KINDS]
        ctx: dict[str, Any] = {"current": "reports", "ask": ask, "kinds": kinds, "printable": printable,
                               "title": dict(kinds).get(ask.kind, ""), "report": None, "charts": None,
                               "error": ask.say(lang)}
        span = {"from": ask.date_from, "to": ask.date_to}
        ctx["xlsx_href"] = admin_link(f"/admin/reports/{ask.kind}.xlsx", "zh_CN", **span)
        ctx["print_href"] = admin_link("/admin/reports", lang, kind=ask.kind, **span, print="1")
        ctx["back_href"] = admin_link("/admin/reports", lang, kind=ask.kind, **span)
        template = "admin_report_print.html" if printable else "admin_reports.html"
        if ask.error:
            return page(request, template, 400, **ctx)
        try:
            report, daily, by_window = await fetcher.fetch_with_charts(ask, request.state.session.token)
        except ReportAway:
            return page(request, template, 503, **{**ctx, "error": words(lang)["report_away"]})
        except RpcFault as fault:
            return page(request, template, 400, **{**ctx, "error": fault.message_en if lang == "en" else fault.message})
        charts = chart_data(daily, by_window, lang, words(lang), printable,
                            {w.id: w.name_en for w in config.windows if w.name_en})
        return page(request, template, **{**ctx, "report": table(report, lang), "charts": charts})

    @get("/reports/{name:str}")
    async def reports_xlsx(request: Request[Any, Any, Any], name: FromPath[str]) -> Response[Any]:
        kind = name.removesuffix(".xlsx") or name  # `.xlsx` alone names no report (the page's default is for the page)
        ask = check(kind, request.query_params.get("from"), request.query_params.get("to"), config)
        if not name.endswith(".xlsx"):
            ask = Ask(name[:40], ask.date_from, ask.date_to, (words("zh_CN")["report_not_xlsx"], words("en")["report_not_xlsx"]))
        if ask.error is not None:
            return text_reply(ask.error, 400)
        try:
            report = await fetcher.fetch(ask, request.state.session.token)
        except ReportAway:
            return text_reply((words("zh_CN")["report_away"], words("en")["report_away"]), 503)
        except RpcFault as fault:
            return text_reply((fault.message, fault.message_en or fault.message), 400)
        body = await asyncio.to_thread(xlsx_bytes, [report], config.hall.name)
        return Response(body, media_type=XLSX_TYPE, headers={
            "Content-Disposition": f'attachment; filename="{file_name(config.hall.id, ask)}"',
            "Cache-Control": "no-store",
        })

    return [reports_page, reports_xlsx]


def text_reply(message: tuple[str, str], status: int) -> Response[str]:
    """A refused download: the sentence in Chinese and English as plain text (the browser shows it, no file)."""
    return Response(f"{message[0]}\n{message[1]}\n", status_code=status, media_type=MediaType.TEXT,
                    headers={"Cache-Control": "no-store"})

