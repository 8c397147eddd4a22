"""Issuing tickets (取号) by the rules of SPEC 4.1: numbering per service per day, hours, caps, slots, real name.

Caps and time-slot quotas limit walk-in tickets (the values in effect: a manager changes
them, or closes a service for the day, without a restart; `hallbus.controller.settings`); appointments and the green channel are
never turned away by them, only by the three-digit number space. Neither is the caller's
to choose: `check_channel` holds a `ticket.issue` to the proof the controller can check.
"""

from __future__ import annotations

import math

from hallbus import schemas
from hallbus.config import ServiceSection, TicketLimitsSection
from hallbus.controller import errors
from hallbus.controller import queue_schema as tables
from hallbus.controller.clock import in_hours, minute_of_day, parse_hhmm, within
from hallbus.controller.module import QueueEvent, Tx
from hallbus.controller.queue_schema import TicketRow
from hallbus.controller.queue_views import QueueViews
from hallbus.controller.ticket_ids import new_ticket_id

PRIORITY_CHANNELS = frozenset({"appointment", "green"})
MAX_SEQ = 999  # three digits per service per day


def check_channel(
    limits: TicketLimitsSection, channel: schemas.Channel, id_card: schemas.IdCardRef | None, day: str
) -> None:
    """Refuse a priority channel that a `ticket.issue` declares without proof (RpcFault `channel_refused`).

    Appointment tickets come only from `appointment.checkin`. The green channel needs the
    ID card read the request carries, its holder `green_min_age` or older on the hall day.
    """
    if channel == "onsite":
        return
    if channel == "green" and id_card is not None and limits.green_by_age(id_card.birth, day):
        return
    raise errors.channel_refused(channel, limits.green_min_age)


