"""RPC request bodies: the fields of each method beside those of the envelope (`RpcRequest`)."""

from __future__ import annotations

from typing import Literal

import msgspec

from hallbus.schemas.payloads import Channel, IdCardRef, RpcRequest

# --- RPC bodies (request fields beside request_id) ----------------------------------------


class TicketIssueReq(RpcRequest, kw_only=True):
    """`ticket.issue`: take a queue ticket for a service."""

    service: str
    channel: Channel = "onsite"
    id_card: IdCardRef | None = None
    phone: str | None = None  # typed by the citizen for 到号提醒 ([notify]); kept until the ticket ends


class TicketStatusReq(RpcRequest, kw_only=True):
    """`ticket.status`: where a ticket stands."""

    number: str | None = None
    ticket_id: str | None = None


MAX_WATCHED_IDS = 500  # ticket ids in one `ticket.statuses` request (a request stays under 64 KiB)


class TicketStatusesReq(RpcRequest, kw_only=True):
    """`ticket.statuses`: where each of many tickets stands, by id (the web service's open pages)."""

    ticket_ids: list[str] = msgspec.field(default_factory=list)


class TicketCancelReq(RpcRequest, kw_only=True):
    """`ticket.cancel`: the holder leaves the queue (only while the ticket waits)."""

    ticket_id: str


class AppointmentCheckinReq(RpcRequest, kw_only=True):
    """`appointment.checkin`: check in an appointment by QR code or ID card."""

    code: str | None = None
    id_card: IdCardRef | None = None


class CaseQueryReq(RpcRequest, kw_only=True):
    """`case.query`: cases by ID card, by number + last 6 of the ID number, or by receipt QR.

    `client` is the web service's alone (role `web`; from any other node: `forbidden`): the phone
    it asks for, as its keyed hash of the phone's address (32 lower-case hex digits), so failed
    guesses are counted per phone (`hallbus.records.lookups`).
    """

    id_card: IdCardRef | None = None
    case_no: str | None = None
    verify: str | None = None
    qr: str | None = None
    client: str | None = None


class GuideListReq(RpcRequest, kw_only=True):
    """`guide.list`: search the service guide by text or pinyin initials."""

    q: str = ""
    category: str | None = None


class GuideGetReq(RpcRequest, kw_only=True):
    """`guide.get`: one guide entry."""

    item: str


class WindowReq(RpcRequest, kw_only=True):
    """Counter actions that name only the window (call_next, recall, no_show, hold, finish, logout, resume)."""

    window: str


class WindowLoginReq(RpcRequest, kw_only=True):
    """`window.login`: a staff member sits down at a window (badge UID, or id + password)."""

    window: str
    staff: str | None = None
    password: str | None = None
    badge_uid: str | None = None


class WindowCallBackReq(RpcRequest, kw_only=True):
    """`window.call_back`: call a held ticket back."""

    window: str
    ticket: str


class WindowTransferReq(RpcRequest, kw_only=True):
    """`window.transfer`: move the current ticket to a service or a window, front or end."""

    window: str
    to_service: str | None = None
    to_window: str | None = None
    position: Literal["front", "end"] = "end"


class WindowPauseReq(RpcRequest, kw_only=True):
    """`window.pause`: pause a window with a reason."""

    window: str
    reason: str = ""


class RatingSubmitReq(RpcRequest, kw_only=True):
    """`rating.submit`: a citizen's rating (好差评) of one handling.

    Which handling, and the proof that the rater may rate it: a window's tablet names the
    rating request its window got (`handling_id`, else the window's latest); any other node
    proves it, by the ticket's `ticket_id` (from its QR) or the `id_card` it was taken with
    for a window's handling, by `case_no` with `verify` (last 6 of the ID number) or
    `id_card` for a case. `staff` and `window` are
    checked against the controller's record, never taken from here.
    """

    rating_id: str
    level: int
    window: str | None = None
    ticket: str | None = None
    case_no: str | None = None
    staff: str | None = None
    reasons: list[str] = msgspec.field(default_factory=list)
    comment: str = ""
    made_at: str | None = None  # when the citizen rated, set once on the tablet (the envelope `ts` is per send)
    handling_id: str | None = None  # the rating request's `handling_id` (a tablet)
    ticket_id: str | None = None  # proof of a window's handling: the ticket's id from its QR
    verify: str | None = None  # proof of a case: the last 6 characters of the applicant's ID number
    id_card: IdCardRef | None = None  # proof: the applicant's card (with case_no), else the ticket's card


class StatsTodayReq(RpcRequest, kw_only=True):
    """`stats.today`: today's figures."""


REPORT_MAX_ROWS = 500  # rows in one `report.query` reply (a reply stays well under the broker's 128 KiB)


class ReportQueryReq(RpcRequest, kw_only=True):
    """`report.query`: a report over a day range (SPEC 12.2; the web service only), `limit` rows from `offset`.

    `session`: the console session it is for (as in `admin.*`); managers and supervisors get
    every report, a `staff` account only the `staff` report's row and the follow-ups about itself.
    """

    kind: str
    date_from: str = msgspec.field(name="from")
    date_to: str = msgspec.field(name="to")
    offset: int = 0
    limit: int = REPORT_MAX_ROWS
    session: str = ""
    client: str = ""
