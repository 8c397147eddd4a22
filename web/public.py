"""A ticket as a phone may see it: the JSON of `GET /api/v1/tickets/{ticket_id}` and the page's words.

No name, no ID data, no ticket id (the link already holds it): the fields of SPEC 12.1,
plus what the page needs to say it in both languages and honestly: `service_name_en`,
`window_name_en`, `windows_open` ("no window open"), `attempt` ("called again"), `rated`
(a finished handling already rated, by whichever device) and `away` (the controller cannot
answer now: this is the last known state). The words are one table per language, shipped to the page's script as
data, so the server-rendered page and the live one read the same.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from hallbus import schemas, wording
from hallbus.config import REPO_ROOT, HallConfig
from hallbus.controller.ticket_ids import ticket_key
from hallbus.schemas import rating

LANGS = ("zh_CN", "en")
ACTIVE = ("waiting", "called", "serving", "held")  # a ticket still in the hall's hands
CANCELLABLE = ("waiting",)


def lang_of(value: str | None) -> str:
    """`?lang=` as one of LANGS (anything else is the default, zh_CN)."""
    return "en" if (value or "").lower().startswith("en") else "zh_CN"


def is_ticket_id(value: str) -> bool:
    """Whether `value` has the shape of a ticket id (anything else is answered 404 without asking)."""
    return ticket_key(value) is not None


def public_ticket(t: schemas.Ticket, config: HallConfig) -> dict[str, Any]:
    """The phone's view of a ticket (SPEC 12.1)."""
    win = config.window(t.window) if t.window else None
    svc = config.service(t.service)
    shown = t.status in ("called", "serving") and t.window is not None
    return {
        "number": t.number,
        "service": t.service,
        "service_name": t.service_name,
        "service_name_en": (svc.name_en or svc.name) if svc else t.service_name,
        "status": t.status,
        "ahead": t.ahead if t.status == "waiting" else 0,
        "est_wait_s": t.est_wait_s if t.status == "waiting" else 0,
        "windows_open": t.windows_open,
        "window": t.window if shown else None,
        "window_name": (win.name if win else t.window) if shown else None,
        "window_name_en": (win.name_en or win.name if win else t.window) if shown else None,
        "called_at": t.called_at,
        "issued_at": t.issued_at,
        "attempt": t.attempt,
        "rated": bool(t.rated),  # done: its handling has a rating already (tablet, terminal or phone)
        "away": False,  # the controller answered for this view (`TicketBook.last_known` says True)
    }


_STATUS: dict[str, tuple[str, str]] = {
    "waiting": ("等候中", "Waiting"),
    "called": ("已叫号，请到窗口办理", "Called: go to the window now"),
    "serving": ("正在办理", "Being served"),
    "held": ("已挂起，请留意回呼", "On hold: you will be called back"),
    "done": ("已办结", "Finished"),
    "no_show": ("已过号（叫号时未到）", "Missed: you were not there when called"),
    "transferred": ("已转办", "Transferred"),
    "expired": ("已过期（当日未办理）", "Expired: not served that day"),
    "cancelled": ("已取消排队", "You left the queue"),
}

