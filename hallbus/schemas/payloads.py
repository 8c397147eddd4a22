"""Topic payloads and the objects nested in them (SPEC section 3): presence, the RPC envelope, queue, cases, guide.

Readers ignore unknown fields (msgspec's default), so fields may be added within v1.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from hallbus.schemas.base import Payload

# --- 3.1 presence and device health -------------------------------------------------------

NodeState = Literal["online", "offline", "lost"]
Role = Literal["controller", "terminal", "tablet", "counter", "window", "hall"]


class NodeStatus(Payload, kw_only=True):
    """Retained presence of a node; the LWT carries `lost` with the same session."""

    state: NodeState
    role: str
    session: str
    sw: str = ""


class DeviceHealth(msgspec.Struct, kw_only=True):
    """Health of one device: `ok`, `absent`, `error`, and for printers `paper_low`/`paper_out`."""

    state: str
    detail: str | None = None


class NodeDevices(Payload, kw_only=True):
    """Retained health of a node's devices (only the devices it has)."""

    idcard: DeviceHealth | None = None
    printer: DeviceHealth | None = None
    camera: DeviceHealth | None = None
    pcsc: DeviceHealth | None = None
    scanner: DeviceHealth | None = None


# --- 3.5 ID card data on the bus ---------------------------------------------------------

CardType = Literal["resident", "hmt", "foreign"]


class IdCardRef(msgspec.Struct, kw_only=True):
    """What a kiosk sends about an ID card: an HMAC of the number and masked forms, never the number."""

    id_hash: str
    name_masked: str | None = None
    id_masked: str | None = None
    card_type: CardType = "resident"
    birth: str | None = None  # YYYY-MM-DD from the card, sent only to ask for the green channel (age rule)


# --- 3.2 RPC envelope ----------------------------------------------------------------------


class RpcRequest(Payload, kw_only=True):
    """Fields every request carries besides its method's own body fields."""

    request_id: str
    reply_to: str | None = None  # for MQTT 3.1.1 callers without a ResponseTopic
    node: str | None = None  # the calling node's id
    sig: str | None = None  # HMAC of node|method|request_id with the node's key (hallbus.nodeauth)


class RpcError(msgspec.Struct, kw_only=True):
    """The error of a failed request: a snake_case code and a message in zh_CN and English."""

    code: str
    message: str
    message_en: str = ""


class RpcReply(Payload, kw_only=True):
    """Reply envelope: `ok` with `data` (the method's reply type, under Reply bodies), or `error`."""

    request_id: str
    ok: bool
    data: dict[str, Any] | None = None
    error: RpcError | None = None


# --- tickets, windows, queue -------------------------------------------------------------

Channel = Literal["onsite", "appointment", "green"]
TicketStatusName = Literal[
    "waiting", "called", "serving", "held", "done", "no_show", "transferred", "expired", "cancelled"
]


class Ticket(msgspec.Struct, kw_only=True):
    """A queue ticket (排队号).

    `ahead`, `est_wait_s` and `windows_open` are the controller's one computation of a waiting
    ticket's place and wait, which every screen and the printed ticket show as they are
    (words in `hallbus.wording`): `windows_open` counts the open (logged-in, unpaused) windows
    that can call it (its target window alone when it has one); 0 means none is open, so no
    wait can be promised; -1 means not computed (a ticket no longer waiting, or an older
    controller). `est_wait_s` assumes at least one window open.

    `rated` is said only where the holder's `ticket_id` was asked (`ticket.status` by id,
    `ticket.statuses`): true once the ticket's latest finished handling has a rating (made on
    the tablet, the terminal or the phone), false while it has none; None elsewhere.
    """

    number: str
    service: str
    ticket_id: str = ""
    service_name: str = ""
    channel: Channel = "onsite"
    status: str = "waiting"
    ahead: int = 0
    est_wait_s: int = 0
    windows_open: int = -1
    issued_at: str = ""
    track_url: str = ""
    window: str | None = None
    name_masked: str | None = None
    called_at: str | None = None
    attempt: int = 0
    rated: bool | None = None


class StaffCard(msgspec.Struct, kw_only=True):
    """Who sits at a window, as shown to citizens."""

    id: str
    name: str
    title: str = ""
    photo_url: str = ""
    stars: float = 0.0


class RatingRequest(msgspec.Struct, kw_only=True):
    """An open invitation to rate the handling just finished at a window.

    `request_id` is the controller's id of that handling (a ticket served at this window by
    this staff member); `handling_id` repeats it under the name `rating.submit` uses.
    """

    ticket: str | None
    staff: str
    expires_at: str
    case_no: str | None = None
    request_id: str = ""
    handling_id: str = ""


WindowStatusName = Literal["closed", "idle", "serving", "paused"]


class WindowState(Payload, kw_only=True):
    """Retained state of one window."""

    window: str
    name: str
    status: WindowStatusName
    ticket: Ticket | None = None
    staff: StaffCard | None = None
    services: list[str] = msgspec.field(default_factory=list)
    rating_request: RatingRequest | None = None
    since: str = ""
    pause_reason: str | None = None
    held: list[Ticket] = msgspec.field(default_factory=list)
    next_numbers: list[str] = msgspec.field(default_factory=list)


