"""Turning replies and bus payloads (their Structs) into what a terminal screen shows (plain dicts of strings, numbers and Texts)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from hallbus import schemas, wording
from hallbus.config import HallConfig, ServiceSection, WindowSection
from kiosk.common.i18n import Catalogue, Text, both

DONE_STATUSES = frozenset({"done", "delivered"})


def clock_of(iso: str | None) -> str:
    """`HH:MM` of an ISO timestamp (in its own offset), or '' when there is none."""
    if not iso:
        return ""
    try:
        return dt.datetime.fromisoformat(iso).strftime("%H:%M")
    except ValueError:
        return ""


def date_of(iso: str | None) -> str:
    """`YYYY-MM-DD` of an ISO timestamp, or ''."""
    if not iso:
        return ""
    try:
        return dt.datetime.fromisoformat(iso).date().isoformat()
    except ValueError:
        return iso[:10]


def service_name(svc: ServiceSection | None, code: str, fallback: str = "") -> Text:
    """A service's name in both languages."""
    if svc is None:
        return both(fallback or code, fallback or code)
    return both(svc.name, svc.name_en or svc.name)


def service_groups(
    cfg: HallConfig, cat: Catalogue, queue: Mapping[str, schemas.ServiceQueue]
) -> list[dict[str, Any]]:
    """Services grouped by department (config order), with waiting count and estimated wait."""
    groups: dict[str, dict[str, Any]] = {}
    for svc in cfg.services:
        dept = svc.department or svc.name
        group = groups.setdefault(dept, {"department": both(dept, dept), "services": []})
        q = queue.get(svc.code)
        group["services"].append(
            {
                "code": svc.code,
                "name": service_name(svc, svc.code),
                "realName": svc.real_name,
                "waiting": q.waiting if q else -1,
                "windowsOpen": q.windows_open if q else -1,
                "closedToday": bool(q and q.closed_today),  # greyed: a touch is answered "no tickets today"
                "waitText": cat.text("service_closed_today") if q and q.closed_today
                else wording.service_wait(q.waiting, q.est_wait_s, q.windows_open) if q
                else cat.text("wait_unknown"),
                "hours": "  ".join(svc.hours),
            }
        )
    return list(groups.values())


def ticket_view(cfg: HallConfig, cat: Catalogue, ticket: schemas.Ticket) -> dict[str, Any]:
    """A ticket as the screen (and the printout) shows it."""
    code = ticket.service
    svc = cfg.service(code)
    windows = [w for w in cfg.windows if code in w.services]
    return {
        "number": ticket.number,
        "service": code,
        "serviceName": service_name(svc, code, ticket.service_name or code),
        "ahead": ticket.ahead,
        "waitText": wording.wait(ticket.est_wait_s, ticket.windows_open),
        "estWaitS": ticket.est_wait_s,
        "windowsOpen": ticket.windows_open,
        "issuedAt": clock_of(ticket.issued_at),
        "issuedDate": date_of(ticket.issued_at),
        "trackUrl": ticket.track_url,
        "channel": ticket.channel,
        "channelNote": cat.text("ticket_green") if ticket.channel == "green" else both("", ""),
        "windows": wording.windows_note(
            both("、".join(w.name for w in windows), ", ".join(w.name_en or w.name for w in windows)),
            ticket.windows_open,
        ),
    }


def deadline_text(cat: Catalogue, case: schemas.CaseInfo) -> Text:
    """Days left or overdue in plain words."""
    if case.status in DONE_STATUSES:
        return cat.text("case_finished")
    if case.status == "rejected":
        return cat.text("case_closed_rejected")
    left = case.days_left
    if left is None:
        return cat.text("case_no_deadline")
    if case.warning == "overdue" or left < 0:
        return cat.text("case_overdue", n=max(1, abs(left)))
    if left == 0:
        return cat.text("case_due_today")
    return cat.text("case_days_left", n=left, due=date_of(case.due_at))


def find_window(cfg: HallConfig, ref: str | None) -> WindowSection | None:
    """A window by its id ("3") or by its name as records give it ("3号窗口")."""
    if not ref:
        return None
    return cfg.window(ref) or next((w for w in cfg.windows if ref in (w.name, w.name_en)), None)


def official(cat: Catalogue, kind: str, zh: str) -> Text:
    """A word from the records (a timeline step, a way to collect) in both languages.

    The records are in Chinese; the catalogue carries English for the words they use
    (`case_node_受理`, `case_result_窗口领取`). A word it does not know stays Chinese in English
    too: it is the official wording, and the screen labels it as such rather than half-translating it.
    """
    key = f"{kind}_{zh}"
    return cat.text(key) if zh and key in cat.strings["en"] else both(zh, zh)


def case_view(cfg: HallConfig, cat: Catalogue, case: schemas.CaseInfo) -> dict[str, Any]:
    """A case with its timeline, deadline words, how to collect, and the pickup window."""
    status = case.status
    window = find_window(cfg, case.pickup_window)
    window_id = window.id if window else ""
    ready = status in ("done", "decided") and window is not None
    timeline = [
        {
            "node": official(cat, "case_node", n.node),
            "at": f"{date_of(n.at)} {clock_of(n.at)}".strip(),
            "handler": n.handler,
            "opinion": n.opinion,
        }
        for n in case.timeline
    ]
    return {
        "caseNo": case.case_no,
        "item": case.item,
        "applicant": case.applicant_masked,
        "status": status,
        "statusText": cat.text(f"case_status_{status}") if status else both("", ""),
        "warning": case.warning,
        "deadlineText": deadline_text(cat, case),
        "acceptedAt": date_of(case.accepted_at),
        "finishedAt": date_of(case.finished_at),
        "dueAt": date_of(case.due_at),
        "timeline": timeline,
        "result": official(cat, "case_result", case.result or ""),
        "pickupWindow": window_id,
        "pickupWindowName": both(window.name, window.name_en or window.name) if window else both("", ""),
        "canTakeTicket": ready and bool(window and window.services),
    }


def _days(value: int | None) -> int:
    """A number of days for QML, -1 when there is none (QML gets no None: see kiosk.qt.sections.qml_value)."""
    return -1 if value is None else value


def guide_summary(item: schemas.GuideSummary | schemas.GuideItem) -> dict[str, Any]:
    """One line of a guide search result (`guide.list` gives summaries, `guide.get` the whole item)."""
    return {
        "item": item.item,
        "name": item.name,
        "department": item.department,
        "category": item.category,
        "promisedDays": _days(item.promised_days),
        "oneTrip": item.one_trip,
    }


def guide_detail(item: schemas.GuideItem) -> dict[str, Any]:
    """A whole guide entry: materials, steps, time limits, fees, window, FAQ."""
    materials = [
        {"name": m.name, "originals": m.originals, "copies": m.copies, "note": m.note}
        for m in item.materials
    ]
    faq = [{"q": f.get("q", ""), "a": f.get("a", "")} for f in item.faq]
    return {
        **guide_summary(item),
        "conditions": list(item.conditions),
        "materials": materials,
        "steps": list(item.steps),
        "legalDays": _days(item.legal_days),
        "fees": item.fees,
        "window": item.window,
        "faq": faq,
        "mistakes": list(item.mistakes),
        "legalBasis": list(item.legal_basis),
    }
