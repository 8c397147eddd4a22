"""Reading and moving follow-up tasks (整改) of bad ratings, for the command line and the console.

The ratings module (`hallbus.records.ratings`) opens the tasks and watches their deadlines;
this module lists them, shows one with its history, and moves one to its next state with a
note (`hallbus ratings followups|followup|move`, and the console's `admin.followup*` methods
in `hallbus.controller.admin_followups`). `apply_move` is the move inside a transaction the
caller holds (the controller's writer); `move_followup` opens its own (the command line).
A move may name the state its sender saw (`expected`): when the task has moved since, it is
refused (`followup_moved`), never written over. A move may carry the callback to the
citizen (回访: when, by whom, outcome), kept in its history step.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import time
from typing import Any

from hallbus.controller.clock import HallTime
from hallbus.records.ratings import ACTIVE, STATE_NAMES, STATES, TRANSITIONS
from hallbus.schemas.rating import LEVELS


class FollowupError(Exception):
    """A follow-up that cannot be moved: unknown id or a move its state does not allow."""

    def __init__(self, code: str, message: str, message_en: str) -> None:
        super().__init__(message_en)
        self.code = code
        self.message = message
        self.message_en = message_en



def list_followups(
    conn: sqlite3.Connection, clock: HallTime, state: str | None = None, *, window: str | None = None,
    staff: str | None = None, reason: str | None = None, limit: int | None = None, now_ts: float | None = None,
) -> list[dict[str, Any]]:
    """Follow-up tasks, newest first (optionally in one state, of one window, of one staff member, with one reason)."""
    where: list[str] = []
    params: list[Any] = []
    for col, value in (("state", state), ("window", window), ("staff", staff)):
        if value:
            where.append(f"{col} = ?")
            params.append(value)
    if reason:
        where.append("EXISTS (SELECT 1 FROM json_each(rec_followups.reasons) WHERE value = ?)")
        params.append(reason)
    sql = f"SELECT {_F_COLS} FROM rec_followups" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id DESC"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    return [_followup(r, clock, now_ts) for r in conn.execute(sql, params)]


def get_followup(conn: sqlite3.Connection, clock: HallTime, fid: int, now_ts: float | None = None) -> dict[str, Any]:
    """One follow-up with its history; raises FollowupError when unknown."""
    row = conn.execute(f"SELECT {_F_COLS} FROM rec_followups WHERE id = ?", (fid,)).fetchone()
    if row is None:
        raise FollowupError("followup_not_found", f"没有编号为 {fid} 的整改任务。", f"No follow-up task {fid}.")
    return _followup(row, clock, now_ts)


def move_followup(
    conn: sqlite3.Connection, clock: HallTime, fid: int, state: str, note: str, now: dt.datetime, by: str = "cli"
) -> dict[str, Any]:
    """Move a follow-up to a new state with a note (one transaction); raises FollowupError."""
    _check_move(state, note)
    conn.execute("BEGIN IMMEDIATE")
    try:
        apply_move(conn, clock, fid, state, note, now, by)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return get_followup(conn, clock, fid, now.timestamp())


def _check_move(state: str, note: str) -> None:
    if state not in STATES:
        raise FollowupError(
            "bad_state", f"状态应为：{'、'.join(STATES)}。", f"The state must be one of {', '.join(STATES)}."
        )
    if not note.strip():
        raise FollowupError("note_required", "请写明处理情况。", "Say what was done (the note).")


def apply_move(
    conn: sqlite3.Connection, clock: HallTime, fid: int, state: str, note: str, now: dt.datetime, by: str,
    *, expected: str | None = None, callback: dict[str, str] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Move a follow-up in the caller's transaction; returns (before, after). Raises FollowupError.

    `expected`: the state the sender saw; a task no longer in it is refused (`followup_moved`).
    `callback`: the 回访 record (`at`, `by`, `outcome`) kept in the new history step.
    """
    _check_move(state, note)
    current = get_followup(conn, clock, fid, now.timestamp())
    if expected is not None and current["state"] != expected:
        last = current["history"][-1] if current["history"] else {}
        who, at = last.get("by", "?"), str(last.get("at", ""))[:16].replace("T", " ")
        raise FollowupError(
            "followup_moved",
            f"整改任务 {fid} 已被 {who} 于 {at} 改为“{STATE_NAMES.get(current['state'], current['state'])}”，"
            "您的更改未保存；请查看最新情况后再操作。",
            f"Follow-up {fid} was moved to {current['state']} by {who} at {at}; your change was not saved. "
            "Please look at it again first.",
        )
    allowed = TRANSITIONS[current["state"]]
    if state not in allowed:
        nxt = "、".join(STATE_NAMES[s] for s in allowed) or "（无，任务已办结）"
        raise FollowupError(
            "bad_transition",
            f"整改任务 {fid} 当前为“{STATE_NAMES[current['state']]}”，不能改为“{STATE_NAMES[state]}”；可改为：{nxt}。",
            f"Follow-up {fid} is {current['state']}; it can move to: {', '.join(allowed) or 'nothing (closed)'}.",
        )
    step: dict[str, Any] = {"state": state, "at": now.isoformat(timespec="seconds"), "note": note.strip(), "by": by}
    if callback is not None:
        step["callback"] = callback
    history = current["history"] + [step]
    conn.execute(
        "UPDATE rec_followups SET state = ?, history = ?, updated_ts = ? WHERE id = ?",
        (state, json.dumps(history, ensure_ascii=False), now.timestamp(), fid),
    )
    return current, {**current, "state": state, "state_name": STATE_NAMES[state], "history": history,
                     "overdue": _overdue(state, current["due_ts"], now.timestamp())}


def _overdue(state: str, due_ts: float, now_ts: float) -> bool:
    """Past its deadline while its clock runs (open or verified; an appeal stops it)."""
    return state in ACTIVE and due_ts < now_ts


_F_COLS = "id, rating_id, state, level, reasons, comment, window, staff, ticket, case_no, opened_ts, due_ts, history"


def _followup(row: tuple[Any, ...], clock: HallTime, now_ts: float | None = None) -> dict[str, Any]:
    fid, rating_id, state, level, reasons, comment, window, staff, ticket, case_no, opened, due, history = row
    return {
        "id": fid,
        "rating_id": rating_id,
        "state": state,
        "state_name": STATE_NAMES.get(state, state),
        "level": level,
        "level_name": LEVELS[level][0],
        "reasons": json.loads(reasons),
        "comment": comment,
        "window": window,
        "staff": staff,
        "ticket": ticket,
        "case_no": case_no,
        "opened_at": clock.iso(opened),
        "due_at": clock.iso(due),
        "due_ts": due,
        "overdue": _overdue(state, due, time.time() if now_ts is None else now_ts),
        "history": json.loads(history),
    }
