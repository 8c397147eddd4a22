"""RPC reply bodies: what the `data` of a successful reply holds, one type per method.

These are the contract of the controller's answers for every client (kiosk roles, the
hall web service): each field is what the handlers send today, all of them every time,
so fields without a default here are always present (`X | None` ones may be null).
Readers stay lenient (unknown fields ignored), so the controller may add fields within
v1; `tests/hallbus/records/test_reply_contract.py` holds the handlers to exactly these.
"""

from __future__ import annotations

from typing import Any

import msgspec

from hallbus.schemas.payloads import CaseInfo, GuideItem, StatsToday, Ticket, WindowState


class NotifyTaken(msgspec.Struct, kw_only=True):
    """`ticket.issue` with a `phone` in a hall that notifies: the number as it may be shown, and when it is told."""

    phone_masked: str  # 138****5678
    ahead: int  # "you're next" once this many people (or fewer) are before the ticket; and when it is called


class TicketReply(msgspec.Struct, kw_only=True):
    """`ticket.status`, `ticket.cancel`: the ticket, with its place in the queue while it waits."""

    ticket: Ticket


class TicketIssueReply(TicketReply, kw_only=True):
    """`ticket.issue`: the new ticket, and whether the hall will text the number the citizen typed."""

    notify: NotifyTaken | None = None  # null unless `phone` was given and `[notify] enabled`


class TicketsReply(msgspec.Struct, kw_only=True):
    """`ticket.statuses`: the tickets found, with their ids, in the order asked; unknown ids are left out."""

    tickets: list[Ticket]


class CheckinReply(msgspec.Struct, kw_only=True):
    """`appointment.checkin`: the ticket issued on the `appointment` channel, and the booking's code."""

    ticket: Ticket
    appointment: str


class CaseQueryReply(msgspec.Struct, kw_only=True):
    """`case.query`: the cases found, newest first (at most 50; one for a number or a receipt QR)."""

    cases: list[CaseInfo]


class GuideSummary(msgspec.Struct, kw_only=True):
    """What `guide.list` shows of a guide item; `guide.get` gives the whole GuideItem."""

    item: str
    name: str
    department: str
    category: str
    promised_days: int | None
    legal_days: int | None
    fees: str
    window: str
    one_trip: bool
    service: str | None


class GuideCategory(msgspec.Struct, kw_only=True):
    """A category of the service guide and how many items it holds, in catalogue order."""

    name: str
    count: int


class GuideListReply(msgspec.Struct, kw_only=True):
    """`guide.list`: matching items, best first (at most 50; `total` counts those returned), and every category."""

    items: list[GuideSummary]
    total: int  # len(items): the number returned (at most 50), not of all matches
    categories: list[GuideCategory]


class GuideGetReply(msgspec.Struct, kw_only=True):
    """`guide.get`: one whole guide entry."""

    item: GuideItem


class WindowReply(msgspec.Struct, kw_only=True):
    """Every `window.*` action: the window's state after it (the same as its retained state)."""

    window: WindowState


class RatingReply(msgspec.Struct, kw_only=True):
    """`rating.submit`: stored (`accepted` is always true), `followup` opened for level 1-2; a repeated `rating_id` gets the first answer."""

    accepted: bool  # always true: a refused rating is an error reply
    rating_id: str
    followup: int | None  # the follow-up task (整改) a rating of level 1-2 opened
    handling_id: str | None = None  # the handling rated, as the controller knows it (one rating each)


class StatsReply(msgspec.Struct, kw_only=True):
    """`stats.today`: today's figures, as on `stats/today`."""

    stats: StatsToday


class ReportColumn(msgspec.Struct, kw_only=True):
    """One column of a report: key, Chinese and English header, and how to show it (text, int, seconds, rate, date)."""

    key: str
    zh: str
    en: str
    kind: str


class ReportReply(msgspec.Struct, kw_only=True):
    """`report.query`: the report's columns, `rows` (lists in column order) from `offset`, `total_rows` in all, and the total row."""

    kind: str
    date_from: str = msgspec.field(name="from")
    date_to: str = msgspec.field(name="to")
    columns: list[ReportColumn]
    rows: list[list[Any]]
    offset: int
    total_rows: int
    total: list[Any] | None
    made_at: str
