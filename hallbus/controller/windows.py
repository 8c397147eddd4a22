"""The queue engine (排队叫号): tickets, windows, calls and the day, kept in the controller's store.

Every rule of SPEC 4.1 lives here: numbering per service per day, caps and time-slot
quotas, opening hours, real-name rules, the counter actions and the calling rule
(`hallbus.controller.rules`). All state is in SQLite, so a failed request rolls back
cleanly and a restart loses nothing that was answered.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import re
import secrets
import threading
import uuid
from collections.abc import Callable, Mapping
from collections.abc import Set as AbstractSet
from typing import Any

import msgspec

from hallbus import schemas
from hallbus.config import ConfigError, HallConfig, ServiceSection, StaffSection, WindowSection
from hallbus.controller import errors
from hallbus.controller.clock import business_day, in_hours, minute_of_day, parse_hhmm, within
from hallbus.controller.module import ALL, ControllerModule, QueueEvent, Tx, TxHandler
from hallbus.controller.rules import Candidate, RuleState, look_ahead, parse_ratio, pick
from hallbus.passwords import verify_password
from hallbus.rpc import Request

log = logging.getLogger(__name__)

OPEN_STATUSES = ("waiting", "called", "held")
PRIORITY_CHANNELS = frozenset({"appointment", "green"})
MAX_SEQ = 999  # three digits per service per day
NEXT_NUMBERS = 5
RECENT_CALLS = 10

QUEUE_MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE tickets (
        id TEXT PRIMARY KEY,
        day TEXT NOT NULL,
        prefix TEXT NOT NULL,
        seq INTEGER NOT NULL,
        number TEXT NOT NULL,
        service TEXT NOT NULL,
        channel TEXT NOT NULL,
        priority INTEGER NOT NULL,
        status TEXT NOT NULL,
        sort_key REAL NOT NULL,
        issued_at TEXT NOT NULL,
        issued_ts REAL NOT NULL,
        issued_min INTEGER NOT NULL,
        node TEXT,
        id_hash TEXT,
        name_masked TEXT,
        case_no TEXT,
        target_window TEXT,
        window TEXT,
        staff TEXT,
        attempt INTEGER NOT NULL DEFAULT 0,
        called_at TEXT,
        called_ts REAL,
        first_called_ts REAL,
        ended_ts REAL,
        service_s REAL,
        transfers INTEGER NOT NULL DEFAULT 0,
        UNIQUE (day, prefix, seq),
        UNIQUE (day, number)
    );
    CREATE INDEX tickets_queue ON tickets(status, service, priority, sort_key);
    CREATE INDEX tickets_targeted ON tickets(status, target_window, sort_key) WHERE target_window IS NOT NULL;
    CREATE INDEX tickets_person ON tickets(id_hash, day) WHERE id_hash IS NOT NULL;
    CREATE INDEX tickets_done ON tickets(service, ended_ts) WHERE status = 'done';
    CREATE TABLE windows (
        id TEXT PRIMARY KEY,
        status TEXT NOT NULL DEFAULT 'closed',
        staff TEXT,
        since TEXT NOT NULL,
        ticket_id TEXT,
        pause_reason TEXT,
        rating_request TEXT,
        rating_expires_ts REAL,
        rule_state TEXT NOT NULL DEFAULT '{}'
    );
    CREATE TABLE calls (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        day TEXT NOT NULL,
        ticket_id TEXT NOT NULL,
        number TEXT NOT NULL,
        window TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        at TEXT NOT NULL,
        payload BLOB NOT NULL
    );
    CREATE INDEX calls_day ON calls(day, seq);
    CREATE TABLE days (
        day TEXT PRIMARY KEY,
        closed_at TEXT NOT NULL,
        tickets_issued INTEGER NOT NULL,
        served INTEGER NOT NULL,
        no_show INTEGER NOT NULL,
        expired INTEGER NOT NULL,
        avg_wait_s REAL NOT NULL,
        avg_service_s REAL NOT NULL,
        figures TEXT NOT NULL
    );
    CREATE TABLE queue_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE queue_alerts (
        service TEXT NOT NULL,
        kind TEXT NOT NULL,
        active INTEGER NOT NULL,
        PRIMARY KEY (service, kind)
    );
    """,
    # 2: the service queues' index holds target_window too, so counting the tickets ahead
    # and picking the next one read the index alone (no row look-up per waiting ticket).
    """
    DROP INDEX tickets_queue;
    CREATE INDEX tickets_queue ON tickets(status, service, target_window, priority, sort_key);
    """,
    # 3: fewer pages written per ticket (each is a WAL frame the commit's fsync carries).
    # The ticket id is no key any more: it holds its day and number (see `ticket_key`),
    # so (day, number) finds it; (day, prefix, seq) repeated (day, number); the issue
    # order becomes an explicit rowid, which VACUUM keeps.
    """
    CREATE TABLE tickets_v3 (
        arrival INTEGER PRIMARY KEY,
        id TEXT NOT NULL,
        day TEXT NOT NULL,
        prefix TEXT NOT NULL,
        seq INTEGER NOT NULL,
        number TEXT NOT NULL,
        service TEXT NOT NULL,
        channel TEXT NOT NULL,
        priority INTEGER NOT NULL,
        status TEXT NOT NULL,
        sort_key REAL NOT NULL,
        issued_at TEXT NOT NULL,
        issued_ts REAL NOT NULL,
        issued_min INTEGER NOT NULL,
        node TEXT,
        id_hash TEXT,
        name_masked TEXT,
        case_no TEXT,
        target_window TEXT,
        window TEXT,
        staff TEXT,
        attempt INTEGER NOT NULL DEFAULT 0,
        called_at TEXT,
        called_ts REAL,
        first_called_ts REAL,
        ended_ts REAL,
        service_s REAL,
        transfers INTEGER NOT NULL DEFAULT 0,
        UNIQUE (day, number)
    );
    INSERT INTO tickets_v3(arrival, id, day, prefix, seq, number, service, channel, priority, status, sort_key,
        issued_at, issued_ts, issued_min, node, id_hash, name_masked, case_no, target_window, window, staff,
        attempt, called_at, called_ts, first_called_ts, ended_ts, service_s, transfers)
    SELECT rowid, id, day, prefix, seq, number, service, channel, priority, status, sort_key,
        issued_at, issued_ts, issued_min, node, id_hash, name_masked, case_no, target_window, window, staff,
        attempt, called_at, called_ts, first_called_ts, ended_ts, service_s, transfers
    FROM tickets ORDER BY rowid;
    DROP TABLE tickets;
    ALTER TABLE tickets_v3 RENAME TO tickets;
    CREATE INDEX tickets_queue ON tickets(status, service, target_window, priority, sort_key);
    CREATE INDEX tickets_targeted ON tickets(status, target_window, sort_key) WHERE target_window IS NOT NULL;
    CREATE INDEX tickets_person ON tickets(id_hash, day) WHERE id_hash IS NOT NULL;
    CREATE INDEX tickets_done ON tickets(service, ended_ts) WHERE status = 'done';
    """,
)

