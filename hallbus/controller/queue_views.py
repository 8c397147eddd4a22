"""What the queue shows: tickets with their place in line, window and queue state, the day's figures, alerts.

Everything here reads the queue's tables and writes nothing but the alert flags; the
retained state a change touches is named by the marks set here (`touch_service`,
`touch_window`) and published after the commit by `refresh`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Set as AbstractSet
from typing import Any

import msgspec

from hallbus import schemas
from hallbus.controller import queue_schema as tables
from hallbus.controller.module import ALL, Tx
from hallbus.controller.queue_layout import QueueLayout
from hallbus.controller.queue_schema import TicketRow
from hallbus.controller.rules import RuleState, look_ahead
from hallbus.controller.settings import HallSettings

NEXT_NUMBERS = 5  # on a window's display: who comes next
RECENT_CALLS = 10  # on `calls/recent`


def without_id(ticket: schemas.Ticket) -> schemas.Ticket:
    """A ticket as others may see it: no `ticket_id` nor `track_url`, the secret its QR proves it by.

    Whoever holds the printed ticket (or its link) may follow it, leave the queue and rate its
    handling (`rating.submit` with `ticket_id`); every screen that reads a window's state
    and every node that asks `ticket.status` by number sees the ticket without them.
    """
    return msgspec.structs.replace(ticket, ticket_id="", track_url="")


class QueueViews:
    """Projections of the queue's tables onto the bus's payloads."""

    def __init__(self, layout: QueueLayout, settings: HallSettings | None = None) -> None:
        self.layout = layout  # hall.toml's; `layout_at(tx)` is the one in effect
        self.config = layout.config
        self.settings = settings

    def layout_at(self, tx: Tx) -> QueueLayout:
        """The layout in effect for this transaction: hall.toml's with the managers' changes (caps, slots, windows)."""
        return self.layout if self.settings is None else self.settings.at(tx).layout

    # --- marks ---------------------------------------------------------------------------

    def touch_service(self, tx: Tx, service: str) -> None:
        """A service's queue changed: the queue, the stats and every window serving it."""
        tx.mark("queue")
        tx.mark("stats")
        for wid in self.layout_at(tx).windows_of.get(service, ()):
            tx.mark(f"window:{wid}")

    def touch_window(self, tx: Tx, wid: str) -> None:
        """A window opened, closed, paused or resumed: it and the queue's open-window counts."""
        tx.mark("queue")
        tx.mark(f"window:{wid}")

    # --- tickets -------------------------------------------------------------------------

    def ticket(self, tx: Tx, r: TicketRow, batch: TicketBatch | None = None) -> schemas.Ticket:
        """A ticket as the bus shows it, with its place in line and estimated wait.

        With `batch` (many tickets in one request) the places and per-service figures are
        computed once for the batch instead of once per ticket (same results).
        """
        svc = self.layout_at(tx).services.get(r.service)
        est = 0
        windows_open = -1
        ahead = 0
        if r.status == "waiting" and batch is not None:
            ahead = batch.ahead(tx, r)
            windows_open = batch.open_for(tx, r)
            est = batch.estimate(tx, r.service, ahead)
        elif r.status == "waiting":
            ahead = self._ahead(tx, r)
            windows_open = self._open_for(tx, r)
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
            windows_open=windows_open,
            issued_at=r.issued_at,
            track_url=self.config.track_url(r.id),
            window=r.window or r.target_window,
            name_masked=r.name_masked,
            called_at=r.called_at,
            attempt=r.attempt,
        )

    def find_ticket(
        self, tx: Tx, *, number: str | None = None, ticket_id: str | None = None
    ) -> schemas.Ticket | None:
        """A ticket of today by number, or any day by id, with its position."""
        if ticket_id:
            row = tables.ticket_by_id(tx, ticket_id.strip().lower())
        elif number:
            row = tables.ticket_row(tx, "day = ? AND number = ?", (tx.today, number.strip().upper()))
        else:
            row = None
        return self.ticket(tx, row) if row else None

    def tickets_by_id(self, tx: Tx, ticket_ids: list[str]) -> list[schemas.Ticket]:
        """Many tickets by id (unknown ids left out), in one pass over each queue they wait in."""
        rows = [tables.ticket_by_id(tx, tid.strip().lower()) for tid in ticket_ids if tid]
        batch = TicketBatch(self)
        return [self.ticket(tx, r, batch) for r in rows if r is not None]

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
        svc = self.layout_at(tx).services.get(service)
        return float(svc.avg_service_s if svc else 300)

    def open_windows(self, tx: Tx) -> dict[str, int]:
        """Service -> how many logged-in, unpaused windows serve it."""
        open_ids = {
            str(r[0]) for r in tx.execute("SELECT id FROM windows WHERE status IN ('idle', 'serving')")
        }
        return {code: sum(1 for w in wins if w in open_ids) for code, wins in self.layout_at(tx).windows_of.items()}

    def _open_for(self, tx: Tx, r: TicketRow) -> int:
        """How many open windows can call this waiting ticket (its target window alone, when it has one)."""
        if r.target_window:
            q = "SELECT COUNT(*) FROM windows WHERE status IN ('idle', 'serving') AND id = ?"
            return int(tx.execute(q, (r.target_window,)).fetchone()[0])
        return self._open_count(tx, r.service)

    def _open_count(self, tx: Tx, service: str) -> int:
        wins = self.layout_at(tx).windows_of.get(service, [])
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

    # --- retained state ------------------------------------------------------------------

    def window_state(self, tx: Tx, window: str) -> schemas.WindowState:
        """The retained state of one window."""
        win = self.layout_at(tx).window(window)
        w = tables.window_row(tx, window)
        ticket = None
        if w.ticket_id:
            row = tables.ticket_by_id(tx, w.ticket_id)
            ticket = without_id(self.ticket(tx, row)) if row else None
        staff = None
        if w.staff:
            m = self.layout.directory.member(tx.conn, w.staff)
            st = m.staff if m else None
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
        held = [without_id(self.ticket(tx, r)) for r in tables.held_at(tx, window)]
        status = "closed" if w.staff is None else ("serving" if ticket is not None else w.status)
        if status not in ("closed", "idle", "serving", "paused"):
            status = "idle"
        next_numbers: list[str] = []
        if w.staff is not None:
            state = RuleState.from_json(msgspec.json.decode(w.rule_state))
            waiting = tables.candidates(tx, win, NEXT_NUMBERS + 1)
            next_numbers = [c.number for c in look_ahead(win.services, win.rule, state, waiting, NEXT_NUMBERS)]
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
        rows = tx.execute(
            "SELECT service, COUNT(*), MIN(issued_ts) FROM tickets WHERE status = 'waiting' GROUP BY service"
        ).fetchall()
        waiting = {str(r[0]): int(r[1]) for r in rows}
        oldest = {
            str(r[0]): dt.datetime.fromtimestamp(float(r[2]), tx.now.tzinfo).isoformat(timespec="seconds")
            for r in rows if r[2] is not None
        }
        open_count = self.open_windows(tx)
        settings = self.settings.at(tx) if self.settings is not None else None
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
                    oldest_issued_at=oldest.get(svc.code),
                    closed_today=settings is not None and settings.closed_today(svc.code, tx.today),
                )
            )
        return schemas.QueueState(services=services, total_waiting=sum(waiting.values()), ts=tx.now_iso)

    def recent_calls(self, tx: Tx) -> schemas.CallsRecent:
        """The last calls of today, newest first."""
        rows = tx.execute(
            "SELECT payload FROM calls WHERE day = ? ORDER BY seq DESC LIMIT ?", (tx.today, RECENT_CALLS)
        ).fetchall()
        return schemas.CallsRecent(calls=[schemas.decode(r[0], schemas.Call) for r in rows], ts=tx.now_iso)

    def refresh(self, tx: Tx, keys: AbstractSet[str]) -> None:
        """Publish the retained state of marked windows, the queue and the recent calls."""
        everything = ALL in keys
        windows = self.layout.windows
        wids = list(windows) if everything else [k[7:] for k in keys if k.startswith("window:")]
        for wid in wids:
            if wid in windows:
                tx.publish_state(tx.topics.window_state(wid), self.window_state(tx, wid))
        if everything or "queue" in keys:
            tx.publish_state(tx.topics.queue_state, self.queue_state(tx))
        if everything or "calls" in keys:
            tx.publish_state(tx.topics.calls_recent, self.recent_calls(tx))

    # --- figures and alerts --------------------------------------------------------------

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


