"""The windows (窗口) as a state machine: log in, call, recall, no-show, hold, call back, transfer, finish, pause.

A window is `closed` (nobody logged in), `idle`, `serving` a ticket, or `paused`. Every
counter action checks the window is in a state that allows it and raises the matching
RpcFault otherwise (`hallbus.controller.errors`); the calling rule itself is
`hallbus.controller.rules`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import msgspec

from hallbus import schemas
from hallbus.config import StaffSection, WindowSection
from hallbus.controller import errors
from hallbus.controller import queue_schema as tables
from hallbus.controller.module import QueueEvent, Tx
from hallbus.controller.queue_schema import TicketRow, WindowRow
from hallbus.controller.queue_views import QueueViews
from hallbus.controller.rules import RuleState, pick
from hallbus.passwords import verify_password


class Windows:
    """The counter actions of every window, on the windows and tickets tables."""

    def __init__(self, views: QueueViews) -> None:
        self.views = views
        self.layout = views.layout
        self.config = views.config

    # --- the window's row ----------------------------------------------------------------

    def _row(self, tx: Tx, wid: str) -> WindowRow:
        self.layout.window(wid)
        return tables.window_row(tx, wid)

    def _logged_in(self, tx: Tx, wid: str) -> WindowRow:
        w = self._row(tx, wid)
        if w.staff is None:
            raise errors.not_logged_in(wid)
        return w

    def _current(self, tx: Tx, w: WindowRow) -> TicketRow:
        if w.ticket_id is None:
            raise errors.no_current_ticket(w.id)
        row = tables.ticket_by_id(tx, w.ticket_id)
        if row is None:
            raise errors.no_current_ticket(w.id)
        return row

    def _require_free(self, tx: Tx, w: WindowRow) -> None:
        if w.ticket_id is not None:
            row = tables.ticket_by_id(tx, w.ticket_id)
            raise errors.window_busy(w.id, row.number if row else "?")

    def _set(self, tx: Tx, wid: str, **fields: Any) -> None:
        cols = ", ".join(f"{k} = ?" for k in fields)
        tx.execute(f"UPDATE windows SET {cols} WHERE id = ?", (*fields.values(), wid))
        tx.mark(f"window:{wid}")

    # --- staff at the window -------------------------------------------------------------

    def password_check(self, staff: str, password: str) -> dict[str, object]:
        """Whether `password` is the staff member's, and the hash it was checked against (slow on purpose: PBKDF2).

        Runs off the writer (a login's preparer): the hash is the directory's hint; `login` takes
        the result only when the transaction reads the same hash.
        """
        stored = self.layout.directory.hash_hint(staff)
        return {"password_ok": bool(stored and verify_password(password, stored)), "hash": stored}

    def login(
        self,
        tx: Tx,
        wid: str,
        *,
        staff: str | None = None,
        password: str | None = None,
        badge_uid: str | None = None,
        checked: dict[str, object] | None = None,
    ) -> None:
        """A staff member sits down: badge UID, or staff id + password (a `staff` alone is read as a badge).

        `checked` is what `password_check()` found beforehand. A disabled member is refused as
        an unknown one (`login_failed`).
        """
        self.layout.window(wid)
        directory = self.layout.directory
        member: StaffSection | None = None
        if badge_uid or (staff and password is None):
            member = directory.by_badge(tx.conn, badge_uid or staff or "")
        elif staff and password is not None:
            current = directory.hash_of(tx.conn, staff)
            if checked is None:  # nobody checked it beforehand (an engine test, a tool)
                checked = {"password_ok": bool(current and verify_password(password, current)), "hash": current}
            if checked.get("hash") != current:
                raise errors.password_changed()
            if checked.get("password_ok"):
                member = directory.active(tx.conn, staff)
        if member is None:
            raise errors.login_failed()
        w = self._row(tx, wid)
        if w.staff == member.id:
            return
        if w.staff is not None:
            self._require_free(tx, w)
        other = tx.execute(
            "SELECT id, ticket_id FROM windows WHERE staff = ? AND id != ?", (member.id, wid)
        ).fetchone()
        if other is not None:
            # One window per person: refused, never moved. Signing the first window out from
            # here would let a copied badge UID pull a colleague off the window they sit at
            # (and rate, call and count in their name); walking back to log out costs less.
            there = self.layout.window(str(other[0]))
            raise errors.staff_busy(member.id, member.name, there.name, there.name_en, serving=other[1] is not None)
        if w.staff is not None:
            self._return_held(tx, wid)
        self._set(tx, wid, staff=member.id, status="idle", since=tx.now_iso, pause_reason=None)
        self.views.touch_window(tx, wid)

    def _close(self, tx: Tx, wid: str) -> None:
        self._return_held(tx, wid)
        self._set(tx, wid, staff=None, status="closed", since=tx.now_iso, pause_reason=None, ticket_id=None)
        self.views.touch_window(tx, wid)

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
            self.views.touch_service(tx, str(service))

    def logout(self, tx: Tx, wid: str) -> None:
        """The staff member leaves; held tickets go back to the front of their queues."""
        w = self._logged_in(tx, wid)
        self._require_free(tx, w)
        self._close(tx, wid)

    # --- calling -------------------------------------------------------------------------

    def call_next(self, tx: Tx, wid: str) -> TicketRow:
        """Call the next ticket by the window's rule (error `queue_empty` when nobody waits)."""
        win = self.views.layout_at(tx).window(wid)  # its services and rule in effect
        w = self._logged_in(tx, wid)
        if w.status == "paused":
            raise errors.window_paused(wid)
        self._require_free(tx, w)
        state = RuleState.from_json(msgspec.json.decode(w.rule_state))
        got = pick(win.services, win.rule, state, tables.candidates(tx, win, 1))
        if got is None:
            raise errors.queue_empty(wid)
        chosen, new_state = got
        tx.execute(
            "UPDATE tickets SET status = 'called', window = ?, staff = ?, attempt = 1, called_at = ?, "
            "called_ts = ?, first_called_ts = COALESCE(first_called_ts, ?), target_window = NULL WHERE rowid = ?",
            (wid, w.staff, tx.now_iso, tx.now_ts, tx.now_ts, chosen.seq),
        )
        self._set(
            tx, wid, status="serving", ticket_id=chosen.ticket_id, since=tx.now_iso,
            rule_state=schemas.encode(new_state.to_json()).decode(),
        )
        row = tables.reload(tx, chosen.seq)
        self.views.touch_service(tx, row.service)
        self._announce(tx, row, win)
        tx.queue_event(QueueEvent("called", self.views.ticket(tx, row), window=wid, staff=w.staff))
        return row

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
        win = self.views.layout_at(tx).window(wid)  # its services and rule in effect
        w = self._logged_in(tx, wid)
        row = self._current(tx, w)
        limit = self.config.queue.recall_limit
        if row.attempt - 1 >= limit:
            raise errors.recall_limit(row.number, limit)
        tx.execute(
            "UPDATE tickets SET attempt = attempt + 1, called_at = ?, called_ts = ? WHERE rowid = ?",
            (tx.now_iso, tx.now_ts, row.rowid),
        )
        row = tables.reload(tx, row.rowid)
        tx.mark(f"window:{wid}")
        self._announce(tx, row, win)
        tx.queue_event(QueueEvent("recalled", self.views.ticket(tx, row), window=wid, staff=w.staff))

    # --- ending a ticket -----------------------------------------------------------------

    def _end_current(self, tx: Tx, wid: str, w: WindowRow, status: str) -> TicketRow:
        row = self._current(tx, w)
        service_s = tx.now_ts - (row.called_ts or tx.now_ts)
        tx.execute(
            "UPDATE tickets SET status = ?, ended_ts = ?, service_s = ? WHERE rowid = ?",
            (status, tx.now_ts, service_s if status == "done" else None, row.rowid),
        )
        self._set(tx, wid, status="idle", ticket_id=None, since=tx.now_iso)
        self.views.touch_service(tx, row.service)
        return tables.reload(tx, row.rowid)

    def no_show(self, tx: Tx, wid: str) -> None:
        """The called person did not come (过号); may block the person for a while."""
        w = self._logged_in(tx, wid)
        row = self._end_current(tx, wid, w, "no_show")
        tx.queue_event(QueueEvent("no_show", self.views.ticket(tx, row), window=wid, staff=w.staff))

    def finish(self, tx: Tx, wid: str) -> schemas.RatingRequest:
        """Finish (办结) the current ticket and open a rating request on the window's tablet."""
        w = self._logged_in(tx, wid)
        row = self._end_current(tx, wid, w, "done")
        expires = tx.now + dt.timedelta(seconds=self.config.ratings.request_ttl_s)
        handling_id = str(uuid.uuid4())  # this handling's one id: one rating of it, from any device
        rr = schemas.RatingRequest(
            ticket=row.number,
            staff=w.staff or "",
            expires_at=expires.isoformat(timespec="milliseconds"),
            case_no=row.case_no,
            request_id=handling_id,
            handling_id=handling_id,
        )
        self._set(tx, wid, rating_request=schemas.encode(rr).decode(), rating_expires_ts=expires.timestamp())
        tx.queue_event(
            QueueEvent("finished", self.views.ticket(tx, row), window=wid, staff=w.staff, rating_request=rr)
        )
        return rr

    # --- holding and moving a ticket -----------------------------------------------------

    def hold(self, tx: Tx, wid: str) -> None:
        """Hold (挂起) the current ticket at this window, e.g. while the person fetches a document."""
        w = self._logged_in(tx, wid)
        row = self._current(tx, w)
        tx.execute("UPDATE tickets SET status = 'held' WHERE rowid = ?", (row.rowid,))
        self._set(tx, wid, status="idle", ticket_id=None, since=tx.now_iso)
        tx.queue_event(QueueEvent("held", self.views.ticket(tx, row), window=wid, staff=w.staff))

    def call_back(self, tx: Tx, wid: str, number: str) -> None:
        """Call back (回呼) a ticket held at this window."""
        win = self.views.layout_at(tx).window(wid)  # its services and rule in effect
        w = self._logged_in(tx, wid)
        if w.status == "paused":
            raise errors.window_paused(wid)
        self._require_free(tx, w)
        number = number.strip().upper()
        row = tables.ticket_row(
            tx, "day = ? AND number = ? AND status = 'held' AND window = ?", (tx.today, number, wid)
        )
        if row is None:
            raise errors.ticket_not_held(number, wid)
        tx.execute(
            "UPDATE tickets SET status = 'called', attempt = 1, called_at = ?, called_ts = ? WHERE rowid = ?",
            (tx.now_iso, tx.now_ts, row.rowid),
        )
        self._set(tx, wid, status="serving", ticket_id=row.id, since=tx.now_iso)
        row = tables.reload(tx, row.rowid)
        self._announce(tx, row, win)
        tx.queue_event(QueueEvent("called_back", self.views.ticket(tx, row), window=wid, staff=w.staff))

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
            self.views.layout_at(tx).service(to_service)
        if to_window is not None:
            self.layout.window(to_window)
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
        self._set(tx, wid, status="idle", ticket_id=None, since=tx.now_iso)
        self.views.touch_service(tx, row.service)
        if to_service:
            self.views.touch_service(tx, to_service)
        if to_window:
            tx.mark(f"window:{to_window}")
        new = tables.reload(tx, row.rowid)
        tx.queue_event(QueueEvent("transferred", self.views.ticket(tx, new), window=wid, staff=w.staff))

    # --- pausing -------------------------------------------------------------------------

    def pause(self, tx: Tx, wid: str, reason: str) -> None:
        """Pause (暂停) the window with a reason shown on its display."""
        w = self._logged_in(tx, wid)
        self._require_free(tx, w)
        self._set(tx, wid, status="paused", pause_reason=reason.strip()[:100], since=tx.now_iso)
        self.views.touch_window(tx, wid)

    def resume(self, tx: Tx, wid: str) -> None:
        """Resume a paused window."""
        w = self._logged_in(tx, wid)
        if w.status != "paused":
            raise errors.not_paused(wid)
        self._set(tx, wid, status="idle", pause_reason=None, since=tx.now_iso)
        self.views.touch_window(tx, wid)

    # --- the rating request on the window's tablet ---------------------------------------

    def clear_rating_request(self, tx: Tx, window: str, *, request_id: str | None = None) -> bool:
        """Close the window's open rating request (only the given one, when `request_id` is set)."""
        w = self._row(tx, window)
        if w.rating_request is None:
            return False
        if request_id is not None:
            rr = schemas.decode(w.rating_request, schemas.RatingRequest)
            if rr.request_id != request_id:
                return False
        self._set(tx, window, rating_request=None, rating_expires_ts=None)
        return True

    def expire_rating_requests(self, tx: Tx) -> None:
        """Close the rating requests whose time is up."""
        for (wid,) in tx.execute(
            "SELECT id FROM windows WHERE rating_expires_ts IS NOT NULL AND rating_expires_ts <= ?", (tx.now_ts,)
        ).fetchall():
            self._set(tx, str(wid), rating_request=None, rating_expires_ts=None)
