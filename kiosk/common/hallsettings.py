"""What a screen takes from the controller's retained state about settings a manager changes (Qt-free).

A manager may change which services a window serves without a restart (SPEC 12.2); each
window's retained state carries its `services` as the controller has them now, and a screen
that names windows (the counter's queue, the terminal's "go to window ...") follows those
rather than its own copy of hall.toml.
"""

from __future__ import annotations

import msgspec

from hallbus.config import HallConfig, WindowSection


def window_serving(win: WindowSection, services: list[str]) -> WindowSection:
    """`win` serving `services` (the same object when nothing changed; an empty list changes nothing)."""
    if not services or services == win.services:
        return win
    return msgspec.structs.replace(win, services=list(services))


def config_serving(cfg: HallConfig, window: str, services: list[str]) -> HallConfig:
    """`cfg` with window `window` serving `services` (the same object when nothing changed)."""
    win = cfg.window(window)
    if win is None or window_serving(win, services) is win:
        return cfg
    return msgspec.structs.replace(cfg, windows=[window_serving(w, services) if w.id == window else w
                                                 for w in cfg.windows])
