"""Builds the tablet role: its state over the window's retained state, and the durable ratings outbox."""

from __future__ import annotations

from hallbus import schemas
from hallbus.outbox import Outbox
from kiosk.common.routes import Routes
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
    ctx.follow(
        Routes().add(ctx.bus.topics.window_state(ctx.window), schemas.WindowState, state.on_window_state, "window state"),
        state.on_connection,
    )
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
