"""The web service's bus side: the state of every ticket an open page follows, pushed on change.

Window states and `ticket.status` by number carry no ticket ids (a ticket's id is its
holder's secret), so the service cannot tell from the retained state alone which followed
ticket changed. What it can tell is *that* the queue changed: the controller republishes
`queue/state` (and the windows it touched) after every issue, call, recall, finish and
cancel, and sends a `calls` event at every call. Each such message marks the book dirty;
one refresher then asks `ticket.statuses` for every followed ticket at once (500 ids a
request) and pushes to each page only what changed. So one change costs one request per
500 open tickets, never one per page; a burst of messages costs one round. Each changed
ticket's event is encoded once (`web.sse.frame`) and the same bytes go to every page that
follows it.

While the controller is away (`web.presence`: its retained presence says offline or lost,
or hallweb's own bus is down) nothing is asked: every open page gets its last known state
marked `away`, and the first round after the controller's return brings them up to date.

Threads: bus handlers run on paho's network thread and only set an asyncio event on the
web server's loop; everything else runs on that loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

from hallbus import schemas
from hallbus.client import BusClient
from hallbus.config import HallConfig
from hallbus.rpc import RpcClient, RpcFault
from web import sse
from web.presence import ControllerPresence
from web.public import ACTIVE, is_ticket_id, public_ticket
from web.sse import Known

log = logging.getLogger(__name__)

RPC_TIMEOUT_S = 5.0
COALESCE_S = 0.005  # a call sends its event, the window's state and the queue's within ~1 ms
PING_S = 15.0  # an SSE comment at least this often (SPEC 12.1), so proxies keep the stream open

Public = dict[str, Any]


class BusDown(Exception):
    """The controller cannot be asked right now (broker away, controller silent)."""

    def __init__(self, fault: RpcFault) -> None:
        super().__init__(str(fault))
        self.fault = fault


class TicketBook:
    """What hallweb knows of the tickets its pages follow."""

    def __init__(self, bus: BusClient, rpc: RpcClient, config: HallConfig, presence: ControllerPresence) -> None:
        self.bus = bus
        self.presence = presence
        self.rpc = rpc
        self.config = config
        self.rounds = 0  # refresh rounds run (a health figure)
        self._watchers: dict[str, set[asyncio.Queue[bytes | None]]] = {}  # None in a queue: the stream ends
        self._closing = False
        self._last: dict[str, Known] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._dirty: asyncio.Event | None = None
        self._tasks: list[asyncio.Task[None]] = []

    # --- lifecycle (on the server's loop) ----------------------------------------------------

    async def start(self) -> None:
        """Follow the queue's changes from now on (call on the server's event loop)."""
        self._loop = asyncio.get_running_loop()
        self._dirty = asyncio.Event()
        t = self.bus.topics
        # `queue/state` is the board's and `window/+/state` the console monitor's (one handler per filter):
        # they call `queue_changed`
        self.bus.subscribe(t.calls, self._on_change)
        self.bus.add_connection_listener(self._on_connection)
        self.presence.add_listener(self._on_presence)
        self._tasks = [asyncio.create_task(self._refresher(), name="ticket-book"),
                       asyncio.create_task(self._pinger(), name="ticket-pings")]

    async def stop(self) -> None:
        """Stop refreshing."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def close_streams(self) -> None:
        """End every event stream now (from any thread): the server is stopping, its clients reconnect elsewhere.

        Without it a stopping server waits for open streams until its grace time runs out.
        """
        loop = self._loop
        if loop is not None:
            loop.call_soon_threadsafe(self._close_all)

    def _close_all(self) -> None:
        self._closing = True
        for queues in self._watchers.values():
            for queue in queues:
                if queue.full():
                    queue.get_nowait()
                queue.put_nowait(None)

    def _on_change(self, _topic: str, _payload: bytes, _props: Any) -> None:
        self._mark_dirty()

    def queue_changed(self) -> None:
        """The retained queue state changed (any thread): the followed tickets may have moved."""
        self._mark_dirty()

    def _on_connection(self, up: bool) -> None:
        if up:  # what changed while the bus was away is known only by asking again
            self._mark_dirty()

    def _on_presence(self, away: bool) -> None:
        loop = self._loop
        if away and loop is not None:
            loop.call_soon_threadsafe(self._say_away)
        elif not away:  # back: what changed meanwhile is known only by asking
            self._mark_dirty()

    def _say_away(self) -> None:
        """Tell every open page that its state is the last known one (the controller is away)."""
        for ticket_id in list(self._watchers):
            view = self.last_known(ticket_id)
            if view is not None:
                self._push(ticket_id, view)

    def _mark_dirty(self) -> None:
        loop, dirty = self._loop, self._dirty
        if loop is not None and dirty is not None and self._watchers:
            loop.call_soon_threadsafe(dirty.set)

    # --- reading one ticket ------------------------------------------------------------------

    async def lookup(self, ticket_id: str) -> Public | None:
        """A ticket's public view, asked of the controller now; None when there is no such ticket.

        Raises BusDown when the controller cannot be asked (the caller may show `last_known`).
        """
        if not is_ticket_id(ticket_id):
            return None
        if self.presence.away:  # known to be away: no wait for a request that cannot be answered
            raise BusDown(RpcFault("unavailable", "大厅服务器暂时不在线。", "The hall controller is away."))
        fut = self.rpc.call_typed_async(schemas.TICKET_STATUS, {"ticket_id": ticket_id}, timeout=RPC_TIMEOUT_S)
        try:
            reply = await asyncio.wrap_future(fut)
        except RpcFault as fault:
            if fault.code == "unknown_ticket":
                return None
            raise BusDown(fault) from fault
        view = public_ticket(reply.ticket, self.config)
        self._remember(ticket_id, view)
        return view

    def last_known(self, ticket_id: str) -> Public | None:
        """The last state this process saw of a ticket, marked `away` (shown when the controller is away)."""
        known = self._last.get(ticket_id)
        return None if known is None else {**known.view, "away": True}

    def _remember(self, ticket_id: str, view: Public) -> Known:
        known = self._last.get(ticket_id)
        if known is None or known.view != view:
            known = self._last[ticket_id] = Known(view, sse.frame("ticket", view))
        return known

    async def cancel(self, ticket_id: str) -> Public:
        """The holder leaves the queue; RpcFault `unknown_ticket` / `ticket_not_waiting` as the controller says."""
        fut = self.rpc.call_typed_async(schemas.TICKET_CANCEL, {"ticket_id": ticket_id}, timeout=RPC_TIMEOUT_S)
        reply = await asyncio.wrap_future(fut)
        view = public_ticket(reply.ticket, self.config)
        self._push(ticket_id, view)
        return view

    async def rate(self, ticket_id: str, level: int, reasons: list[str], comment: str, rating_id: str) -> Any:
        """`rating.submit` with the ticket's id as proof; RpcFault as the controller says (`already_rated` ...)."""
        body = {"rating_id": rating_id, "level": level, "reasons": reasons, "comment": comment, "ticket_id": ticket_id}
        fut = self.rpc.call_typed_async(schemas.RATING_SUBMIT, body, timeout=RPC_TIMEOUT_S)
        return await asyncio.wrap_future(fut)

    # --- following tickets -------------------------------------------------------------------

    async def follow(self, ticket_id: str) -> AsyncIterator[bytes]:
        """The ticket's event stream: its `ticket` event now and at every change, and `sse.PING` every `PING_S`.

        The first event is the current state (the last known one when the controller is
        away; nothing at all for an unknown ticket: the caller checked it). Stops following
        when the consumer stops iterating, and ends when the server stops (`close_streams`).
        Every page of a ticket gets the same bytes, encoded once per change.
        """
        if self._closing:
            return
        queue: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=64)
        self._watchers.setdefault(ticket_id, set()).add(queue)
        try:
            sent: bytes | None = None
            try:
                await self.lookup(ticket_id)
            except BusDown:  # the last known state, marked away
                away = self.last_known(ticket_id)
                if away is not None:
                    self._remember(ticket_id, away)
            first = self._last.get(ticket_id)
            if first is not None:
                sent = first.frame
                yield sent
            while True:
                # No timeout here (one timer and one task per page and event): `_pinger` sends the pings.
                event = await queue.get()
                while event is not None and not queue.empty():  # only the newest state of a burst matters
                    more = queue.get_nowait()
                    if more is not sse.PING:  # a ping behind a state adds nothing
                        event = more
                if event is None:
                    return
                if event is sse.PING:
                    yield event
                elif event != sent:
                    sent = event
                    yield event
        finally:
            watchers = self._watchers.get(ticket_id)
            if watchers is not None:
                watchers.discard(queue)
                if not watchers:
                    del self._watchers[ticket_id]

    @property
    def followed(self) -> int:
        """How many tickets open pages follow now."""
        return len(self._watchers)

    def _push(self, ticket_id: str, view: Public) -> None:
        event = self._remember(ticket_id, view).frame
        for queue in self._watchers.get(ticket_id, ()):
            if self._closing:
                break
            if queue.full():  # a consumer far behind: it needs the newest state only
                queue.get_nowait()
            queue.put_nowait(event)

    async def _pinger(self) -> None:
        """A ping into every idle stream each `PING_S`, so no quiet stream goes longer without a byte."""
        while True:
            await asyncio.sleep(PING_S)
            for queues in self._watchers.values():
                for queue in queues:
                    if queue.empty() and not self._closing:
                        queue.put_nowait(sse.PING)

    async def _refresher(self) -> None:
        assert self._dirty is not None
        while True:
            await self._dirty.wait()
            await asyncio.sleep(COALESCE_S)  # the other messages of the same change, in one round
            self._dirty.clear()
            if self.presence.away:  # nothing can be asked; its return marks the book dirty again
                continue
            try:
                await self.refresh()
            except RpcFault as fault:  # the bus or controller is away: the reconnect marks us again
                log.info("could not refresh followed tickets: %s", fault)
            except Exception:
                log.exception("refreshing followed tickets failed")

    async def refresh(self) -> None:
        """Ask the controller for every followed ticket (one request per 500) and push what changed."""
        self.rounds += 1
        ids = list(self._watchers)
        step = schemas.MAX_WATCHED_IDS
        futures = [
            asyncio.wrap_future(
                self.rpc.call_typed_async(
                    schemas.TICKET_STATUSES, {"ticket_ids": ids[i:i + step]}, timeout=RPC_TIMEOUT_S
                )
            )
            for i in range(0, len(ids), step)
        ]
        for reply in await asyncio.gather(*futures):
            for ticket in reply.tickets:
                view = public_ticket(ticket, self.config)
                known = self._last.get(ticket.ticket_id)
                if known is None or view != known.view:
                    self._push(ticket.ticket_id, view)
        # Tickets that ended stay in `_last` only while followed: the dict must not grow all day.
        for tid in [t for t, k in self._last.items() if t not in self._watchers and k.view["status"] not in ACTIVE]:
            del self._last[tid]
