"""The console's cases (办件, SPEC 12.2): `admin.cases`, overdue and due-soon cases with 黄牌/红牌.

A case is listed while it is open, its clock running (not waiting on the applicant's
补正) and at most 7 working days from its deadline or past it: 红牌 (`red`) once overdue,
黄牌 (`yellow`) once a warning level (`notice` 7, `warn` 5, `urgent` 3 working days left)
has passed. Each carries its escalation history: every level the deadline pass of
`hallbus.records.cases` saw it pass, when, and to whom the alert went
(`rec_case_escalations`). A reply holds the most urgent ones up to `limit` (at most 200)
and 64 KiB (the broker ends a connection that sends over 128 KiB), `total` how many match. The applicant is shown masked (张*) whatever an import
stored; nothing of an ID number leaves here. Managers and supervisors only, checked
against the acting console session; reading changes nothing, so nothing is audited.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping
from typing import Any

import msgspec

from hallbus import schemas
from hallbus.config import HallConfig
from hallbus.controller.clock import HallTime
from hallbus.controller.module import Tx, TxHandler
from hallbus.privacy import mask_name
from hallbus.records.cases import CASE_COLUMNS, PAUSED_STATUSES, CaseBook
from hallbus.records.workdays import THRESHOLDS, WorkCalendar, level_rank
from hallbus.rpc import Request, RpcFault
from hallbus.schemas.admin import CARDS, CASES_PAGE_MAX, AdminAccount, AdminCasesReq

CASE_ROLES = ("manager", "supervisor")
CASES_MAX_BYTES = 64 * 1024  # the cases of one reply at most (encoded), as report.query's rows
NOTICE_DAYS = max(limit for _level, limit in THRESHOLDS)  # 7: the first warning level


def card_of(warning: str) -> str:
    """红牌 for an overdue case, 黄牌 for one past a warning level, "" otherwise."""
    if warning == "overdue":
        return "red"
    return "yellow" if level_rank(warning) > 0 else ""


class CaseDesk:
    """`admin.cases` over the records' cases and their escalations."""

    def __init__(self, config: HallConfig, acting: Callable[[Tx, str, Collection[str]], AdminAccount]) -> None:
        self.acting = acting  # AdminModule.acting: refused unless a live session of these roles
        self.clock = HallTime.of(config)
        self.book = CaseBook(WorkCalendar.from_config(config.calendar), self.clock)

    def handlers(self) -> Mapping[str, TxHandler]:
        return {"admin.cases": self._list}

    def _list(self, req: Request, tx: Tx) -> Mapping[str, Any]:
        b: AdminCasesReq = req.body
        self.acting(tx, b.session, CASE_ROLES)
        if b.card and b.card not in CARDS:
            raise RpcFault("bad_card", "标记应为 red（红牌）或 yellow（黄牌）。", "The card must be red or yellow.")
        if not self._has_cases(tx):
            return {"cases": [], "total": 0, "red": 0, "yellow": 0, "departments": [], "handlers": []}
        # Selected in SQL on the (open, due_ts) index, only the page's rows turned into cases: the
        # writer holds the queue meanwhile. A case is listed exactly when its warning is not none:
        # whole working days left <= NOTICE_DAYS, i.e. due before NOTICE_DAYS + 1 working days from now.
        now_ts = tx.now_ts
        cutoff = self.book.calendar.add_workdays(tx.now, NOTICE_DAYS + 1).timestamp()
        paused = ",".join("?" * len(PAUSED_STATUSES))
        listed = f"open = 1 AND due_ts IS NOT NULL AND due_ts < ? AND status NOT IN ({paused})"
        args: list[Any] = [cutoff, *PAUSED_STATUSES]
        # one pass over the listed cases: each (department, handler) with its red and yellow counts
        groups = tx.execute(
            f"SELECT department, handler, SUM(due_ts < ?), COUNT(*) FROM rec_cases WHERE {listed} "
            "GROUP BY department, handler",
            (now_ts, *args),
        ).fetchall()
        chosen = [(red, n - red) for d, h, red, n in groups
                  if (not b.department or d == b.department) and (not b.handler or h == b.handler)]
        red, yellow = sum(r for r, _y in chosen), sum(y for _r, y in chosen)
        mine, mine_args = listed, list(args)
        for column, value in (("department", b.department), ("handler", b.handler), ("card", b.card)):
            if column == "card" and value:
                mine += " AND due_ts < ?" if value == "red" else " AND due_ts >= ?"
                mine_args.append(now_ts)
            elif value:
                mine += f" AND {column} = ?"
                mine_args.append(value)
        rows = tx.execute(
            f"SELECT {CASE_COLUMNS}, handler, department FROM rec_cases WHERE {mine} ORDER BY due_ts, case_no LIMIT ?",
            (*mine_args, max(1, min(b.limit, CASES_PAGE_MAX))),
        ).fetchall()
        page = [(self.book.info(r[:-2], tx.now), str(r[-2] or ""), str(r[-1] or "")) for r in rows]
        history = self._escalations(tx, [info.case_no for info, _h, _d in page])
        sent: list[dict[str, Any]] = []
        size = 0
        for info, handler, dept in page:  # the reply stays far below the broker's 128 KiB message limit
            case = self._public(info, card_of(info.warning), handler, dept, history.get(info.case_no, []))
            size += len(msgspec.json.encode(case))
            if sent and size > CASES_MAX_BYTES:
                break
            sent.append(case)
        return {
            "cases": sent,
            "total": {"red": red, "yellow": yellow}.get(b.card or "", red + yellow),
            "red": int(red),
            "yellow": int(yellow),
            "departments": sorted({str(d) for d, _h, _r, _n in groups if d}),
            "handlers": sorted({str(h) for _d, h, _r, _n in groups if h}),
        }

    @staticmethod
    def _has_cases(tx: Tx) -> bool:
        """A controller built without the records' modules has no case tables (tools, some tests)."""
        return tx.execute("SELECT 1 FROM sqlite_master WHERE name = 'rec_case_escalations'").fetchone() is not None

    def _escalations(self, tx: Tx, case_nos: list[str]) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        if not case_nos:
            return out
        marks = ",".join("?" * len(case_nos))
        for case_no, level, at_ts, days_left, sent_to in tx.execute(
            f"SELECT case_no, level, at_ts, days_left, sent_to FROM rec_case_escalations WHERE case_no IN ({marks}) "
            "ORDER BY at_ts, rowid",
            case_nos,
        ):
            out.setdefault(case_no, []).append(
                {"level": level, "at": self.clock.iso(at_ts), "days_left": int(days_left), "to": json.loads(sent_to)}
            )
        return out

    @staticmethod
    def _public(
        info: schemas.CaseInfo, card: str, handler: str, department: str, escalations: list[dict[str, Any]]
    ) -> dict[str, Any]:
        return {
            "case_no": info.case_no, "item": info.item, "applicant_masked": mask_name(info.applicant_masked),
            "status": info.status, "department": department, "handler": handler, "accepted_at": info.accepted_at,
            "due_at": info.due_at, "days_left": info.days_left, "warning": info.warning, "card": card,
            "escalations": escalations,
        }
