"""One bridged bus message into a `Batch`: pure, no I/O (the topic names the hall; nothing else does).

A message is taken only for a hall listed in city.toml, under a topic the bridge forwards, with a
payload of that topic's schema (`hallbus.schemas`). Anything else is counted against the hall its
topic names (or `?` when the topic names none) and changes no figure of any hall.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Callable
from typing import Any

import msgspec

from city.db import Batch
from hallbus import schemas
from hallbus.topics import ID_RE

log = logging.getLogger(__name__)

UTC = dt.UTC
NO_HALL = "?"
CLOCK_SLACK = dt.timedelta(minutes=5)  # a hall's clock further ahead than this is not believed
# A device counts as faulty in these states (`absent` is a device the node does not have; paper low still prints)
FAULTY_DEVICE_STATES = frozenset({"error", "paper_out"})
STATS_FIELDS = ("served", "tickets_issued", "ratings", "satisfaction_rate", "on_time_rate", "overdue_cases",
                "followups_open", "date")

_queue = msgspec.json.Decoder(schemas.QueueState)
_stats = msgspec.json.Decoder(schemas.StatsToday)
_alert = msgspec.json.Decoder(schemas.Alert)
_status = msgspec.json.Decoder(schemas.NodeStatus)
_devices = msgspec.json.Decoder(schemas.NodeDevices)
_window = msgspec.json.Decoder(schemas.WindowState)
_call = msgspec.json.Decoder(schemas.Call)


class Malformed(ValueError):
    """A message the city cannot take: the reason, in a few words."""


def _when(ts: str, received: dt.datetime) -> dt.datetime:
    """A payload's `ts` as an aware time; a clock far ahead is taken as the time it was received."""
    try:
        t = dt.datetime.fromisoformat(ts)
    except ValueError as err:
        raise Malformed(f"ts is not an ISO-8601 time: {ts[:40]!r}") from err
    if t.tzinfo is None:
        raise Malformed("ts has no UTC offset")
    return received if t > received + CLOCK_SLACK else t


def _minute(t: dt.datetime) -> dt.datetime:
    """The minute `t` falls in (aware times compare as instants: one key whatever the offset)."""
    return t.replace(second=0, microsecond=0)


class Parser:
    """Takes bus messages into the current batch; counts what it refuses, logs it once per hall per minute."""

    def __init__(self, halls: set[str]) -> None:
        self.halls = halls
        self.batch = Batch()
        self.taken = 0
        self.refused = 0
        self.refused_total = 0  # since start (taken and refused restart at every swap)
        self._logged: set[str] = set()  # halls already logged this minute
        self._log_minute: dt.datetime | None = None

    def swap(self) -> Batch:
        """The batch so far, a new one started."""
        b, self.batch = self.batch, Batch()
        return b

    def take(self, topic: str, payload: bytes, received: dt.datetime) -> str | None:
        """Take one message; the hall it counts against (None for a message not of the hall bus at all)."""
        parts = topic.split("/")
        hall = parts[2] if len(parts) >= 4 and parts[0] == "hall" and parts[1] == "v1" else NO_HALL
        try:
            if hall == NO_HALL or not ID_RE.match(hall):
                hall = NO_HALL
                raise Malformed("not a hall bus topic")
            if hall not in self.halls:
                # counted under "?" with the others that name no hall of ours: ids nobody listed must not
                # grow the tables (or this parser's memory) without bound
                hall, topic_hall = NO_HALL, hall
                raise Malformed(f"hall {topic_hall!r} is not listed in city.toml")
            handler = _HANDLERS.get((parts[3], parts[-1], len(parts)))
            if handler is None or (len(parts) == 6 and not ID_RE.match(parts[4])):
                raise Malformed("not a topic the city reads")
            if b"\\u0000" in payload:
                raise Malformed("a NUL character in the payload")
            handler(self.batch, hall, parts, payload, received)
        except (Malformed, msgspec.ValidationError, msgspec.DecodeError, UnicodeDecodeError) as err:
            self._refuse(hall, topic, str(err), received)
            return hall
        self.taken += 1
        seen = self.batch.seen.get(hall)
        if seen is None or seen < received:
            self.batch.seen[hall] = received
        return hall

    def _refuse(self, hall: str, topic: str, error: str, received: dt.datetime) -> None:
        self.refused += 1
        self.refused_total += 1
        minute = _minute(received)
        n, _t, _e = self.batch.bad.get((hall, minute), (0, "", ""))
        self.batch.bad[(hall, minute)] = (n + 1, topic[:200], error[:300])
        if minute != self._log_minute:
            self._logged.clear()
            self._log_minute = minute
        if hall not in self._logged:  # once per hall per minute: a flood of garbage is one line
            self._logged.add(hall)
            log.warning("hall %s: refused a message on %s: %s (further ones this minute are only counted)",
                        hall, topic[:200], error[:300])


