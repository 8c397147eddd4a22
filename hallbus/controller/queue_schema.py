"""The queue's tables: their schema and migrations, the typed rows read from them, and the shared reads.

Tickets, windows, calls, archived days, the queue's own meta and alert flags. A ticket
row is found by (day, number), which its id holds (`hallbus.controller.ticket_ids`).
"""

from __future__ import annotations

from typing import Any

import msgspec

from hallbus.config import WindowSection
from hallbus.controller.module import Tx
from hallbus.controller.rules import Candidate
from hallbus.controller.ticket_ids import ticket_key

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

T_COLS = (
    "id, day, prefix, seq, number, service, channel, priority, status, sort_key, issued_at, issued_ts, "
    "id_hash, name_masked, case_no, target_window, window, staff, attempt, called_at, called_ts, "
    "first_called_ts, ended_ts, rowid"
)


class TicketRow(msgspec.Struct):
    """One row of the tickets table, in `T_COLS` order."""

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


W_COLS = "id, status, staff, since, ticket_id, pause_reason, rating_request, rating_expires_ts, rule_state"


class WindowRow(msgspec.Struct):
    """One row of the windows table, in `W_COLS` order."""

    id: str
    status: str
    staff: str | None
    since: str
    ticket_id: str | None
    pause_reason: str | None
    rating_request: str | None
    rating_expires_ts: float | None
    rule_state: str


def ticket_row(tx: Tx, where: str, params: tuple[Any, ...]) -> TicketRow | None:
    """The first ticket matching a WHERE clause."""
    row = tx.execute(f"SELECT {T_COLS} FROM tickets WHERE {where} LIMIT 1", params).fetchone()
    return TicketRow(*row) if row else None


def ticket_by_id(tx: Tx, ticket_id: str) -> TicketRow | None:
    """A ticket by its id (any day)."""
    key = ticket_key(ticket_id)
    return None if key is None else ticket_row(tx, "day = ? AND number = ? AND id = ?", (*key, ticket_id))


def reload(tx: Tx, rowid: int) -> TicketRow:
    """A ticket read again after a change in this transaction."""
    row = ticket_row(tx, "rowid = ?", (rowid,))
    if row is None:  # cannot happen inside one transaction
        raise LookupError(f"ticket #{rowid} vanished")
    return row


def held_at(tx: Tx, window: str) -> list[TicketRow]:
    """The tickets held at a window, oldest call first."""
    rows = tx.execute(
        f"SELECT {T_COLS} FROM tickets WHERE status = 'held' AND window = ? ORDER BY called_ts", (window,)
    ).fetchall()
    return [TicketRow(*r) for r in rows]


def window_row(tx: Tx, wid: str) -> WindowRow:
    """A configured window's row (made, closed, if the table has none yet)."""
    row = tx.execute(f"SELECT {W_COLS} FROM windows WHERE id = ?", (wid,)).fetchone()
    if row is None:
        tx.execute("INSERT INTO windows(id, status, since) VALUES (?, 'closed', ?)", (wid, tx.now_iso))
        row = tx.execute(f"SELECT {W_COLS} FROM windows WHERE id = ?", (wid,)).fetchone()
    return WindowRow(*row)


def candidates(tx: Tx, win: WindowSection, k: int) -> list[Candidate]:
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
