"""An outbox for requests that must not be lost (ratings): SQLite on the sending node.

A request is stored (durably) before anything is sent; a sender thread delivers the
oldest first, in order, and removes it only when the controller has answered it: with
`ok`, or with an error that a retry cannot change (a bad request, a rating already
given). While the broker or controller is away it retries with backoff; the request
keeps its `request_id`, so the controller's idempotency makes a retry harmless.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from hallbus import schemas
from hallbus.rpc import RpcClient, RpcFault

log = logging.getLogger(__name__)

# Errors worth retrying: the controller did not really answer.
RETRYABLE = frozenset({"timeout", "unavailable", "internal_error", "busy"})


@dataclass(frozen=True)
class OutboxItem:
    """One stored request."""

    seq: int
    method: str
    request_id: str
    body: dict[str, Any]
    attempts: int


DeliveryListener = Callable[[OutboxItem, "dict[str, Any] | None", "RpcFault | None"], None]


class Outbox:
    """Durable, ordered, at-least-once delivery of RPC requests (exactly-once with idempotency)."""

    def __init__(
        self,
        path: Path | str,
        rpc: RpcClient,
        *,
        timeout: float = 5.0,
        backoff_min_s: float = 0.2,
        backoff_max_s: float = 5.0,
    ) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.rpc = rpc
        self.timeout = timeout
        self.backoff_min_s = backoff_min_s
        self.backoff_max_s = backoff_max_s
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS outbox ("
            " seq INTEGER PRIMARY KEY AUTOINCREMENT, method TEXT NOT NULL,"
            " request_id TEXT NOT NULL UNIQUE, body TEXT NOT NULL,"
            " created TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT)"
        )
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._listeners: list[DeliveryListener] = []
        rpc.bus.add_connection_listener(lambda up: self._wake.set() if up else None)

    def add_listener(self, listener: DeliveryListener) -> None:
        """Call `listener(item, data, fault)` when an item is answered (from the sender thread)."""
        self._listeners.append(listener)

    def put(self, method: str, body: dict[str, Any] | msgspec.Struct, request_id: str | None = None) -> str:
        """Store a request durably and wake the sender; returns its request_id."""
        rid = request_id or str(uuid.uuid4())
        data = dict(schemas.to_builtins(body) if isinstance(body, msgspec.Struct) else body)
        data["request_id"] = rid
        data.setdefault("ts", schemas.now_iso())  # when it was made, not when it finally got through
        with self._lock:
            self._db.execute(
                "INSERT OR IGNORE INTO outbox(method, request_id, body, created) VALUES (?,?,?,?)",
                (method, rid, schemas.encode(data).decode(), schemas.now_iso()),
            )
        self._wake.set()
        return rid

    def pending(self) -> list[OutboxItem]:
        """Everything not yet answered, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, method, request_id, body, attempts FROM outbox ORDER BY seq"
            ).fetchall()
        return [OutboxItem(r[0], r[1], r[2], msgspec.json.decode(r[3]), r[4]) for r in rows]

    def start(self) -> None:
        """Start the sender thread."""
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="outbox", daemon=True)
        self._thread.start()
        self._wake.set()

    def stop(self) -> None:
        """Stop the sender; what is not delivered stays stored."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(self.timeout + 2)
            self._thread = None

    def close(self) -> None:
        """Stop and close the database."""
        self.stop()
        with self._lock:
            self._db.close()

    def _oldest(self) -> OutboxItem | None:
        with self._lock:
            row = self._db.execute(
                "SELECT seq, method, request_id, body, attempts FROM outbox ORDER BY seq LIMIT 1"
            ).fetchone()
        return OutboxItem(row[0], row[1], row[2], msgspec.json.decode(row[3]), row[4]) if row else None

    def _run(self) -> None:
        delay = self.backoff_min_s
        while not self._stop.is_set():
            item = self._oldest()
            if item is None:
                self._wake.wait()
                self._wake.clear()
                continue
            if not self.rpc.bus.connected:
                self._wake.wait(self.backoff_max_s)
                self._wake.clear()
                continue
            data: dict[str, Any] | None = None
            fault: RpcFault | None = None
            try:
                data = self.rpc.call(item.method, item.body, timeout=self.timeout, request_id=item.request_id)
            except RpcFault as f:
                fault = f
            if fault is not None and fault.code in RETRYABLE:
                with self._lock:
                    self._db.execute(
                        "UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE seq = ?",
                        (fault.code, item.seq),
                    )
                log.info("outbox: %s %s not delivered (%s); retrying in %.1f s",
                         item.method, item.request_id[:8], fault.code, delay)
                self._stop.wait(delay)
                delay = min(delay * 2, self.backoff_max_s)
                continue
            delay = self.backoff_min_s
            with self._lock:
                self._db.execute("DELETE FROM outbox WHERE seq = ?", (item.seq,))
            if fault is not None:
                log.warning("outbox: %s %s refused by the controller: %s",
                            item.method, item.request_id[:8], fault.message_en or fault.message)
            for listener in self._listeners:
                try:
                    listener(item, data, fault)
                except Exception:
                    log.exception("outbox listener failed")
