"""Builds the counter role: its state, view-model, the badge reader wired in, the window's state subscribed."""

from __future__ import annotations

from typing import Any

from hallbus import schemas
from kiosk.common.sections import decode_or_none
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

    topics = ctx.bus.topics
    window_topic = topics.window_state(ctx.window)
    routes: dict[str, Any] = {
        window_topic: lambda p: _apply(
            p, schemas.WindowState, "window state", state.on_window_state
        ),
        topics.queue_state: lambda p: _apply(
            p, schemas.QueueState, "queue state", state.on_queue_state
        ),
        topics.stats_today: lambda p: _apply(p, schemas.StatsToday, "stats", state.on_stats),
        topics.node_status(CONTROLLER_NODE): lambda p: _apply(
            p, schemas.NodeStatus, "controller status", state.on_controller
        ),
    }

    def on_message(topic: str, payload: object) -> None:
        route = routes.get(topic)
        if route is not None:
            route(payload)

    ctx.bridge.message.connect(on_message)
    ctx.bridge.connection.connect(state.on_connection)
    for topic in routes:
        ctx.bridge.subscribe(topic)
    return RoleParts(
        qml="counter/Counter.qml", properties={"vm": vm}, settled=vm.settled, keep=[state]
    )


def _apply(payload: object, type_: type[Any], what: str, handler: Any) -> None:
    decoded = decode_or_none(payload, type_, what)
    if decoded is not None:
        handler(decoded)
