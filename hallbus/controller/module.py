"""How feature modules plug into the hall controller: one store, one writer, one transaction per batch.

The controller owns ONE SQLite database (`{data_dir}/hall.db`, WAL, `synchronous=FULL`)
and one writer at a time. A batch of RPC requests runs inside one transaction that is
committed before any reply or state leaves the controller (group commit); each request
runs in its own savepoint, so a request that fails leaves no trace and does not roll
back the others. The reply to every `request_id` is stored in the same transaction,
so a request delivered again, even after a crash, gets its first answer and changes
nothing.

A feature module (the queue engine here; cases, appointments, guide and ratings from
`hallbus.records`) is a `ControllerModule` subclass built by a `ModuleFactory` from a
`ModuleContext`. It brings:

- `name` and `migrations`: SQL scripts, each applied once, in order, tracked per module
  by the store's one migration runner (`hallbus.controller.store`);
- `handlers()`: RPC method -> `fn(req, tx) -> Mapping` run inside the batch
  transaction (raise `hallbus.rpc.RpcFault` for an error reply);
- `tick(tx)`: called about once a second in its own write transaction (expiries,
  deadline alerts; gate slower work on `tx.now` yourself);
- `refresh(tx, keys)`: after a commit, publish the retained state named by the keys
  marked with `tx.mark(key)` during the transaction (`ALL` at start-up);
- `contribute_stats(tx, stats)`: add figures to the `stats/today` dict;
- `on_queue_event(tx, event)`: hear what the queue engine did (`finished` opens a
  rating request), inside the same transaction;
- `close_day(tx, day)`: the roll-over closed hall day `day` (same transaction): archive it.

`hallbus.records` plugs in by providing `hallbus.records.modules.controller_modules()
-> list[ModuleFactory]`; the composition root (`hallbus.controller.app`) imports it.
"""

from __future__ import annotations

import datetime as dt
import functools
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from hallbus import schemas
from hallbus.config import HallConfig
from hallbus.controller.clock import Clock, HallTime
from hallbus.controller.staff_directory import StaffDirectory
from hallbus.rpc import Request
from hallbus.topics import Topics

if TYPE_CHECKING:
    from hallbus.controller.settings import HallSettings

ALL = "*"
"""The refresh key meaning "publish all your retained state" (start-up, after a reconnect)."""


@dataclass(frozen=True)
class QueueEvent:
    """Something the queue engine did to a ticket, told to every module inside the transaction."""

    kind: Literal[
        "issued", "called", "recalled", "no_show", "held", "called_back", "transferred", "finished", "expired",
        "cancelled",
    ]
    ticket: schemas.Ticket
    window: str | None = None
    staff: str | None = None
    rating_request: schemas.RatingRequest | None = None  # set for `finished`
    phone: str | None = None  # `issued` only: the mobile number the citizen typed, when the hall notifies


@dataclass
class Outgoing:
    """What a transaction will publish once it is committed."""

    events: list[tuple[str, bytes]] = field(default_factory=list)
    states: dict[str, bytes] = field(default_factory=dict)
    marks: set[str] = field(default_factory=set)

    def merge(self, other: Outgoing) -> None:
        """Append another request's output (it committed)."""
        self.events.extend(other.events)
        self.states.update(other.states)
        self.marks |= other.marks


