"""The RPC methods of v1, one table: request type, reply type and error codes of each.

A client names the method, never the types: `rpc.call_typed(schemas.TICKET_ISSUE, body)`
gives a `TicketReply` (mypy knows it), and `decode_reply("ticket.issue", data)` does the
same for code that holds only the method's name (a kiosk's port, a web handler).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import msgspec

from hallbus.schemas import admin as a
from hallbus.schemas import admin_staff as st
from hallbus.schemas import payloads as p
from hallbus.schemas import replies as r
from hallbus.schemas import requests as q
from hallbus.schemas import settings as hs

R = TypeVar("R", bound=msgspec.Struct)

# Codes any method may answer with, besides its own (docs/protocol.md, RPC).
COMMON_ERRORS = ("bad_json", "bad_request", "bad_version", "unknown_method", "too_large", "internal_error", "busy")


@dataclass(frozen=True)
class Rpc(Generic[R]):
    """One RPC method: its name, request and reply types, and the codes of its own error replies."""

    name: str
    request: type[p.RpcRequest]
    reply: type[R]
    purpose: str
    errors: tuple[str, ...] = ()

    def decode(self, data: Mapping[str, Any]) -> R:
        """A reply's `data` as this method's reply type; unknown fields are ignored (SPEC 3).

        Raises msgspec.ValidationError when a field is missing or of the wrong type.
        """
        return msgspec.convert(data, type=self.reply)


RPC: dict[str, Rpc[Any]] = {}


def _rpc(name: str, request: type[p.RpcRequest], reply: type[R], purpose: str, *errors: str) -> Rpc[R]:
    method = Rpc(name, request, reply, purpose, errors)
    RPC[name] = method
    return method


_ISSUE_ERRORS = (
    "unknown_service", "service_closed", "daily_cap_reached", "numbers_exhausted", "slot_full", "id_card_required",
    "already_in_queue", "person_daily_limit", "no_show_blocked",
)

TICKET_ISSUE = _rpc(
    "ticket.issue", q.TicketIssueReq, r.TicketIssueReply, "take a ticket", *_ISSUE_ERRORS,
    "issue_rate_limited", "channel_refused", "forbidden",
)
TICKET_STATUS = _rpc("ticket.status", q.TicketStatusReq, r.TicketReply, "ticket position", "unknown_ticket")
TICKET_STATUSES = _rpc(
    "ticket.statuses", q.TicketStatusesReq, r.TicketsReply, "positions of many tickets by id (web pages)", "too_many_ids"
)
TICKET_CANCEL = _rpc(
    "ticket.cancel", q.TicketCancelReq, r.TicketReply, "the holder leaves the queue", "unknown_ticket", "ticket_not_waiting"
)
APPOINTMENT_CHECKIN = _rpc(
    "appointment.checkin", q.AppointmentCheckinReq, r.CheckinReply, "appointment check-in",
    "bad_qr", "not_found", "already_checked_in", "too_early", "too_late", *_ISSUE_ERRORS,
)
CASE_QUERY = _rpc(
    "case.query", q.CaseQueryReq, r.CaseQueryReply, "case status",
    "case_not_found", "bad_verify", "verify_mismatch", "bad_qr", "too_many_attempts", "forbidden",
)
GUIDE_LIST = _rpc("guide.list", q.GuideListReq, r.GuideListReply, "search the guide")
GUIDE_GET = _rpc("guide.get", q.GuideGetReq, r.GuideGetReply, "one guide item", "guide_item_not_found")
_AT = ("unknown_window", "not_logged_in")  # every action but login: a known window with staff at it
_ON_TICKET = (*_AT, "no_current_ticket")  # actions on the ticket being served

WINDOW_LOGIN = _rpc(
    "window.login", q.WindowLoginReq, r.WindowReply, "staff login", "unknown_window", "login_failed", "staff_busy",
    "window_busy", "login_throttled", "login_retry",
)
WINDOW_LOGOUT = _rpc("window.logout", q.WindowReq, r.WindowReply, "staff logout", *_AT, "window_busy")
WINDOW_CALL_NEXT = _rpc(
    "window.call_next", q.WindowReq, r.WindowReply, "call the next ticket", *_AT, "window_paused", "window_busy",
    "queue_empty",
)
WINDOW_RECALL = _rpc(
    "window.recall", q.WindowReq, r.WindowReply, "call the current ticket again", *_ON_TICKET, "recall_limit"
)
WINDOW_NO_SHOW = _rpc("window.no_show", q.WindowReq, r.WindowReply, "the called person did not come", *_ON_TICKET)
WINDOW_HOLD = _rpc("window.hold", q.WindowReq, r.WindowReply, "hold (挂起) the current ticket", *_ON_TICKET)
WINDOW_CALL_BACK = _rpc(
    "window.call_back", q.WindowCallBackReq, r.WindowReply, "call back (回呼) a held ticket",
    *_AT, "window_paused", "window_busy", "ticket_not_held",
)
WINDOW_TRANSFER = _rpc(
    "window.transfer", q.WindowTransferReq, r.WindowReply, "transfer (转移) the current ticket",
    "transfer_target_required", "transfer_to_self", "unknown_service", *_ON_TICKET,
)
WINDOW_FINISH = _rpc(
    "window.finish", q.WindowReq, r.WindowReply, "finish (办结); opens a rating request", *_ON_TICKET
)
WINDOW_PAUSE = _rpc("window.pause", q.WindowPauseReq, r.WindowReply, "pause (暂停) the window", *_AT, "window_busy")
WINDOW_RESUME = _rpc("window.resume", q.WindowReq, r.WindowReply, "resume the window", *_AT, "not_paused")
RATING_SUBMIT = _rpc(
    "rating.submit", q.RatingSubmitReq, r.RatingReply, "submit a rating",
    "bad_level", "bad_reason", "reasons_required", "comment_required", "comment_too_long", "wrong_window",
    "no_rating_request", "rating_expired", "staff_mismatch", "already_rated", "case_not_found", "case_not_finished",
    "proof_required", "ticket_not_rateable", "bad_verify", "verify_mismatch", "not_applicant", "too_many_attempts",
)
STATS_TODAY = _rpc("stats.today", q.StatsTodayReq, r.StatsReply, "today's figures")
REPORT_QUERY = _rpc(
    "report.query", q.ReportQueryReq, r.ReportReply,
    "a report over a day range (web service only; a console session's: staff only their own)",
    "bad_kind", "bad_range", "forbidden", "session_invalid",
)
# The manager console (SPEC 12.2), `web` node only: sessions and the audit log (hallbus.controller.admin).
_SESSION = ("session_invalid",)  # every admin method but login: a live session's token
ADMIN_LOGIN = _rpc(
    "admin.login", a.AdminLoginReq, a.AdminSessionReply, "console login (staff id + password)", "login_failed",
    "login_throttled", "forbidden", "login_retry",
)
ADMIN_SESSION = _rpc("admin.session", a.AdminSessionReq, a.AdminSessionReply, "who a console session is", *_SESSION)
ADMIN_LOGOUT = _rpc("admin.logout", a.AdminSessionReq, a.AdminLogoutReply, "end a console session")
ADMIN_AUDIT = _rpc(
    "admin.audit", a.AdminAuditReq, a.AdminAuditReply, "read the audit log (supervisor, manager)", *_SESSION,
    "forbidden",
)
ADMIN_FOLLOWUPS = _rpc(
    "admin.followups", a.AdminFollowupsReq, a.AdminFollowupsReply, "list bad ratings' follow-ups (supervisor, manager)",
    *_SESSION, "forbidden", "bad_state",
)
ADMIN_FOLLOWUP = _rpc(
    "admin.followup", a.AdminFollowupReq, a.AdminFollowupReply, "one follow-up with its history (supervisor, manager)",
    *_SESSION, "forbidden", "followup_not_found",
)
ADMIN_FOLLOWUP_MOVE = _rpc(
    "admin.followup.move", a.AdminFollowupMoveReq, a.AdminFollowupReply,
    "move a follow-up to its next state with a note and the callback (supervisor, manager)",
    *_SESSION, "forbidden", "followup_not_found", "bad_state", "bad_transition", "note_required", "followup_moved",
    "bad_callback",
)
ADMIN_CASES = _rpc(
    "admin.cases", a.AdminCasesReq, a.AdminCasesReply,
    "overdue and due-soon cases with 黄牌/红牌 and their escalations (supervisor, manager)", *_SESSION, "forbidden",
    "bad_card",
)

ADMIN_SETTINGS = _rpc(
    "admin.settings", hs.AdminSettingsReq, hs.AdminSettingsReply,
    "every hall setting with its hall.toml default (supervisor, manager)", *_SESSION, "forbidden",
)
ADMIN_SETTING_SET = _rpc(
    "admin.settings.set", hs.AdminSettingSetReq, hs.AdminSettingsReply,
    "change one hall setting at the version the manager saw (manager)",
    *_SESSION, "forbidden", "conflict", "unknown_setting", "bad_value", "cap_below_issued", "bad_slots",
    "window_without_service", "unknown_service", "bad_rule", "bad_date", "notice_too_long",
)

# Staff accounts in the console (hallbus.controller.staff_accounts): managers change, supervisors read.
_STAFF_CHANGE = (*_SESSION, "forbidden", "staff_not_found", "conflict")
ADMIN_STAFF_LIST = _rpc(
    "admin.staff.list", st.AdminStaffListReq, st.AdminStaffListReply, "the staff accounts (supervisor, manager)",
    *_SESSION, "forbidden",
)
ADMIN_STAFF_ADD = _rpc(
    "admin.staff.add", st.AdminStaffAddReq, st.AdminStaffReply, "add a staff member (manager)",
    *_SESSION, "forbidden", "bad_id", "staff_exists", "bad_name", "bad_title", "bad_department", "bad_photo", "bad_badge",
    "badge_in_use", "bad_password",
)
ADMIN_STAFF_UPDATE = _rpc(
    "admin.staff.update", st.AdminStaffUpdateReq, st.AdminStaffReply,
    "change a member's name, title, department, role, photo or badge (manager)",
    *_STAFF_CHANGE, "bad_name", "bad_title", "bad_department", "bad_photo", "bad_badge", "badge_in_use", "own_account",
)
ADMIN_STAFF_DISABLE = _rpc(
    "admin.staff.disable", st.AdminStaffDisableReq, st.AdminStaffReply,
    "disable a member: no counter or console login, their console sessions end (manager)",
    *_STAFF_CHANGE, "own_account",
)
ADMIN_STAFF_ENABLE = _rpc(
    "admin.staff.enable", st.AdminStaffDisableReq, st.AdminStaffReply, "enable a disabled member again (manager)",
    *_STAFF_CHANGE,
)
ADMIN_STAFF_OWN_PASSWORD = _rpc(
    "admin.staff.own_password", st.AdminOwnPasswordReq, st.AdminStaffReply,
    "a member sets their own new password, the old one first (every role)",
    *_SESSION, "wrong_password", "bad_password", "login_throttled", "login_retry",
)
ADMIN_STAFF_PASSWORD = _rpc(
    "admin.staff.password", st.AdminStaffPasswordReq, st.AdminStaffReply, "set a member's new password (manager)",
    *_STAFF_CHANGE, "bad_password",
)

# method -> (request type, purpose, reply type): the shape the RPC server and tools read.
RPC_METHODS: dict[str, tuple[type[p.RpcRequest], str, type[msgspec.Struct]]] = {
    name: (m.request, m.purpose, m.reply) for name, m in RPC.items()
}


def reply_type(method: str) -> type[msgspec.Struct]:
    """The type of `data` in a successful reply of `method`; ValueError for a method not in v1."""
    m = RPC.get(method)
    if m is None:
        raise ValueError(f"{method!r} is no RPC method of the hall bus v1")
    return m.reply


def decode_reply(method: str, data: Mapping[str, Any]) -> msgspec.Struct:
    """The `data` of a successful reply of `method` as its reply type (see `Rpc.decode`)."""
    return msgspec.convert(data, type=reply_type(method))


# topic payload name -> type, for the catalogue in hallbus.topics
PAYLOADS: dict[str, type[msgspec.Struct]] = {
    "NodeStatus": p.NodeStatus,
    "NodeDevices": p.NodeDevices,
    "RpcRequest": p.RpcRequest,
    "RpcReply": p.RpcReply,
    "WindowState": p.WindowState,
    "QueueState": p.QueueState,
    "CallsRecent": p.CallsRecent,
    "StatsToday": p.StatsToday,
    "Call": p.Call,
    "Alert": p.Alert,
    "HallNotice": hs.HallNotice,
}

# Nested types documented alongside the payloads.
NESTED: dict[str, type[msgspec.Struct]] = {
    "DeviceHealth": p.DeviceHealth,
    "IdCardRef": p.IdCardRef,
    "RpcError": p.RpcError,
    "Ticket": p.Ticket,
    "StaffCard": p.StaffCard,
    "RatingRequest": p.RatingRequest,
    "ServiceQueue": p.ServiceQueue,
    "RatingFigures": p.RatingFigures,
    "WindowFigures": p.WindowFigures,
    "CaseInfo": p.CaseInfo,
    "TimelineNode": p.TimelineNode,
    "GuideItem": p.GuideItem,
    "GuideMaterial": p.GuideMaterial,
    "GuideSummary": r.GuideSummary,
    "GuideCategory": r.GuideCategory,
    "NotifyTaken": r.NotifyTaken,
    "ReportColumn": r.ReportColumn,
    "AdminAccount": a.AdminAccount,
    "StaffAccount": st.StaffAccount,
    "AuditEntry": a.AuditEntry,
    "AdminCase": a.AdminCase,
    "CaseEscalation": a.CaseEscalation,
    "Setting": hs.Setting,
}
