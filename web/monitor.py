"""The console's live monitor (`/admin/monitor`): the hall as the retained state says it, kept live.

Nothing is asked of the controller: hallweb reads the retained window states, the queue
state (with each service's `oldest_issued_at`), `stats/today`, every node's presence and
device health, and the `alerts` events, and keeps the latest of each. A change wakes the
open monitor pages (`follow`, at most every `MIN_GAP_S`), which get the whole view again:
a hall's view is a few kilobytes, and a page never has to merge.

"Since when" is the `ts` of the message that brought a state (a window's `since` for its
status): for a device, the `ts` of the message in which its state last changed, so a
printer out of paper since 09:12 still says 09:12 after the node republished its health.
The monitor owns the `window/+/state` subscription (a bus client has one handler per
filter) and tells the ticket book of every window change (`on_window`); the queue state is
the board's (`queue`), which tells the monitor of each (`queue_changed`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import threading
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Any

import msgspec

from hallbus import schemas
from hallbus.client import BusClient
from hallbus.config import HallConfig
from hallbus.controller.clock import HallTime
from web.presence import ControllerPresence

log = logging.getLogger(__name__)

MIN_GAP_S = 0.3  # a burst of messages costs one push per page
ALERTS_KEPT = 30
DEVICES = ("idcard", "printer", "camera", "scanner", "pcsc")
CONTROLLER = "controller"


class Monitor:
    """The latest retained state of the hall, as the monitor shows it."""

    def __init__(
        self, bus: BusClient, config: HallConfig, presence: ControllerPresence, *,
        on_window: Callable[[], None], queue: Callable[[], schemas.QueueState | None],
    ) -> None:
        """`on_window()` hears every window state (the ticket book); `queue()` is the board's latest queue state."""
        self.config = config
        self.queue = queue
        self.presence = presence
        self.on_window = on_window
        self._lock = threading.Lock()
        self.windows: dict[str, schemas.WindowState] = {}
        self.stats: schemas.StatsToday | None = None
        self.nodes: dict[str, dict[str, Any]] = {}  # node -> {"state", "since"}
        self.devices: dict[str, dict[str, dict[str, Any]]] = {}  # node -> device -> {"state", "detail", "since"}
        self.alerts: deque[dict[str, Any]] = deque(maxlen=ALERTS_KEPT)
        self.hall_time = HallTime.of(config)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._watchers: set[asyncio.Queue[bool]] = set()  # False in a queue: the stream ends
        t = bus.topics
        bus.subscribe(t.window_state_all, self._on_window)
        bus.subscribe(t.stats_today, self._on_stats)
        bus.subscribe(t.alerts, self._on_alert)
        bus.subscribe(t.node_status_all, self._on_status)
        bus.subscribe(t.node_devices_all, self._on_devices)
        presence.add_listener(lambda _away: self._bump())

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Wake open pages on `loop` from now on."""
        self._loop = loop

    def close_streams(self) -> None:
        """End every monitor stream (any thread): the server is stopping."""
        loop = self._loop
        if loop is not None:
            loop.call_soon_threadsafe(self._wake, False)

    def queue_changed(self) -> None:
        """The board received a new `queue/state` (it owns that subscription; any thread)."""
        self._bump()

    # --- messages (the bus's thread) -----------------------------------------------------

    def _decode(self, payload: bytes, kind: type[Any], topic: str) -> Any:
        try:
            return schemas.decode(payload, kind)
        except (ValueError, msgspec.ValidationError) as err:
            log.warning("monitor: ignored %s that does not decode: %s", topic, err)
            return None

    def _on_window(self, topic: str, payload: bytes, _props: Any) -> None:
        self.on_window()
        state = self._decode(payload, schemas.WindowState, topic)
        if state is not None:
            with self._lock:
                self.windows[state.window] = state
            self._bump()

    def _on_stats(self, topic: str, payload: bytes, _props: Any) -> None:
        stats = self._decode(payload, schemas.StatsToday, topic)
        if stats is not None:
            with self._lock:
                self.stats = stats
            self._bump()

    def _on_alert(self, topic: str, payload: bytes, _props: Any) -> None:
        alert = self._decode(payload, schemas.Alert, topic)
        if alert is not None:
            with self._lock:
                self.alerts.appendleft({"kind": alert.kind, "level": alert.level, "subject": alert.subject,
                                        "detail": alert.detail, "at": alert.ts})
            self._bump()

    @staticmethod
    def _node_of(topic: str) -> str:
        parts = topic.split("/")
        return parts[-2] if len(parts) >= 2 else ""

    def _on_status(self, topic: str, payload: bytes, _props: Any) -> None:
        status = self._decode(payload, schemas.NodeStatus, topic)
        if status is not None:
            with self._lock:
                self.nodes[self._node_of(topic)] = {"state": status.state, "since": status.ts}
            self._bump()

    def _on_devices(self, topic: str, payload: bytes, _props: Any) -> None:
        health = self._decode(payload, schemas.NodeDevices, topic)
        if health is None:
            return
        node = self._node_of(topic)
        with self._lock:
            before = self.devices.get(node, {})
            now: dict[str, dict[str, Any]] = {}
            for name in DEVICES:
                dev = getattr(health, name)
                if dev is None:
                    continue
                old = before.get(name)
                same = old is not None and old["state"] == dev.state
                now[name] = {"state": dev.state, "detail": dev.detail or "",
                             "since": old["since"] if same and old is not None else health.ts}
            self.devices[node] = now
        self._bump()

    def _bump(self) -> None:
        loop = self._loop
        if loop is not None and self._watchers:
            loop.call_soon_threadsafe(self._wake, True)

    def _wake(self, more: bool) -> None:
        for queue in list(self._watchers):
            if queue.empty():  # one pending wake-up is enough: the page gets the newest view
                queue.put_nowait(more)

    # --- the view ------------------------------------------------------------------------

    def view(self, now: dt.datetime | None = None) -> dict[str, Any]:
        """Everything the monitor page shows, as JSON-ready data (times ISO-8601; the page counts on from `now`)."""
        now = self.hall_time.local(now or dt.datetime.now(dt.UTC))
        with self._lock:
            windows = dict(self.windows)
            stats = self.stats
            nodes, devices, alerts = dict(self.nodes), {k: dict(v) for k, v in self.devices.items()}, list(self.alerts)
        queue = self.queue()
        rows = []
        for w in self.config.windows:
            s = windows.get(w.id)
            rows.append({
                "id": w.id, "name": w.name, "name_en": w.name_en,
                "status": s.status if s else "unknown", "since": s.since if s else "",
                "staff": s.staff.name if s and s.staff else "", "staff_id": s.staff.id if s and s.staff else "",
                "ticket": s.ticket.number if s and s.ticket else "",
                "pause_reason": (s.pause_reason or "") if s else "",
            })
        limits = {svc.code: svc.alert_wait_s for svc in self.config.services}
        services = []
        for q in queue.services if queue else []:
            oldest = q.oldest_issued_at
            waited = max(0.0, (now - dt.datetime.fromisoformat(oldest)).total_seconds()) if oldest else 0.0
            limit = limits.get(q.code)
            services.append({
                "code": q.code, "name": q.name, "name_en": q.name_en, "waiting": q.waiting,
                "est_wait_s": q.est_wait_s, "windows_open": q.windows_open, "oldest_issued_at": oldest or "",
                "longest_wait_s": int(waited), "alert_wait_s": limit, "over": bool(limit and oldest and waited >= limit),
            })
        board = []
        for n in self.config.nodes:
            seen = nodes.get(n.id, {"state": "unknown", "since": ""})
            board.append({"node": n.id, "role": n.role, "window": n.window or "", "state": seen["state"],
                          "since": seen["since"], "devices": [{"name": k, **v} for k, v in devices.get(n.id, {}).items()]})
        figures = None
        if stats is not None:
            figures = {k: getattr(stats, k) for k in (
                "visitors", "tickets_issued", "served", "no_show", "avg_wait_s", "avg_service_s", "ratings",
                "satisfaction_rate", "cases_done", "on_time_rate", "overdue_cases", "followups_open",
                "followups_overdue")}
        return {
            "now": now.isoformat(timespec="seconds"), "away": self.presence.away, "windows": rows,
            "services": services, "total_waiting": queue.total_waiting if queue else 0, "stats": figures,
            "nodes": board, "alerts": alerts,
        }

    def staff_figures(self, staff_id: str) -> dict[str, Any] | None:
        """One staff member's own figures of today (their ratings), for a `staff` account; None before any stats."""
        with self._lock:
            stats = self.stats
        if stats is None:
            return None
        mine = stats.ratings_by_staff.get(staff_id)
        return {"ratings": mine.ratings if mine else 0, "bad": mine.bad if mine else 0,
                "satisfaction_rate": mine.satisfaction_rate if mine else None}

    async def follow(self, ping_s: float) -> AsyncIterator[dict[str, Any] | None]:
        """The view now, then again after every change (at most every `MIN_GAP_S`); None when a ping is due."""
        queue: asyncio.Queue[bool] = asyncio.Queue(maxsize=1)
        self._watchers.add(queue)
        try:
            yield self.view()
            while True:
                try:
                    more = await asyncio.wait_for(queue.get(), ping_s)
                except TimeoutError:
                    yield None
                    continue
                if not more:
                    return
                await asyncio.sleep(MIN_GAP_S)  # let a burst settle: one push for it
                yield self.view()
        finally:
            self._watchers.discard(queue)
