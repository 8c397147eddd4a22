"""Reading and moving follow-up tasks (整改) of bad ratings, for the hall manager's command line.

The ratings module (`hallbus.records.ratings`) opens the tasks and watches their deadlines;
this module lists them, shows one with its history, and moves one to its next state with a
note (`hallbus ratings followups|followup|move`).
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from typing import Any

from hallbus.controller.clock import HallTime
from hallbus.records.ratings import STATE_NAMES, STATES, TRANSITIONS
from hallbus.schemas.rating import LEVELS


class FollowupError(Exception):
    """A follow-up that cannot be moved: unknown id or a move its state does not allow."""

    def __init__(self, code: str, message: str, message_en: str) -> None:
        super().__init__(message_en)
        self.code = code
        self.message = message
        self.message_en = message_en



def list_followups(conn: sqlite3.Connection, clock: HallTime, state: str | None = None) -> list[dict[str, Any]]:
    """Follow-up tasks, newest first (optionally in one state)."""
    sql = f"SELECT {_F_COLS} FROM rec_followups"
    params: tuple[Any, ...] = ()
    if state:
        sql += " WHERE state = ?"
        params = (state,)
    return [_followup(r, clock) for r in conn.execute(sql + " ORDER BY id DESC", params)]


def get_followup(conn: sqlite3.Connection, clock: HallTime, fid: int) -> dict[str, Any]:
    """One follow-up with its history; raises FollowupError when unknown."""
    row = conn.execute(f"SELECT {_F_COLS} FROM rec_followups WHERE id = ?", (fid,)).fetchone()
    if row is None:
        raise FollowupError("followup_not_found", f"没有编号为 {fid} 的整改任务。", f"No follow-up task {fid}.")
    return _followup(row, clock)


def move_followup(
    conn: sqlite3.Connection, clock: HallTime, fid: int, state: str, note: str, now: dt.datetime, by: str = "cli"
) -> dict[str, Any]:
    """Move a follow-up to a new state with a note (one transaction); raises FollowupError."""
    if state not in STATES:
        raise FollowupError(
            "bad_state", f"状态应为：{'、'.join(STATES)}。", f"The state must be one of {', '.join(STATES)}."
        )
    if not note.strip():
        raise FollowupError("note_required", "请用 --note 写明处理情况。", "Say what was done with --note.")
    conn.execute("BEGIN IMMEDIATE")
    try:
        current = get_followup(conn, clock, fid)
        allowed = TRANSITIONS[current["state"]]
        if state not in allowed:
            nxt = "、".join(allowed) or "（无，任务已办结）"
            raise FollowupError(
                "bad_transition",
                f"整改任务 {fid} 当前为“{STATE_NAMES[current['state']]}”，不能改为“{STATE_NAMES[state]}”；可改为：{nxt}。",
                f"Follow-up {fid} is {current['state']}; it can move to: {', '.join(allowed) or 'nothing (closed)'}.",
            )
        history = current["history"] + [{"state": state, "at": now.isoformat(timespec="seconds"), "note": note, "by": by}]
        conn.execute(
            "UPDATE rec_followups SET state = ?, history = ?, updated_ts = ? WHERE id = ?",
            (state, json.dumps(history, ensure_ascii=False), now.timestamp(), fid),
        )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return get_followup(conn, clock, fid)


_F_COLS = "id, rating_id, state, level, reasons, comment, window, staff, ticket, case_no, opened_ts, due_ts, history"


def _followup(row: tuple[Any, ...], clock: HallTime) -> dict[str, Any]:
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
        "history": json.loads(history),
    }
