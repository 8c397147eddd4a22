"""The controller's notify module (到号提醒): phone numbers until the ticket ends, and a durable outbox.

A `ticket.issue` with a `phone` (only when `[notify] enabled`) leaves the number in
`notify_phones`, keyed by the ticket id, in the issuing transaction. Inside the same
transaction as the queue change that causes it, a notification row goes into
`notify_outbox`:

- `near` when a call or a cancellation leaves `[notify] ahead` people or fewer before a
  waiting ticket with a number (not when the ticket was that close already at issue: the
  citizen just read it on the ticket);
- `called` when the ticket is called (also called back after a hold).

Once each per ticket and kind (`UNIQUE(ticket_id, kind)`); each row has its own
idempotency key. The number is not in the row: the dispatcher (`hallbus.notify.dispatch`)
joins it from `notify_phones` when it posts. When the ticket ends (served, no-show,
cancelled; expired at the day's roll-over, swept by the next tick) its number is deleted
and its rows not yet delivered are dropped: a "go to window 3" after the handling is over
is noise, and nothing about the citizen is kept past the ticket.

The dispatcher never writes: it reports each outcome (`report`), and the module's tick
records the reports in the writer's transaction (no extra commit, no lock taken from the
request path). A crash between a post and that tick posts the notification again after the
restart, under the same key: the gateway sees the repeat.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import uuid
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any, Literal

import msgspec

from hallbus import schemas
from hallbus.config import HallConfig, NotifySection
from hallbus.controller.module import ALL, ControllerModule, ModuleContext, QueueApi, QueueEvent, Tx

log = logging.getLogger(__name__)

NOTIFY_MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE notify_phones (
        ticket_id TEXT PRIMARY KEY,
        phone TEXT NOT NULL,
        watch_near INTEGER NOT NULL
    );
    CREATE TABLE notify_outbox (
        seq INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,
        ticket_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        body TEXT NOT NULL,
        created_ts REAL NOT NULL,
        state TEXT NOT NULL DEFAULT 'pending',
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        done_ts REAL,
        UNIQUE(ticket_id, kind)
    );
    CREATE INDEX notify_outbox_state ON notify_outbox(state, seq);
    """,
)

OPEN_STATUSES = ("waiting", "called", "held")
ENDING_EVENTS = frozenset({"finished", "no_show", "cancelled", "expired"})
KEEP_DONE_S = 2 * 24 * 3600  # delivered, failed and dropped rows (no number in them) kept two days
MAX_REPORTS = 10_000  # outcomes waiting for the next tick at most (the dispatcher pauses beyond)

Outcome = Literal["sent", "retry", "failed"]


@dataclass(frozen=True)
class Report:
    """What became of one post: `sent`, `retry` (attempts + 1, the reason) or `failed` (given up, the reason)."""

    key: str
    outcome: Outcome
    reason: str = ""


