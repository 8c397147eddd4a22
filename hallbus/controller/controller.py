"""The controller core: batches in one transaction, replies stored for idempotency, state after commit.

`Controller` is the RPC server's dispatcher. For a batch it opens one write transaction,
rolls the day over if the clock passed the roll-over hour, runs each request in its own
savepoint, stores each reply under its `request_id`, and commits (one fsync for the
batch) before any reply goes out. After the replies are sent (`after_replies`) it
publishes the batch's events and asks the modules to refresh the retained state they
marked, on a publisher thread with its own read connection, so the writer is free for
the next batch at once.
"""

from __future__ import annotations

import functools
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import Any, Protocol

import msgspec

from hallbus import schemas
from hallbus.config import HallConfig
from hallbus.controller.clock import Clock
from hallbus.controller.module import (
    ALL,
    ControllerModule,
    Outgoing,
    QueueEvent,
    Tx,
    TxHandler,
)
from hallbus.controller.queue import QueueModule
from hallbus.controller.store import LEGACY_NODE, ReplyKey, Store
from hallbus.rpc import Request, RpcFault, error_reply, internal_fault, ok_reply, unknown_method
from hallbus.topics import Topics

log = logging.getLogger(__name__)

REPLY_KEEP_S = 24 * 3600  # how long a request's reply is remembered, unless the size bound comes first
REPLY_KEEP_MAX = 100_000  # stored replies at most (~530 bytes each: ~60 MB with the key; docs/controller.md)
REFRESH_BURST = 3  # state refreshes that may follow each other at once before the interval applies


class Publisher(Protocol):
    """Where the controller's messages go (a BusClient in production)."""

    def publish(self, topic: str, payload: Any, *, qos: int = 1, retain: bool = False) -> Any:
        """An event."""
        ...

    def publish_state(self, topic: str, payload: Any, *, qos: int = 1) -> Any:
        """Retained state, remembered for reconnects."""
        ...


