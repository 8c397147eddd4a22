"""The console's 好差评 follow-up (SPEC 12.2): `admin.followups`, `admin.followup`, `admin.followup.move`.

The ratings module opens a task for every bad rating and watches its deadline; here the
console reads the tasks and moves them, in the controller's writer transaction (the
controller stays the only writer). Supervisors and managers may do both; every move is
checked against the acting account (`AdminModule.acting`) and written with an audit line
(`followup.move`, subject `followup-{id}`, before → after: state, and the note and
callback of the move). A move names the state the page showed (`from_state`): when the
task has moved since, the move is refused with who moved it and when (`followup_moved`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Mapping
from typing import Any

from hallbus.config import HallConfig
from hallbus.controller import errors
from hallbus.controller.clock import HallTime
from hallbus.controller.module import Tx, TxHandler
from hallbus.records.followups import FollowupError, apply_move, get_followup, list_followups
from hallbus.records.ratings import STATES, TRANSITIONS
from hallbus.rpc import Request, RpcFault
from hallbus.schemas.admin import (
    CALLBACK_TEXT_MAX,
    FOLLOWUPS_PAGE_MAX,
    NOTE_MAX,
    AdminAccount,
    AdminFollowupMoveReq,
    AdminFollowupReq,
    AdminFollowupsReq,
)

FOLLOWUP_ROLES = ("manager", "supervisor")  # read and move follow-ups


def _fault(err: FollowupError) -> RpcFault:
    return RpcFault(err.code, err.message, err.message_en)


def _public(f: Mapping[str, Any]) -> dict[str, Any]:
    """A task as the reply carries it (no raw timestamps; where it may go next)."""
    out = {k: v for k, v in f.items() if k != "due_ts"}
    out["next_states"] = list(TRANSITIONS.get(str(f["state"]), ()))
    out["history"] = [{"state": h["state"], "at": h["at"], "note": h["note"], "by": h["by"],
                       "callback": h.get("callback")} for h in f["history"]]
    return out


class FollowupDesk:
    """The follow-up methods of the console, over the admin module's sessions and audit log."""

    def __init__(
        self, config: HallConfig, acting: Callable[[Tx, str, Collection[str]], AdminAccount], audit: Callable[..., None]
    ) -> None:
        self.acting = acting  # AdminModule.acting: who acts, refused unless a live session of these roles
        self.audit = audit  # hallbus.controller.admin.audit: one append-only line in this transaction
        self.clock = HallTime.of(config)

    def handlers(self) -> Mapping[str, TxHandler]:
        return {
            "admin.followups": self._list,
            "admin.followup": self._get,
            "admin.followup.move": self._move,
        }

    def _list(self, req: Request, tx: Tx) -> Mapping[str, Any]:
        b: AdminFollowupsReq = req.body
        self.acting(tx, b.session, FOLLOWUP_ROLES)
        if b.state and b.state not in STATES:
            raise RpcFault("bad_state", f"状态应为：{'、'.join(STATES)}。", f"The state must be one of {', '.join(STATES)}.")
        rows = list_followups(
            tx.conn, self.clock, b.state or None, window=b.window or None, staff=b.staff or None,
            reason=b.reason or None,
            limit=max(1, min(b.limit, FOLLOWUPS_PAGE_MAX)), now_ts=tx.now_ts,
        )
        return {"followups": [_public(f) for f in rows], "overdue": sum(1 for f in rows if f["overdue"])}

    def _get(self, req: Request, tx: Tx) -> Mapping[str, Any]:
        b: AdminFollowupReq = req.body
        self.acting(tx, b.session, FOLLOWUP_ROLES)
        try:
            return {"followup": _public(get_followup(tx.conn, self.clock, b.id, tx.now_ts))}
        except FollowupError as err:
            raise _fault(err) from err

    def _move(self, req: Request, tx: Tx) -> Mapping[str, Any]:
        b: AdminFollowupMoveReq = req.body
        acc = self.acting(tx, b.session, FOLLOWUP_ROLES)
        if len(b.note) > NOTE_MAX:
            raise errors.bad_request(f"处理情况最多 {NOTE_MAX} 个字。", f"The note may have at most {NOTE_MAX} characters.")
        callback = None if b.callback is None else self._callback(b, tx)
        try:
            before, after = apply_move(
                tx.conn, self.clock, b.id, b.to_state, b.note, tx.now, acc.id, expected=b.from_state, callback=callback
            )
        except FollowupError as err:
            raise _fault(err) from err
        step = after["history"][-1]
        self.audit(
            tx, actor=acc.id, action="followup.move", subject=f"followup-{b.id}", client=b.client,
            before={"state": before["state"]},
            after={"state": after["state"], "note": step["note"], **({"callback": callback} if callback else {})},
        )
        return {"followup": _public(after)}

    def _callback(self, b: AdminFollowupMoveReq, tx: Tx) -> dict[str, str]:
        """The 回访 record, checked: a time not in the future, who called, the outcome."""
        cb = b.callback
        assert cb is not None
        try:
            at = dt.datetime.fromisoformat(cb.at.strip())
        except ValueError:
            raise RpcFault(
                "bad_callback", "回访时间格式应为 YYYY-MM-DD HH:MM。", "The callback time must be YYYY-MM-DD HH:MM."
            ) from None
        at = at.replace(tzinfo=tx.now.tzinfo) if at.tzinfo is None else at
        if at > tx.now + dt.timedelta(minutes=5):
            raise RpcFault("bad_callback", "回访时间不能晚于现在。", "The callback cannot be in the future.")
        who, outcome = cb.by.strip(), cb.outcome.strip()
        if not who or not outcome:
            raise RpcFault(
                "bad_callback", "请填写回访人和回访结果。", "Say who called the citizen back and what the outcome was."
            )
        if len(who) > CALLBACK_TEXT_MAX or len(outcome) > CALLBACK_TEXT_MAX:
            raise RpcFault(
                "bad_callback", f"回访人和回访结果各最多 {CALLBACK_TEXT_MAX} 个字。",
                f"The callback's caller and outcome may have at most {CALLBACK_TEXT_MAX} characters each.",
            )
        return {"at": at.isoformat(timespec="minutes"), "by": who, "outcome": outcome}
