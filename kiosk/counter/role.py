"""Builds the counter role: its state, view-model, the badge reader wired in, the window's state subscribed."""

from __future__ import annotations

from hallbus import schemas
from kiosk.common.routes import Routes
from kiosk.context import RoleContext, RoleParts
from kiosk.counter.state import CounterState
from kiosk.counter.viewmodel import CounterViewModel

CONTROLLER_NODE = "controller"  # the controller's node id on the bus (hallbus.controller.app)


def build(ctx: RoleContext) -> RoleParts:
    """The counter's parts, ready to show."""
    if ctx.window is None:
        raise ValueError("a counter belongs to a window: give --window or set `window` on its node")
    state = CounterState(ctx.cfg, ctx.catalogue, ctx.port, window=ctx.window)
    vm = CounterViewModel(state)

    badge = ctx.devices.get("pcsc")
    if badge is not None:
        badge.on_badge = ctx.gui.wrap(state.on_badge)

    t = ctx.bus.topics
    ctx.follow(
        Routes()
        .add(t.window_state(ctx.window), schemas.WindowState, state.on_window_state, "window state")
        .add(t.queue_state, schemas.QueueState, state.on_queue_state, "queue state")
        .add(t.stats_today, schemas.StatsToday, state.on_stats, "stats")
        .add(t.node_status(CONTROLLER_NODE), schemas.NodeStatus, state.on_controller, "controller status"),
        state.on_connection,
    )
    return RoleParts(
        qml="counter/Counter.qml", properties={"vm": vm}, settled=vm.settled, keep=[state]
    )

