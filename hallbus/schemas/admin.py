"""The manager console's RPC bodies (`admin.*`, SPEC 12.2): sessions and the audit log.

Only the `web` node (hallweb) may send them (broker ACL and the controller's node guard).
hallweb never holds a password hash: it sends the staff id and password of a login to the
controller, which checks it and keeps the session. A session is named by a random token
that hallweb keeps in the browser's encrypted cookie; the controller only ever sees and
stores its SHA-256 (`session_hash` at login), so neither its store nor its stored
replies hold anything a thief could sign in with. Every later request carries the token
itself (`session`), and the controller acts for the account it belongs to.
"""

from __future__ import annotations

import msgspec

from hallbus.config import StaffRole
from hallbus.schemas.payloads import RpcRequest

SESSION_TOKEN_LEN = 43  # secrets.token_urlsafe(32)
AUDIT_PAGE_MAX = 200  # entries in one `admin.audit` reply at most


class AdminLoginReq(RpcRequest, kw_only=True):
    """`admin.login`: staff id and password, the browser's address, the hash of the new session's token."""

    staff: str
    password: str
    session_hash: str  # hex SHA-256 of the token hallweb made for this session
    client: str = ""  # the browser's address as hallweb saw it: the throttle's and the audit log's


class AdminSessionReq(RpcRequest, kw_only=True):
    """`admin.session`, `admin.logout`: the session's token."""

    session: str
    client: str = ""


class AdminAuditReq(RpcRequest, kw_only=True):
    """`admin.audit`: a page of the audit log, newest first (`before`: entries older than this id)."""

    session: str
    client: str = ""
    before: int | None = None
    limit: int = 50


class AdminAccount(msgspec.Struct, kw_only=True):
    """Who a session acts for: a staff member of the hall with their console role."""

    id: str
    name: str
    role: StaffRole
    department: str = ""


class AdminSessionReply(msgspec.Struct, kw_only=True):
    """`admin.login`, `admin.session`: the account and when the session ends (ISO-8601)."""

    account: AdminAccount
    expires_at: str


class AdminLogoutReply(msgspec.Struct, kw_only=True):
    """`admin.logout`: the session is gone (also when it had already expired)."""

    ended: bool


class AuditEntry(msgspec.Struct, kw_only=True):
    """One line of the audit log: who, when, what, before → after (JSON values or null)."""

    id: int
    ts: str
    actor: str  # a staff id; for a failed login, the id that was typed
    action: str  # login, login_failed, logout, and each console change (`settings.*`, ...)
    subject: str  # what was changed ("" for a login)
    before: str | None  # JSON text of the value before, or null
    after: str | None  # JSON text of the value after, or null
    client: str  # the browser's address


class AdminAuditReply(msgspec.Struct, kw_only=True):
    """`admin.audit`: entries newest first; `more`: older entries exist (ask with `before` = the last id)."""

    entries: list[AuditEntry]
    more: bool


# --- 好差评 follow-up (SPEC 12.2): every bad rating's task, read and moved from the console ---

FOLLOWUPS_PAGE_MAX = 200  # tasks in one `admin.followups` reply at most
NOTE_MAX = 500  # characters of a move's note
CALLBACK_TEXT_MAX = 200  # characters of a callback's `by` and `outcome`


class AdminFollowupsReq(RpcRequest, kw_only=True):
    """`admin.followups`: tasks newest first, optionally in one state, of one window, of one staff member, with one reason."""

    session: str
    client: str = ""
    state: str | None = None
    window: str | None = None
    staff: str | None = None
    reason: str | None = None  # a reason code of the rating (`attitude`, ...)
    limit: int = 100


class AdminFollowupReq(RpcRequest, kw_only=True):
    """`admin.followup`: one task with its history."""

    session: str
    client: str = ""
    id: int


