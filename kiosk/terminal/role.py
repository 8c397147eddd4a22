"""Builds the terminal role: its state, view-model, devices wired in, queue state subscribed, ratings outbox."""

from __future__ import annotations

from hallbus import schemas
from hallbus.outbox import Outbox
from kiosk.common.routes import Routes
from kiosk.context import RoleContext, RoleParts
from kiosk.terminal.state import TerminalState
from kiosk.terminal.viewmodel import TerminalViewModel


def build(ctx: RoleContext) -> RoleParts:
    """The terminal's parts, ready to show."""
    outbox = Outbox(ctx.data_dir / f"{ctx.node}-outbox.sqlite", ctx.rpc)
    state = TerminalState(
        ctx.cfg,
        ctx.catalogue,
        ctx.port,
        node=ctx.node,
        hall_key=ctx.hall_key,
        printer=ctx.devices.get("printer"),
        ratings=outbox,
    )
    vm = TerminalViewModel(state)

    idcard = ctx.devices.get("idcard")
    if idcard is not None:
        idcard.on_card = ctx.gui.wrap(state.on_card)
        idcard.on_read_error = ctx.gui.wrap(state.on_card_unreadable)
        idcard.on_removed = ctx.gui.wrap(state.on_card_removed)
    for name in ("scanner", "camera"):
        owner = ctx.devices.get(name)
        if owner is not None:
            owner.on_code = ctx.gui.wrap(state.on_qr)

    ctx.follow(
        Routes()
        .add(ctx.bus.topics.queue_state, schemas.QueueState, state.on_queue_state, "queue state")
        .add(ctx.bus.topics.hall_notice, schemas.HallNotice, ctx.shell.on_notice, "hall notice")
        .add(ctx.bus.topics.window_state_all, schemas.WindowState, state.on_window_state, "window state"),
        state.on_connection,
    )
    outbox.start()

    def stop() -> None:
        outbox.stop()
        outbox.close()

    return RoleParts(
        qml="terminal/Terminal.qml",
        properties={"vm": vm},
        has_session=state.has_session,
        reset=state.reset,
        settled=vm.settled,
        stop=stop,
        keep=[state, outbox],
    )
