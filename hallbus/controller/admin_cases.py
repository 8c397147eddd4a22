"""The console's cases (办件, SPEC 12.2): `admin.cases`, overdue and due-soon cases with 黄牌/红牌.

A case is listed while it is open, its clock running (not waiting on the applicant's
补正) and at most 7 working days from its deadline or past it: 红牌 (`red`) once overdue,
黄牌 (`yellow`) once a warning level (`notice` 7, `warn` 5, `urgent` 3 working days left)
has passed. Each carries its escalation history: every level the deadline pass of
`hallbus.records.cases` saw it pass, when, and to whom the alert went
(`rec_case_escalations`). The applicant is shown masked (张*) whatever an import
stored; nothing of an ID number leaves here. Managers and supervisors only, checked
against the acting console session; reading changes nothing, so nothing is audited.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Collection, Mapping
from typing import Any

from hallbus import schemas
from hallbus.config import HallConfig
from hallbus.controller.clock import HallTime
from hallbus.controller.module import Tx, TxHandler
from hallbus.privacy import mask_name
from hallbus.records.cases import CASE_COLUMNS, PAUSED_STATUSES, CaseBook
from hallbus.records.workdays import WorkCalendar, level_rank
from hallbus.rpc import Request, RpcFault
from hallbus.schemas.admin import CARDS, CASES_PAGE_MAX, AdminAccount, AdminCasesReq

CASE_ROLES = ("manager", "supervisor")
HORIZON_DAYS = 30  # 7 working days never span more than about 3 weeks, even over Spring Festival


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
        now = tx.now
        horizon = (now + dt.timedelta(days=HORIZON_DAYS)).timestamp()
        paused = ",".join("?" * len(PAUSED_STATUSES))
        rows = tx.execute(
            f"SELECT {CASE_COLUMNS}, handler, department FROM rec_cases WHERE open = 1 AND due_ts IS NOT NULL "
            f"AND due_ts <= ? AND status NOT IN ({paused}) ORDER BY due_ts, case_no",
            (horizon, *PAUSED_STATUSES),
        ).fetchall()
        listed: list[tuple[schemas.CaseInfo, str, str, str]] = []
        for r in rows:
            info = self.book.info(r[:-2], now)
            card = card_of(info.warning)
            if card:
                listed.append((info, card, str(r[-2] or ""), str(r[-1] or "")))
        departments = sorted({d for _i, _c, _h, d in listed if d})
        handlers = sorted({h for _i, _c, h, _d in listed if h})
        chosen = [
            x for x in listed
            if (not b.department or x[3] == b.department) and (not b.handler or x[2] == b.handler)
            and (not b.card or x[1] == b.card)
        ]
        page = chosen[: max(1, min(b.limit, CASES_PAGE_MAX))]
        history = self._escalations(tx, [info.case_no for info, *_ in page])
        return {
            "cases": [self._public(info, card, handler, dept, history.get(info.case_no, []))
                      for info, card, handler, dept in page],
            "total": len(chosen),
            "red": sum(1 for x in chosen if x[1] == "red"),
            "yellow": sum(1 for x in chosen if x[1] == "yellow"),
            "departments": departments,
            "handlers": handlers,
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