_WORDS: dict[str, tuple[str, str]] = {
    "title": ("排队进度", "Your place in the queue"),
    "ticket": ("您的号码", "Your number"),
    "service": ("办理事项", "Service"),
    "status": ("状态", "Status"),
    "ahead": ("前面还有", "People ahead"),
    "ahead_n": ("{n} 人", "{n}"),
    "wait": ("预计等候", "Estimated wait"),
    **{f"wait_{k}": v for k, v in wording.WAIT_WORDS.items()},  # the script's live wait, as every screen says it
    "your_turn": ("轮到您了", "It's your turn"),
    "go_to": ("请到 {window} 办理", "Go to {window}"),
    "called_again": ("第 {n} 次叫号，请尽快前往", "Called {n} times: please go now"),
    "window": ("窗口", "Window"),
    "live": ("本页自动更新", "This page updates by itself"),
    "reload": ("刷新页面可查看最新状态", "Reload the page to see the latest state"),
    "offline": ("连接中断，正在重连…显示的是最后已知的状态", "Connection lost, reconnecting… showing the last known state"),
    "bus_down": (
        "暂时连不上大厅服务器，显示的是最后已知的状态，请稍后刷新。",
        "The hall server cannot be reached right now; this is the last known state. Please reload later.",
    ),
    "away": (
        "暂时连不上大厅服务器，显示的是最后已知的状态。恢复后本页自动更新。",
        "The hall server cannot be reached right now; this is the last known state. The page updates by itself when it is back.",
    ),
    "leave": ("我不排了（取消排队）", "I'm leaving the queue"),
    "leave_confirm": ("确定要取消排队吗？取消后号码作废，需要重新取号。", "Leave the queue? Your number will no longer be called."),
    "leave_yes": ("确定取消", "Yes, leave the queue"),
    "leave_no": ("继续排队", "Keep my place"),
    "left": ("您已取消排队，欢迎再来。", "You have left the queue."),
    "not_found": (
        "没有找到这张号。链接可能有误，或号码已过期。",
        "This ticket was not found. The link may be wrong, or the ticket has expired.",
    ),
    "sound_hint": ("轻触屏幕一次，叫号时会响铃提醒", "Tap the screen once to hear a chime when you are called"),
    "sound_on": ("叫号提醒音已开启", "A chime will sound when you are called"),
    "board": ("大厅排队情况", "Queue in the hall"),
    "latest_calls": ("最新叫号", "Latest calls"),
    "per_service": ("各事项等候", "Waiting per service"),
    "col_waiting": ("等候人数", "Waiting"),
    "as_of": ("更新于 {t}，每15秒刷新", "As of {t}; refreshes every 15 s"),
    "as_of_live": ("更新于 {t}，自动更新", "As of {t}; updates by itself"),
    "other_lang": ("English", "中文"),
    "cases_title": ("办件进度查询", "Check a case"),
    "case_no": ("办件编号（受理回执上）", "Case number (on your receipt)"),
    "verify": ("申请人身份证号码后6位", "Last 6 characters of the applicant's ID number"),
    "case_query": ("查询", "Look up"),
    "case_not_found": ("没有找到该办件，或身份证号码后6位不符，请核对后再试。",
                       "No such case, or the ID digits do not match. Please check and try again."),
    "case_due": ("承诺办结日期", "Promised by"),
    "case_pickup": ("领取窗口", "Collect at"),
    "case_result": ("办理结果", "Result"),
    "rate_title": ("请为本次服务评价", "Please rate this service"),
    "rate_reasons": ("选“不满意”或“非常不满意”时，请选择原因（至少一项）",
                     "For a bad rating (dissatisfied or very dissatisfied): what went wrong (at least one)"),
    "rate_comment": ("意见（选“其他”时必填）", "Comment (needed with \"Other\")"),
    "rate_send": ("提交评价", "Send my rating"),
    "rated": ("感谢您的评价！", "Thank you for your rating!"),
    "already_rated": ("这次办理已经评价过了（每次办理只能评价一次）。", "This service was already rated (once per service)."),
    "rated_before": ("已评价，谢谢", "Already rated, thank you"),
    "rated_before_note": ("这次办理已在窗口评价器或自助终端评价过（每次办理评价一次）。",
                          "This service was rated at the window's tablet or a self-service terminal (once per service)."),
    "case_timeline": ("办理进度", "Progress"),
    "case_deadline": ("办结时限", "Deadline"),
    "svc_closed": ("不在办理时间（{hours}）", "Closed now (open {hours})"),
    "svc_open_hours": ("办理时间 {hours}", "Open {hours}"),
    "large_print": ("大字", "Large text"),
    "normal_print": ("标准字号", "Normal text"),
}


def status_words(status: str, lang: str) -> str:
    """A ticket status in words."""
    zh, en = _STATUS.get(status, (status, status))
    return en if lang == "en" else zh


def words(lang: str) -> dict[str, str]:
    """Every word of the ticket page in one language (also handed to the page's script)."""
    i = 1 if lang == "en" else 0
    out = {k: v[i] for k, v in _WORDS.items()}
    out.update({f"status_{k}": v[i] for k, v in _STATUS.items()})
    return out


