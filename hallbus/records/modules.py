"""What `hallbus.records` plugs into the hall controller (see hallbus/controller/module.py)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from hallbus.config import HallConfig
from hallbus.controller.clock import HallTime
from hallbus.controller.module import ModuleFactory, Tx
from hallbus.records.appointments import AppointmentsModule
from hallbus.records.cases import CasesModule, case_figures
from hallbus.records.guide import GuideModule
from hallbus.records.ratings import RatingsModule, rating_figures

RECORD_MODULES = (CasesModule, AppointmentsModule, GuideModule, RatingsModule)
"""Cases (办件), appointments (预约), the service guide (办事指南) and ratings (好差评)."""


def controller_modules() -> list[ModuleFactory]:
    """The records' modules, each built from the controller's ModuleContext."""
    return list(RECORD_MODULES)


def migrations() -> list[tuple[str, Sequence[str]]]:
    """(module name, migrations) of every records module, for the store's migration runner."""
    return [(m.name, m.migrations) for m in RECORD_MODULES]


def contribute_stats(config: HallConfig, tx: Tx, stats: dict[str, Any]) -> None:
    """The records' figures for `hallbus stats` (read-only, outside the running controller)."""
    try:
        stats.update(case_figures(tx.conn, HallTime.of(config), tx.now, day=stats.get("date")))
        stats.update(rating_figures(tx.conn, str(stats.get("date") or ""), tx.now_ts))
    except sqlite3.OperationalError:  # a database from before the records modules: no such tables
        pass
