"""Everything the window display (窗口屏, above one window) knows, without Qt.

It only reads: the window's retained state (status, current ticket, staff, next numbers) and
the `calls` events for this window. A new call or a recall bumps `flash_seq`, which the view
turns into a few seconds of flashing and then stops (no animation runs while nothing changes).
A screen that restarts shows the retained truth at once, without flashing an old call.
"""

from __future__ import annotations

import logging
from typing import Any

from hallbus import schemas, wording
from hallbus.config import HallConfig
from kiosk.common.i18n import Catalogue, both
from kiosk.common.sections import Sectioned, configured_window

log = logging.getLogger(__name__)

LAYOUTS = ("full", "strip")


def choose_layout(node_layout: str, size: tuple[int, int] | None) -> str:
    """`strip` for an LED-like strip (config `layout = "strip"`, or a screen wider than 3:1), `full`,
    or '' when config says nothing and the size is not known yet (the view decides by its shape)."""
    if node_layout in LAYOUTS:
        return node_layout
    if size is not None and size[1] > 0:
        return "strip" if size[0] / size[1] >= 3.0 else "full"
    return ""


class WindowDisplayState(Sectioned):
    """The display above one window; Qt-free."""

    SECTIONS = ("window", "call", "link")

    def __init__(
        self, cfg: HallConfig, catalogue: Catalogue, *, window: str, layout: str = "full"
    ) -> None:
        super().__init__()
        win = configured_window(cfg, window, "display")
        self.cfg = cfg
        self.cat = catalogue
        self.window_id = window
        self.win = win
        self.layout = layout
        self.state: schemas.WindowState | None = None
        self.connected = False
        self.number = ""  # the ticket called to this window now
        self.service = ""
        self.flash_seq = 0
        self._flashed: set[tuple[str, str, int]] = (
            set()
        )  # (ticket, called_at, attempt) already flashed
        self.updates = 0

    # --- bus --------------------------------------------------------------------------------

    def on_window_state(self, state: schemas.WindowState) -> None:
        """The window's retained state."""
        if state.window != self.window_id:
            return
        first = self.state is None
        self.state = state
        self.updates += 1
        t = state.ticket
        sections = {"window"}
        if t is not None:
            key = (t.number, t.called_at or "", t.attempt)
            if (t.number, self.service) != (self.number, t.service):
                self.number, self.service = t.number, t.service
                sections.add("call")
            if key not in self._flashed:
                self._flashed.add(key)
                if not first:  # a call we did not hear as an event (e.g. during a reconnect)
                    self.flash_seq += 1
                sections.add("call")
        elif self.number:
            self.number, self.service = "", ""
            sections.add("call")
        self._changed(*sections)

    def on_call(self, call: schemas.Call) -> None:
        """A `calls` event: flash when it is for this window (a new call or a recall)."""
        if call.window != self.window_id:
            return
        self.updates += 1
        key = (call.ticket, call.ts, call.attempt)
        self.number = call.ticket
        self.service = call.service or self.service
        if key not in self._flashed:
            self._flashed.add(key)
            self.flash_seq += 1
        if len(self._flashed) > 200:  # only recent keys matter
            self._flashed = {key}
        self._changed("call")

    def on_connection(self, up: bool) -> None:
        """The broker went up or down (the last state stays on screen)."""
        self.connected = up
        self._changed("link")

    # --- views ------------------------------------------------------------------------------

    def _view_window(self) -> dict[str, Any]:
        st = self.state
        status = st.status if st is not None else "unknown"
        staff = st.staff if st is not None else None
        return {
            "id": self.window_id,
            "name": both(self.win.name, self.win.name_en or self.win.name),
            "status": status,
            "statusText": wording.window_state(status),
            "hint": wording.window_hint(status),
            "pauseReason": (st.pause_reason or "") if st is not None else "",
            "staffName": staff.name if staff else "",
            "staffTitle": wording.staff_title(staff.title if staff else ""),
            "staffId": staff.id if staff else "",
            # the whole list the counter shows as 下一位（预计）, in both layouts
            "next": list(st.next_numbers) if st is not None and status != "paused" else [],
            "layout": self.layout,
        }

    def _view_call(self) -> dict[str, Any]:
        svc = self.cfg.service(self.service) if self.service else None
        return {
            "number": self.number,
            "serviceName": both(svc.name, svc.name_en or svc.name) if svc else both("", ""),
            "flashSeq": self.flash_seq,
        }

    def _view_link(self) -> dict[str, Any]:
        return {"connected": self.connected}
