"""Builds the hall screen role (大厅屏): retained state and call events in, voice calls out."""

from __future__ import annotations

import logging
from typing import Any

from hallbus import schemas
from kiosk.common.routes import Routes
from kiosk.context import RoleContext, RoleParts
from kiosk.hall.state import HallScreenState
from kiosk.hall.viewmodel import HallScreenViewModel
from kiosk.hall.voice import CallVoice

log = logging.getLogger(__name__)


def build_voice(ctx: RoleContext) -> CallVoice | None:
    """The announcer behind a call queue, or None when `[kiosk] voice_enabled = false`.

    The node's `voice` device picks the player: `"null"` plays nothing (timed), `"command"` uses
    aplay/paplay, anything else (`"default"`, absent) plays through QtMultimedia at `voice_volume`.
    """
    if not ctx.cfg.kiosk.voice_enabled:
        return None
    from devices.voice.announcer import Announcer
    from devices.voice.player import CommandPlayer, NullPlayer, Player

    spec = ctx.cfg.node_devices(ctx.node).voice or "default"
    player: Player
    if spec == "null":
        player = NullPlayer()
    elif spec == "command":
        player = CommandPlayer()
    else:
        from kiosk.hall.qtplayer import QtPlayer

        player = QtPlayer(ctx.cfg.kiosk.voice_volume)
    return CallVoice(Announcer(player), skip_to_newest=ctx.cfg.kiosk.voice_skip_to_newest)


def build(ctx: RoleContext) -> RoleParts:
    """The hall screen's parts."""
    voice = build_voice(ctx)
    state = HallScreenState(ctx.cfg, ctx.catalogue, voice=voice)
    vm = HallScreenViewModel(state)
    t = ctx.bus.topics
    ctx.follow(
        Routes()
        .add(t.calls, schemas.Call, state.on_call, "call")
        .add(t.calls_recent, schemas.CallsRecent, state.on_calls_recent, "recent calls")
        .add(t.queue_state, schemas.QueueState, state.on_queue_state, "queue state")
        .add(t.stats_today, schemas.StatsToday, state.on_stats, "stats")
        .add(t.window_state_all, schemas.WindowState, state.on_window_state, "window state")
        .add(t.hall_notice, schemas.HallNotice, ctx.shell.on_notice, "hall notice"),
        state.on_connection,
    )

    def stop() -> None:
        if voice is not None:
            voice.close()

    keep: list[Any] = [state, voice] if voice is not None else [state]
    return RoleParts(
        qml="hall/HallScreen.qml",
        properties={"vm": vm},
        settled=vm.settled,
        stop=stop,
        keep=keep,
        chrome=False,
    )
