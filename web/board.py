"""The hall's live board for phones (`/q`): the retained queue state and the latest calls, as received.

Both are retained topics the controller republishes at every change, so the board is the
last message of each, decoded once; nothing is asked of the controller. Which services are
open now is said by their opening hours (`[[services]] hours`, the rule `ticket.issue` applies)
and then by their open windows; while the controller is away (`web.presence`) the board keeps
the last state and says so. A bus client has one
handler per topic: the board owns `queue/state` and tells the ticket book of each change.

Open `/q` pages follow `/api/v1/board/events`. The view depends on the language only (large
print is the page's style), so at each change the board is built and encoded once per
language that has open pages, and the same bytes go to every one of them (`web.sse`): a
hall with a thousand phones on `/q` pays one view and one encoding per change, not a
thousand. Threads: bus handlers only schedule the update on the web server's loop.
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
from web import sse
from web.presence import ControllerPresence
from web.public import words
from web.sse import Known

log = logging.getLogger(__name__)

COALESCE_S = 0.005  # a call sends the queue's state and the latest calls within ~1 ms: one update for both


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
        self._watchers: dict[str, set[asyncio.Queue[bytes | None]]] = {}  # by language; None in a queue: the stream ends
        self._sent: dict[str, Known] = {}  # by language: the view last given to the open pages, and its event
        self._pending = False  # an update is scheduled on the loop
        self._closing = False
        self._pinger: asyncio.Task[None] | None = None
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

    async def start(self, ping_s: float) -> None:
        """Tell open board pages of changes from now on, and ping them every `ping_s` (on the server's loop).

        The ping is also the moment a service opens or closes by its hours: the views are built again then.
        """
        self._loop = asyncio.get_running_loop()
        self._pinger = asyncio.create_task(self._pings(ping_s), name="board-pings")

    async def stop(self) -> None:
        """Stop pinging."""
        if self._pinger is not None:
            self._pinger.cancel()
            await asyncio.gather(self._pinger, return_exceptions=True)

    def _changed(self) -> None:
        """The queue, the calls or the controller's presence changed (any thread): one update on the loop."""
        loop = self._loop
        if loop is not None and self._watchers and not self._pending:
            self._pending = True  # a burst (the queue and the calls of one call) is one update
            loop.call_soon_threadsafe(loop.call_later, COALESCE_S, self._update_all)

    def _update_all(self) -> None:
        self._pending = False  # before reading the state: a change from now on schedules another update
        for lang in list(self._watchers):
            self._update(lang)

    def _update(self, lang: str) -> Known:
        """The board's view in `lang` now; when it changed, encoded once and given to every open page in `lang`."""
        view = self.view(lang)
        known = self._sent.get(lang)
        if known is None or known.view != view:
            known = self._sent[lang] = Known(view, sse.frame("board", view))
            for queue in self._watchers.get(lang, ()):
                self._put(queue, known.frame)
        return known

    def _put(self, queue: asyncio.Queue[bytes | None], event: bytes | None) -> None:
        if self._closing:
            return
        if queue.full():  # a page behind: it needs the newest board only
            queue.get_nowait()
        queue.put_nowait(event)

    async def _pings(self, ping_s: float) -> None:
        while True:
            await asyncio.sleep(ping_s)
            for lang in list(self._watchers):
                before = self._sent.get(lang)
                if self._update(lang) is before:  # unchanged: a ping into every idle stream
                    for queue in self._watchers.get(lang, ()):
                        if queue.empty():
                            self._put(queue, sse.PING)

    def close_streams(self) -> None:
        """End every board stream (any thread): the server is stopping."""
        loop = self._loop
        if loop is not None:
            loop.call_soon_threadsafe(self._close_all)

    def _close_all(self) -> None:
        for queues in self._watchers.values():
            for queue in queues:
                self._put(queue, None)
        self._closing = True

    @property
    def streams(self) -> int:
        """How many board streams are open now."""
        return sum(len(queues) for queues in self._watchers.values())

    async def follow(self, lang: str) -> AsyncIterator[bytes]:
        """The board's event stream in `lang`: its `board` event now and at every change, `sse.PING` when idle.

        Every open page in one language gets the same bytes, encoded once per change.
        """
        if self._closing:
            return
        queue: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=1)
        first = self._update(lang)  # before joining: the other pages get a change found here, this one its first
        self._watchers.setdefault(lang, set()).add(queue)
        try:
            yield first.frame
            while (event := await queue.get()) is not None:
                yield event
        finally:
            watchers = self._watchers.get(lang)
            if watchers is not None:
                watchers.discard(queue)
                if not watchers:
                    del self._watchers[lang]

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
