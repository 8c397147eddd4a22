"""Cases (办件): look-up for citizens, deadline warnings for staff, and the day's case figures.

`case.query` finds cases by the ID card's HMAC, by case number + last 6 of the ID number
(checked against a stored HMAC; failed guesses are throttled per source, a node or the phone
`hallweb` names, and per case number with a growing wait, kept in the store:
`hallbus.records.lookups`), or by the receipt QR text. Deadline warnings (7/5/3 working days left, overdue)
go out on `alerts` once per level, escalating from the handler to the department to
the leadership; each is kept in `rec_case_escalations` (level, when, days left, to whom),
the escalation history the console shows (`hallbus.controller.admin_cases`).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import msgspec

from hallbus import schemas
from hallbus.controller.clock import HallTime
from hallbus.controller.module import ControllerModule, ModuleContext, Tx, TxHandler
from hallbus.records import receipt
from hallbus.records.lookups import (
    NODE_LIMITS,
    THROTTLE_MIGRATION,
    THROTTLE_RENAME_MIGRATION,
    LookupThrottle,
    not_found,
    prove_by_number,
)
from hallbus.records.workdays import Warning_, WorkCalendar, level_rank
from hallbus.rpc import Request, RpcFault
from hallbus.schemas import AlertLevel

log = logging.getLogger(__name__)

# Migration 1 is, word for word, the schema `hallbus cases import` used to create untracked
# on every open (IF NOT EXISTS): run once by the store's migration runner, it adopts such
# a database unchanged and from then on the tables take real, tracked migrations.
CASES_MIGRATIONS: tuple[str, ...] = (
    """
