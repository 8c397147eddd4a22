"""Builds the terminal role: its state, view-model, devices wired in, queue state subscribed, ratings outbox."""

from __future__ import annotations

from hallbus import schemas
from hallbus.outbox import Outbox
from kiosk.common.sections import decode_or_none
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

    topic = ctx.bus.topics.queue_state

    def on_message(t: str, payload: object) -> None:
        if t == topic:
            decoded = decode_or_none(payload, schemas.QueueState, "queue state")
            if decoded is not None:
                state.on_queue_state(decoded)

    ctx.bridge.message.connect(on_message)
    ctx.bridge.connection.connect(state.on_connection)
    ctx.bridge.subscribe(topic)
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
