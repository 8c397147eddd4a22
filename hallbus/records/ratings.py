"""Ratings (政务服务"好差评") and follow-up tasks (整改) for bad ones (SPEC 4.2).

- One rating per handling (一次一评), keyed by the handling's id as the controller assigned
  it: a window's handling (a ticket served at a window by a staff member) by the id its
  finish gave it (the rating request's `handling_id`), a case (一事一评) by its stored case
  number. Nothing the client spells (staff, spaces, letter case) makes a second handling;
  the window and staff a rating counts against are the controller's record, never the
  request's. A `rating_id` seen before gets its first answer again; another rating of a
  handling already rated is refused with `already_rated`.
- Who may rate what: a tablet only the rating requests of its own window (the node's
  `window` in the config); any other node (a terminal, later the phone page) only a
  handling the citizen proves: a window's handling by the ticket's `ticket_id` (the
  unguessable id in its QR) or the ID card the ticket was taken with, a finished case by
  the applicant's ID card or by its number with the last 6 of the ID number (throttled
  like `case.query`: `hallbus.records.lookups`).
- A window's handling may be rated only while its rating request is open. A rating made
  on the tablet while it was open (its `ts`) and delivered late, because the tablet
  kept it and retried, is still accepted within RETRY_GRACE_S (the moment is `made_at`,
  set once on the tablet, else the envelope `ts`); nothing else after expiry.
- The levels, reason codes and the rule are `hallbus.schemas.rating`, the one vocabulary the
  tablet and the terminal use too: levels 1-2 (不满意, 非常不满意) need at least one reason
  code; `other` needs a comment.
  Each opens a follow-up task with a deadline of `[ratings] followup_days` working days:
  open -> verified -> rectified -> closed, and appealed (from open or verified), after
  which the appeal is upheld (closed) or rejected (open again).
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hallbus import schemas
from hallbus.controller.clock import HallTime
from hallbus.controller.module import ControllerModule, ModuleContext, QueueEvent, Tx, TxHandler
from hallbus.records.lookups import LookupThrottle, prove_by_number
from hallbus.records.workdays import WorkCalendar, level_rank
from hallbus.rpc import Request, RpcFault
from hallbus.schemas.rating import LEVELS, REASONS, rating_problem

# Migration 1 is, word for word, the schema `hallbus cases import` used to create untracked
# on every open (IF NOT EXISTS): run once by the store's migration runner, it adopts such
# a database unchanged and from then on the tables take real, tracked migrations.
RATINGS_MIGRATIONS: tuple[str, ...] = (
    """
