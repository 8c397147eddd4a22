"""Builds the tablet role: its state over the window's retained state, and the durable ratings outbox."""

from __future__ import annotations

from hallbus import schemas
from hallbus.outbox import Outbox
from kiosk.common.sections import decode_or_none
from kiosk.context import RoleContext, RoleParts
from kiosk.tablet.state import TabletState
from kiosk.tablet.viewmodel import TabletViewModel


def build(ctx: RoleContext) -> RoleParts:
    """The tablet's parts, ready to show; ratings left in the outbox by a previous run are sent on start."""
    if ctx.window is None:
        raise ValueError("a tablet belongs to a window: give --window or set `window` on its node")
    outbox = Outbox(ctx.data_dir / f"{ctx.node}-ratings.sqlite", ctx.rpc)
    left_over = [item.body for item in outbox.pending() if item.method == "rating.submit"]
    state = TabletState(ctx.cfg, ctx.catalogue, outbox, window=ctx.window, already_sent=left_over)
    vm = TabletViewModel(state)
    topic = ctx.bus.topics.window_state(ctx.window)

    def on_message(t: str, payload: object) -> None:
        if t == topic:
            decoded = decode_or_none(payload, schemas.WindowState, "window state")
            if decoded is not None:
                state.on_window_state(decoded)

    ctx.bridge.message.connect(on_message)
    ctx.bridge.connection.connect(state.on_connection)
    ctx.bridge.subscribe(topic)
    outbox.start()

    def stop() -> None:
        vm.stop()
        outbox.close()

    return RoleParts(
        qml="tablet/Tablet.qml",
        properties={"vm": vm},
        settled=vm.settled,
        stop=stop,
        keep=[state, outbox],
    )
