"""Builds the window display role (窗口屏): reads the window's retained state and the calls events."""

from __future__ import annotations

from hallbus import schemas
from kiosk.common.sections import decode_or_none
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
    topics = ctx.bus.topics
    window_topic, calls_topic = topics.window_state(ctx.window), topics.calls

    def on_message(topic: str, payload: object) -> None:
        if topic == window_topic:
            st = decode_or_none(payload, schemas.WindowState, "window state")
            if st is not None:
                state.on_window_state(st)
        elif topic == calls_topic:
            call = decode_or_none(payload, schemas.Call, "call")
            if call is not None:
                state.on_call(call)

    ctx.bridge.message.connect(on_message)
    ctx.bridge.connection.connect(state.on_connection)
    ctx.bridge.subscribe(window_topic)
    ctx.bridge.subscribe(calls_topic)
    return RoleParts(
        qml="window/WindowDisplay.qml",
        properties={"vm": vm},
        settled=vm.settled,
        keep=[state],
        chrome=False,
    )
