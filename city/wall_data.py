"""What a wall fetches every 3 s (`/city/data/halls`), made light for 500 halls and many walls.

- **Compact**: the halls as rows of values under one list of field names, without what the
  page already has (names and districts come once, in the page's boot block) or does not show
  (`last_known`, `kind`); the longest wait in whole minutes, as the wall shows it.
- **The city at a glance**: a summary of every hall (online, offline, red and yellow cards,
  people waiting), city-wide and per district, whatever district the wall shows.
- **An ETag** of the body: a wall sends it back (If-None-Match) and gets `304` with nothing when
  nothing it shows changed. The body holds no clock, so every instance gives the same ETag for
  the same figures.
- **Kept `KEPT_S`** per district for every wall that asks meanwhile: N walls cost one read of
  PostgreSQL a second per instance, not N.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgspec

from city.config import ThresholdsSection
from city.read import FIGURES, card

KEPT_S = 1.0
FIELDS = ("hall", "card", "reasons", "red", "online", "offline_since", *FIGURES, "satisfaction_month")


def _count(halls: list[dict[str, Any]]) -> dict[str, int]:
    return {"halls": len(halls), "offline": sum(not h["online"] for h in halls),
            "red": sum(h["card"] == "red" for h in halls), "yellow": sum(h["card"] == "yellow" for h in halls),
            "waiting": sum(h["waiting"] or 0 for h in halls)}


def summary(halls: list[dict[str, Any]], districts: list[str]) -> dict[str, Any]:
    """Every hall counted: city-wide and per district (in `districts`' order)."""
    by: dict[str, list[dict[str, Any]]] = {d: [] for d in districts}
    for h in halls:
        by.setdefault(h["district"], []).append(h)
    return {"city": _count(halls), "districts": [{"district": d, **_count(hs)} for d, hs in by.items()]}


def red_only(th: ThresholdsSection) -> ThresholdsSection:
    """The thresholds with yellow at red: `card` with them gives a hall's red reasons alone."""
    return msgspec.structs.replace(th, wait_yellow_s=th.wait_red_s, satisfaction_yellow=th.satisfaction_red,
                                   overdue_yellow=th.overdue_red, devices_faulty_yellow=th.devices_faulty_red)


def _row(h: dict[str, Any], red: ThresholdsSection) -> list[Any]:
    """One hall's values in FIELDS' order; `red` the reasons that are red (the page colours their cells)."""
    row: list[Any] = [h[k] if k != "red" else (card(h, red)[1] if h["card"] == "red" else []) for k in FIELDS]
    i = FIELDS.index("longest_wait_s")
    if row[i] is not None:
        row[i] = row[i] // 60 * 60  # shown in minutes: a wait growing by the second changes nothing on the wall
    return row


def body(halls: list[dict[str, Any]], districts: list[str], district: str | None, alerts: list[dict[str, Any]],
         delayed: bool, th: ThresholdsSection) -> dict[str, Any]:
    """The wall's figures: `halls` are every hall of the city in the ranking's order (`city.read.halls`)."""
    shown = [h for h in halls if not district or h["district"] == district]
    red = red_only(th)
    return {"fields": FIELDS, "rows": [_row(h, red) for h in shown], "summary": summary(halls, districts),
            "alerts": alerts, "delayed": delayed}


@dataclass(frozen=True)
class Answer:
    """One body as JSON, gzipped, and its ETag."""

    raw: bytes
    gz: bytes
    etag: str


def answer(obj: dict[str, Any]) -> Answer:
    raw = msgspec.json.encode(obj)
    return Answer(raw, gzip.compress(raw, 1), '"' + hashlib.sha256(raw).hexdigest()[:20] + '"')


class Kept:
    """The last answer per district, read again when older than `KEPT_S` (one reader at a time)."""

    def __init__(self, kept_s: float = KEPT_S) -> None:
        self.kept_s = kept_s
        self._kept: dict[str, tuple[float, Answer]] = {}
        self._lock = threading.Lock()

    def get(self, key: str, make: Callable[[], dict[str, Any]]) -> Answer:
        """The kept answer for `key`, or `make()`'s (its exceptions go to the caller, nothing is kept)."""
        with self._lock:
            at, got = self._kept.get(key, (0.0, None))
            if got is None or time.monotonic() - at > self.kept_s:
                got = answer(make())
                self._kept[key] = (time.monotonic(), got)
            return got
