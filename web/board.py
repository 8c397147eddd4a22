"""The hall's live board for phones (`/q`): the retained queue state and the latest calls, as received.

Both are retained topics the controller republishes at every change, so the board is the
last message of each, decoded once; nothing is asked of the controller. Which services are
open now is said by their opening hours (`[[services]] hours`, the rule `ticket.issue` applies)
and then by their open windows; while the controller is away (`web.presence`) the board keeps
the last state and says so. A bus client has one
handler per topic: the board owns `queue/state` and tells the ticket book of each change.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import threading
from collections.abc import AsyncIterator, Callable
from typing import Any

from hallbus import schemas, wording
from hallbus.client import BusClient
from hallbus.config import HallConfig
from hallbus.controller.clock import HallTime, in_hours
from web.presence import ControllerPresence
from web.public import words

log = logging.getLogger(__name__)


class Board:
    """The last `queue/state` and `calls/recent` this process received."""

    def __init__(
        self, bus: BusClient, config: HallConfig, on_queue: Callable[[], None], presence: ControllerPresence
    ) -> None:
        """`on_queue()` is called (on the bus's thread) after every new queue state."""
        self.config = config
        self.presence = presence
        self.hall_time = HallTime.of(config)
        self.on_queue = on_queue
        self.queue: schemas.QueueState | None = None
        self.calls: schemas.CallsRecent | None = None
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._watchers: set[asyncio.Queue[bool]] = set()  # False in a queue: the stream ends
        bus.subscribe(bus.topics.queue_state, self._on_queue)
        bus.subscribe(bus.topics.calls_recent, self._on_calls)
        presence.add_listener(lambda _away: self._changed())

    def _on_queue(self, _topic: str, payload: bytes, _props: Any) -> None:
        try:
            state = schemas.decode(payload, schemas.QueueState)
        except ValueError as err:  # msgspec's errors; a bad payload must not blank the board
            log.warning("ignored a queue state that does not decode: %s", err)
            return
        with self._lock:
            self.queue = state
        self.on_queue()
        self._changed()

    def _on_calls(self, _topic: str, payload: bytes, _props: Any) -> None:
        try:
            calls = schemas.decode(payload, schemas.CallsRecent)
        except ValueError as err:
            log.warning("ignored a calls list that does not decode: %s", err)
            return
        with self._lock:
            self.calls = calls
        self._changed()

    # --- live pages (the server's loop) --------------------------------------------------------

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Tell open board pages of changes on `loop` from now on."""
        self._loop = loop

    def _changed(self) -> None:
        loop = self._loop
        if loop is not None and self._watchers:
            loop.call_soon_threadsafe(self._wake, True)

    def _wake(self, more: bool) -> None:
        for queue in list(self._watchers):
            if queue.empty():  # one pending wake-up is enough: the page reads the newest board
                queue.put_nowait(more)

    def close_streams(self) -> None:
        """End every board stream (any thread): the server is stopping."""
        loop = self._loop
        if loop is not None:
            loop.call_soon_threadsafe(self._wake, False)

    async def follow(self, lang: str, ping_s: float) -> AsyncIterator[dict[str, Any] | None]:
        """The board's view now and after every change; None at every `ping_s` without one."""
        queue: asyncio.Queue[bool] = asyncio.Queue(maxsize=1)
        self._watchers.add(queue)
        try:
            sent = self.view(lang)
            yield sent
            while True:
                try:
                    more = await asyncio.wait_for(queue.get(), ping_s)
                except TimeoutError:  # also the moment a service opens or closes by its hours
                    more = True
                if not more:
                    return
                view = self.view(lang)
                if view != sent:
                    sent = view
                    yield view
                else:
                    yield None
        finally:
            self._watchers.discard(queue)

    def view(self, lang: str, now: dt.datetime | None = None) -> dict[str, Any]:
        """What `/q` shows: services open now with their waiting and wait, the latest calls."""
        key = "en" if lang == "en" else "zh_CN"
        w = words(lang)
        with self._lock:
            queue, calls = self.queue, self.calls
        moment = self.hall_time.local(now or dt.datetime.now(dt.UTC))
        services = []
        for s in queue.services if queue else []:
            svc = self.config.service(s.code)
            hours = svc.hours if svc else []
            spans = ("、" if key == "zh_CN" else ", ").join(hours)
            in_time = in_hours(moment, hours)
            services.append({
                "name": (s.name_en or s.name) if lang == "en" else s.name,
                "code": s.code,
                "waiting": s.waiting,
                "open": in_time and s.windows_open > 0 and not s.closed_today,
                "wait": wording.service_wait(s.waiting, s.est_wait_s, s.windows_open, s.closed_today)[key] if in_time
                else w["svc_closed"].replace("{hours}", spans),
            })
        latest = []
        for c in calls.calls if calls else []:
            win = self.config.window(c.window)
            name = (win.name_en or win.name if lang == "en" else win.name) if win else c.window
            latest.append({"number": c.ticket, "window": name, "at": c.ts[11:16]})  # never the name
        return {
            "known": queue is not None,
            "services": services,
            "calls": latest,
            "total_waiting": queue.total_waiting if queue else 0,
            "as_of": queue.ts[11:16] if queue else "",
            "away": self.presence.away,
        }