def _queue_state(b: Batch, hall: str, _parts: list[str], payload: bytes, received: dt.datetime) -> None:
    q = _queue.decode(payload)
    ts = _when(q.ts, received)
    if _newer_than(b.parts.get((hall, "queue", "")), ts):
        b.parts[(hall, "queue", "")] = (ts, 0, payload)  # its services, for the hall's own page
    oldest: dt.datetime | None = None
    for s in q.services:
        if s.oldest_issued_at:
            t = _when(s.oldest_issued_at, received)
            oldest = t if oldest is None or t < oldest else oldest
    if q.total_waiting < 0:
        raise Malformed("total_waiting is negative")
    if _newer_than(b.queue.get(hall), ts):
        b.queue[hall] = (ts, q.total_waiting, oldest)
    key = (hall, _minute(ts))
    if _newer_than(b.minute_queue.get(key), ts):
        longest = max(0, int((ts - oldest).total_seconds())) if oldest else 0
        b.minute_queue[key] = (ts, q.total_waiting, longest)


def _stats_today(b: Batch, hall: str, _parts: list[str], payload: bytes, received: dt.datetime) -> None:
    s = _stats.decode(payload)
    ts = _when(s.ts, received)
    figures = {k: getattr(s, k) for k in STATS_FIELDS}
    if _newer_than(b.stats.get(hall), ts):
        b.stats[hall] = (ts, figures)
    key = (hall, _minute(ts))
    if _newer_than(b.minute_stats.get(key), ts):
        b.minute_stats[key] = (ts, figures)
    day = (hall, s.date or ts.date().isoformat())  # the hall's own day (its roll-over), else the stamp's date
    if _newer_than(b.day_stats.get(day), ts):
        b.day_stats[day] = (ts, figures)


def _alert_event(b: Batch, hall: str, _parts: list[str], payload: bytes, received: dt.datetime) -> None:
    a = _alert.decode(payload)
    ts = _when(a.ts, received)
    digest = hashlib.blake2b(payload, digest_size=16).hexdigest()  # a redelivered alert is the same alert
    b.alerts[(hall, digest)] = (ts, received, a.kind, a.level, a.subject[:500], a.detail[:2000])


def _part(kind: str, decode: Callable[[bytes], Any], bad: Callable[[Any], int]) -> Handler:
    def take(b: Batch, hall: str, parts: list[str], payload: bytes, received: dt.datetime) -> None:
        key = (hall, kind, parts[4])
        if not payload:  # a retained message cleared (a window or node removed)
            b.parts.pop(key, None)
            b.cleared.add(key)
            return
        obj = decode(payload)
        ts = _when(obj.ts, received)
        if _newer_than(b.parts.get(key), ts):
            b.parts[key] = (ts, bad(obj), payload)
            b.cleared.discard(key)

    return take


def _faulty(d: schemas.NodeDevices) -> int:
    return sum(1 for h in (d.idcard, d.printer, d.camera, d.pcsc, d.scanner)
               if h is not None and h.state in FAULTY_DEVICE_STATES)


def _bridge(b: Batch, hall: str, _parts: list[str], payload: bytes, received: dt.datetime) -> None:
    if payload.strip() not in (b"0", b"1"):
        raise Malformed("a bridge notice is 1 or 0")
    b.bridge[hall] = (received, payload.strip() == b"1")


def _call_event(_b: Batch, _hall: str, _parts: list[str], payload: bytes, _received: dt.datetime) -> None:
    _call.decode(payload)  # only a sign of life (the bridge does not forward calls today)


def _newer_than(old: tuple[Any, ...] | None, ts: dt.datetime) -> bool:
    return old is None or old[0] <= ts


Handler = Callable[[Batch, str, list[str], bytes, dt.datetime], None]

# (first level under the hall's root, last level, number of levels) -> handler
_HANDLERS: dict[tuple[str, str, int], Handler] = {
    ("queue", "state", 5): _queue_state,
    ("stats", "today", 5): _stats_today,
    ("alerts", "alerts", 4): _alert_event,
    ("calls", "calls", 4): _call_event,
    ("node", "status", 6): _part("status", _status.decode, lambda s: 0 if s.state == "online" else 1),
    ("node", "devices", 6): _part("devices", _devices.decode, _faulty),
    ("window", "state", 6): _part("window", _window.decode, lambda _w: 0),
    ("bridge", "connected", 6): _bridge,
}
