"""Builds the window display role (窗口屏): reads the window's retained state and the calls events."""

from __future__ import annotations

from hallbus import schemas
from kiosk.common.routes import Routes
from kiosk.context import RoleContext, RoleParts
from kiosk.window.state import WindowDisplayState, choose_layout
from kiosk.window.viewmodel import WindowDisplayViewModel


def build(ctx: RoleContext) -> RoleParts:
    """The window display's parts; the layout comes from the node's `layout` (or the screen's shape)."""
    if ctx.window is None:
        raise ValueError(
            "a window display belongs to a window: give --window or set `window` on its node"
        )
    node = ctx.cfg.node(ctx.node)
    layout = choose_layout(
        node.layout if node else "", None
    )  # "" = decided by the screen's shape in QML
    state = WindowDisplayState(ctx.cfg, ctx.catalogue, window=ctx.window, layout=layout)
    vm = WindowDisplayViewModel(state)
    t = ctx.bus.topics
    ctx.follow(
        Routes()
        .add(t.window_state(ctx.window), schemas.WindowState, state.on_window_state, "window state")
        .add(t.calls, schemas.Call, state.on_call, "call"),
        state.on_connection,
    )
    return RoleParts(
        qml="window/WindowDisplay.qml",
        properties={"vm": vm},
        settled=vm.settled,
        keep=[state],
        chrome=False,
    )
