"""Appointments (预约): check-in at the terminal by QR code or ID card gives a priority ticket.

An appointment may be checked in from `early_min` minutes before its slot starts until
`late_min` minutes after it starts (per appointment, else the defaults below). The
ticket comes from the queue engine with channel `appointment`, in the same transaction
as the check-in, so a check-in is never recorded without its ticket or the other way round.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from typing import Any

import msgspec

from hallbus import schemas
from hallbus.controller.clock import HallTime
from hallbus.controller.module import ControllerModule, ModuleContext, Tx, TxHandler
from hallbus.records import receipt
from hallbus.rpc import Request, RpcFault

# Migration 1 is, word for word, the schema `hallbus cases import` used to create untracked
# on every open (IF NOT EXISTS): run once by the store's migration runner, it adopts such
# a database unchanged and from then on the tables take real, tracked migrations.
APPOINTMENTS_MIGRATIONS: tuple[str, ...] = (
    """
CREATE TABLE IF NOT EXISTS rec_appointments (
    code          TEXT PRIMARY KEY,
    service       TEXT NOT NULL,
    item          TEXT NOT NULL DEFAULT '',
    id_hash       TEXT,
    name_masked   TEXT,
    id_masked     TEXT,
    slot_start    REAL NOT NULL,
    slot_end      REAL NOT NULL,
    early_min     INTEGER,
    late_min      INTEGER,
    status        TEXT NOT NULL DEFAULT 'booked',
    checked_in_ts REAL,
    ticket_number TEXT,
    ticket_id     TEXT,
    source        TEXT NOT NULL DEFAULT '',
    updated_ts    REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS rec_appointments_id_hash ON rec_appointments(id_hash, slot_start);
""",
)

EARLY_MIN = 30
LATE_MIN = 15

_COLS = (
    "code, service, item, slot_start, slot_end, early_min, late_min, status, ticket_number, ticket_id, "
    "id_hash, name_masked, id_masked"
)


class AppointmentRecord(msgspec.Struct, kw_only=True):
    """An appointment as an import or an upstream platform delivers it, checked (`hallbus.records.importer`)."""

    code: str
    service: str
    item: str
    id_hash: str | None
    name_masked: str | None
    id_masked: str | None
    slot_start: float
    slot_end: float
    early_min: int | None
    late_min: int | None
    status: str  # booked or cancelled
    source: str
    updated_ts: float


_SAVE_APPOINTMENT = """
INSERT INTO rec_appointments (code, service, item, id_hash, name_masked, id_masked, slot_start, slot_end,
    early_min, late_min, status, source, updated_ts)
VALUES (:code, :service, :item, :id_hash, :name_masked, :id_masked, :slot_start, :slot_end,
    :early_min, :late_min, :status, :source, :updated_ts)
ON CONFLICT(code) DO UPDATE SET
    service = excluded.service, item = excluded.item, id_hash = excluded.id_hash,
    name_masked = excluded.name_masked, id_masked = excluded.id_masked, slot_start = excluded.slot_start,
    slot_end = excluded.slot_end, early_min = excluded.early_min, late_min = excluded.late_min,
    -- an appointment already checked in keeps its check-in
    status = CASE WHEN rec_appointments.status = 'checked_in' THEN 'checked_in' ELSE excluded.status END,
    source = excluded.source, updated_ts = excluded.updated_ts
"""


def save_appointment(conn: sqlite3.Connection, appointment: AppointmentRecord) -> bool:
    """Add or update one appointment in the caller's transaction; True when it is new."""
    old = conn.execute("SELECT 1 FROM rec_appointments WHERE code = ?", (appointment.code,)).fetchone()
    conn.execute(_SAVE_APPOINTMENT, msgspec.structs.asdict(appointment))
    return old is None


def _hm(clock: HallTime, ts: float, now: float | None = None) -> str:
    """HH:MM, with the date in front when it is not the day of `now`."""
    m = clock.at(ts)
    assert m is not None
    if now is not None:
        today = clock.at(now)
        assert today is not None
        if m.date() != today.date():
            return f"{m.month}月{m.day}日 {m:%H:%M}"
    return m.strftime("%H:%M")


class AppointmentsModule(ControllerModule):
    """`appointment.checkin`."""

    name = "records.appointments"
    migrations = APPOINTMENTS_MIGRATIONS

    def __init__(self, ctx: ModuleContext, *, early_min: int = EARLY_MIN, late_min: int = LATE_MIN) -> None:
        self.ctx = ctx
        self.clock = HallTime.of(ctx.config)
        self.early_min = early_min
        self.late_min = late_min

    def handlers(self) -> Mapping[str, TxHandler]:
        """`appointment.checkin`."""
        return {"appointment.checkin": self.checkin}

    def window_of(self, row: sqlite3.Row | tuple[Any, ...]) -> tuple[float, float]:
        """(opens, closes) of an appointment's check-in window, POSIX seconds."""
        slot_start, early, late = row[3], row[5], row[6]
        early = self.early_min if early is None else early
        late = self.late_min if late is None else late
        return slot_start - early * 60, slot_start + late * 60

    def checkin(self, req: Request, tx: Tx) -> Mapping[str, Any]:
        """Check in by `code` (QR text or the bare code) or `id_card`; returns the ticket."""
        body = req.body
        assert isinstance(body, schemas.AppointmentCheckinReq)
        if body.code is not None:
            code = receipt.parse_appointment_code(body.code)
            if code is None:
                raise RpcFault(
                    "bad_qr",
                    "这不是预约二维码，请扫描预约短信或预约凭证上的二维码，或刷身份证签到。",
                    "This is not an appointment QR code. Scan the code of your booking or use your ID card.",
                )
            row = tx.execute(f"SELECT {_COLS} FROM rec_appointments WHERE code = ?", (code,)).fetchone()
            if row is None or row[7] == "cancelled":
                raise _not_found()
            return self._check_in(tx, row, body.id_card)
        if body.id_card is not None:
            return self._by_id_card(tx, body.id_card)
        raise RpcFault(
            "bad_request",
            "请扫描预约二维码或刷身份证签到。",
            "Scan the appointment QR code or use your ID card to check in.",
        )

    def _by_id_card(self, tx: Tx, card: schemas.IdCardRef) -> Mapping[str, Any]:
        day = self.clock.business_day(tx.now)
        start, end = self.clock.day_bounds(day)
        rows = tx.execute(
            f"SELECT {_COLS} FROM rec_appointments WHERE id_hash = ? AND slot_start >= ? AND slot_start < ? "
            "AND status != 'cancelled' ORDER BY slot_start",
            (card.id_hash, start, end),
        ).fetchall()
        if not rows:
            raise _not_found()
        now = tx.now_ts
        booked = [r for r in rows if r[7] == "booked"]
        for r in booked:
            opens, closes = self.window_of(r)
            if opens <= now <= closes:
                return self._check_in(tx, r, card)
        if not booked:
            return self._check_in(tx, rows[-1], card)  # explains already_checked_in
        later = [r for r in booked if self.window_of(r)[0] > now]
        return self._check_in(tx, later[0] if later else booked[-1], card)

    def _check_in(
        self, tx: Tx, row: sqlite3.Row | tuple[Any, ...], card: schemas.IdCardRef | None
    ) -> Mapping[str, Any]:
        code, service, _item, slot_start, _slot_end, _e, _l, status, number, _tid, hashed, name_m, id_m = tuple(row)
        if status == "checked_in":
            raise RpcFault(
                "already_checked_in",
                f"该预约已签到，排队号为 {number}，请留意叫号。",
                f"This appointment is already checked in; your ticket is {number}.",
            )
        opens, closes = self.window_of(row)
        now = tx.now_ts
        if now < opens:
            at, slot = _hm(self.clock, opens, now), _hm(self.clock, slot_start, now)
            raise RpcFault(
                "too_early",
                f"您预约的时段是 {slot}，请在 {at} 以后签到。",
                f"Your appointment is at {slot}; check in from {at}.",
            )
        if now > closes:
            raise RpcFault(
                "too_late",
                f"您预约的时段 {_hm(self.clock, slot_start)} 已过签到时间（最晚 {_hm(self.clock, closes)}），"
                "预约已失效，请现场取号或重新预约。",
                f"The check-in time for your {_hm(self.clock, slot_start)} appointment ended at "
                f"{_hm(self.clock, closes)}. Take a walk-in ticket or book again.",
            )
        if card is None and hashed:
            # the booking was real-name: the ticket is too, without asking for the card again
            card = schemas.IdCardRef(id_hash=hashed, name_masked=name_m, id_masked=id_m)
        ticket = self.ctx.queue.issue(tx, service=service, channel="appointment", id_card=card)
        tx.execute(
            "UPDATE rec_appointments SET status = 'checked_in', checked_in_ts = ?, ticket_number = ?, ticket_id = ?, "
            "updated_ts = ? WHERE code = ?",
            (now, ticket.number, ticket.ticket_id, now, code),
        )
        return {"ticket": schemas.to_builtins(ticket), "appointment": code}


def _not_found() -> RpcFault:
    return RpcFault(
        "not_found",
        "没有找到今天的预约，请核对预约信息，或现场取号。",
        "No appointment for today was found. Check your booking or take a walk-in ticket.",
    )