_TICKET_ID = re.compile(r"(\d{4})(\d{2})(\d{2})-([a-z]\d{3})-[0-9a-f]{8}", re.ASCII)


_random_pool = bytearray()
_random_lock = threading.Lock()


def new_ticket_id(day: str, number: str) -> str:
    """A ticket's id: its day and number, and 32 random bits ("20260303-a012-1f2e3d4c").

    The bits are unguessable (the id is in the tracking link); they come from the
    system's CSPRNG 4 KiB at a time, not one system call per ticket.
    """
    with _random_lock:
        if len(_random_pool) < 4:
            _random_pool.extend(secrets.token_bytes(4096))
        bits = _random_pool[-4:]
        del _random_pool[-4:]
    return f"{day.replace('-', '')}-{number.lower()}-{bits.hex()}"


def ticket_key(ticket_id: str) -> tuple[str, str] | None:
    """The (day, number) a ticket id names, or None for a string that is no ticket id."""
    m = _TICKET_ID.fullmatch(ticket_id)
    if m is None:
        return None
    return f"{m[1]}-{m[2]}-{m[3]}", m[4].upper()

_T_COLS = (
    "id, day, prefix, seq, number, service, channel, priority, status, sort_key, issued_at, issued_ts, "
    "id_hash, name_masked, case_no, target_window, window, staff, attempt, called_at, called_ts, "
    "first_called_ts, ended_ts, rowid"
)


class TicketRow(msgspec.Struct):
    """One row of the tickets table, in `_T_COLS` order."""

    id: str
    day: str
    prefix: str
    seq: int
    number: str
    service: str
    channel: str
    priority: int
    status: str
    sort_key: float
    issued_at: str
    issued_ts: float
    id_hash: str | None
    name_masked: str | None
    case_no: str | None
    target_window: str | None
    window: str | None
    staff: str | None
    attempt: int
    called_at: str | None
    called_ts: float | None
    first_called_ts: float | None
    ended_ts: float | None
    rowid: int


class WindowRow(msgspec.Struct):
    """One row of the windows table."""

    id: str
    status: str
    staff: str | None
    since: str
    ticket_id: str | None
    pause_reason: str | None
    rating_request: str | None
    rating_expires_ts: float | None
    rule_state: str


_W_COLS = "id, status, staff, since, ticket_id, pause_reason, rating_request, rating_expires_ts, rule_state"


def _badge(uid: str) -> str:
    return uid.strip().lower().replace(":", "").replace(" ", "")


