"""What `hallbus.records` plugs into the hall controller (see hallbus/controller/module.py)."""

from __future__ import annotations

import sqlite3
from typing import Any

from hallbus.config import HallConfig
from hallbus.controller.module import ControllerModule, ModuleContext, ModuleFactory, Tx
from hallbus.records.appointments import AppointmentsModule
from hallbus.records.cases import CasesModule, case_figures
from hallbus.records.guide import GuideModule
from hallbus.records.ratings import RatingsModule, rating_figures
from hallbus.records.store import Clock


def _cases(ctx: ModuleContext) -> ControllerModule:
    return CasesModule(ctx)


def _appointments(ctx: ModuleContext) -> ControllerModule:
    return AppointmentsModule(ctx)


def _guide(ctx: ModuleContext) -> ControllerModule:
    return GuideModule(ctx)


def _ratings(ctx: ModuleContext) -> ControllerModule:
    return RatingsModule(ctx)


def controller_modules() -> list[ModuleFactory]:
    """Cases (办件), appointments (预约), the service guide (办事指南) and ratings (好差评)."""
    return [_cases, _appointments, _guide, _ratings]


def contribute_stats(config: HallConfig, tx: Tx, stats: dict[str, Any]) -> None:
    """The records' figures for `hallbus stats` (read-only, outside the running controller)."""
    try:
        stats.update(case_figures(tx.conn, Clock(config), tx.now))
        stats.update(rating_figures(tx.conn, str(stats.get("date") or ""), tx.now_ts))
    except sqlite3.OperationalError:  # a database from before the records modules: no such tables
        pass
