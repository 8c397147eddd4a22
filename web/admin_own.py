"""A console account's own figures (本人数据, SPEC 12.2 `staff`: own figures only): `GET /admin/me`.

Today and a chosen day range (`from`, `to`; default this month): visitors, served,
average and 90th-percentile wait, average handling, ratings, satisfaction, bad ratings,
follow-ups and cases, from the `staff` report's row of this account, and the follow-ups
about this account over the range. The controller gives a `staff` session nothing else
(`report.query` checks the acting session: its own row, its own follow-ups); the page
also keeps only the account's own row, so a manager opening it sees theirs too. Any role.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import MediaType, Request, Response, get

from hallbus.config import HallConfig
from hallbus.reports.engine import Report
from hallbus.rpc import RpcClient, RpcFault
from web.admin_reports import Ask, Fetcher, ReportAway, cell, check, this_month
from web.presence import ControllerPresence
from web.public import lang_of

EVERY_ROLE = ("manager", "supervisor", "staff")
SKIP = ("key", "name")  # the row's own staff id and name: shown in the page's heading instead
FOLLOWUP_SKIP = ("staff",)  # the follow-ups are all about this account

WORDS = {
    "zh_CN": {
        "title": "本人数据", "today": "今日", "range": "统计期间", "show": "查询", "from": "开始日期", "to": "结束日期",
        "followups": "关于本人的差评整改", "no_followups": "该期间没有关于本人的整改任务。",
        "no_figures": "该期间没有本人的数据。",
        "note": "这里只显示您本人的数据；其他工作人员和窗口的数据由大厅管理和督查查看。",
    },
    "en": {
        "title": "My figures", "today": "Today", "range": "Range", "show": "Show", "from": "From", "to": "To",
        "followups": "Follow-ups of bad ratings about me", "no_followups": "No follow-up about you in this range.",
        "no_figures": "No figures of yours in this range.",
        "note": "Only your own figures are shown here; the hall's managers and supervisors see the others'.",
    },
}


def facts(report: Report, staff_id: str, lang: str) -> list[tuple[str, str, str]] | None:
    """(key, heading, value) of this account's row in a `staff` report, or None when it has none."""
    row = next((r for r in report.rows if r and r[0] == staff_id), None)
    if row is None:
        return None
    return [(c.key, c.en if lang == "en" else c.zh, cell(v, c))
            for v, c in zip(row, report.columns, strict=True) if c.key not in SKIP]


def followup_table(report: Report, lang: str) -> dict[str, Any]:
    """The follow-ups about this account as the template draws them (without the staff column)."""
    keep = [i for i, c in enumerate(report.columns) if c.key not in FOLLOWUP_SKIP]
    cols = [report.columns[i] for i in keep]
    return {"heads": [c.en if lang == "en" else c.zh for c in cols],
            "rows": [[when(cell(r[i], report.columns[i]), report.columns[i].key) for i in keep] for r in report.rows]}


def when(text: str, key: str) -> str:
    """A time column (`..._at`) as the hall reads it: 2026-03-03 09:00, without seconds and zone."""
    return text[:16].replace("T", " ") if key.endswith("_at") and len(text) >= 16 else text


def own_routes(
    config: HallConfig, rpc: RpcClient, presence: ControllerPresence, page: Callable[..., Response[str]],
    words: Callable[[str], dict[str, str]],
) -> list[Any]:
    """`GET /me`: this account's figures of today and of a range, and the follow-ups about it."""
    fetcher = Fetcher(rpc, presence)

    @get("/me", opt={"roles": EVERY_ROLE}, media_type=MediaType.HTML)
    async def own_page(request: Request[Any, Any, Any]) -> Response[str]:
        lang = lang_of(request.query_params.get("lang"))
        session = request.state.session
        me = session.account.id
        q = request.query_params
        span = check("staff", q.get("from"), q.get("to"), config)
        today = this_month(config)[1]
        ctx: dict[str, Any] = {"current": "me", "ow": WORDS["en" if lang == "en" else "zh_CN"], "span": span,
                               "today": None, "ranged": None, "followups": None, "error": span.say(lang)}
        if span.error:
            return page(request, "admin_own.html", 400, **ctx)
        try:
            day = await fetcher.fetch(Ask("staff", today, today), session.token)
            ranged = await fetcher.fetch(span, session.token)
            about = await fetcher.fetch(Ask("followups", span.date_from, span.date_to), session.token)
        except ReportAway:
            return page(request, "admin_own.html", 503, **{**ctx, "error": words(lang)["report_away"]})
        except RpcFault as fault:
            return page(request, "admin_own.html", 400, **{**ctx, "error": fault.message_en if lang == "en" else fault.message})
        mine = {r[0] for r in about.rows} if session.account.role == "staff" else own_ids(about, session.account.name)
        about = Report(about.kind, about.date_from, about.date_to, about.columns,
                       [r for r in about.rows if r[0] in mine], None, about.made_at)
        return page(request, "admin_own.html", **{
            **ctx, "today": facts(day, me, lang), "ranged": facts(ranged, me, lang),
            "followups": followup_table(about, lang), "day": today, "made_at": ranged.made_at[:19].replace("T", " "),
        })

    return [own_page]


def own_ids(report: Report, name: str) -> set[Any]:
    """For a manager's or supervisor's own page (their report has everyone's): the follow-ups naming them."""
    at = next((i for i, c in enumerate(report.columns) if c.key == "staff"), None)
    return set() if at is None else {r[0] for r in report.rows if r[at] == name}