CREATE TABLE IF NOT EXISTS rec_rating_requests (
    request_id TEXT PRIMARY KEY,
    window     TEXT NOT NULL,
    ticket     TEXT,
    ticket_id  TEXT,
    case_no    TEXT,
    staff      TEXT NOT NULL,
    opened_ts  REAL NOT NULL,
    expires_ts REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS rec_rating_requests_window ON rec_rating_requests(window, opened_ts);
CREATE TABLE IF NOT EXISTS rec_ratings (
    rating_id  TEXT PRIMARY KEY,
    handling   TEXT NOT NULL UNIQUE,
    window     TEXT,
    ticket     TEXT,
    case_no    TEXT,
    staff      TEXT NOT NULL DEFAULT '',
    level      INTEGER NOT NULL,
    reasons    TEXT NOT NULL DEFAULT '[]',
    comment    TEXT NOT NULL DEFAULT '',
    caller     TEXT,
    made_ts    REAL,
    at_ts      REAL NOT NULL,
    day        TEXT NOT NULL,
    answer     TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS rec_ratings_day ON rec_ratings(day);
CREATE TABLE IF NOT EXISTS rec_followups (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    rating_id  TEXT NOT NULL UNIQUE,
    state      TEXT NOT NULL,
    level      INTEGER NOT NULL,
    reasons    TEXT NOT NULL,
    comment    TEXT NOT NULL DEFAULT '',
    window     TEXT,
    staff      TEXT NOT NULL DEFAULT '',
    ticket     TEXT,
    case_no    TEXT,
    opened_ts  REAL NOT NULL,
    due_ts     REAL NOT NULL,
    alerted    TEXT NOT NULL DEFAULT 'none',
    history    TEXT NOT NULL DEFAULT '[]',
    updated_ts REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS rec_followups_state_due ON rec_followups(state, due_ts);
""",
    # 2: one rating per handling id, whatever the client spells: the ratings keyed by a ticket
    # and the staff name take their handling's id (the rating request's), the ones keyed by a
    # case and a staff name the case alone (the first of them; later ones were the fakes).
    """
CREATE INDEX rec_rating_requests_ticket_id ON rec_rating_requests(ticket_id);
UPDATE rec_ratings SET handling = (
    SELECT r.request_id FROM rec_rating_requests r
    WHERE rec_ratings.handling = 'ticket:' || COALESCE(r.ticket_id, r.ticket) || ':' || r.staff
    ORDER BY r.opened_ts DESC LIMIT 1)
WHERE handling LIKE 'ticket:%' AND EXISTS (
    SELECT 1 FROM rec_rating_requests r
    WHERE rec_ratings.handling = 'ticket:' || COALESCE(r.ticket_id, r.ticket) || ':' || r.staff);
UPDATE rec_ratings SET handling = 'case:' || case_no WHERE rowid IN (
    SELECT MIN(rowid) FROM rec_ratings
    WHERE window IS NULL AND case_no IS NOT NULL AND handling LIKE 'case:%' GROUP BY case_no);
""",
)

STATES = ("open", "verified", "rectified", "closed", "appealed")
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "open": ("verified", "appealed"),
    "verified": ("rectified", "appealed"),
    "rectified": ("closed",),
    "appealed": ("open", "closed"),
    "closed": (),
}
STATE_NAMES = {"open": "待核实", "verified": "已核实", "rectified": "已整改", "closed": "已办结", "appealed": "申诉中"}
ACTIVE = ("open", "verified")  # deadlines run (an appeal stops the clock until it is decided)
RETRY_GRACE_S = 24 * 3600  # also how long after a finish its ticket may rate it elsewhere
SCAN_EVERY_S = 60.0


def _fault(code: str, zh: str, en: str) -> RpcFault:
    return RpcFault(code, zh, en)


def check_level_and_reasons(level: int, reasons: list[str], comment: str) -> list[str]:
    """The reason codes, checked by the one rating rule (`hallbus.schemas.rating`); raises RpcFault."""
    clean = list(dict.fromkeys(reasons))
    problem = rating_problem(level, clean, comment)
    if problem is not None:
        raise _fault(*problem)
    return clean


@dataclass(frozen=True)
class Handling:
    """One handling as the controller records it: its id, and where and whom a rating of it counts against."""

    handling_id: str
    window: str | None
    ticket: str | None
    case_no: str | None
    staff: str


def _proof_required() -> RpcFault:
    return _fault(
        "proof_required",
        "请先证明这是您本人的办理：扫描排队小票上的二维码，或刷身份证，或输入办件编号和身份证号码后6位。",
        "Show that this handling is yours first: scan the QR code on your queue ticket, use your ID card, "
        "or enter the case number with the last 6 characters of your ID number.",
    )


class RatingsModule(ControllerModule):
    """`rating.submit`, rating requests from the queue engine, follow-up deadlines and rating figures."""

    name = "records.ratings"
    migrations = RATINGS_MIGRATIONS

    def __init__(self, ctx: ModuleContext, calendar: WorkCalendar | None = None) -> None:
        self.ctx = ctx
        self.clock = HallTime.of(ctx.config)
        # The hall's one calendar, which takes a manager's holidays and make-up days at once (SPEC 12.2).
        self.calendar = calendar or (ctx.settings.calendar if ctx.settings else WorkCalendar.from_config(ctx.config.calendar))
        self._last_scan = 0.0
        self.throttle = LookupThrottle.of(ctx.config)
        ctx.queue.know_ratings(self.rated_tickets)

    def handlers(self) -> Mapping[str, TxHandler]:
        """`rating.submit`."""
        return {"rating.submit": self.submit}

    # --- rating requests from the window ----------------------------------------------

    def on_queue_event(self, tx: Tx, event: QueueEvent) -> None:
        """Remember every rating request a finish opens (the window state only shows the latest)."""
        rr = event.rating_request
        if event.kind != "finished" or rr is None or event.window is None:
            return
        expires = self.clock.parse(rr.expires_at)
        tx.execute(
            "INSERT OR REPLACE INTO rec_rating_requests(request_id, window, ticket, ticket_id, case_no, staff, "
            "opened_ts, expires_ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (rr.request_id or event.ticket.ticket_id, event.window, rr.ticket, event.ticket.ticket_id,
             rr.case_no, rr.staff or event.staff or "", tx.now_ts, expires.timestamp()),
        )

    def rated_tickets(self, tx: Tx, ticket_ids: Sequence[str]) -> set[str]:
        """Of these tickets, those whose latest handling (the last finish at a window) has a rating.

        The same handling `_ticket_handling` rates by the ticket's id, so a phone page offers
        the form exactly when `rating.submit` would not answer `already_rated`.
        """
        ids = sorted({t.strip().lower() for t in ticket_ids if t})
        if not ids:
            return set()
        marks = ",".join("?" * len(ids))
        rows = tx.execute(
            f"SELECT rr.ticket_id FROM rec_rating_requests rr JOIN rec_ratings r ON r.handling = rr.request_id "
            f"WHERE rr.ticket_id IN ({marks}) AND rr.opened_ts = (SELECT MAX(opened_ts) FROM rec_rating_requests "
            f"WHERE ticket_id = rr.ticket_id)",
            ids,
        )
        return {str(r[0]) for r in rows}

    # --- rating.submit ------------------------------------------------------------------

    def submit(self, req: Request, tx: Tx) -> Mapping[str, Any]:
        """Record one rating (see the module rules); returns `{"accepted": true, ...}`."""
        b = req.body
        assert isinstance(b, schemas.RatingSubmitReq)
        if not b.rating_id or len(b.rating_id) > 64:
            raise _fault("bad_request", "评价缺少编号（rating_id）。", "The rating has no rating_id.")
        row = tx.execute("SELECT answer FROM rec_ratings WHERE rating_id = ?", (b.rating_id,)).fetchone()
        if row is not None:
            return dict(json.loads(row[0]))
        reasons = check_level_and_reasons(b.level, b.reasons, b.comment)
        node = self.ctx.config.node(req.caller) if req.caller else None
        if node is not None and node.role == "tablet" and node.window is not None:
            h = self._tablet_handling(node.window, b, tx)
        elif b.ticket_id:
            h = self._ticket_handling(b.ticket_id, tx)
        elif b.case_no:
            h = self._case_handling(req, b, tx)
        elif b.id_card is not None:
            h = self._card_handling(b.id_card.id_hash, b.handling_id, tx)
        else:
            raise _proof_required()
        if b.staff and not self._same_staff(tx, b.staff, h.staff):
            raise _fault(
                "staff_mismatch",
                "评价的工作人员与办理人员不一致，本次评价未记录。",
                f"The rating names staff {b.staff.strip()}, but the handling was by {h.staff}; nothing was recorded.",
            )
        if tx.execute("SELECT 1 FROM rec_ratings WHERE handling = ?", (h.handling_id,)).fetchone():
            raise _fault(
                "already_rated",
                "这次办理已经评价过了，感谢您的参与。每次办理只能评价一次。",
                "This handling has already been rated; each handling can be rated once.",
            )
        followup = None
        if b.level <= 2:
            followup = self._open_followup(
                tx, b.rating_id, b.level, reasons, b.comment, h.window, h.staff, h.ticket, h.case_no
            )
        answer = {"accepted": True, "rating_id": b.rating_id, "followup": followup, "handling_id": h.handling_id}
        made = _client_ts(b.made_at or b.ts)
        tx.execute(
            "INSERT INTO rec_ratings(rating_id, handling, window, ticket, case_no, staff, level, reasons, comment, "
            "caller, made_ts, at_ts, day, answer) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (b.rating_id, h.handling_id, h.window, h.ticket, h.case_no, h.staff, b.level, json.dumps(reasons),
             b.comment, req.caller, made, tx.now_ts, tx.today, json.dumps(answer)),
        )
        tx.mark("stats")
        return answer

    def _same_staff(self, tx: Tx, named: str, staff: str) -> bool:
        """Whether a client's `staff` names the one who handled it (by id or name, any spacing or case)."""
        found = self.ctx.staff.member(tx.conn, staff) if staff else None
        member = found.staff if found is not None else None
        known = {staff.casefold()} | ({member.name.casefold()} if member is not None else set())
        return named.strip().casefold() in known

    _RR_COLS = "request_id, window, ticket, ticket_id, case_no, staff, opened_ts, expires_ts"

    def _tablet_handling(self, window: str, b: schemas.RatingSubmitReq, tx: Tx) -> Handling:
        """The rating request the tablet's own window got: the one named, else the latest."""
        if b.window is not None and b.window.strip() != window:
            raise _fault(
                "wrong_window",
                "这台评价器只能评价它所在窗口的服务。",
                f"This tablet belongs to window {window} and cannot rate window {b.window}.",
            )
        sql = f"SELECT {self._RR_COLS} FROM rec_rating_requests WHERE window = ?"
        params: list[Any] = [window]
        if b.handling_id:
            sql += " AND request_id = ?"
            params.append(b.handling_id.strip())
        elif b.ticket:
            sql += " AND ticket = ?"
            params.append(b.ticket.strip().upper())
        rr = tx.execute(sql + " ORDER BY opened_ts DESC LIMIT 1", params).fetchone()
        if rr is None:
            raise _fault(
                "no_rating_request",
                "这个窗口现在没有待评价的办理。",
                "There is no handling waiting for a rating at this window.",
            )
        request_id, _window, ticket, _ticket_id, case_no, staff, opened_ts, expires_ts = tuple(rr)
        now = tx.now_ts
        made = _client_ts(b.made_at or b.ts)
        late_but_kept = (
            made is not None and opened_ts - 5 <= made <= expires_ts and now - expires_ts <= RETRY_GRACE_S
        )
        if now > expires_ts and not late_but_kept:
            raise _fault(
                "rating_expired",
                "评价时间已过，本次评价未记录。如有意见，可在自助终端凭办件编号评价或拨打12345。",
                "The time to rate this handling has passed; nothing was recorded.",
            )
        if now <= expires_ts:
            self.ctx.queue.clear_rating_request(tx, window, request_id=request_id)
        return Handling(request_id, window, ticket, case_no, staff)

    def _ticket_handling(self, ticket_id: str, tx: Tx) -> Handling:
        """A window's handling proven by its ticket's id (the QR on the ticket), within a day of the finish."""
        rr = tx.execute(
            f"SELECT {self._RR_COLS} FROM rec_rating_requests WHERE ticket_id = ? ORDER BY opened_ts DESC LIMIT 1",
            (ticket_id.strip().lower(),),
        ).fetchone()
        if rr is None:
            raise _fault(
                "ticket_not_rateable",
                "这张排队小票还没有办结的服务，办结后才能评价。",
                "This ticket has no finished service to rate yet; it can be rated once it is finished.",
            )
        return self._proven_window_handling(tuple(rr), tx)

    def _card_handling(self, id_hash: str, handling_id: str | None, tx: Tx) -> Handling:
        """A window's handling proven by the ID card its ticket was taken with: the one named, else the latest unrated.

        (The card's hash is on the queue's `tickets` row; the rating requests keep the ticket's id.)
        """
        cols = ", ".join(f"r.{c.strip()}" for c in self._RR_COLS.split(","))
        sql = (
            f"SELECT {cols} FROM rec_rating_requests r JOIN tickets t ON t.id = r.ticket_id "
            "WHERE t.id_hash = ? AND r.opened_ts >= ?"
        )
        params: list[Any] = [id_hash, tx.now_ts - RETRY_GRACE_S]
        if handling_id:
            sql += " AND r.request_id = ?"
            params.append(handling_id.strip())
        order = " ORDER BY EXISTS (SELECT 1 FROM rec_ratings g WHERE g.handling = r.request_id), r.opened_ts DESC"
        rr = tx.execute(sql + order + " LIMIT 1", params).fetchone()
        if rr is None:
            raise _fault(
                "ticket_not_rateable",
                "没有找到凭这张身份证取号、在24小时内办结的窗口服务。",
                "No window service finished in the last 24 hours for a ticket taken with this ID card.",
            )
        return self._proven_window_handling(tuple(rr), tx)

    def _proven_window_handling(self, rr: tuple[Any, ...], tx: Tx) -> Handling:
        """A window's handling its ticket's holder proved: ratable within a day of the finish, from anywhere."""
        request_id, window, ticket, _ticket_id, case_no, staff, opened_ts, expires_ts = rr
        if tx.now_ts - opened_ts > RETRY_GRACE_S:
            raise _fault(
                "rating_expired",
                "评价时间已过，本次评价未记录。如有意见，请拨打12345。",
                "The time to rate this handling has passed; nothing was recorded.",
            )
        if tx.now_ts <= expires_ts:  # rated elsewhere first: the window's tablet stops asking
            self.ctx.queue.clear_rating_request(tx, window, request_id=request_id)
        return Handling(request_id, window, ticket, case_no, staff)

    def _case_handling(self, req: Request, b: schemas.RatingSubmitReq, tx: Tx) -> Handling:
        """A finished case proven by the applicant's card, or by its number and the last 6 of the ID number."""
        assert b.case_no is not None
        case_no = b.case_no.strip()
        if b.id_card is None and b.verify is None:
            raise _proof_required()
        if b.id_card is None:
            case_no = prove_by_number(self.throttle, tx, self.throttle.node_key(req.caller), case_no, b.verify or "")
        row = tx.execute("SELECT case_no, open, handler, id_hash FROM rec_cases WHERE case_no = ?", (case_no,)).fetchone()
        if row is None:
            raise _fault(
                "case_not_found",
                f"没有找到办件 {case_no}，请核对受理回执上的编号。",
                f"No case numbered {case_no}.",
            )
        stored, is_open, handler, applicant = tuple(row)
        if b.id_card is not None and not (applicant and hmac.compare_digest(applicant, b.id_card.id_hash)):
            raise _fault(
                "not_applicant",
                "这张身份证不是该办件申请人的，不能评价该办件。",
                "This ID card is not the applicant's; the case cannot be rated with it.",
            )
        if is_open:
            raise _fault(
                "case_not_finished",
                "该办件尚未办结，办结后才能评价。",
                "This case is not finished yet; it can be rated once it is.",
            )
        return Handling(f"case:{stored}", None, None, stored, handler or "")

    def _open_followup(
        self, tx: Tx, rating_id: str, level: int, reasons: list[str], comment: str,
        window: str | None, staff: str, ticket: str | None, case_no: str | None,
    ) -> int:
        due = self.calendar.add_workdays(tx.now, self.ctx.config.ratings.followup_days)
        history = [{"state": "open", "at": tx.now_iso, "note": "差评自动生成整改任务", "by": "system"}]
        cur = tx.execute(
            "INSERT INTO rec_followups(rating_id, state, level, reasons, comment, window, staff, ticket, case_no, "
            "opened_ts, due_ts, history, updated_ts) VALUES (?, 'open', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (rating_id, level, json.dumps(reasons), comment, window, staff, ticket, case_no, tx.now_ts,
             due.timestamp(), json.dumps(history, ensure_ascii=False), tx.now_ts),
        )
        fid = int(cur.lastrowid or 0)
        tx.emit(tx.topics.alerts, schemas.Alert(
            kind="rating_followup", level="notice", subject=f"followup-{fid}",
            detail=f"收到差评（{LEVELS[level][0]}：{'、'.join(REASONS[r][0] for r in reasons)}），"
                   f"已生成整改任务 {fid}，请于 {due:%Y-%m-%d %H:%M} 前核实整改。",
            to=self._recipients(tx, "notice", window, staff),
        ))
        return fid

    def _recipients(self, tx: Tx, level: str, window: str | None, staff: str) -> list[str]:
        dept = ""
        w = self.ctx.config.window(window) if window else None
        if w is not None:
            dept = w.department
        elif staff:
            s = self.ctx.staff.member(tx.conn, staff)
            dept = s.staff.department if s else ""
        out = [f"staff:{staff}"] if staff else []
        if dept:
            out.insert(0, f"department:{dept}")
        if level == "overdue":
            out.insert(0, "leadership")
        return out

    # --- follow-up deadlines ------------------------------------------------------------

    def tick(self, tx: Tx) -> None:
        """Every SCAN_EVERY_S: alert due (≤1 working day left) and overdue follow-ups, once each."""
        # gated on the hall clock (not the wall clock), so a test or demo clock drives it too
        if 0.0 < tx.now_ts - self._last_scan < SCAN_EVERY_S:
            return
        self._last_scan = tx.now_ts
        self.scan_followups(tx)  # rating requests (the handlings) are kept for the reports (docs/reports.md)

    def scan_followups(self, tx: Tx) -> int:
        """Send the follow-up alerts due now; returns how many."""
        sent = 0
        horizon = (tx.now + dt.timedelta(days=20)).timestamp()
        rows = tx.execute(
            "SELECT id, due_ts, alerted, window, staff FROM rec_followups "
            "WHERE state IN ('open', 'verified') AND due_ts <= ? AND alerted != 'overdue'",
            (horizon,),
        ).fetchall()
        for fid, due_ts, alerted, window, staff in rows:
            due = self.clock.at(due_ts)
            assert due is not None
            if tx.now > due:
                new = "overdue"
            elif self.calendar.days_left(tx.now, due) <= 1:
                new = "warn"
            else:
                continue
            if level_rank(new) <= level_rank(alerted):
                continue
            tx.execute("UPDATE rec_followups SET alerted = ? WHERE id = ?", (new, fid))
            detail = (
                f"差评整改任务 {fid} 已超过整改期限（{due:%Y-%m-%d %H:%M}），请立即处理。"
                if new == "overdue"
                else f"差评整改任务 {fid} 将于 {due:%Y-%m-%d %H:%M} 到期，请抓紧核实整改。"
            )
            tx.emit(tx.topics.alerts, schemas.Alert(
                kind="rating_followup", level="overdue" if new == "overdue" else "warn",
                subject=f"followup-{fid}", detail=detail, to=self._recipients(tx, new, window, staff or ""),
            ))
            sent += 1
        if sent:
            tx.mark("stats")
        return sent

    # --- figures ----------------------------------------------------------------------

    def contribute_stats(self, tx: Tx, stats: dict[str, Any]) -> None:
        """ratings, satisfaction_rate, per window and per staff, open and overdue follow-ups."""
        stats.update(rating_figures(tx.conn, str(stats.get("date") or ""), tx.now_ts))


def _client_ts(ts: str | None) -> float | None:
    if not ts:
        return None
    try:
        return dt.datetime.fromisoformat(ts).timestamp()
    except (ValueError, TypeError):
        return None


def _figures(total: int, satisfied: int, level_sum: int) -> dict[str, Any]:
    return {
        "ratings": total,
        "satisfied": satisfied,
        "bad": total - satisfied,
        "satisfaction_rate": round(satisfied / total, 4) if total else None,
        "avg_level": round(level_sum / total, 2) if total else None,
    }


def rating_figures(conn: sqlite3.Connection, day: str, now_ts: float) -> dict[str, Any]:
    """The rating figures of a hall day (satisfied = levels 3-5, the 好评 of 好差评)."""
    by_window: dict[str, Any] = {}
    by_staff: dict[str, Any] = {}
    total = satisfied = level_sum = 0
    for window, staff, n, good, lsum in conn.execute(
        "SELECT COALESCE(window, ''), staff, COUNT(*), SUM(level >= 3), SUM(level) FROM rec_ratings "
        "WHERE day = ? GROUP BY 1, 2",
        (day,),
    ):
        total, satisfied, level_sum = total + n, satisfied + good, level_sum + lsum
        for key, bucket in ((window, by_window), (staff, by_staff)):
            if key:
                t, g, s = bucket.get(key, (0, 0, 0))
                bucket[key] = (t + n, g + good, s + lsum)
    open_n, overdue_n = conn.execute(
        "SELECT COUNT(*), COALESCE(SUM(due_ts < ?), 0) FROM rec_followups WHERE state IN ('open', 'verified', 'appealed')",
        (now_ts,),
    ).fetchone()
    return {
        "ratings": total,
        "satisfaction_rate": round(satisfied / total, 4) if total else None,
        "ratings_by_window": {k: _figures(*v) for k, v in sorted(by_window.items())},
        "ratings_by_staff": {k: _figures(*v) for k, v in sorted(by_staff.items())},
        "followups_open": int(open_n),
        "followups_overdue": int(overdue_n),
    }


# --- follow-ups from the command line (direct on the database) ---------------------------