def wait_words(ticket: dict[str, Any], lang: str) -> str:
    """The estimated wait in words, as every screen says it (`hallbus.wording.wait`)."""
    return wording.wait(ticket["est_wait_s"], ticket["windows_open"])["en" if lang == "en" else "zh_CN"]


def window_words(ticket: dict[str, Any], lang: str) -> str:
    """The window a called ticket goes to, by its name in the language."""
    return str(ticket["window_name_en"] if lang == "en" else ticket["window_name"]) if ticket["window"] else ""


def face_mouth(level: int) -> str:
    """The SVG path (viewBox 0 0 100 100) of a face's mouth: curved up for 5, flat for 3, down for 1.

    The tablet's drawing (`assets/qml/components/RatingFace.qml`), redrawn for the browser: the
    same circle, eyes and mouth, so the citizen sees the same five faces on every device.
    """
    curve = (level - 3) * 0.09
    y = 66 - curve * 30
    return f"M30 {y:.1f} Q50 {y + curve * 120:.1f} 70 {y:.1f}"


def rating_choices(lang: str) -> dict[str, Any]:
    """The tablet's five faces (5 first, none pre-selected) and reasons, in one language (`hallbus.schemas.rating`)."""
    i = 1 if lang == "en" else 0
    return {
        "levels": [(level, words[i], face_mouth(level), level in rating.BAD_LEVELS) for level, words in rating.LEVELS.items()],
        "reasons": [(code, words[i]) for code, words in rating.REASONS.items()],
        "comment_max": rating.COMMENT_MAX,
    }


@cache
def _i18n(lang: str) -> dict[str, str]:
    """The kiosk's word tables (assets/i18n), read as data: the terminal and the phone name a case's status alike."""
    path = REPO_ROOT / "assets" / "i18n" / ("en.json" if lang == "en" else "zh_CN.json")
    table: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
    return table


def _date(iso: str | None) -> str:
    return (iso or "")[:10]


def _fill(template: str, **values: Any) -> str:
    for key, value in values.items():
        template = template.replace("{" + key + "}", str(value))
    return template


def _official(table: dict[str, str], kind: str, zh: str) -> str:
    """A word of the records (a timeline step, a way to collect): the table's words, else the records' own."""
    return table.get(f"{kind}_{zh}", zh) if zh else ""


def deadline_words(case: schemas.CaseInfo, lang: str) -> str:
    """Days left or overdue in plain words, by the terminal's rule and its words (`assets/i18n`)."""
    table = _i18n(lang)
    if case.status in ("done", "delivered"):
        return table["case_finished"]
    if case.status == "rejected":
        return table["case_closed_rejected"]
    left = case.days_left
    if left is None:
        return table["case_no_deadline"]
    if case.warning == "overdue" or left < 0:
        return _fill(table["case_overdue"], n=max(1, abs(left)))
    if left == 0:
        return table["case_due_today"]
    return _fill(table["case_days_left"], n=left, due=_date(case.due_at))


def case_public(case: schemas.CaseInfo) -> dict[str, Any]:
    """`POST /api/v1/cases/query`'s case: the controller's `CaseInfo` without the handlers' names.

    The terminal shows no handler either; a staff member's name has no place on a link
    anyone could forward (the applicant is masked by the controller already).
    """
    out: dict[str, Any] = schemas.to_builtins(case)
    for node in out.get("timeline", []):
        node["handler"] = ""
    return out


def case_view(case: schemas.CaseInfo, lang: str) -> dict[str, Any]:
    """A case as the phone page shows it, as the terminal does: status, deadline words, timeline.

    Masked by the controller already (the applicant); like the terminal, the timeline shows
    each step, its date and time and the opinion, never the handler's name.
    """
    table = _i18n(lang)
    return {
        "case_no": case.case_no,
        "item": case.item,
        "applicant": case.applicant_masked,
        "status": table.get(f"case_status_{case.status}", case.status),
        "due": _date(case.due_at),
        "deadline": deadline_words(case, lang),
        "warning": case.warning,
        "timeline": [
            {"node": _official(table, "case_node", n.node), "at": n.at[:16].replace("T", " "), "opinion": n.opinion}
            for n in case.timeline
        ],
        "result": _official(table, "case_result", case.result or ""),
        "pickup": case.pickup_window or "",
    }
