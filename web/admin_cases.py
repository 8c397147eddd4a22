"""The console's cases (办件, SPEC 12.2): overdue and due-soon cases with 黄牌/红牌, by department and handler.

`GET /admin/cases` (and its JSON twin `GET /admin/api/cases`) asks the controller
(`admin.cases`, managers and supervisors; the controller checks the session's role too)
for the open cases within 7 working days of their deadline or past it: 红牌 overdue,
黄牌 past a warning level (7/5/3 working days left). Filters: department, handler, card
(query `department`, `handler`, `card`); the page groups the rows by department, each
with its handler, due time, working days left and the escalation history (each level
passed, when, to whom). Applicants appear masked (张*), as the controller sends them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from itertools import groupby
from typing import Any

from litestar import MediaType, Request, Response, get

from hallbus import schemas
from hallbus.rpc import RpcFault
from hallbus.schemas.admin import CARDS, CASES_PAGE_MAX
from web.public import lang_of

FILTER_MAX = 60  # characters of a department or handler name in a filter
CASES_SHOWN = CASES_PAGE_MAX

# warning level -> (zh, en)
LEVELS = {"notice": ("提醒", "notice"), "warn": ("预警", "warning"), "urgent": ("紧急", "urgent"),
          "overdue": ("已超期", "overdue")}
CARD_NAMES = {"red": ("红牌", "Red card"), "yellow": ("黄牌", "Yellow card")}
STATUS_NAMES = {
    "submitted": ("已提交", "submitted"), "accepted": ("已受理", "accepted"), "reviewing": ("审查中", "reviewing"),
    "decided": ("已决定", "decided"), "done": ("已办结", "done"), "delivered": ("已送达", "delivered"),
    "correction_needed": ("待补正", "correction needed"), "rejected": ("不予受理", "rejected"),
}
RECIPIENTS = {"handler": ("承办人", "handler"), "department": ("部门", "department"), "leadership": ("分管领导", "leadership")}

WORDS = {
    "zh_CN": {
        "title": "办件督办", "all": "全部", "filter": "筛选", "department": "部门", "handler": "承办人", "card": "标记",
        "note": "列出剩余 7 个工作日以内和已超期的在办件：超过预警线（剩 7 个工作日提醒、5 个预警、3 个紧急）亮黄牌，超期亮红牌。"
                "待补正的办件暂停计时，不在此列。",
        "case_no": "办件编号", "item": "事项", "applicant": "申请人", "status": "状态", "due": "办理时限",
        "days_left": "剩余工作日", "history": "督办记录", "none": "没有符合条件的办件。", "red_n": "张红牌",
        "yellow_n": "张黄牌", "no_history": "尚未发出提醒", "over_by": "超期 {n} 个工作日", "to": "发送给",
        "left_then": "（当时剩 {n} 个工作日）",
        "first_only": "只显示最紧急的 {n} 件，请用筛选缩小范围。", "total": "共 {n} 件",
    },
    "en": {
        "title": "Cases to chase", "all": "All", "filter": "Filter", "department": "Department", "handler": "Handler",
        "card": "Card",
        "note": "Open cases within 7 working days of their deadline or past it: a yellow card once a warning level "
                "(notice at 7, warning at 5, urgent at 3 working days left) has passed, a red card once overdue. Cases waiting for the applicant's "
                "corrections stop the clock and are not listed.",
        "case_no": "Case no.", "item": "Item", "applicant": "Applicant", "status": "Status", "due": "Deadline",
        "days_left": "Working days left", "history": "Escalations", "none": "No case matches.", "red_n": "red",
        "yellow_n": "yellow", "no_history": "no alert sent yet", "over_by": "{n} working days over", "to": "to",
        "left_then": " ({n} working days left then)",
        "first_only": "Only the {n} most urgent are shown; narrow them with the filters.", "total": "{n} in all",
    },
}


def recipient(to: str, en: int) -> str:
    """`handler:李明` as 承办人 李明 (or `handler 李明`)."""
    kind, _, who = to.partition(":")
    name = RECIPIENTS.get(kind, (kind, kind))[en]
    return f"{name} {who}".strip()


def grouped(cases: list[Any]) -> list[tuple[str, list[Any]]]:
    """The cases by department (departments in name order; inside each, most urgent first as sent)."""
    ordered = sorted(cases, key=lambda c: c.department)  # stable: the controller's urgency order stays
    return [(dept, list(rows)) for dept, rows in groupby(ordered, key=lambda c: c.department)]


def case_routes(
    ask: Callable[[Request[Any, Any, Any], schemas.Rpc[Any], dict[str, Any]], Awaitable[Any]],
    page: Callable[..., Response[str]],
    away: type[Exception],
    words: Callable[[str], dict[str, str]],
) -> list[Any]:
    """`GET /cases` and `GET /api/cases`, over `ask` (an `admin.*` request for the page's session)."""

    def filters_of(request: Request[Any, Any, Any]) -> dict[str, str]:
        q = request.query_params
        got = {k: str(q.get(k) or "").strip()[:FILTER_MAX] for k in ("department", "handler", "card")}
        if got["card"] not in CARDS:
            got["card"] = ""
        return got

    async def fetch(request: Request[Any, Any, Any], filters: dict[str, str]) -> Any:
        return await ask(request, schemas.ADMIN_CASES, {"limit": CASES_SHOWN, **{k: v for k, v in filters.items() if v}})

    @get("/cases")
    async def cases_page(request: Request[Any, Any, Any]) -> Response[str]:
        lang = lang_of(request.query_params.get("lang"))
        en = int(lang == "en")
        filters = filters_of(request)
        w = WORDS["en" if en else "zh_CN"]

        def choices(departments: list[str], handlers: list[str]) -> list[tuple[str, str, list[tuple[str, str]]]]:
            """The filters' selects: (name, label, [(value, text)])."""
            return [("department", w["department"], [(d, d) for d in departments]),
                    ("handler", w["handler"], [(h, h) for h in handlers]),
                    ("card", w["card"], [(k, names[en]) for k, names in CARD_NAMES.items()])]

        ctx: dict[str, Any] = {
            "current": "cases", "cw": w, "filters": filters, "levels": LEVELS,
            "cards": CARD_NAMES, "statuses": STATUS_NAMES, "recipient": lambda to: recipient(to, en), "en": en,
            "page_max": CASES_SHOWN,
        }
        try:
            reply = await fetch(request, filters)
        except away:
            return page(request, "admin_cases.html", 503, reply=None, groups=[], error=words(lang)["controller_away"],
                        choices=choices([], []), **ctx)
        except RpcFault as fault:
            return page(request, "admin_cases.html", 403 if fault.code == "forbidden" else 400, reply=None, groups=[],
                        error=fault.message_en if en else fault.message, choices=choices([], []), **ctx)
        return page(request, "admin_cases.html", reply=reply, groups=grouped(reply.cases), error="",
                    choices=choices(reply.departments, reply.handlers), **ctx)

    @get("/api/cases", media_type=MediaType.JSON)
    async def cases_json(request: Request[Any, Any, Any]) -> Response[Any]:
        try:
            reply = await fetch(request, filters_of(request))
        except away:
            return Response({"error": {"code": "controller_away", "message": words("zh_CN")["controller_away"],
                                       "message_en": words("en")["controller_away"]}}, status_code=503)
        except RpcFault as fault:
            return Response({"error": {"code": fault.code, "message": fault.message, "message_en": fault.message_en}},
                            status_code=403 if fault.code == "forbidden" else 400)
        return Response(schemas.to_builtins(reply))

    return [cases_page, cases_json]
