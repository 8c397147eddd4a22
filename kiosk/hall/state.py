"""Everything the hall screen (大厅屏) knows, without Qt.

It only reads retained state and events: `calls/recent` at start, then `calls` events (each
announced by voice, a recall again), `queue/state`, every `window/+/state` and `stats/today`.
Calls are merged by (ticket, window, time), so the retained list and the events never show a
call twice, and the newest is always first. The screen keeps its last state when the broker
goes away. The waiting chart is sampled from `queue/state` while the screen runs.

The big 正在呼叫 panel shows the newest call that is still true: its window still has that
ticket (a finished, paused or transferred handling leaves the panel; a recall, a new `calls`
event, brings it back). A call newer than its window's last state counts as true until that
window says otherwise. The recent list holds every other call once (a recall of the same
ticket at the same window is one line, at its newest time).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any, Protocol

from hallbus import schemas, wording
from hallbus.config import HallConfig
from kiosk.common.i18n import Catalogue, both
from kiosk.common.rating import rate_text, satisfaction
from kiosk.common.sections import Sectioned

log = logging.getLogger(__name__)

RECENT = 10  # calls listed under the newest one
CHART_START_H = 8
CHART_END_H = 18
CHART_STEP_MIN = 30
OPEN_STATES = ("idle", "serving", "paused")  # someone is logged in: the window is open today


class Voice(Protocol):
    """Where calls are announced (kiosk.hall.voice.CallVoice)."""

    def call(self, ticket: str, window: str) -> None:
        """Queue a call."""
        ...


class HallScreenState(Sectioned):
    """The hall's big screen; Qt-free."""

    SECTIONS = ("calls", "queue", "windows", "stats", "chart", "link")

    def __init__(
        self,
        cfg: HallConfig,
        catalogue: Catalogue,
        *,
        voice: Voice | None = None,
        now: Callable[[], dt.datetime] = schemas.now,
    ) -> None:
        super().__init__()
        self.cfg = cfg
        self.cat = catalogue
        self.voice = voice
        self.now = now
        self.calls: list[schemas.Call] = []  # newest first, at most RECENT + 1
        self._seen: set[tuple[str, str, str, int]] = set()
        self._order: dict[tuple[str, str, str, int], int] = {}
        self._seq = 0
        self.flash_seq = 0
        self.queue: schemas.QueueState | None = None
        self.windows: dict[str, schemas.WindowState] = {}
        self.stats: schemas.StatsToday | None = None
        self.connected = False
        n = (CHART_END_H - CHART_START_H) * 60 // CHART_STEP_MIN
        self.chart: list[int | None] = [None] * n
        self.updates = 0

    # --- bus --------------------------------------------------------------------------------

    def on_calls_recent(self, recent: schemas.CallsRecent) -> None:
        """The retained last calls (a screen that just started shows them at once; never announced)."""
        self.updates += 1
        if self._merge(recent.calls):
            self._changed("calls")

    def on_call(self, call: schemas.Call) -> None:
        """A `calls` event: newest first, flashing, and announced (a recall is announced again)."""
        self.updates += 1
        if self._merge([call]):
            if self.calls and _key(self.calls[0]) == _key(call):
                self.flash_seq += 1
            self._changed("calls")
        if self.voice is not None:
            self.voice.call(call.ticket, call.window)

    def _merge(self, calls: list[schemas.Call]) -> bool:
        """Add calls not seen yet (`calls` newest first); keep the newest RECENT + 1. True when something was added.

        Calls are ordered by their time, and calls with the same time by arrival (an older
        retained list counts as arriving oldest-last), so a burst within one millisecond
        still shows the last call first.
        """
        new = [c for c in reversed(calls) if _key(c) not in self._seen]
        if not new:
            return False
        for c in new:
            self._seq += 1
            self._order[_key(c)] = self._seq
        self.calls = sorted(
            [*self.calls, *new],
            key=lambda c: (_moment(c.ts), self._order.get(_key(c), 0)),
            reverse=True,
        )[: RECENT + 1]
        self._seen.update(_key(c) for c in new)
        if len(self._seen) > 500:  # only keys that can still arrive again matter
            self._seen = {_key(c) for c in self.calls}
            self._order = {k: v for k, v in self._order.items() if k in self._seen}
        return True

    def on_queue_state(self, state: schemas.QueueState) -> None:
        """Waiting per service; also a sample for the chart of waiting over the day."""
        self.updates += 1
        self.queue = state
        sections = {"queue"}
        i = self._chart_index(self.now())
        if i is not None and (self.chart[i] is None or self.chart[i] != state.total_waiting):
            self.chart[i] = max(self.chart[i] or 0, state.total_waiting)
            sections.add("chart")
        self._changed(*sections)

    def on_window_state(self, state: schemas.WindowState) -> None:
        """One window's retained state, for the grid (and for which call is still true)."""
        self.updates += 1
        old = self.windows.get(state.window)
        self.windows[state.window] = state
        if old is None or _holding(old) != _holding(state):
            self._changed("windows", "calls")
        else:
            self._changed("windows")

    def on_stats(self, stats: schemas.StatsToday) -> None:
        """Today's figures."""
        self.updates += 1
        self.stats = stats
        self._changed("stats")

    def on_connection(self, up: bool) -> None:
        """The broker went up or down: the screen keeps everything, only a small mark changes."""
        self.connected = up
        self._changed("link")

    def _chart_index(self, when: dt.datetime) -> int | None:
        minutes = (when.hour - CHART_START_H) * 60 + when.minute
        if minutes < 0 or when.hour >= CHART_END_H:
            return None
        return minutes // CHART_STEP_MIN

    # --- views ------------------------------------------------------------------------------

    def _call_view(self, c: schemas.Call) -> dict[str, Any]:
        win = self.cfg.window(c.window)
        return {
            "ticket": c.ticket,
            "window": c.window,
            "windowName": both(
                c.window_name, (win.name_en if win and win.name_en else c.window_name)
            ),
            "name": c.name_masked or "",
            "attempt": c.attempt,
            "text": both(c.text, c.text_en or c.text),
            "at": _moment(c.ts).strftime("%H:%M") if c.ts else "",
        }

    def current_call(self) -> schemas.Call | None:
        """The newest call still true now (see the module's doc), or None."""
        return next((c for c in self.calls if self._still_called(c)), None)

    def _still_called(self, c: schemas.Call) -> bool:
        st = self.windows.get(c.window)
        if st is None or (st.ts and _moment(st.ts) < _moment(c.ts)):
            return True  # the window has not spoken since this call
        return _holding(st) == c.ticket

    def recent_calls(self, current: schemas.Call | None) -> list[schemas.Call]:
        """Every call but the current one, newest first, each (ticket, window) once."""
        seen = {(current.ticket, current.window)} if current is not None else set()
        out = []
        for c in self.calls:
            if (c.ticket, c.window) not in seen:
                seen.add((c.ticket, c.window))
                out.append(c)
        return out[:RECENT]

    def _view_calls(self) -> dict[str, Any]:
        current = self.current_call()
        return {
            "newest": self._call_view(current) if current is not None else {},
            "has": current is not None,
            "flashSeq": self.flash_seq,
            "recent": [self._call_view(c) for c in self.recent_calls(current)],
        }

    def _view_queue(self) -> dict[str, Any]:
        services = self.queue.services if self.queue is not None else []
        return {
            "total": self.queue.total_waiting if self.queue is not None else 0,
            "services": [
                {
                    "code": s.code,
                    "name": both(s.name, s.name_en or s.name),
                    "waiting": s.waiting,
                    "waitText": wording.service_wait(s.waiting, s.est_wait_s, s.windows_open, s.closed_today),
                    "windowsOpen": s.windows_open,
                }
                for s in services
            ],
        }

    def _view_windows(self) -> list[dict[str, Any]]:
        out = []
        known = [w.id for w in self.cfg.windows] + sorted(
            set(self.windows) - {w.id for w in self.cfg.windows}
        )
        for wid in known:
            st = self.windows.get(wid)
            win = self.cfg.window(wid)
            status = st.status if st is not None else "unknown"
            out.append(
                {
                    "id": wid,
                    "name": both(win.name, win.name_en or win.name) if win else both(wid, wid),
                    "status": status,
                    "ticket": st.ticket.number if st is not None and st.ticket is not None else "",
                    "statusText": wording.window_state(status),
                    "open": status in OPEN_STATES,
                }
            )
        return out

    def _view_stats(self) -> dict[str, Any]:
        s = self.stats
        return {
            "known": s is not None,
            "tickets": s.tickets_issued if s else 0,
            "served": s.served if s else 0,
            "avgWaitMin": wording.wait_minutes(s.avg_wait_s) if s else 0,
            **satisfaction(self.cfg, self.cat, s.satisfaction_rate if s else None, s.ratings if s else 0),
            "onTime": rate_text(s.on_time_rate if s else None),
        }

    def _view_chart(self) -> dict[str, Any]:
        values = [v or 0 for v in self.chart]
        labels = []
        for i in range(len(self.chart)):
            minutes = CHART_START_H * 60 + i * CHART_STEP_MIN
            labels.append(f"{minutes // 60}" if minutes % 120 == 0 else "")
        return {
            "values": values,
            "max": max([1, *values]),
            "labels": labels,
            "now": self._chart_index(self.now()) or -1,
        }

    def _view_link(self) -> dict[str, Any]:
        return {"connected": self.connected}


def _holding(st: schemas.WindowState) -> str:
    """The ticket a window is calling or serving now ('' when none, or when paused or closed)."""
    if st.status in ("paused", "closed") or st.ticket is None:
        return ""
    return st.ticket.number


def _key(c: schemas.Call) -> tuple[str, str, str, int]:
    return (c.ticket, c.window, c.ts, c.attempt)


def _moment(ts: str) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(ts)
    except ValueError:
        return dt.datetime.min.replace(tzinfo=dt.UTC)