class TicketBatch:
    """Places in line and per-service figures of one request's tickets, each queue read once.

    A waiting ticket's `ahead` is its rank in its queue: by priority (highest first), sort key
    and arrival (rowid) among the untargeted tickets of its service, or by sort key and arrival
    among the tickets for its target window (the order `QueueViews._ahead` counts in).
    """

    def __init__(self, views: QueueViews) -> None:
        self.views = views
        self._ranks: dict[tuple[str, str], dict[int, int]] = {}
        self._open: dict[str, int] = {}
        self._open_target: dict[str, int] = {}
        self._avg: dict[str, float] = {}

    def ahead(self, tx: Tx, r: TicketRow) -> int:
        """How many waiting tickets are called before `r`."""
        if r.target_window:
            key = ("window", r.target_window)
            query = ("SELECT rowid FROM tickets WHERE status = 'waiting' AND target_window = ? "
                     "ORDER BY sort_key, rowid")
            arg = r.target_window
        else:
            key = ("service", r.service)
            query = ("SELECT rowid FROM tickets WHERE status = 'waiting' AND service = ? AND target_window IS NULL "
                     "ORDER BY priority DESC, sort_key, rowid")
            arg = r.service
        ranks = self._ranks.get(key)
        if ranks is None:
            ranks = self._ranks[key] = {int(row[0]): i for i, row in enumerate(tx.execute(query, (arg,)))}
        return ranks.get(r.rowid, 0)

    def open_for(self, tx: Tx, r: TicketRow) -> int:
        """`QueueViews._open_for`, once per service or target window."""
        if r.target_window:
            if r.target_window not in self._open_target:
                self._open_target[r.target_window] = self.views._open_for(tx, r)
            return self._open_target[r.target_window]
        return self._open_count(tx, r.service)

    def _open_count(self, tx: Tx, service: str) -> int:
        if service not in self._open:
            self._open[service] = self.views._open_count(tx, service)
        return self._open[service]

    def estimate(self, tx: Tx, service: str, ahead: int) -> int:
        """`QueueViews._estimate`, the service's mean handling time read once."""
        if ahead <= 0:
            return 0
        if service not in self._avg:
            self._avg[service] = self.views.avg_service_s(tx, service)
        return math.ceil(ahead * self._avg[service] / max(1, self._open_count(tx, service)))