class ServiceQueue(msgspec.Struct, kw_only=True):
    """Waiting figures of one service."""

    code: str
    name: str
    waiting: int
    est_wait_s: int
    windows_open: int
    name_en: str = ""
    oldest_issued_at: str | None = None  # when the longest-waiting ticket was taken (null: nobody waits); additive
    closed_today: bool = False  # a manager closed it for today in the console: no tickets today; additive


class QueueState(Payload, kw_only=True):
    """Retained queue state of the hall."""

    services: list[ServiceQueue]
    total_waiting: int


class Call(Payload, kw_only=True):
    """Event: a ticket called to a window (叫号)."""

    ticket: str
    window: str
    window_name: str
    text: str
    text_en: str = ""
    name_masked: str | None = None
    attempt: int = 1
    service: str = ""


class CallsRecent(Payload, kw_only=True):
    """Retained: the last 10 calls, newest first."""

    calls: list[Call]


class RatingFigures(msgspec.Struct, kw_only=True):
    """Ratings (好差评) of one window or one staff member today."""

    ratings: int = 0
    satisfied: int = 0  # levels 3-5 (基本满意 and better)
    bad: int = 0  # levels 1-2
    satisfaction_rate: float | None = None
    avg_level: float | None = None


class WindowFigures(msgspec.Struct, kw_only=True):
    """What one window did today: tickets finished (办结) and their average handling time."""

    served: int = 0
    avg_service_s: float = 0.0


class StatsToday(Payload, kw_only=True):
    """Retained figures of the day (接待量, 办件量, 满意率, 按时办结率 ...)."""

    visitors: int = 0
    tickets_issued: int = 0
    served: int = 0
    no_show: int = 0
    avg_wait_s: float = 0.0
    avg_service_s: float = 0.0
    ratings: int = 0
    satisfaction_rate: float | None = None
    cases_done: int = 0
    on_time_rate: float | None = None
    overdue_cases: int = 0
    date: str = ""
    ratings_by_window: dict[str, RatingFigures] = msgspec.field(default_factory=dict)
    ratings_by_staff: dict[str, RatingFigures] = msgspec.field(default_factory=dict)
    served_by_window: dict[str, WindowFigures] = msgspec.field(default_factory=dict)  # the counter's own figures
    followups_open: int = 0  # bad-rating follow-up tasks (整改) not yet rectified or closed
    followups_overdue: int = 0


AlertKind = Literal["case_deadline", "device", "queue_threshold", "rating_followup"]
AlertLevel = Literal["notice", "warn", "urgent", "overdue"]


class Alert(Payload, kw_only=True):
    """Event: something a person must look at."""

    kind: AlertKind
    level: AlertLevel
    subject: str
    detail: str = ""
    to: list[str] = msgspec.field(default_factory=list)


# --- cases and the guide (SPEC 4.3, 4.4) --------------------------------------------------


class TimelineNode(msgspec.Struct, kw_only=True):
    """One step in a case's handling."""

    node: str
    at: str
    handler: str = ""
    opinion: str = ""


CASE_OPEN_STATUSES = ("submitted", "accepted", "reviewing", "correction_needed")
# No longer being handled: the statuses a citizen may rate (一事一评), the controller's rule too.
CASE_FINISHED_STATUSES = ("decided", "done", "delivered", "rejected")


class CaseInfo(msgspec.Struct, kw_only=True):
    """A case (办件) as a citizen may see it.

    `status`: open (submitted, accepted, reviewing, correction_needed) or finished (decided,
    done, delivered, rejected; only a finished case may be rated): CASE_*_STATUSES.
    """

    case_no: str
    item: str
    applicant_masked: str
    status: str
    timeline: list[TimelineNode] = msgspec.field(default_factory=list)
    accepted_at: str | None = None
    promised_days: int | None = None
    due_at: str | None = None
    days_left: int | None = None
    warning: Literal["none", "notice", "warn", "urgent", "overdue"] = "none"
    result: str | None = None
    pickup_window: str | None = None
    finished_at: str | None = None
    on_time: bool | None = None  # finished cases: finished by the deadline


class GuideMaterial(msgspec.Struct, kw_only=True):
    """One material of a service item: name, originals and copies, a sample."""

    name: str
    originals: int = 0
    copies: int = 0
    sample: str | None = None
    note: str = ""


class GuideItem(msgspec.Struct, kw_only=True):
    """A service guide entry (办事指南)."""

    item: str
    name: str
    department: str
    category: str = ""
    legal_basis: list[str] = msgspec.field(default_factory=list)
    conditions: list[str] = msgspec.field(default_factory=list)
    materials: list[GuideMaterial] = msgspec.field(default_factory=list)
    steps: list[str] = msgspec.field(default_factory=list)
    promised_days: int | None = None
    legal_days: int | None = None
    fees: str = "不收费"
    window: str = ""
    faq: list[dict[str, str]] = msgspec.field(default_factory=list)
    mistakes: list[str] = msgspec.field(default_factory=list)
    one_trip: bool = True
    service: str | None = None