class Controller:
    """One store, its modules, the batch dispatcher, the tick and the state publisher."""

    def __init__(
        self,
        *,
        config: HallConfig,
        store: Store,
        queue_module: QueueModule,
        modules: Sequence[ControllerModule],
        hall_key: bytes,
        clock: Clock,
        publisher: Publisher | None = None,
        refresh_async: bool = True,
        refresh_interval_s: float = 0.0,
        stats_interval_s: float = 0.0,
    ) -> None:
        self.config = config
        self.store = store
        self.queue = queue_module
        self.modules = list(modules)
        if self.queue not in self.modules:
            self.modules.insert(0, self.queue)
        self.hall_key = hall_key
        self.clock = clock
        self.topics = Topics(config.hall.id)
        self.publisher = publisher
        self.handlers: dict[str, TxHandler] = {"stats.today": self._rpc_stats}
        self.preparers: dict[str, Callable[[Request], None]] = {}
        for m in self.modules:
            store.migrate(m.name, m.migrations)
            for method, fn in m.handlers().items():
                if method in self.handlers:
                    raise ValueError(f"RPC method {method} is claimed by two modules (the second: {m.name})")
                self.handlers[method] = fn
            self.preparers.update(m.preparers())
        self._pending: list[Outgoing] = []
        self._pending_lock = threading.Lock()
        self._last_state: dict[str, Any] = {}
        self._state_lock = threading.Lock()
        self.duplicates = 0
        self.batches = 0
        self.reply_keep_s = REPLY_KEEP_S
        self.reply_keep_max = REPLY_KEEP_MAX
        self._refresher: _Refresher | None = None
        # stats/today scans the day's tickets: under load it is published at most this often
        # (the tick publishes what was held back), other state as soon as the publisher can.
        self.stats_interval_s = stats_interval_s
        self._last_stats = -1e9
        self._stats_held = False
        with store.lock:
            # The (node, request_id) with a stored reply, so a new request needs no lookup.
            self._reply_ids = store.reply_keys()
            tx = self._begin()
            self.queue.prepare(tx)
            self._ensure_day(tx)
            store.conn.execute("COMMIT")
        if refresh_async:
            self._refresher = _Refresher(self, store.reader(), refresh_interval_s)
            self._refresher.start()

    # --- transactions -------------------------------------------------------------------

    def _tx(self, conn: sqlite3.Connection, now: Any) -> Tx:
        return Tx(
            conn,
            config=self.config,
            topics=self.topics,
            hall_key=self.hall_key,
            now=now,
            event_sink=self._on_queue_event,
        )

    def _begin(self) -> Tx:
        self.store.conn.execute("BEGIN IMMEDIATE")
        return self._tx(self.store.conn, self.clock())

    def _ensure_day(self, tx: Tx) -> None:
        """Roll the hall day over when due: the queue closes it, then every module archives what it keeps of it."""
        self.queue.ensure_day(tx, self._figures, self._close_day)

    def _close_day(self, tx: Tx, day: str) -> None:
        for m in self.modules:
            m.close_day(tx, day)

    def _on_queue_event(self, tx: Tx, event: QueueEvent) -> None:
        for m in self.modules:
            m.on_queue_event(tx, event)

    # --- the dispatcher -----------------------------------------------------------------

    def handle_batch(self, requests: list[Request]) -> list[schemas.RpcReply]:
        """Handle a batch in one transaction, committed before this returns (and so before any reply)."""
        conn = self.store.conn
        with self.store.lock:
            out = Outgoing()
            kept: list[ReplyKey] = []
            try:
                base = self._begin()
                self._ensure_day(base)
                out.merge(base.out)
                replies = [self._one(base, req, out, kept) for req in requests]
                conn.execute("COMMIT")
            except Exception:
                log.exception("a batch of %d requests failed; nothing of it was kept", len(requests))
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                self._reply_ids.difference_update(kept)
                return [error_reply(r.request_id, internal_fault()) for r in requests]
            self.batches += 1
        with self._pending_lock:
            self._pending.append(out)
        return replies

    def slow_work(self, req: Request) -> Callable[[], None] | None:
        """The module's slow preparation of this request (run by the RPC server off its thread), if any."""
        fn = self.preparers.get(req.method)
        return None if fn is None else functools.partial(fn, req)

    def _one(self, base: Tx, req: Request, out: Outgoing, kept: list[ReplyKey]) -> schemas.RpcReply:
        conn = base.conn
        # Keyed by the node the reply goes to: a request_id another node sends is another request.
        key = (req.caller or "", req.request_id)
        if key in self._reply_ids or (LEGACY_NODE, req.request_id) in self._reply_ids:  # else no query
            stored = self.store.stored_reply(*key)
            if stored is not None:
                self.duplicates += 1
                return schemas.decode(stored, schemas.RpcReply)
        handler = self.handlers.get(req.method)
        if handler is None:
            return error_reply(req.request_id, unknown_method(req.method))
        tx = base.for_request(req)
        conn.execute("SAVEPOINT request")
        try:
            reply = ok_reply(req.request_id, handler(req, tx), base.now_iso)
            conn.execute("RELEASE request")
            out.merge(tx.out)
        except RpcFault as fault:
            conn.execute("ROLLBACK TO request")
            for write in tx.on_fault:  # what the error must not undo (a failed login counted)
                write(tx)
            conn.execute("RELEASE request")
            reply = error_reply(req.request_id, fault)
        except Exception:
            log.exception("handler of %s failed (request %s); rolled back", req.method, req.request_id)
            conn.execute("ROLLBACK TO request")
            conn.execute("RELEASE request")
            return error_reply(req.request_id, internal_fault())  # not stored: a retry may succeed
        self.store.keep_reply(*key, req.method, schemas.encode(reply), base.now_ts)
        self._reply_ids.add(key)  # taken out again if the batch rolls back
        kept.append(key)
        return reply

    def after_replies(self) -> None:
        """Publish what committed batches produced: events now, retained state via the publisher thread."""
        with self._pending_lock:
            outs, self._pending = self._pending, []
        marks: set[str] = set()
        for o in outs:
            if self.publisher is not None:
                for topic, data in o.events:
                    self.publisher.publish(topic, data, qos=1)
            self._publish_states(o.states)
            marks |= o.marks
        if marks:
            if self._refresher is not None:
                self._refresher.request(marks)
            else:
                with self.store.lock:
                    self._refresh_on(self.store.conn, marks)

    # --- periodic work ------------------------------------------------------------------

    def tick(self) -> None:
        """Roll the day over when due and run every module's tick, each in its own savepoint."""
        conn = self.store.conn
        with self.store.lock:
            out = Outgoing()
            try:
                base = self._begin()
                self._ensure_day(base)
                out.merge(base.out)
                for m in self.modules:
                    tx = base.for_request()
                    conn.execute("SAVEPOINT tick")
                    try:
                        m.tick(tx)
                        conn.execute("RELEASE tick")
                        out.merge(tx.out)
                    except Exception:
                        log.exception("tick of module %s failed; its changes were rolled back", m.name)
                        conn.execute("ROLLBACK TO tick")
                        conn.execute("RELEASE tick")
                # Bounded by age and by count; each tick forgets at most a few thousand (a few ms).
                over = len(self._reply_ids) - self.reply_keep_max
                gone = self.store.prune_replies(base.now_ts - self.reply_keep_s, over)
                conn.execute("COMMIT")
                self._reply_ids.difference_update(gone)
            except Exception:
                log.exception("tick failed")
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                return
        if self._stats_held:
            out.marks.add("stats")
        with self._pending_lock:
            self._pending.append(out)
        self.after_replies()

    # --- retained state -----------------------------------------------------------------

    def publish_all(self) -> None:
        """Publish every retained state now (start-up), on the calling thread."""
        with self.store.lock:
            self._refresh_on(self.store.conn, {ALL})

    def _refresh_on(self, conn: sqlite3.Connection, keys: AbstractSet[str]) -> None:
        tx = self._tx(conn, self.clock())
        conn.execute("BEGIN")
        try:
            for m in self.modules:
                try:
                    m.refresh(tx, keys)
                except Exception:
                    log.exception("refresh of module %s failed", m.name)
            if ALL in keys or "stats" in keys:
                mono = time.monotonic()
                if ALL in keys or mono - self._last_stats >= self.stats_interval_s:
                    self._last_stats = mono
                    self._stats_held = False
                    tx.publish_state(self.topics.stats_today, self.stats_today(tx))
                else:
                    self._stats_held = True
        finally:
            conn.execute("COMMIT")
        if self.publisher is not None:
            for topic, data in tx.out.events:
                self.publisher.publish(topic, data, qos=1)
        self._publish_states(tx.out.states)

    def _publish_states(self, states: Mapping[str, bytes]) -> None:
        """Publish retained state that changed (a new `ts` alone is no change)."""
        if not states:
            return
        with self._state_lock:
            for topic, data in states.items():
                try:
                    body = msgspec.json.decode(data)
                except msgspec.DecodeError:
                    body = data
                if isinstance(body, dict):
                    body.pop("ts", None)
                if self._last_state.get(topic) == body:
                    continue
                self._last_state[topic] = body
                if self.publisher is not None:
                    self.publisher.publish_state(topic, data)

    def last_state(self, topic: str) -> Any:
        """The last retained payload published on `topic` (without `ts`), or None."""
        with self._state_lock:
            return self._last_state.get(topic)

    # --- stats --------------------------------------------------------------------------

    def _figures(self, tx: Tx, day: str) -> dict[str, Any]:
        stats: dict[str, Any] = {"date": day}
        for m in self.modules:
            m.contribute_stats(tx, stats)
        return stats

    def stats_today(self, tx: Tx) -> schemas.StatsToday:
        """Today's figures from every module."""
        stats = self._figures(tx, tx.today)
        stats["ts"] = tx.now_iso
        return msgspec.convert(stats, schemas.StatsToday)

    def _rpc_stats(self, _req: Request, tx: Tx) -> Mapping[str, Any]:
        return {"stats": schemas.to_builtins(self.stats_today(tx))}

    # --- lifecycle ----------------------------------------------------------------------

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until the publisher thread has published everything asked of it so far."""
        if self._refresher is None:
            return True
        return self._refresher.wait_idle(timeout)

    def close(self) -> None:
        """Stop the publisher thread and close the store."""
        if self._refresher is not None:
            self._refresher.stop()
            self._refresher = None
        self.store.close()

    def run_tx(self, fn: Any) -> Any:
        """Run `fn(tx)` in its own committed write transaction (tests, the demo, admin tools)."""
        conn = self.store.conn
        with self.store.lock:
            tx = self._begin()
            try:
                result = fn(tx)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        with self._pending_lock:
            self._pending.append(tx.out)
        self.after_replies()
        return result


class _Refresher:
    """The publisher thread: coalesces marks and publishes retained state from its own read connection.

    Marks gather in one set; the thread is woken once per refresh, not once per batch, so
    a burst of requests neither costs a state computation each nor a thread wake-up each.
    With `min_interval_s`, refreshes average at most one per interval, a few at once allowed.
    """

    def __init__(self, controller: Controller, conn: sqlite3.Connection, min_interval_s: float = 0.0) -> None:
        self.controller = controller
        self.conn = conn
        self.min_interval_s = min_interval_s
        self._wake: queue.SimpleQueue[bool] = queue.SimpleQueue()  # True: refresh; False: stop
        self._idle = threading.Condition()
        self._keys: set[str] = set()
        self._scheduled = False
        self._asked = 0
        self._done = 0
        self._stopping = threading.Event()  # cuts a paced wait short at stop
        self._thread = threading.Thread(target=self._run, name="state-publisher", daemon=True)

    def start(self) -> None:
        """Start the thread."""
        self._thread.start()

    def request(self, keys: set[str]) -> None:
        """Ask for a refresh of these keys."""
        with self._idle:
            self._asked += 1
            self._keys |= keys
            if self._scheduled:
                return
            self._scheduled = True
        self._wake.put(True)

    def wait_idle(self, timeout: float) -> bool:
        """Block until every request so far is done."""
        deadline = time.monotonic() + timeout
        with self._idle:
            target = self._asked
            while self._done < target:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True

    def stop(self) -> None:
        """Finish what is asked and stop."""
        self._stopping.set()
        self._wake.put(False)
        self._thread.join(10)
        self.conn.close()

    def _run(self) -> None:
        # A token bucket: on average at most one refresh per interval, but the first
        # REFRESH_BURST refreshes after a quiet spell go at once. A fixed gap after every
        # refresh made an isolated change wait for the one before it: a `finish` followed
        # within 20 ms by a `call_next` held the new call's window state back ~16 ms.
        tokens, stamp = float(REFRESH_BURST), time.monotonic()
        while self._wake.get():
            if self.min_interval_s > 0:
                now = time.monotonic()
                tokens = min(float(REFRESH_BURST), tokens + (now - stamp) / self.min_interval_s)
                stamp = now
                if tokens < 1:
                    # Under a burst the writer keeps the CPU meanwhile and marks gather.
                    self._stopping.wait((1 - tokens) * self.min_interval_s)
                    tokens, stamp = 1.0, time.monotonic()
                tokens -= 1
            with self._idle:
                keys, self._keys = self._keys, set()
                self._scheduled = False
                upto = self._asked
            try:
                self.controller._refresh_on(self.conn, keys)
            except Exception:
                log.exception("publishing state failed")
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
            with self._idle:
                self._done = max(self._done, upto)
                self._idle.notify_all()
