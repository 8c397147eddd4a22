"""Per-source admission for the RPC server: a request budget per node, and fair batches.

The controller reads every request from one broker session, first in, first out. A node
that sends faster than the controller does the full work of a request (signature, store
transaction, reply) would fill that queue, and every other node's request would wait
behind it until it expired. So the server sorts each request by its source before any
store work and keeps a token bucket per source (`[rpc_limits]`): `burst` requests at
once, `per_second` on average. A request over its source's budget is shed in a few
microseconds: answered `busy` at most `BUSY_PER_S` times a second per source (the rest
get no reply, so shedding does not double the broker's load), acknowledged always, and
logged once per `LOG_EVERY_S` per source with a count.

Who a request is from (`source_of`): the node id whose signature checked out
(`hallbus.nodeauth`), else the node its reply topic claims, prefixed `claimed:` (so a
node claiming to be another one only spends a budget apart from that node's signed
one), else one shared `unsigned` bucket. Claimed names are only taken from the hall's
`[[nodes]]` (`known`): any other name shares `unsigned`, so inventing names gains
nothing and the buckets stay bounded. A hall without node keys has nothing but claims:
there a node that claims another's reply topic spends that node's budget (and a
shared budget is what it costs: the broker ACL lets each login read only its own
replies, so such a node gets no answers).

`round_robin` orders a batch by source in turn, so one node's burst never sits in front
of another node's request within a batch.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Literal, TypeVar, cast

log = logging.getLogger(__name__)

UNSIGNED = "unsigned"  # the shared bucket of requests with neither a signature nor a known claimed node
CLAIMED = "claimed:"  # prefix of a source that is only the node named in the reply topic
BUSY_PER_S = 1.0  # `busy` replies a second per source once over budget (the rest are dropped unanswered)
BUSY_BURST = 3
LOG_EVERY_S = 10.0  # a log line per shedding source at most this often
MAX_CLAIMED = 1024  # claimed sources kept apart when no node list is given; more share UNSIGNED

Verdict = Literal["go", "busy", "drop"]
T = TypeVar("T")


def source_of(signed: str | None, claimed: str | None, known: Collection[str] | None = None) -> str:
    """A request's source: its signed node, else `claimed:{node}` for a known node, else `unsigned`."""
    if signed:
        return signed
    if claimed and (known is None or claimed in known):
        return CLAIMED + claimed
    return UNSIGNED


class _Bucket:
    __slots__ = ("at", "busy", "logged_at", "shed", "tokens")

    def __init__(self, tokens: float, now: float) -> None:
        self.tokens = tokens
        self.busy = float(BUSY_BURST)
        self.at = now
        self.shed = 0  # shed since the last log line
        self.logged_at = -LOG_EVERY_S


class Admission:
    """A token bucket per source: `burst` at once, `per_second` on average (`per_second` 0: no limit)."""

    def __init__(
        self, per_second: float, burst: int, *, known: Collection[str] | None = None,
        scale: Mapping[str, float] | None = None, clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_second = per_second
        self.burst = max(1, burst)
        # Sources whose budget is a multiple of a node's: the web service (`hallweb`) asks for
        # every phone in the hall, which it throttles per phone itself.
        self.scale = dict(scale or {})
        self.known = frozenset(known) if known is not None else None
        self.clock = clock
        self.enabled = per_second > 0
        self.shed = 0  # requests refused over budget, all sources
        self._buckets: dict[str, _Bucket] = {}
        self._claimed: set[str] = set()  # claimed sources kept apart (when no node list bounds them)

    def source(self, signed: str | None, claimed: str | None) -> str:
        """`source_of`, with at most MAX_CLAIMED claimed names kept apart when no node list bounds them."""
        src = source_of(signed, claimed, self.known)
        if self.known is None and src.startswith(CLAIMED) and src not in self._claimed:
            if len(self._claimed) >= MAX_CLAIMED:
                return UNSIGNED
            self._claimed.add(src)
        return src

    def admit(self, source: str) -> Verdict:
        """`go` within budget; over it `busy` (answer it) a few times a second, else `drop` (no answer)."""
        if not self.enabled:
            return "go"
        now = self.clock()
        k = self.scale.get(source, 1.0)
        b = self._buckets.get(source)
        if b is None:
            b = self._buckets[source] = _Bucket(self.burst * k, now)
        elapsed = max(0.0, now - b.at)
        b.at = now
        b.tokens = min(self.burst * k, b.tokens + elapsed * self.per_second * k)
        b.busy = min(float(BUSY_BURST), b.busy + elapsed * BUSY_PER_S)
        if b.tokens >= 1.0:
            b.tokens -= 1.0
            return "go"
        self.shed += 1
        b.shed += 1
        if now - b.logged_at >= LOG_EVERY_S:
            log.warning(
                "shedding requests from %s: %d over its budget of %g a second (%d at once) since the last "
                "line (%d shed in all)", source, b.shed, self.per_second, self.burst, self.shed,
            )
            b.logged_at, b.shed = now, 0
        if b.busy >= 1.0:
            b.busy -= 1.0
            return "busy"
        return "drop"


def round_robin(items: Iterable[T], key: Callable[[T], str]) -> list[T]:
    """`items` with each key's items taking turns (in their own order; keys by first appearance)."""
    lanes: dict[str, list[T]] = {}
    for item in items:
        lanes.setdefault(key(item), []).append(item)
    if len(lanes) <= 1:
        return [i for lane in lanes.values() for i in lane]
    gap = object()
    turns = itertools.zip_longest(*lanes.values(), fillvalue=gap)
    return [cast(T, i) for turn in turns for i in turn if i is not gap]