class QueueModule(ControllerModule):
    """Tickets, windows and calls: the queue engine and its RPC handlers."""

    name = "queue"
    migrations = QUEUE_MIGRATIONS

    def __init__(self, config: HallConfig) -> None:
        self.config = config
        self._stored_day: str | None = None  # queue_meta's day as last read (None: read it again)
        self._today_memo: tuple[dt.datetime | None, str] = (None, "")
        self.services: dict[str, ServiceSection] = {s.code: s for s in config.services}
        self.windows: dict[str, WindowSection] = {w.id: w for w in config.windows}
        self.staff: dict[str, StaffSection] = {s.id: s for s in config.staff}
        self.badges: dict[str, StaffSection] = {
            _badge(s.badge_uid): s for s in config.staff if s.badge_uid
        }
        self.windows_of: dict[str, list[str]] = {code: [] for code in self.services}
        for i, w in enumerate(config.windows):
            try:
                parse_ratio(w.rule.ratio)
            except ValueError as err:
                raise ConfigError(config.path, f"windows[{i}].rule.ratio", str(err)) from err
            for code in w.services:
                self.windows_of.setdefault(code, []).append(w.id)
            for code, blockers in w.rule.only_when_empty.items():
                for b in [code, *blockers]:
                    if b not in self.services:
                        raise ConfigError(
                            config.path, f"windows[{i}].rule.only_when_empty", f"unknown service {b!r}"
                        )
        for code in self.services:
            for slot in self.services[code].slots:
                parse_hhmm(slot.start)
                parse_hhmm(slot.end)

    # --- the day -------------------------------------------------------------------------

    def business_day(self, when: dt.datetime) -> dt.date:
        """The hall day a moment belongs to (before the roll-over hour it is still yesterday)."""
        return business_day(when, self.config.hall.rollover)

    def today(self, tx: Tx) -> str:
        """Today's hall day as YYYY-MM-DD."""
        now = tx.now
        memo = self._today_memo  # one tuple: the publisher thread asks too
        if memo[0] is not now:  # a batch asks several times for one moment
            memo = (now, self.business_day(now).isoformat())
            self._today_memo = memo
        return memo[1]

    def prepare(self, tx: Tx) -> None:
        """Make sure every configured window has a row (new windows appear as closed)."""
        for wid in self.windows:
            tx.execute(
                "INSERT OR IGNORE INTO windows(id, status, since) VALUES (?, 'closed', ?)", (wid, tx.now_iso)
            )

    def ensure_day(self, tx: Tx, figures: Callable[[Tx, str], dict[str, Any]]) -> bool:
        """Roll over to a new hall day if the clock passed the roll-over hour; True when it did."""
        today = self.today(tx)
        if self._stored_day is not None and self._stored_day >= today:
            return False  # the common case, without a query (this process is the only writer)
        row = tx.execute("SELECT value FROM queue_meta WHERE key = 'day'").fetchone()
        if row is None:
            tx.execute("INSERT INTO queue_meta(key, value) VALUES ('day', ?)", (today,))
            return False
        old = str(row[0])
        if old >= today:
            self._stored_day = old
            return False
        self._stored_day = None  # known again once this transaction has committed and read it back
        self.rollover(tx, old, today, figures(tx, old))
        return True

    def rollover(self, tx: Tx, old: str, new: str, figures: dict[str, Any]) -> None:
        """Close day `old`: open tickets expire, windows close, the figures are archived."""
        expired = tx.execute(
            "UPDATE tickets SET status = 'expired', ended_ts = ? WHERE status IN ('waiting', 'called', 'held')",
            (tx.now_ts,),
        ).rowcount
        tx.execute(
            "UPDATE windows SET status = 'closed', staff = NULL, ticket_id = NULL, pause_reason = NULL, "
            "rating_request = NULL, rating_expires_ts = NULL, rule_state = '{}', since = ?",
            (tx.now_iso,),
        )
        tx.execute("DELETE FROM queue_alerts")
        figures = dict(figures, expired=expired, date=old)
        tx.execute(
            "INSERT OR REPLACE INTO days(day, closed_at, tickets_issued, served, no_show, expired, "
            "avg_wait_s, avg_service_s, figures) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                old, tx.now_iso, figures.get("tickets_issued", 0), figures.get("served", 0),
                figures.get("no_show", 0), expired, figures.get("avg_wait_s", 0.0),
                figures.get("avg_service_s", 0.0), schemas.encode(figures).decode(),
            ),
        )
        tx.execute("UPDATE queue_meta SET value = ? WHERE key = 'day'", (new,))
        tx.mark(ALL)
        log.info("day %s closed: %d open tickets expired; now %s", old, expired, new)

    # --- RPC handlers --------------------------------------------------------------------

    def handlers(self) -> Mapping[str, TxHandler]:
        """The queue's RPC methods."""
        return {
            "ticket.issue": self._rpc_issue,
            "ticket.status": self._rpc_status,
            "window.login": self._rpc_login,
            "window.logout": self._rpc_logout,
            "window.call_next": self._rpc_call_next,
            "window.recall": self._rpc_recall,
            "window.no_show": self._rpc_no_show,
            "window.hold": self._rpc_hold,
            "window.call_back": self._rpc_call_back,
            "window.transfer": self._rpc_transfer,
            "window.finish": self._rpc_finish,
            "window.pause": self._rpc_pause,
            "window.resume": self._rpc_resume,
        }

    def _rpc_issue(self, req: Request, tx: Tx) -> Mapping[str, Any]:
        b: schemas.TicketIssueReq = req.body
        ticket = self.issue(tx, service=b.service, channel=b.channel, id_card=b.id_card, node=b.node or req.caller)
        return {"ticket": schemas.to_builtins(ticket)}

    def _rpc_status(self, req: Request, tx: Tx) -> Mapping[str, Any]:
        b: schemas.TicketStatusReq = req.body
        if not b.number and not b.ticket_id:
            raise errors.bad_request("请提供号码或票号。", "Give a ticket number or a ticket_id.")
        ticket = self.find_ticket(tx, number=b.number, ticket_id=b.ticket_id)
        if ticket is None:
            raise errors.unknown_ticket(b.number or b.ticket_id or "")
        return {"ticket": schemas.to_builtins(ticket)}

    def _window_reply(self, tx: Tx, wid: str) -> Mapping[str, Any]:
        return {"window": schemas.to_builtins(self.window_state(tx, wid))}

    def preparers(self) -> Mapping[str, Callable[[Request], None]]:
        """A password login's hash is checked on a worker thread, not in the writer's transaction."""
        return {"window.login": self._prepare_login}

    def _prepare_login(self, req: Request) -> None:
        b: schemas.WindowLoginReq = req.body
        if b.staff and b.password is not None and not b.badge_uid:
            req.prepared = {"password_ok": self.password_ok(b.staff, b.password)}

    def password_ok(self, staff: str, password: str) -> bool:
        """Whether `password` is the staff member's (slow on purpose: PBKDF2)."""
        cand = self.staff.get(staff.strip())
        return bool(cand and cand.password_hash and verify_password(password, cand.password_hash))

    def _rpc_login(self, req: Request, tx: Tx) -> Mapping[str, Any]:
        b: schemas.WindowLoginReq = req.body
        checked = (req.prepared or {}).get("password_ok")
        self.login(tx, b.window, staff=b.staff, password=b.password, badge_uid=b.badge_uid, password_ok=checked)
        return self._window_reply(tx, b.window)

    def _rpc_logout(self, req: Request, tx: Tx) -> Mapping[str, Any]:
        self.logout(tx, req.body.window)
        return self._window_reply(tx, req.body.window)

    def _rpc_call_next(self, req: Request, tx: Tx) -> Mapping[str, Any]:
        self.call_next(tx, req.body.window)
        return self._window_reply(tx, req.body.window)

    def _rpc_recall(self, req: Request, tx: Tx) -> Mapping[str, Any]:
        self.recall(tx, req.body.window)
        return self._window_reply(tx, req.body.window)

    def _rpc_no_show(self, req: Request, tx: Tx) -> Mapping[str, Any]:
        self.no_show(tx, req.body.window)
        return self._window_reply(tx, req.body.window)

    def _rpc_hold(self, req: Request, tx: Tx) -> Mapping[str, Any]:
        self.hold(tx, req.body.window)
        return self._window_reply(tx, req.body.window)

    def _rpc_call_back(self, req: Request, tx: Tx) -> Mapping[str, Any]:
        b: schemas.WindowCallBackReq = req.body
        self.call_back(tx, b.window, b.ticket)
        return self._window_reply(tx, b.window)

    def _rpc_transfer(self, req: Request, tx: Tx) -> Mapping[str, Any]:
        b: schemas.WindowTransferReq = req.body
        self.transfer(tx, b.window, to_service=b.to_service, to_window=b.to_window, position=b.position)
        return self._window_reply(tx, b.window)

    def _rpc_finish(self, req: Request, tx: Tx) -> Mapping[str, Any]:
        self.finish(tx, req.body.window)
        return self._window_reply(tx, req.body.window)

    def _rpc_pause(self, req: Request, tx: Tx) -> Mapping[str, Any]:
        b: schemas.WindowPauseReq = req.body
        self.pause(tx, b.window, b.reason)
        return self._window_reply(tx, b.window)

    def _rpc_resume(self, req: Request, tx: Tx) -> Mapping[str, Any]:
        self.resume(tx, req.body.window)
        return self._window_reply(tx, req.body.window)

    # --- tickets -------------------------------------------------------------------------

    def _service(self, code: str) -> ServiceSection:
        svc = self.services.get(code)
        if svc is None:
            raise errors.unknown_service(code)
        return svc

    def issue(
        self,
        tx: Tx,
        *,
        service: str,
        channel: schemas.Channel = "onsite",
        id_card: schemas.IdCardRef | None = None,
        node: str | None = None,
        case_no: str | None = None,
    ) -> schemas.Ticket:
        """Issue a ticket with every rule applied (hours, caps, real-name); raises RpcFault."""
        svc = self._service(service)
        now = tx.now
        if not in_hours(now, svc.hours):
            raise errors.service_closed(svc.name, svc.name_en, svc.hours)
        day = self.today(tx)
        numbers = (day, f"{svc.code}000", f"{svc.code}999")  # the service's numbers today, in order
        last = tx.execute("SELECT MAX(number) FROM tickets WHERE day = ? AND number BETWEEN ? AND ?", numbers)
        last_number = last.fetchone()[0]
        last_seq = int(last_number[1:]) if last_number else 0
        priority = channel in PRIORITY_CHANNELS
        # Caps and slots limit walk-in tickets; appointments and the green channel are
        # never turned away by them, only by the three-digit number space.
        if last_seq >= MAX_SEQ:
            raise errors.daily_cap_reached(svc.name, svc.name_en, min(svc.daily_cap, MAX_SEQ))
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
        self._touch_service(tx, svc.code)
        row = TicketRow(
            ticket_id, day, svc.code, seq, number, svc.code, channel, int(priority), "waiting", tx.now_ts,
            tx.now_iso, tx.now_ts, id_hash, name_masked, case_no, None, None, None, 0, None, None, None, None,
            int(cur.lastrowid or 0),
        )
        ticket = self._ticket(tx, row)
        tx.queue_event(QueueEvent("issued", ticket))
        return ticket

    def _check_person(self, tx: Tx, svc: ServiceSection, id_hash: str, day: str) -> None:
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

    def _ticket_row(self, tx: Tx, where: str, params: tuple[Any, ...]) -> TicketRow | None:
        row = tx.execute(f"SELECT {_T_COLS} FROM tickets WHERE {where} LIMIT 1", params).fetchone()
        return TicketRow(*row) if row else None

    def _ticket_by_id(self, tx: Tx, ticket_id: str) -> TicketRow | None:
        key = ticket_key(ticket_id)
        return None if key is None else self._ticket_row(tx, "day = ? AND number = ? AND id = ?", (*key, ticket_id))

    def _reload(self, tx: Tx, rowid: int) -> TicketRow:
        row = self._ticket_row(tx, "rowid = ?", (rowid,))
        if row is None:  # cannot happen inside one transaction
            raise LookupError(f"ticket #{rowid} vanished")
        return row

    def find_ticket(
        self, tx: Tx, *, number: str | None = None, ticket_id: str | None = None
    ) -> schemas.Ticket | None:
        """A ticket of today by number, or any day by id, with its position."""
        if ticket_id:
            row = self._ticket_by_id(tx, ticket_id.strip().lower())
        elif number:
            row = self._ticket_row(tx, "day = ? AND number = ?", (self.today(tx), number.strip().upper()))
        else:
            row = None
        return self._ticket(tx, row) if row else None

    def _ticket(self, tx: Tx, r: TicketRow) -> schemas.Ticket:
        svc = self.services.get(r.service)
        ahead = self._ahead(tx, r) if r.status == "waiting" else 0
        est = 0
        if r.status == "waiting":
            est = self._estimate(tx, r.service, ahead)
        return schemas.Ticket(
            number=r.number,
            service=r.service,
            ticket_id=r.id,
            service_name=svc.name if svc else r.service,
            channel=r.channel,  # type: ignore[arg-type]
            status=r.status,
            ahead=ahead,
            est_wait_s=est,
            issued_at=r.issued_at,
            track_url=self.config.hall.track_url.replace("{ticket_id}", r.id),
            window=r.window or r.target_window,
            name_masked=r.name_masked,
            called_at=r.called_at,
            attempt=r.attempt,
        )

    def _ahead(self, tx: Tx, r: TicketRow) -> int:
        if r.target_window:
            q = (
                "SELECT COUNT(*) FROM tickets WHERE status = 'waiting' AND target_window = ? "
                "AND (sort_key < ? OR (sort_key = ? AND rowid < ?))"
            )
            return int(tx.execute(q, (r.target_window, r.sort_key, r.sort_key, r.rowid)).fetchone()[0])
        q = (
            "SELECT COUNT(*) FROM tickets WHERE status = 'waiting' AND service = ? AND target_window IS NULL "
            "AND (priority > ? OR (priority = ? AND (sort_key < ? OR (sort_key = ? AND rowid < ?))))"
        )
        params = (r.service, r.priority, r.priority, r.sort_key, r.sort_key, r.rowid)
        return int(tx.execute(q, params).fetchone()[0])

    def avg_service_s(self, tx: Tx, service: str) -> float:
        """Mean of the last `[queue] est_window` service times, or the configured average."""
        row = tx.execute(
            "SELECT AVG(service_s), COUNT(*) FROM (SELECT service_s FROM tickets WHERE service = ? "
            "AND status = 'done' AND service_s IS NOT NULL ORDER BY ended_ts DESC LIMIT ?)",
            (service, max(1, self.config.queue.est_window)),
        ).fetchone()
        if row[1]:
            return float(row[0])
        svc = self.services.get(service)
        return float(svc.avg_service_s if svc else 300)

    def open_windows(self, tx: Tx) -> dict[str, int]:
        """Service -> how many logged-in, unpaused windows serve it."""
        open_ids = {
            str(r[0]) for r in tx.execute("SELECT id FROM windows WHERE status IN ('idle', 'serving')")
        }
        return {code: sum(1 for w in wins if w in open_ids) for code, wins in self.windows_of.items()}

    def _open_count(self, tx: Tx, service: str) -> int:
        wins = self.windows_of.get(service, [])
        if not wins:
            return 0
        marks = ", ".join("?" * len(wins))
        q = f"SELECT COUNT(*) FROM windows WHERE status IN ('idle', 'serving') AND id IN ({marks})"
        return int(tx.execute(q, wins).fetchone()[0])

    def _estimate(self, tx: Tx, service: str, ahead: int, open_count: int | None = None) -> int:
        if ahead <= 0:
            return 0
        if open_count is None:
            open_count = self._open_count(tx, service)
        return math.ceil(ahead * self.avg_service_s(tx, service) / max(1, open_count))

    # --- windows -------------------------------------------------------------------------

    def _window_cfg(self, wid: str) -> WindowSection:
        win = self.windows.get(wid)
        if win is None:
            raise errors.unknown_window(wid)
        return win

    def _window_row(self, tx: Tx, wid: str) -> WindowRow:
        self._window_cfg(wid)
        row = tx.execute(f"SELECT {_W_COLS} FROM windows WHERE id = ?", (wid,)).fetchone()
        if row is None:
            tx.execute("INSERT INTO windows(id, status, since) VALUES (?, 'closed', ?)", (wid, tx.now_iso))
            row = tx.execute(f"SELECT {_W_COLS} FROM windows WHERE id = ?", (wid,)).fetchone()
        return WindowRow(*row)

    def _logged_in(self, tx: Tx, wid: str) -> WindowRow:
        w = self._window_row(tx, wid)
        if w.staff is None:
            raise errors.not_logged_in(wid)
        return w

    def _current(self, tx: Tx, w: WindowRow) -> TicketRow:
        if w.ticket_id is None:
            raise errors.no_current_ticket(w.id)
        row = self._ticket_by_id(tx, w.ticket_id)
        if row is None:
            raise errors.no_current_ticket(w.id)
        return row

    def _require_free(self, tx: Tx, w: WindowRow) -> None:
        if w.ticket_id is not None:
            row = self._ticket_by_id(tx, w.ticket_id)
            raise errors.window_busy(w.id, row.number if row else "?")

    def _set_window(self, tx: Tx, wid: str, **fields: Any) -> None:
        cols = ", ".join(f"{k} = ?" for k in fields)
        tx.execute(f"UPDATE windows SET {cols} WHERE id = ?", (*fields.values(), wid))
        tx.mark(f"window:{wid}")

    def login(
        self,
        tx: Tx,
        wid: str,
        *,
        staff: str | None = None,
        password: str | None = None,
        badge_uid: str | None = None,
        password_ok: bool | None = None,
    ) -> None:
        """A staff member sits down: badge UID, or staff id + password (a `staff` alone is read as a badge).

        `password_ok` is the result of `password_ok()` when it was checked beforehand.
        """
        self._window_cfg(wid)
        member: StaffSection | None = None
        if badge_uid or (staff and password is None):
            member = self.badges.get(_badge(badge_uid or staff or ""))
        elif staff and password is not None:
            if password_ok is None:
                password_ok = self.password_ok(staff, password)
            if password_ok:
                member = self.staff.get(staff.strip())
        if member is None:
            raise errors.login_failed()
        w = self._window_row(tx, wid)
        if w.staff == member.id:
            return
        if w.staff is not None:
            self._require_free(tx, w)
        other = tx.execute(
            "SELECT id, ticket_id FROM windows WHERE staff = ? AND id != ?", (member.id, wid)
        ).fetchone()
        if other is not None:
            if other[1] is not None:
                raise errors.staff_busy(member.id, str(other[0]))
            self._close_window(tx, str(other[0]))
        if w.staff is not None:
            self._return_held(tx, wid)
        self._set_window(
            tx, wid, staff=member.id, status="idle", since=tx.now_iso, pause_reason=None
        )
        self._touch_window_services(tx, wid)

    def _close_window(self, tx: Tx, wid: str) -> None:
        self._return_held(tx, wid)
        self._set_window(tx, wid, staff=None, status="closed", since=tx.now_iso, pause_reason=None, ticket_id=None)
        self._touch_window_services(tx, wid)

    def _return_held(self, tx: Tx, wid: str) -> None:
        """Held tickets of a window that closes go back to the front of their queue."""
        held = tx.execute(
            "SELECT rowid, service FROM tickets WHERE status = 'held' AND window = ? ORDER BY sort_key", (wid,)
        ).fetchall()
        for rowid, service in held:
            front = self._front_key(tx, service=str(service))
            tx.execute(
                "UPDATE tickets SET status = 'waiting', window = NULL, attempt = 0, sort_key = ? WHERE rowid = ?",
                (front, rowid),
            )
            self._touch_service(tx, str(service))

    def logout(self, tx: Tx, wid: str) -> None:
        """The staff member leaves; held tickets go back to the front of their queues."""
        w = self._logged_in(tx, wid)
        self._require_free(tx, w)
        self._close_window(tx, wid)

    def call_next(self, tx: Tx, wid: str) -> TicketRow:
        """Call the next ticket by the window's rule (error `queue_empty` when nobody waits)."""
        win = self._window_cfg(wid)
        w = self._logged_in(tx, wid)
        if w.status == "paused":
            raise errors.window_paused(wid)
        self._require_free(tx, w)
        state = RuleState.from_json(msgspec.json.decode(w.rule_state))
        got = pick(win.services, win.rule, state, self._candidates(tx, win, 1))
        if got is None:
            raise errors.queue_empty(wid)
        chosen, new_state = got
        tx.execute(
            "UPDATE tickets SET status = 'called', window = ?, staff = ?, attempt = 1, called_at = ?, "
            "called_ts = ?, first_called_ts = COALESCE(first_called_ts, ?), target_window = NULL WHERE rowid = ?",
            (wid, w.staff, tx.now_iso, tx.now_ts, tx.now_ts, chosen.seq),
        )
        self._set_window(
            tx, wid, status="serving", ticket_id=chosen.ticket_id, since=tx.now_iso,
            rule_state=schemas.encode(new_state.to_json()).decode(),
        )
        row = self._reload(tx, chosen.seq)
        self._touch_service(tx, row.service)
        self._announce(tx, row, win)
        tx.queue_event(QueueEvent("called", self._ticket(tx, row), window=wid, staff=w.staff))
        return row

    def _candidates(self, tx: Tx, win: WindowSection, k: int) -> list[Candidate]:
        """The first `k` waiting tickets of each (service, kind) the window serves, and those sent to it."""
        out: list[Candidate] = []
        for r in tx.execute(
            "SELECT id, number, service, priority, sort_key, rowid FROM tickets WHERE status = 'waiting' "
            "AND target_window = ? ORDER BY sort_key, rowid LIMIT ?",
            (win.id, k),
        ):
            out.append(Candidate(r[0], r[1], r[2], bool(r[3]), r[4], r[5], targeted=True))
        for code in win.services:
            for prio in (1, 0):
                for r in tx.execute(
                    "SELECT id, number, service, priority, sort_key, rowid FROM tickets "
                    "WHERE status = 'waiting' AND service = ? AND priority = ? AND target_window IS NULL "
                    "ORDER BY sort_key, rowid LIMIT ?",
                    (code, prio, k),
                ):
                    out.append(Candidate(r[0], r[1], r[2], bool(r[3]), r[4], r[5]))
        return out

    def _announce(self, tx: Tx, row: TicketRow, win: WindowSection) -> None:
        """The call event (叫号) and its record for `calls/recent`."""
        call = schemas.Call(
            ticket=row.number,
            window=win.id,
            window_name=win.name,
            text=f"请{row.number}号到{win.name}办理",
            text_en=f"Number {row.number}, please go to {win.name_en or 'window ' + win.id}.",
            name_masked=row.name_masked,
            attempt=row.attempt,
            service=row.service,
            ts=tx.now_iso,
        )
        data = schemas.encode(call)
        tx.execute(
            "INSERT INTO calls(day, ticket_id, number, window, attempt, at, payload) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (row.day, row.id, row.number, win.id, row.attempt, tx.now_iso, data),
        )
        tx.emit(tx.topics.calls, data)
        tx.mark("calls")

    def recall(self, tx: Tx, wid: str) -> None:
        """Call the current ticket again (at most `[queue] recall_limit` times)."""
        win = self._window_cfg(wid)
        w = self._logged_in(tx, wid)
        row = self._current(tx, w)
        limit = self.config.queue.recall_limit
        if row.attempt - 1 >= limit:
            raise errors.recall_limit(row.number, limit)
        tx.execute(
            "UPDATE tickets SET attempt = attempt + 1, called_at = ?, called_ts = ? WHERE rowid = ?",
            (tx.now_iso, tx.now_ts, row.rowid),
        )
        row = self._reload(tx, row.rowid)
        tx.mark(f"window:{wid}")
        self._announce(tx, row, win)
        tx.queue_event(QueueEvent("recalled", self._ticket(tx, row), window=wid, staff=w.staff))

    def _end_current(self, tx: Tx, wid: str, w: WindowRow, status: str) -> TicketRow:
        row = self._current(tx, w)
        service_s = tx.now_ts - (row.called_ts or tx.now_ts)
        tx.execute(
            "UPDATE tickets SET status = ?, ended_ts = ?, service_s = ? WHERE rowid = ?",
            (status, tx.now_ts, service_s if status == "done" else None, row.rowid),
        )
        self._set_window(tx, wid, status="idle", ticket_id=None, since=tx.now_iso)
        self._touch_service(tx, row.service)
        return self._reload(tx, row.rowid)

    def no_show(self, tx: Tx, wid: str) -> None:
        """The called person did not come (过号); may block the person for a while."""
        w = self._logged_in(tx, wid)
        row = self._end_current(tx, wid, w, "no_show")
        tx.queue_event(QueueEvent("no_show", self._ticket(tx, row), window=wid, staff=w.staff))

    def finish(self, tx: Tx, wid: str) -> schemas.RatingRequest:
        """Finish (办结) the current ticket and open a rating request on the window's tablet."""
        w = self._logged_in(tx, wid)
        row = self._end_current(tx, wid, w, "done")
        expires = tx.now + dt.timedelta(seconds=self.config.ratings.request_ttl_s)
        rr = schemas.RatingRequest(
            ticket=row.number,
            staff=w.staff or "",
            expires_at=expires.isoformat(timespec="milliseconds"),
            case_no=row.case_no,
            request_id=str(uuid.uuid4()),
        )
        self._set_window(
            tx, wid, rating_request=schemas.encode(rr).decode(), rating_expires_ts=expires.timestamp()
        )
        tx.queue_event(
            QueueEvent("finished", self._ticket(tx, row), window=wid, staff=w.staff, rating_request=rr)
        )
        return rr

    def hold(self, tx: Tx, wid: str) -> None:
        """Hold (挂起) the current ticket at this window, e.g. while the person fetches a document."""
        w = self._logged_in(tx, wid)
        row = self._current(tx, w)
        tx.execute("UPDATE tickets SET status = 'held' WHERE rowid = ?", (row.rowid,))
        self._set_window(tx, wid, status="idle", ticket_id=None, since=tx.now_iso)
        tx.queue_event(QueueEvent("held", self._ticket(tx, row), window=wid, staff=w.staff))

    def call_back(self, tx: Tx, wid: str, number: str) -> None:
        """Call back (回呼) a ticket held at this window."""
        win = self._window_cfg(wid)
        w = self._logged_in(tx, wid)
        if w.status == "paused":
            raise errors.window_paused(wid)
        self._require_free(tx, w)
        number = number.strip().upper()
        row = self._ticket_row(
            tx, "day = ? AND number = ? AND status = 'held' AND window = ?", (self.today(tx), number, wid)
        )
        if row is None:
            raise errors.ticket_not_held(number, wid)
        tx.execute(
            "UPDATE tickets SET status = 'called', attempt = 1, called_at = ?, called_ts = ? WHERE rowid = ?",
            (tx.now_iso, tx.now_ts, row.rowid),
        )
        self._set_window(tx, wid, status="serving", ticket_id=row.id, since=tx.now_iso)
        row = self._reload(tx, row.rowid)
        self._announce(tx, row, win)
        tx.queue_event(QueueEvent("called_back", self._ticket(tx, row), window=wid, staff=w.staff))

    def _front_key(self, tx: Tx, *, service: str | None = None, window: str | None = None) -> float:
        if window is not None:
            row = tx.execute(
                "SELECT MIN(sort_key) FROM tickets WHERE status = 'waiting' AND target_window = ?", (window,)
            ).fetchone()
        else:
            row = tx.execute(
                "SELECT MIN(sort_key) FROM tickets WHERE status = 'waiting' AND service = ? "
                "AND target_window IS NULL",
                (service,),
            ).fetchone()
        return float(row[0]) - 1.0 if row[0] is not None else tx.now_ts

    def _end_key(self, tx: Tx, *, service: str | None = None, window: str | None = None) -> float:
        if window is not None:
            row = tx.execute(
                "SELECT MAX(sort_key) FROM tickets WHERE status = 'waiting' AND target_window = ?", (window,)
            ).fetchone()
        else:
            row = tx.execute(
                "SELECT MAX(sort_key) FROM tickets WHERE status = 'waiting' AND service = ? "
                "AND target_window IS NULL",
                (service,),
            ).fetchone()
        return max(tx.now_ts, float(row[0]) + 0.001) if row[0] is not None else tx.now_ts

    def transfer(
        self,
        tx: Tx,
        wid: str,
        *,
        to_service: str | None = None,
        to_window: str | None = None,
        position: str = "end",
    ) -> None:
        """Transfer (转移) the current ticket to another service or window, at the front or the end."""
        if (to_service is None) == (to_window is None):
            raise errors.transfer_target_required()
        if to_service is not None:
            self._service(to_service)
        if to_window is not None:
            self._window_cfg(to_window)
            if to_window == wid:
                raise errors.transfer_to_self(wid)
        w = self._logged_in(tx, wid)
        row = self._current(tx, w)
        if position == "front":
            key = self._front_key(tx, service=to_service, window=to_window)
        else:
            key = self._end_key(tx, service=to_service, window=to_window)
        tx.execute(
            "UPDATE tickets SET status = 'waiting', window = NULL, attempt = 0, sort_key = ?, "
            "service = ?, target_window = ?, transfers = transfers + 1 WHERE rowid = ?",
            (key, to_service or row.service, to_window, row.rowid),
        )
        self._set_window(tx, wid, status="idle", ticket_id=None, since=tx.now_iso)
        self._touch_service(tx, row.service)
        if to_service:
            self._touch_service(tx, to_service)
        if to_window:
            tx.mark(f"window:{to_window}")
        new = self._reload(tx, row.rowid)
        tx.queue_event(QueueEvent("transferred", self._ticket(tx, new), window=wid, staff=w.staff))

    def pause(self, tx: Tx, wid: str, reason: str) -> None:
        """Pause (暂停) the window with a reason shown on its display."""
        w = self._logged_in(tx, wid)
        self._require_free(tx, w)
        self._set_window(tx, wid, status="paused", pause_reason=reason.strip()[:100], since=tx.now_iso)
        self._touch_window_services(tx, wid)

    def resume(self, tx: Tx, wid: str) -> None:
        """Resume a paused window."""
        w = self._logged_in(tx, wid)
        if w.status != "paused":
            raise errors.not_paused(wid)
        self._set_window(tx, wid, status="idle", pause_reason=None, since=tx.now_iso)
        self._touch_window_services(tx, wid)

    def clear_rating_request(self, tx: Tx, window: str, *, request_id: str | None = None) -> bool:
        """Close the window's open rating request (only the given one, when `request_id` is set)."""
        w = self._window_row(tx, window)
        if w.rating_request is None:
            return False
        if request_id is not None:
            rr = schemas.decode(w.rating_request, schemas.RatingRequest)
            if rr.request_id != request_id:
                return False
        self._set_window(tx, window, rating_request=None, rating_expires_ts=None)
        return True

    # --- marks ---------------------------------------------------------------------------

    def _touch_service(self, tx: Tx, service: str) -> None:
        tx.mark("queue")
        tx.mark("stats")
        for wid in self.windows_of.get(service, ()):
            tx.mark(f"window:{wid}")

    def _touch_window_services(self, tx: Tx, wid: str) -> None:
        tx.mark("queue")
        tx.mark(f"window:{wid}")

    # --- state ---------------------------------------------------------------------------

    def window_state(self, tx: Tx, window: str) -> schemas.WindowState:
        """The retained state of one window."""
        win = self._window_cfg(window)
        w = self._window_row(tx, window)
        ticket = None
        if w.ticket_id:
            row = self._ticket_by_id(tx, w.ticket_id)
            ticket = self._ticket(tx, row) if row else None
        staff = None
        if w.staff:
            st = self.staff.get(w.staff)
            staff = schemas.StaffCard(
                id=w.staff,
                name=st.name if st else w.staff,
                title=st.title if st else "",
                photo_url=(st.photo or "") if st else "",
                stars=st.stars if st else 0.0,
            )
        rr = None
        if w.rating_request and (w.rating_expires_ts or 0) > tx.now_ts:
            rr = schemas.decode(w.rating_request, schemas.RatingRequest)
        held = [
            self._ticket(tx, TicketRow(*r))
            for r in tx.execute(
                f"SELECT {_T_COLS} FROM tickets WHERE status = 'held' AND window = ? ORDER BY called_ts",
                (window,),
            ).fetchall()
        ]
        status = "closed" if w.staff is None else ("serving" if ticket is not None else w.status)
        if status not in ("closed", "idle", "serving", "paused"):
            status = "idle"
        next_numbers: list[str] = []
        if w.staff is not None:
            state = RuleState.from_json(msgspec.json.decode(w.rule_state))
            nxt = look_ahead(win.services, win.rule, state, self._candidates(tx, win, NEXT_NUMBERS + 1), NEXT_NUMBERS)
            next_numbers = [c.number for c in nxt]
        return schemas.WindowState(
            window=win.id,
            name=win.name,
            status=status,  # type: ignore[arg-type]
            ticket=ticket,
            staff=staff,
            services=list(win.services),
            rating_request=rr,
            since=w.since,
            pause_reason=w.pause_reason if status == "paused" else None,
            held=held,
            next_numbers=next_numbers,
            ts=tx.now_iso,
        )

    def queue_state(self, tx: Tx) -> schemas.QueueState:
        """Waiting figures of every service."""
        waiting = {
            str(r[0]): int(r[1])
            for r in tx.execute("SELECT service, COUNT(*) FROM tickets WHERE status = 'waiting' GROUP BY service")
        }
        open_count = self.open_windows(tx)
        services = []
        for svc in self.config.services:
            n = waiting.get(svc.code, 0)
            services.append(
                schemas.ServiceQueue(
                    code=svc.code,
                    name=svc.name,
                    name_en=svc.name_en,
                    waiting=n,
                    est_wait_s=self._estimate(tx, svc.code, n, open_count.get(svc.code, 0)),
                    windows_open=open_count.get(svc.code, 0),
                )
            )
        return schemas.QueueState(services=services, total_waiting=sum(waiting.values()), ts=tx.now_iso)

    def recent_calls(self, tx: Tx) -> schemas.CallsRecent:
        """The last calls of today, newest first."""
        rows = tx.execute(
            "SELECT payload FROM calls WHERE day = ? ORDER BY seq DESC LIMIT ?", (self.today(tx), RECENT_CALLS)
        ).fetchall()
        return schemas.CallsRecent(calls=[schemas.decode(r[0], schemas.Call) for r in rows], ts=tx.now_iso)

    def refresh(self, tx: Tx, keys: AbstractSet[str]) -> None:
        """Publish the retained state of marked windows, the queue and the recent calls."""
        everything = ALL in keys
        wids = list(self.windows) if everything else [k[7:] for k in keys if k.startswith("window:")]
        for wid in wids:
            if wid in self.windows:
                tx.publish_state(tx.topics.window_state(wid), self.window_state(tx, wid))
        if everything or "queue" in keys:
            tx.publish_state(tx.topics.queue_state, self.queue_state(tx))
        if everything or "calls" in keys:
            tx.publish_state(tx.topics.calls_recent, self.recent_calls(tx))

    def contribute_stats(self, tx: Tx, stats: dict[str, Any]) -> None:
        """Queue figures of the day in `stats["date"]`."""
        row = tx.execute(
            "SELECT COUNT(*), COUNT(DISTINCT COALESCE(id_hash, id)), "
            "COUNT(*) FILTER (WHERE status = 'done'), COUNT(*) FILTER (WHERE status = 'no_show'), "
            "AVG(first_called_ts - issued_ts), AVG(service_s) FILTER (WHERE status = 'done') "
            "FROM tickets WHERE day = ?",
            (stats["date"],),
        ).fetchone()
        stats.update(
            tickets_issued=int(row[0]),
            visitors=int(row[1]),
            served=int(row[2]),
            no_show=int(row[3]),
            avg_wait_s=round(float(row[4] or 0.0), 1),
            avg_service_s=round(float(row[5] or 0.0), 1),
        )
        stats["served_by_window"] = {
            str(r[0]): {"served": int(r[1]), "avg_service_s": round(float(r[2] or 0.0), 1)}
            for r in tx.execute(
                "SELECT window, COUNT(*), AVG(service_s) FROM tickets WHERE day = ? AND status = 'done' "
                "AND window IS NOT NULL GROUP BY window",
                (stats["date"],),
            )
        }

    # --- periodic ------------------------------------------------------------------------

    def tick(self, tx: Tx) -> None:
        """Expire rating requests and raise queue alerts once per threshold crossing."""
        for (wid,) in tx.execute(
            "SELECT id FROM windows WHERE rating_expires_ts IS NOT NULL AND rating_expires_ts <= ?", (tx.now_ts,)
        ).fetchall():
            self._set_window(tx, str(wid), rating_request=None, rating_expires_ts=None)
        self.check_alerts(tx)

    def check_alerts(self, tx: Tx) -> None:
        """Raise a `queue_threshold` alert when a service crosses its waiting or wait-time limit."""
        watched = [s for s in self.config.services if s.alert_waiting is not None or s.alert_wait_s is not None]
        if not watched:
            return
        figures = {
            str(r[0]): (int(r[1]), float(r[2]))
            for r in tx.execute(
                "SELECT service, COUNT(*), MIN(issued_ts) FROM tickets WHERE status = 'waiting' GROUP BY service"
            )
        }
        active = {
            (str(r[0]), str(r[1])): bool(r[2]) for r in tx.execute("SELECT service, kind, active FROM queue_alerts")
        }
        for svc in watched:
            count, oldest = figures.get(svc.code, (0, tx.now_ts))
            waited = max(0.0, tx.now_ts - oldest)
            checks = []
            if svc.alert_waiting is not None:
                checks.append(("waiting", count >= svc.alert_waiting, (
                    f"“{svc.name}”等候人数{count}人，已达到{svc.alert_waiting}人的提醒线，请增开窗口或调配人员。",
                    f"{count} people wait for {svc.name_en or svc.name} (limit {svc.alert_waiting}).",
                )))
            if svc.alert_wait_s is not None:
                checks.append(("wait_s", waited >= svc.alert_wait_s, (
                    f"“{svc.name}”最长等候已{int(waited // 60)}分钟，超过{svc.alert_wait_s // 60}分钟的提醒线。",
                    f"The longest wait for {svc.name_en or svc.name} is {int(waited // 60)} min "
                    f"(limit {svc.alert_wait_s // 60} min).",
                )))
            for kind, over, (zh, en) in checks:
                was = active.get((svc.code, kind), False)
                if over == was:
                    continue
                tx.execute(
                    "INSERT INTO queue_alerts(service, kind, active) VALUES (?, ?, ?) "
                    "ON CONFLICT(service, kind) DO UPDATE SET active = excluded.active",
                    (svc.code, kind, int(over)),
                )
                if over:
                    tx.emit(
                        tx.topics.alerts,
                        schemas.Alert(
                            kind="queue_threshold",
                            level="warn",
                            subject=f"{svc.code} {svc.name}",
                            detail=f"{zh} / {en}",
                            to=[svc.department] if svc.department else [],
                            ts=tx.now_iso,
                        ),
                    )