class FollowupCallback(msgspec.Struct, kw_only=True):
    """The callback to the citizen (回访): when (YYYY-MM-DD HH:MM, hall time), by whom, the outcome."""

    at: str
    by: str
    outcome: str


class AdminFollowupMoveReq(RpcRequest, kw_only=True):
    """`admin.followup.move`: move a task from the state the page showed (`from_state`) to `to_state`, with a note.

    When the task is no longer in `from_state` (someone moved it meanwhile) the move is refused
    (`followup_moved`), never written over.
    """

    session: str
    client: str = ""
    id: int
    from_state: str
    to_state: str
    note: str
    callback: FollowupCallback | None = None


class FollowupStep(msgspec.Struct, kw_only=True):
    """One step of a task's history: the state it went to, when, the note, who (a staff id, `system`, `cli`)."""

    state: str
    at: str
    note: str
    by: str
    callback: FollowupCallback | None = None


class Followup(msgspec.Struct, kw_only=True):
    """A follow-up task (整改) of a bad rating; `overdue`: past its deadline while open or verified."""

    id: int
    rating_id: str
    state: str  # open, verified, rectified, closed, appealed
    state_name: str  # the state in Chinese (待核实 ...)
    level: int
    level_name: str
    reasons: list[str]
    comment: str
    window: str | None
    staff: str
    ticket: str | None
    case_no: str | None
    opened_at: str
    due_at: str
    overdue: bool
    next_states: list[str]  # where it may move now (empty once closed)
    history: list[FollowupStep]


class AdminFollowupsReply(msgspec.Struct, kw_only=True):
    """`admin.followups`: the tasks, and how many of them are overdue."""

    followups: list[Followup]
    overdue: int


class AdminFollowupReply(msgspec.Struct, kw_only=True):
    """`admin.followup`, `admin.followup.move`: the task as it is now."""

    followup: Followup


# --- cases (办件, SPEC 12.2): overdue and due-soon cases with 黄牌/红牌 and their escalations ---

CASES_PAGE_MAX = 200  # cases in one `admin.cases` reply at most, and no more than 64 KiB of them (the broker's limit is 128 KiB)
CARDS = ("red", "yellow")  # 红牌: overdue; 黄牌: a warning level (7/5/3 working days left) passed


class AdminCasesReq(RpcRequest, kw_only=True):
    """`admin.cases`: open cases overdue or within 7 working days of their deadline, most urgent first.

    Optionally of one department, of one handler, or with one card (`red`, `yellow`).
    """

    session: str
    client: str = ""
    department: str | None = None
    handler: str | None = None
    card: str | None = None
    limit: int = 100


class CaseEscalation(msgspec.Struct, kw_only=True):
    """One warning level a case passed: `notice` (7), `warn` (5), `urgent` (3 working days left) or `overdue`."""

    level: str
    at: str  # when the controller saw it pass and sent the alert (ISO-8601, hall time)
    days_left: int  # working days left then (negative: overdue)
    to: list[str]  # whom the alert went to (`handler:...`, `department:...`, `leadership`)


class AdminCase(msgspec.Struct, kw_only=True):
    """A case as the console's case list shows it; the applicant masked (张*), never a name or an ID number."""

    case_no: str
    item: str
    applicant_masked: str
    status: str
    department: str
    handler: str
    accepted_at: str | None
    due_at: str | None
    days_left: int | None  # working days (negative: overdue by so many)
    warning: str  # notice, warn, urgent, overdue
    card: str  # red (overdue) or yellow (a warning level passed)
    escalations: list[CaseEscalation]  # oldest first


class AdminCasesReply(msgspec.Struct, kw_only=True):
    """`admin.cases`: the cases sent, how many match; red/yellow of the department and handler chosen; the choices.

    `red` and `yellow` count the cards whatever the card filter; `departments` and `handlers`
    are those of every listed case (the filters' choices).
    """

    cases: list[AdminCase]
    total: int
    red: int
    yellow: int
    departments: list[str]
    handlers: list[str]