class NotifyModule(ControllerModule):
    """Phone numbers of waiting tickets, and the outbox of their notifications."""

    name = "notify"
    migrations = NOTIFY_MIGRATIONS

    def __init__(self, ctx: ModuleContext) -> None:
        self.config: HallConfig = ctx.config
        self.settings: NotifySection = ctx.config.notify
        self.queue: QueueApi = ctx.queue
        self._reports: list[Report] = []
        self._lock = threading.Lock()
        self.wake: Callable[[], None] = lambda: None  # the dispatcher's, once it runs

    # --- queue events, in the queue change's transaction ------------------------------

    def on_queue_event(self, tx: Tx, event: QueueEvent) -> None:
        """Keep a number at issue, make notifications as the queue moves, forget the number at the end."""
        if not self.settings.enabled:
            return
        t = event.ticket
        if event.kind == "issued":
            if event.phone:
                near_already = t.ahead <= self.settings.ahead
                tx.execute(
                    "INSERT OR REPLACE INTO notify_phones(ticket_id, phone, watch_near) VALUES (?, ?, ?)",
                    (t.ticket_id, event.phone, 0 if near_already else 1),
                )
            return
        if event.kind in ENDING_EVENTS:
            self._forget(tx, t.ticket_id)
            if event.kind == "cancelled":  # those behind it moved up
                self._check_near(tx, t.service, event.window)
            return
        if event.kind in ("called", "called_back"):
            if self._has_phone(tx, t.ticket_id):
                self._enqueue(tx, t, "called", window=event.window)
            self._check_near(tx, t.service, event.window)

    def _has_phone(self, tx: Tx, ticket_id: str) -> bool:
        return tx.execute("SELECT 1 FROM notify_phones WHERE ticket_id = ?", (ticket_id,)).fetchone() is not None

    def _check_near(self, tx: Tx, service: str, window: str | None) -> None:
        """Notify every ticket with a number that is now `ahead` or fewer from the front of this queue.

        Only the first `ahead + 1` waiting tickets of the queue can be that close: they are read
        along the queue's index in the calling order `QueueViews._ahead` counts by (priority
        first, then arrival), and each candidate's place is then taken from the queue engine.
        """
        n = self.settings.ahead
        front: list[str] = []
        for priority in (1, 0):
            front += [str(r[0]) for r in tx.execute(
                "SELECT id FROM tickets WHERE status = 'waiting' AND service = ? AND target_window IS NULL "
                "AND priority = ? ORDER BY sort_key, rowid LIMIT ?",
                (service, priority, n + 1 - len(front)),
            )]
            if len(front) > n:
                break
        if window is not None:
            front += [str(r[0]) for r in tx.execute(
                "SELECT id FROM tickets WHERE status = 'waiting' AND target_window = ? ORDER BY sort_key, rowid LIMIT ?",
                (window, n + 1),
            )]
        marks = ", ".join("?" * len(front))
        watched = tx.execute(
            f"SELECT ticket_id FROM notify_phones WHERE watch_near = 1 AND ticket_id IN ({marks})", front
        ).fetchall() if front else []
        for (ticket_id,) in watched:
            ticket = self.queue.find_ticket(tx, ticket_id=str(ticket_id))
            if ticket is not None and ticket.status == "waiting" and ticket.ahead <= n:
                tx.execute("UPDATE notify_phones SET watch_near = 0 WHERE ticket_id = ?", (ticket_id,))
                self._enqueue(tx, ticket, "near")

    def _enqueue(self, tx: Tx, t: schemas.Ticket, kind: str, *, window: str | None = None) -> None:
        """One notification row (none if this ticket already has one of this kind)."""
        cur = tx.execute(
            "INSERT OR IGNORE INTO notify_outbox(key, ticket_id, kind, body, created_ts) VALUES (?, ?, ?, ?, ?)",
            (str(uuid.uuid4()), t.ticket_id, kind, schemas.encode(self._body(tx, t, kind, window)).decode(),
             tx.now_ts),
        )
        if cur.rowcount:
            tx.mark("notify")  # after the commit: wake the dispatcher

    def _body(self, tx: Tx, t: schemas.Ticket, kind: str, window: str | None) -> dict[str, Any]:
        hall = self.config.hall
        body: dict[str, Any] = {
            "hall": hall.id, "hall_name": hall.name, "ticket": t.number, "service": t.service,
            "service_name": t.service_name, "created_at": tx.now_iso,
        }
        if kind == "near":
            body.update(ahead=t.ahead, est_wait_s=t.est_wait_s)
            before = "下一位就是您" if t.ahead == 0 else f"前面还有{t.ahead}人"
            body["text"] = f"【{hall.name}】您的{t.number}号（{t.service_name}）{before}，请回到大厅留意叫号。"
            people = "you are next" if t.ahead == 0 else f"{t.ahead} {'person' if t.ahead == 1 else 'people'} before you"
            body["text_en"] = f"{hall.name_en or hall.name}: ticket {t.number}, {people}. Please come back to the hall."
        else:
            win = self.config.window(window or t.window or "")
            name = win.name if win else (window or "")
            name_en = (win.name_en if win else "") or f"window {window}"
            body.update(window=window or t.window, window_name=name)
            body["text"] = f"【{hall.name}】请{t.number}号到{name}办理。"
            body["text_en"] = f"{hall.name_en or hall.name}: number {t.number}, please go to {name_en}."
        if self.settings.include_link:
            body["track_url"] = t.track_url
        return body

    def _forget(self, tx: Tx, ticket_id: str) -> None:
        """The ticket ended: its number goes, and what was not delivered yet is dropped."""
        gone = tx.execute("DELETE FROM notify_phones WHERE ticket_id = ?", (ticket_id,)).rowcount
        if gone:
            tx.execute(
                "UPDATE notify_outbox SET state = 'dropped', last_error = 'the ticket ended before delivery', "
                "done_ts = ? WHERE ticket_id = ? AND state = 'pending'",
                (tx.now_ts, ticket_id),
            )

    # --- the tick: reports recorded, ended tickets swept, old rows pruned ----------------

    def report(self, report: Report) -> bool:
        """The dispatcher's outcome of one post, recorded at the next tick; False when too many wait."""
        with self._lock:
            if len(self._reports) >= MAX_REPORTS:
                return False
            self._reports.append(report)
            return True

    def tick(self, tx: Tx) -> None:
        """Record the dispatcher's reports; forget numbers of tickets that ended (day roll-over too)."""
        self.apply_reports(tx)
        ended = tx.execute(
            "SELECT p.ticket_id FROM notify_phones p LEFT JOIN tickets t ON t.id = p.ticket_id "
            "WHERE t.id IS NULL OR t.status NOT IN (?, ?, ?)",
            OPEN_STATUSES,
        ).fetchall()
        for (ticket_id,) in ended:
            self._forget(tx, str(ticket_id))
        tx.execute("DELETE FROM notify_outbox WHERE state != 'pending' AND done_ts < ?", (tx.now_ts - KEEP_DONE_S,))

    def apply_reports(self, tx: Tx) -> int:
        """Write the reports gathered so far; how many."""
        with self._lock:
            reports, self._reports = self._reports, []
        try:
            self._record(tx, reports)
        except BaseException:  # rolled back: the next tick records them (the dispatcher holds them as done)
            with self._lock:
                self._reports[:0] = reports
            raise
        return len(reports)

    def _record(self, tx: Tx, reports: list[Report]) -> None:
        for r in reports:
            if r.outcome == "sent":  # also over `dropped`: the gateway has it
                tx.execute(
                    "UPDATE notify_outbox SET state = 'sent', attempts = attempts + 1, last_error = NULL, "
                    "done_ts = ? WHERE key = ?",
                    (tx.now_ts, r.key),
                )
            elif r.outcome == "failed":
                tx.execute(
                    "UPDATE notify_outbox SET state = 'failed', attempts = attempts + 1, last_error = ?, "
                    "done_ts = ? WHERE key = ? AND state = 'pending'",
                    (r.reason, tx.now_ts, r.key),
                )
            else:
                tx.execute(
                    "UPDATE notify_outbox SET attempts = attempts + 1, last_error = ? WHERE key = ? AND state = 'pending'",
                    (r.reason, r.key),
                )

    def refresh(self, tx: Tx, keys: AbstractSet[str]) -> None:
        """After a commit that made notifications (or at start): wake the dispatcher."""
        if self.settings.enabled and ("notify" in keys or ALL in keys):
            self.wake()


@dataclass(frozen=True)
class Pending:
    """A notification not delivered yet, as the dispatcher reads it (with its ticket's number, None once gone)."""

    key: str
    kind: str
    body: dict[str, Any]
    attempts: int
    created_ts: float
    phone: str | None


def pending_rows(conn: sqlite3.Connection, *, limit: int = 50) -> list[Pending]:
    """Pending notifications, oldest first (the dispatcher's read, on its own connection)."""
    rows = conn.execute(
        "SELECT o.key, o.kind, o.body, o.attempts, o.created_ts, p.phone FROM notify_outbox o "
        "LEFT JOIN notify_phones p ON p.ticket_id = o.ticket_id WHERE o.state = 'pending' ORDER BY o.seq LIMIT ?",
        (limit,),
    ).fetchall()
    return [
        Pending(str(r[0]), str(r[1]), dict(msgspec.json.decode(r[2])), int(r[3]), float(r[4]),
                None if r[5] is None else str(r[5]))
        for r in rows
    ]
