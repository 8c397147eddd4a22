"""Turning bus payloads into what a terminal screen shows (plain dicts of strings, numbers and Texts)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from hallbus.config import HallConfig, ServiceSection, WindowSection
from hallbus.schemas import ServiceQueue
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


def wait_text(cat: Catalogue, est_wait_s: int | float | None) -> Text:
    """Estimated wait in plain words: no wait, about N minutes, about H hours M minutes."""
    seconds = int(est_wait_s or 0)
    if seconds < 60:
        return cat.text("wait_none")
    minutes = (seconds + 59) // 60
    if minutes < 60:
        return cat.text("wait_minutes", n=minutes)
    return cat.text("wait_hours", h=minutes // 60, m=minutes % 60)


def service_name(svc: ServiceSection | None, code: str, fallback: str = "") -> Text:
    """A service's name in both languages."""
    if svc is None:
        return both(fallback or code, fallback or code)
    return both(svc.name, svc.name_en or svc.name)


def service_groups(
    cfg: HallConfig, cat: Catalogue, queue: Mapping[str, ServiceQueue]
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
                "waitText": wait_text(cat, q.est_wait_s) if q else cat.text("wait_unknown"),
                "hours": "  ".join(svc.hours),
            }
        )
    return list(groups.values())


def ticket_view(cfg: HallConfig, cat: Catalogue, ticket: Mapping[str, Any]) -> dict[str, Any]:
    """A ticket as the screen (and the printout) shows it."""
    code = str(ticket.get("service", ""))
    svc = cfg.service(code)
    windows = [w for w in cfg.windows if code in w.services]
    return {
        "number": ticket.get("number", ""),
        "service": code,
        "serviceName": service_name(svc, code, str(ticket.get("service_name") or code)),
        "ahead": int(ticket.get("ahead") or 0),
        "waitText": wait_text(cat, ticket.get("est_wait_s")),
        "estWaitS": int(ticket.get("est_wait_s") or 0),
        "issuedAt": clock_of(ticket.get("issued_at")),
        "issuedDate": date_of(ticket.get("issued_at")),
        "trackUrl": ticket.get("track_url") or "",
        "channel": ticket.get("channel") or "onsite",
        "windows": both("、".join(w.name for w in windows), ", ".join(w.name_en or w.name for w in windows)),
    }


def deadline_text(cat: Catalogue, case: Mapping[str, Any]) -> Text:
    """Days left or overdue in plain words."""
    status = case.get("status", "")
    if status in DONE_STATUSES:
        return cat.text("case_finished")
    if status == "rejected":
        return cat.text("case_closed_rejected")
    left = case.get("days_left")
    if left is None:
        return cat.text("case_no_deadline")
    if case.get("warning") == "overdue" or left < 0:
        return cat.text("case_overdue", n=max(1, abs(int(left))))
    if left == 0:
        return cat.text("case_due_today")
    return cat.text("case_days_left", n=int(left), due=date_of(case.get("due_at")))


def find_window(cfg: HallConfig, ref: Any) -> WindowSection | None:
    """A window by its id ("3") or by its name as records give it ("3号窗口")."""
    if not ref:
        return None
    ref = str(ref)
    return cfg.window(ref) or next((w for w in cfg.windows if ref in (w.name, w.name_en)), None)


def case_view(cfg: HallConfig, cat: Catalogue, case: Mapping[str, Any]) -> dict[str, Any]:
    """A case with its timeline, deadline words, how to collect, and the pickup window."""
    status = str(case.get("status", ""))
    window = find_window(cfg, case.get("pickup_window"))
    window_id = window.id if window else ""
    ready = status in ("done", "decided") and window is not None
    timeline = [
        {
            "node": str(n.get("node", "")),
            "at": f"{date_of(n.get('at'))} {clock_of(n.get('at'))}".strip(),
            "handler": str(n.get("handler") or ""),
            "opinion": str(n.get("opinion") or ""),
        }
        for n in (case.get("timeline") or [])
    ]
    return {
        "caseNo": str(case.get("case_no", "")),
        "item": str(case.get("item", "")),
        "applicant": str(case.get("applicant_masked", "")),
        "status": status,
        "statusText": cat.text(f"case_status_{status}") if status else both("", ""),
        "warning": str(case.get("warning") or "none"),
        "deadlineText": deadline_text(cat, case),
        "acceptedAt": date_of(case.get("accepted_at")),
        "dueAt": date_of(case.get("due_at")),
        "timeline": timeline,
        "result": str(case.get("result") or ""),
        "pickupWindow": window_id,
        "pickupWindowName": both(window.name, window.name_en or window.name) if window else both("", ""),
        "canTakeTicket": ready and bool(window and window.services),
    }


def _days(value: Any) -> int:
    """A number of days for QML, -1 when there is none (QML gets no None: see kiosk.qt.sections.qml_value)."""
    return int(value) if isinstance(value, int | float) else -1


def guide_summary(item: Mapping[str, Any]) -> dict[str, Any]:
    """One line of a guide search result."""
    return {
        "item": str(item.get("item", "")),
        "name": str(item.get("name", "")),
        "department": str(item.get("department", "")),
        "category": str(item.get("category", "")),
        "promisedDays": _days(item.get("promised_days")),
        "oneTrip": bool(item.get("one_trip", True)),
    }


def guide_detail(item: Mapping[str, Any]) -> dict[str, Any]:
    """A whole guide entry: materials, steps, time limits, fees, window, FAQ."""
    materials = [
        {
            "name": str(m.get("name", "")),
            "originals": int(m.get("originals") or 0),
            "copies": int(m.get("copies") or 0),
            "note": str(m.get("note") or ""),
        }
        for m in (item.get("materials") or [])
    ]
    faq = [{"q": str(f.get("q", "")), "a": str(f.get("a", ""))} for f in (item.get("faq") or [])]
    return {
        **guide_summary(item),
        "conditions": [str(c) for c in item.get("conditions") or []],
        "materials": materials,
        "steps": [str(s) for s in item.get("steps") or []],
        "legalDays": _days(item.get("legal_days")),
        "fees": str(item.get("fees") or ""),
        "window": str(item.get("window") or ""),
        "faq": faq,
        "mistakes": [str(m) for m in item.get("mistakes") or []],
        "legalBasis": [str(b) for b in item.get("legal_basis") or []],
    }