CREATE TABLE IF NOT EXISTS rec_cases (
    case_no          TEXT PRIMARY KEY,
    item             TEXT NOT NULL,
    item_code        TEXT,
    applicant_masked TEXT NOT NULL,
    id_hash          TEXT,
    id_masked        TEXT,
    verify_hash      TEXT,
    status           TEXT NOT NULL,
    open             INTEGER NOT NULL,
    accepted_ts      REAL,
    promised_days    INTEGER,
    due_ts           REAL,
    finished_ts      REAL,
    handler          TEXT NOT NULL DEFAULT '',
    department       TEXT NOT NULL DEFAULT '',
    result           TEXT,
    pickup_window    TEXT,
    timeline         TEXT NOT NULL DEFAULT '[]',
    warned           TEXT NOT NULL DEFAULT 'none',
    source           TEXT NOT NULL DEFAULT '',
    updated_ts       REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS rec_cases_id_hash ON rec_cases(id_hash);
CREATE INDEX IF NOT EXISTS rec_cases_open_due ON rec_cases(open, due_ts);
CREATE INDEX IF NOT EXISTS rec_cases_finished ON rec_cases(finished_ts);
""",
    # 2: failed look-ups per node and per case number, kept across restarts (was in memory)
    THROTTLE_MIGRATION,
    # 3: its counts under the column name of the hall's one back-off (hallbus.controller.backoff)
    THROTTLE_RENAME_MIGRATION,
    # 4: each deadline warning level a case passed, when (the console's escalation history, 黄牌/红牌)
    """
CREATE TABLE rec_case_escalations (
    case_no   TEXT NOT NULL,
    level     TEXT NOT NULL,
    at_ts     REAL NOT NULL,
    due_ts    REAL NOT NULL,
    days_left INTEGER NOT NULL,
    sent_to   TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX rec_case_escalations_case ON rec_case_escalations(case_no, at_ts);
""",
)

OPEN_STATUSES = schemas.CASE_OPEN_STATUSES
FINISHED_STATUSES = schemas.CASE_FINISHED_STATUSES
STATUSES = OPEN_STATUSES + FINISHED_STATUSES
PAUSED_STATUSES = ("correction_needed",)  # the clock waits on the applicant (补正): no warnings

LEADERSHIP = "leadership"
MAX_CASES = 50
SCAN_EVERY_S = 30.0
SCAN_BATCH = 300  # cases looked at per tick during a deadline pass (about 3 ms)

CASE_COLUMNS = (
    "case_no, item, applicant_masked, status, accepted_ts, promised_days, due_ts, finished_ts, "
    "result, pickup_window, timeline, open"
)


def recipients(level: str, handler: str, department: str) -> list[str]:
    """Whom a deadline warning is for, the primary addressee first (escalating with the level)."""
    h = f"handler:{handler}" if handler else None
    d = f"department:{department}" if department else None
    chain: list[str | None]
    if level == "notice":
        chain = [h]
    elif level == "warn":
        chain = [d, h]
    else:  # urgent, overdue
        chain = [LEADERSHIP, d, h]
    return [x for x in chain if x]


@dataclass
class CaseBook:
    """Turns stored case rows into the case objects citizens see (SPEC 4.3)."""

    calendar: WorkCalendar
    clock: HallTime

    def info(self, row: sqlite3.Row | tuple[Any, ...], now: dt.datetime) -> schemas.CaseInfo:
        """One row (CASE_COLUMNS) as a CaseInfo with days left and warning at `now`."""
        (case_no, item, applicant, status, accepted_ts, promised, due_ts, finished_ts,
         result, pickup, timeline, is_open) = tuple(row)
        nodes = [schemas.TimelineNode(**n) for n in json.loads(timeline or "[]")]
        days_left: int | None = None
        warning: Warning_ = "none"
        on_time: bool | None = None
        if due_ts is not None:
            due = self.clock.at(due_ts)
            assert due is not None
            if is_open:
                days_left = self.calendar.days_left(now, due)
                if status not in PAUSED_STATUSES:
                    warning = self.calendar.warning(now, due)
            elif finished_ts is not None:
                on_time = finished_ts <= due_ts
        return schemas.CaseInfo(
            case_no=case_no,
            item=item,
            applicant_masked=applicant,
            status=status,
            timeline=nodes,
            accepted_at=self.clock.iso(accepted_ts),
            promised_days=promised,
            due_at=self.clock.iso(due_ts),
            days_left=days_left,
            warning=warning,
            result=result,
            pickup_window=pickup,
            finished_at=self.clock.iso(finished_ts),
            on_time=on_time,
        )

    def by_id_hash(self, conn: sqlite3.Connection, id_hash: str, now: dt.datetime) -> list[schemas.CaseInfo]:
        """The applicant's cases, newest first (at most MAX_CASES)."""
        rows = conn.execute(
            f"SELECT {CASE_COLUMNS} FROM rec_cases WHERE id_hash = ? ORDER BY accepted_ts DESC LIMIT ?",
            (id_hash, MAX_CASES),
        ).fetchall()
        return [self.info(r, now) for r in rows]

    def by_case_no(self, conn: sqlite3.Connection, case_no: str, now: dt.datetime) -> schemas.CaseInfo | None:
        """One case by number."""
        row = conn.execute(f"SELECT {CASE_COLUMNS} FROM rec_cases WHERE case_no = ?", (case_no,)).fetchone()
        return None if row is None else self.info(row, now)

    def overdue(self, conn: sqlite3.Connection, now: dt.datetime) -> list[dict[str, Any]]:
        """Open cases past their deadline, most overdue first, with handler and department."""
        rows = conn.execute(
            f"SELECT {CASE_COLUMNS}, handler, department FROM rec_cases "
            "WHERE open = 1 AND due_ts IS NOT NULL AND due_ts < ? "
            "AND status NOT IN ('correction_needed') ORDER BY due_ts",
            (now.timestamp(),),
        ).fetchall()
        out = []
        for r in rows:
            info = schemas.to_builtins(self.info(r[:-2], now))
            info.pop("timeline", None)
            info["handler"], info["department"] = r[-2], r[-1]
            out.append(info)
        return out


class CaseRecord(msgspec.Struct, kw_only=True):
    """A case as an import or an upstream platform delivers it, checked (`hallbus.records.importer`)."""

    case_no: str
    item: str
    item_code: str | None
    applicant_masked: str
    id_hash: str | None
    id_masked: str | None
    verify_hash: str | None
    status: str
    open: int
    accepted_ts: float | None
    promised_days: int | None
    due_ts: float | None
    finished_ts: float | None  # None on a finished case: kept from before, else the import's time
    handler: str
    department: str
    result: str | None
    pickup_window: str | None
    timeline: str  # JSON list of {node, at, handler, opinion}
    source: str
    updated_ts: float


_SAVE_CASE = """
INSERT INTO rec_cases (case_no, item, item_code, applicant_masked, id_hash, id_masked, verify_hash, status, open,
    accepted_ts, promised_days, due_ts, finished_ts, handler, department, result, pickup_window, timeline, source,
    updated_ts)
VALUES (:case_no, :item, :item_code, :applicant_masked, :id_hash, :id_masked, :verify_hash, :status, :open,
    :accepted_ts, :promised_days, :due_ts, :finished_ts, :handler, :department, :result, :pickup_window, :timeline,
    :source, :updated_ts)
ON CONFLICT(case_no) DO UPDATE SET
    item = excluded.item, item_code = excluded.item_code, applicant_masked = excluded.applicant_masked,
    id_hash = excluded.id_hash, id_masked = excluded.id_masked, verify_hash = excluded.verify_hash,
    status = excluded.status, open = excluded.open, accepted_ts = excluded.accepted_ts,
    promised_days = excluded.promised_days, due_ts = excluded.due_ts, finished_ts = excluded.finished_ts,
    handler = excluded.handler, department = excluded.department, result = excluded.result,
    pickup_window = excluded.pickup_window, timeline = excluded.timeline, source = excluded.source,
    updated_ts = excluded.updated_ts,
    -- a later deadline re-arms the warnings
    warned = CASE WHEN excluded.due_ts > rec_cases.due_ts THEN 'none' ELSE rec_cases.warned END
"""


def save_case(conn: sqlite3.Connection, case: CaseRecord) -> bool:
    """Add or update one case in the caller's transaction; True when it is new.

    A finished case keeps the finish time it had (else the time of this save).
    """
    prev = conn.execute("SELECT finished_ts FROM rec_cases WHERE case_no = ?", (case.case_no,)).fetchone()
    if not case.open and case.finished_ts is None:
        case = msgspec.structs.replace(case, finished_ts=(prev[0] if prev else None) or case.updated_ts)
    conn.execute(_SAVE_CASE, msgspec.structs.asdict(case))
    return prev is None


class CasesModule(ControllerModule):
    """`case.query`, deadline alerts and the case figures of the day."""

    name = "records.cases"
    migrations = CASES_MIGRATIONS

    def __init__(self, ctx: ModuleContext, calendar: WorkCalendar | None = None) -> None:
        self.ctx = ctx
        self.clock = HallTime.of(ctx.config)
        # The hall's one calendar, which takes a manager's holidays and make-up days at once (SPEC 12.2).
        self.calendar = calendar or (ctx.settings.calendar if ctx.settings else WorkCalendar.from_config(ctx.config.calendar))
        self.book = CaseBook(self.calendar, self.clock)
        self.throttle = LookupThrottle.of(ctx.config)
        self._last_scan = 0.0
        self._cursor: tuple[float, str] | None = None  # where the deadline pass in progress stands
        # Build the working-day index for the coming weeks now, not inside the first scan.
        now = ctx.clock()
        self.calendar.days_left(now, now + dt.timedelta(days=45))

    def handlers(self) -> Mapping[str, TxHandler]:
        """`case.query`."""
        return {"case.query": self.query}

    # --- case.query -----------------------------------------------------------------

    def query(self, req: Request, tx: Tx) -> Mapping[str, Any]:
        """Cases by ID card hash, by case number + verify digits, or by receipt QR."""
        body = req.body
        assert isinstance(body, schemas.CaseQueryReq)
        now = tx.now
        if body.id_card is not None:
            cases = self.book.by_id_hash(tx.conn, body.id_card.id_hash, now)
            return {"cases": [schemas.to_builtins(c) for c in cases]}
        source = self.throttle.source_key(req, body.client)
        if body.qr is not None:
            return self._by_qr(body.qr, source, tx)
        if body.case_no is not None:
            case_no = prove_by_number(self.throttle, tx, source, body.case_no, body.verify or "")
            info = self.book.by_case_no(tx.conn, case_no, tx.now)
            assert info is not None
            return {"cases": [schemas.to_builtins(info)]}
        raise RpcFault(
            "bad_request",
            "请刷身份证，或输入办件编号和身份证号码后6位，或扫描受理回执上的二维码。",
            "Give an ID card, a case number with the last 6 characters of the ID number, or the receipt QR.",
        )

    def _by_qr(self, text: str, source: str, tx: Tx) -> Mapping[str, Any]:
        self.throttle.guard(tx, [source])
        parsed = receipt.parse_receipt_qr(text)
        if parsed is None:
            raise RpcFault(
                "bad_qr",
                "这不是受理回执上的二维码，请扫描回执右上角的二维码，或输入办件编号查询。",
                "This is not a receipt QR code. Scan the code on your acceptance receipt or enter the case number.",
            )
        case_no, token = parsed
        if not receipt.check_receipt(tx.hall_key, case_no, token):
            self.throttle.fail(tx, source, NODE_LIMITS)
            raise RpcFault(
                "bad_qr",
                "回执二维码无法验证，请输入办件编号和身份证号码后6位查询。",
                "The receipt QR code does not verify. Enter the case number and the last 6 of the ID number.",
            )
        info = self.book.by_case_no(tx.conn, case_no, tx.now)
        if info is None:
            raise not_found(case_no)
        return {"cases": [schemas.to_builtins(info)]}

    # --- deadline warnings ------------------------------------------------------------

    def tick(self, tx: Tx) -> None:
        """Every SCAN_EVERY_S a pass over the open cases sends each new warning level once.

        A pass goes SCAN_BATCH cases per tick, so a hall with many open cases never holds
        the writer (and so the queue) for more than a few milliseconds at a time.
        """
        # gated on the hall clock (not the wall clock), so a test or demo clock drives it too
        if self._cursor is None:
            if 0.0 < tx.now_ts - self._last_scan < SCAN_EVERY_S:
                return
            self._last_scan = tx.now_ts
            self._cursor = (-math.inf, "")
            self.throttle.prune(tx)
        self._cursor, _sent = self._scan_from(tx, self._cursor)

    def scan_deadlines(self, tx: Tx) -> int:
        """A whole pass at once; returns how many alerts went out (tools and tests)."""
        total = 0
        cursor: tuple[float, str] | None = (-math.inf, "")
        while cursor is not None:
            cursor, sent = self._scan_from(tx, cursor)
            total += sent
        return total

    def _scan_from(self, tx: Tx, cursor: tuple[float, str]) -> tuple[tuple[float, str] | None, int]:
        """Send the due alerts of up to SCAN_BATCH cases after `cursor`.

        Returns the next cursor (None at the end of the pass) and how many alerts went out.
        """
        now = tx.now
        # 7 working days never span more than about 3 weeks, even over Spring Festival.
        horizon = (now + dt.timedelta(days=30)).timestamp()
        after_ts, after_no = cursor
        rows = tx.execute(
            "SELECT case_no, item, handler, department, due_ts, warned FROM rec_cases "
            "WHERE open = 1 AND due_ts IS NOT NULL AND due_ts <= ? AND due_ts >= ? "
            "AND (due_ts > ? OR case_no > ?) AND warned != 'overdue' "
            "AND status NOT IN ('correction_needed') ORDER BY due_ts, case_no LIMIT ?",
            (horizon, after_ts, after_ts, after_no, SCAN_BATCH),
        ).fetchall()
        count = 0
        for case_no, item, handler, department, due_ts, warned in rows:
            due = self.clock.at(due_ts)
            assert due is not None
            level = self.calendar.warning(now, due)
            if level_rank(level) <= level_rank(warned):
                continue
            left = self.calendar.days_left(now, due)
            tx.execute("UPDATE rec_cases SET warned = ? WHERE case_no = ?", (level, case_no))
            assert level != "none"
            alert = self._alert(level, case_no, item, handler, department, due, left)
            tx.execute(
                "INSERT INTO rec_case_escalations(case_no, level, at_ts, due_ts, days_left, sent_to) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (case_no, level, tx.now_ts, due_ts, left, json.dumps(alert.to, ensure_ascii=False)),
            )
            tx.emit(tx.topics.alerts, alert)
            count += 1
        if count:
            tx.mark("stats")
        if len(rows) < SCAN_BATCH:
            return None, count
        return (float(rows[-1][4]), str(rows[-1][0])), count

    def _alert(
        self, level: AlertLevel, case_no: str, item: str, handler: str, department: str, due: dt.datetime, left: int
    ) -> schemas.Alert:
        due_text = due.strftime("%Y-%m-%d %H:%M")
        if level == "overdue":
            detail = f"办件 {case_no}（{item}）已超过办理时限（{due_text}），请立即处理并说明原因。"
        else:
            detail = f"办件 {case_no}（{item}）剩余 {left} 个工作日到期（{due_text}），请抓紧办理。"
        return schemas.Alert(
            kind="case_deadline",
            level=level,
            subject=case_no,
            detail=detail,
            to=recipients(level, handler, department),
        )

    # --- figures ----------------------------------------------------------------------

    def contribute_stats(self, tx: Tx, stats: dict[str, Any]) -> None:
        """cases_done, on_time_rate, overdue_cases."""
        stats.update(case_figures(tx.conn, self.clock, tx.now, day=stats.get("date")))


def case_figures(
    conn: sqlite3.Connection, clock: HallTime, now: dt.datetime, day: str | None = None
) -> dict[str, Any]:
    """Cases finished on hall day `day` (default: today), the share of them on time, and open cases past due now.

    The day is the figures' own: the roll-over asks for the day it closes once the next has begun.
    """
    start, end = clock.day_bounds(dt.date.fromisoformat(day) if day else clock.business_day(now))
    done, on_time = conn.execute(
        "SELECT COUNT(*), COALESCE(SUM(due_ts IS NULL OR finished_ts <= due_ts), 0) FROM rec_cases "
        "WHERE finished_ts >= ? AND finished_ts < ? AND open = 0",
        (start, end),
    ).fetchone()
    (overdue,) = conn.execute(
        "SELECT COUNT(*) FROM rec_cases WHERE open = 1 AND due_ts IS NOT NULL AND due_ts < ? "
        "AND status NOT IN ('correction_needed')",
        (now.timestamp(),),
    ).fetchone()
    return {
        "cases_done": int(done),
        "on_time_rate": round(on_time / done, 4) if done else None,
        "overdue_cases": int(overdue),
    }

