"""What `hallbus.records` plugs into the hall controller (see hallbus/controller/module.py)."""

from __future__ import annotations

from hallbus.controller.module import ControllerModule, ModuleContext, ModuleFactory
from hallbus.records.appointments import AppointmentsModule
from hallbus.records.cases import CasesModule
from hallbus.records.guide import GuideModule
from hallbus.records.ratings import RatingsModule


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