class Tx:
    """One unit of work of the controller's writer: the connection, the clock, and what to publish."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        *,
        config: HallConfig,
        topics: Topics,
        hall_key: bytes,
        now: dt.datetime,
        request: Request | None = None,
        event_sink: Callable[[Tx, QueueEvent], None] | None = None,
    ) -> None:
        self.conn = conn
        self.config = config
        self.topics = topics
        self.hall_key = hall_key
        self._hall = HallTime.of(config)
        self.now = self._hall.local(now)  # whatever zone the clock speaks
        self._today: str | None = None
        self.request = request
        self.out = Outgoing()
        self._event_sink = event_sink
        self.on_fault: list[Callable[[Tx], None]] = []

    @functools.cached_property
    def now_ts(self) -> float:
        """`now` as a POSIX timestamp."""
        return self.now.timestamp()

    @property
    def today(self) -> str:
        """The hall day of `now` as YYYY-MM-DD (worked out once; a request's Tx takes its batch's)."""
        if self._today is None:
            self._today = self._hall.business_day(self.now).isoformat()
        return self._today

    @functools.cached_property
    def now_iso(self) -> str:
        """`now` as ISO-8601 with the hall's offset, to the millisecond."""
        return self.now.isoformat(timespec="milliseconds")

    def for_request(self, request: Request | None = None) -> Tx:
        """A unit of work inside this one (a request's savepoint, a module's tick).

        The same connection, moment and hall day; its own output, kept only if it succeeds.
        """
        tx = object.__new__(Tx)
        tx.__dict__.update(self.__dict__)  # also `now_ts`, `now_iso`, `today` once worked out
        tx.request = request
        tx.out = Outgoing()
        tx.on_fault = []
        return tx

    def execute(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> sqlite3.Cursor:
        """Run one SQL statement in this transaction."""
        return self.conn.execute(sql, params)

    def emit(self, topic: str, payload: Any) -> None:
        """Publish an event (QoS 1, not retained) after the commit; dropped if this request fails."""
        self.out.events.append((topic, _bytes(payload)))

    def publish_state(self, topic: str, payload: Any) -> None:
        """Publish retained state after the commit (and again after every reconnect)."""
        self.out.states[topic] = _bytes(payload)

    def mark(self, key: str) -> None:
        """Ask for `refresh(tx, keys)` with this key after the commit (e.g. `queue`, `stats`, `window:3`)."""
        self.out.marks.add(key)

    def keep_on_fault(self, write: Callable[[Tx], None]) -> None:
        """Run `write(tx)` after this request's changes are rolled back for an error reply.

        For what an error must not undo: a failed login is counted (`login_throttle`),
        though the request that failed leaves nothing else behind.
        """
        self.on_fault.append(write)

    def queue_event(self, event: QueueEvent) -> None:
        """Tell every module what the queue engine did (same transaction)."""
        if self._event_sink is not None:
            self._event_sink(self, event)


def _bytes(payload: Any) -> bytes:
    return bytes(payload) if isinstance(payload, bytes | bytearray) else schemas.encode(payload)


TxHandler = Callable[[Request, Tx], Mapping[str, Any]]
"""An RPC handler inside the batch transaction: returns the reply's `data`, or raises RpcFault."""


class ControllerModule:
    """Base of a feature module; every hook has a do-nothing default."""

    name: str = ""
    migrations: Sequence[str] = ()

    def handlers(self) -> Mapping[str, TxHandler]:
        """RPC method -> handler."""
        return {}

    def preparers(self) -> Mapping[str, Callable[[Request], None]]:
        """RPC method -> slow work run on a worker thread before the request's transaction.

        For CPU-heavy checks that need no store (a password hash): the work puts what it
        found in `request.prepared`, and the handler uses that. It must be thread-safe.
        """
        return {}

    def tick(self, tx: Tx) -> None:
        """Periodic work (about once a second) in its own write transaction."""

    def refresh(self, tx: Tx, keys: AbstractSet[str]) -> None:
        """Publish retained state for the marked keys this module owns (`ALL` = everything)."""

    def contribute_stats(self, tx: Tx, stats: dict[str, Any]) -> None:
        """Add this module's figures to the `stats/today` dict (keys of schemas.StatsToday)."""

    def on_queue_event(self, tx: Tx, event: QueueEvent) -> None:
        """React to the queue engine inside the same transaction."""

    def close_day(self, tx: Tx, day: str) -> None:
        """Hall day `day` was just closed by the roll-over (its open tickets expired): archive it, same transaction."""


class QueueApi(Protocol):
    """What the queue engine offers other modules (appointments issue tickets, ratings read windows)."""

    def issue(
        self,
        tx: Tx,
        *,
        service: str,
        channel: schemas.Channel = "onsite",
        id_card: schemas.IdCardRef | None = None,
        node: str | None = None,
        case_no: str | None = None,
    ) -> schemas.Ticket:
        """Issue a ticket with every rule applied (hours, caps, real-name); raises RpcFault."""
        ...

    def find_ticket(
        self, tx: Tx, *, number: str | None = None, ticket_id: str | None = None
    ) -> schemas.Ticket | None:
        """A ticket of today by number, or any day by id, with its position."""
        ...

    def window_state(self, tx: Tx, window: str) -> schemas.WindowState:
        """The current state of a window (raises RpcFault `unknown_window`)."""
        ...

    def clear_rating_request(self, tx: Tx, window: str, *, request_id: str | None = None) -> bool:
        """Close the window's open rating request (only the given one, when `request_id` is set)."""
        ...

    def know_ratings(self, rated: RatedLookup) -> None:
        """How to tell which tickets' latest handling has a rating (the ratings module says; `Ticket.rated`)."""
        ...


RatedLookup = Callable[[Tx, Sequence[str]], set[str]]
"""Ticket ids -> those whose latest finished handling has a rating."""


@dataclass(frozen=True)
class ModuleContext:
    """What a module factory gets from the composition root."""

    config: HallConfig
    topics: Topics
    hall_key: bytes
    data_dir: Path
    clock: Clock
    queue: QueueApi
    staff: StaffDirectory  # the hall's staff now: hall.toml under the console's accounts (read in a transaction)
    settings: HallSettings | None = None  # the settings a manager changes without a restart (None: hall.toml's alone)


ModuleFactory = Callable[[ModuleContext], ControllerModule]
"""Builds one module; `hallbus.records.modules.controller_modules()` returns a list of these."""