class Issuer:
    """Gives out tickets, every rule applied."""

    def __init__(self, views: QueueViews) -> None:
        self.views = views
        self.layout = views.layout
        self.config = views.config

    def issue(
        self,
        tx: Tx,
        *,
        service: str,
        channel: schemas.Channel = "onsite",
        id_card: schemas.IdCardRef | None = None,
        node: str | None = None,
        case_no: str | None = None,
        phone: str | None = None,
    ) -> schemas.Ticket:
        """Issue a ticket with every rule applied (hours, caps, real-name); raises RpcFault.

        `phone` is not stored here: the `issued` event hands it to the notify module.
        """
        settings = self.views.settings.at(tx) if self.views.settings is not None else None
        svc = (settings.layout if settings is not None else self.layout).service(service)  # caps, slots in effect
        now = tx.now
        day = tx.today
        if settings is not None and settings.closed_today(svc.code, day):
            raise errors.closed_today(svc.name, svc.name_en)
        if not in_hours(now, svc.hours):
            raise errors.service_closed(svc.name, svc.name_en, svc.hours)
        numbers = (day, f"{svc.code}000", f"{svc.code}999")  # the service's numbers today, in order
        last = tx.execute("SELECT MAX(number) FROM tickets WHERE day = ? AND number BETWEEN ? AND ?", numbers)
        last_number = last.fetchone()[0]
        last_seq = int(last_number[1:]) if last_number else 0
        priority = channel in PRIORITY_CHANNELS
        if last_seq >= MAX_SEQ:
            raise errors.numbers_exhausted(svc.name, svc.name_en, MAX_SEQ)
        if not priority and last_seq >= svc.daily_cap:  # else the walk-ins cannot have reached it
            onsite_count = tx.execute(
                "SELECT COUNT(*) FROM tickets WHERE day = ? AND number BETWEEN ? AND ? AND channel = 'onsite'",
                numbers,
            ).fetchone()[0]
            if onsite_count >= svc.daily_cap:
                raise errors.daily_cap_reached(svc.name, svc.name_en, svc.daily_cap)
        if not priority:
            for slot in svc.slots:
                if within(now, f"{slot.start}-{slot.end}"):
                    used = tx.execute(
                        "SELECT COUNT(*) FROM tickets WHERE day = ? AND number BETWEEN ? AND ? "
                        "AND channel = 'onsite' AND issued_min >= ? AND issued_min < ?",
                        (*numbers, parse_hhmm(slot.start), parse_hhmm(slot.end)),
                    ).fetchone()[0]
                    if used >= slot.cap:
                        raise errors.slot_full(svc.name, svc.name_en, slot.start, slot.end, slot.cap)
        if svc.real_name and id_card is None:
            raise errors.id_card_required(svc.name, svc.name_en)
        if id_card is not None:
            self._check_person(tx, svc, id_card.id_hash, day)
        seq = last_seq + 1
        number = f"{svc.code}{seq:03d}"
        ticket_id = new_ticket_id(day, number)
        id_hash = id_card.id_hash if id_card else None
        name_masked = id_card.name_masked if id_card else None
        cur = tx.execute(
            "INSERT INTO tickets(id, day, prefix, seq, number, service, channel, priority, status, sort_key, "
            "issued_at, issued_ts, issued_min, node, id_hash, name_masked, case_no) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'waiting', ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                ticket_id, day, svc.code, seq, number, svc.code, channel, int(priority), tx.now_ts,
                tx.now_iso, tx.now_ts, minute_of_day(now), node, id_hash, name_masked, case_no,
            ),
        )
        self.views.touch_service(tx, svc.code)
        row = TicketRow(
            ticket_id, day, svc.code, seq, number, svc.code, channel, int(priority), "waiting", tx.now_ts,
            tx.now_iso, tx.now_ts, id_hash, name_masked, case_no, None, None, None, 0, None, None, None, None,
            int(cur.lastrowid or 0),
        )
        ticket = self.views.ticket(tx, row)
        tx.queue_event(QueueEvent("issued", ticket, phone=phone))
        return ticket

    def cancel(self, tx: Tx, ticket_id: str) -> schemas.Ticket:
        """The holder leaves the queue (status `cancelled`); refused once the ticket was called."""
        row = tables.ticket_by_id(tx, ticket_id.strip().lower())
        if row is None:
            raise errors.unknown_ticket(ticket_id)
        if row.status != "waiting":
            raise errors.ticket_not_waiting(row.number, row.status)
        tx.execute("UPDATE tickets SET status = 'cancelled', ended_ts = ? WHERE rowid = ?", (tx.now_ts, row.rowid))
        self.views.touch_service(tx, row.service)
        ticket = self.views.ticket(tx, tables.reload(tx, row.rowid))
        tx.queue_event(QueueEvent("cancelled", ticket, window=row.target_window))
        return ticket

    def _check_person(self, tx: Tx, svc: ServiceSection, id_hash: str, day: str) -> None:
        """One open ticket per person per service, the daily limit, the block after a no-show."""
        q = self.config.queue
        row = tx.execute(
            "SELECT number FROM tickets WHERE id_hash = ? AND day = ? AND (service = ? OR prefix = ?) "
            "AND status IN ('waiting', 'called', 'held') LIMIT 1",
            (id_hash, day, svc.code, svc.code),
        ).fetchone()
        if row is not None:
            raise errors.already_in_queue(svc.name, svc.name_en, str(row[0]))
        if q.person_daily_limit > 0:
            n = tx.execute(
                "SELECT COUNT(*) FROM tickets WHERE id_hash = ? AND day = ?", (id_hash, day)
            ).fetchone()[0]
            if n >= q.person_daily_limit:
                raise errors.person_daily_limit(q.person_daily_limit)
        if q.no_show_block_minutes > 0:
            last = tx.execute(
                "SELECT MAX(ended_ts) FROM tickets WHERE id_hash = ? AND status = 'no_show'", (id_hash,)
            ).fetchone()[0]
            if last is not None:
                left = float(last) + q.no_show_block_minutes * 60 - tx.now_ts
                if left > 0:
                    raise errors.no_show_blocked(max(1, math.ceil(left / 60)))
