"""The calling rule of a window (叫号规则): which waiting ticket it calls next, as plain data in, choice out.

A window's `rule` in hall.toml (see docs/queue.md):

- `mode = "order"`: among its services, the first one in the window's list that has a
  ticket of the chosen channel kind; `mode = "weight"` with `weights = { C = 3, F = 1 }`:
  smooth weighted round robin among the services that have one (a missing weight is 1).
- `ratio = "2:1"`: in a busy hall (both kinds waiting) the window calls 1 priority ticket
  (appointment, green channel) then 2 normal ones, and so on; when only one kind waits it
  calls that kind. Empty ratio: priority tickets always first.
- `only_when_empty = { A = ["B"] }`: the window calls A only while nobody waits for B.
- Tickets transferred to this very window come first, in their order.
- Ties are broken by arrival (`sort_key`, then issue order).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from hallbus.config import WindowRule

_RATIO_RE = re.compile(r"^\s*(\d+)\s*:\s*(\d+)\s*$")


@dataclass(frozen=True)
class Candidate:
    """A waiting ticket as the rule sees it."""

    ticket_id: str
    number: str
    service: str
    priority: bool
    sort_key: float
    seq: int = 0
    targeted: bool = False  # transferred to this window

    @property
    def order(self) -> tuple[float, int]:
        """Arrival order: sort key, then issue order."""
        return (self.sort_key, self.seq)


@dataclass
class RuleState:
    """What a window remembers between calls: its place in the ratio cycle and its service credits."""

    pos: int = 0
    credit: dict[str, int] = field(default_factory=dict)

    def copy(self) -> RuleState:
        """An independent copy (for look-ahead)."""
        return RuleState(self.pos, dict(self.credit))

    def to_json(self) -> dict[str, object]:
        """As stored in the windows table."""
        return {"pos": self.pos, "credit": dict(self.credit)}

    @classmethod
    def from_json(cls, data: object) -> RuleState:
        """From the windows table (anything unexpected gives a fresh state)."""
        if not isinstance(data, dict):
            return cls()
        pos = data.get("pos", 0)
        credit = data.get("credit", {})
        ok_credit = isinstance(credit, dict) and all(
            isinstance(k, str) and isinstance(v, int) for k, v in credit.items()
        )
        return cls(pos if isinstance(pos, int) else 0, dict(credit) if ok_credit else {})


def parse_ratio(text: str) -> tuple[int, int] | None:
    """`"2:1"` -> (2 normal, 1 priority); empty -> None (priority always first)."""
    if not text.strip():
        return None
    m = _RATIO_RE.match(text)
    if not m:
        raise ValueError(f"ratio must look like 2:1 (normal:priority), got {text!r}")
    normal, priority = int(m.group(1)), int(m.group(2))
    if normal + priority == 0:
        raise ValueError("ratio 0:0 would never call anyone")
    return normal, priority


def eligible_services(services: list[str], rule: WindowRule, waiting: set[str]) -> list[str]:
    """The window's services it may call now: `only_when_empty` removes those whose blockers wait."""
    out = []
    for s in services:
        blockers = rule.only_when_empty.get(s, [])
        if any(b in waiting for b in blockers):
            continue
        out.append(s)
    return out


def pick(
    services: list[str], rule: WindowRule, state: RuleState, candidates: Iterable[Candidate]
) -> tuple[Candidate, RuleState] | None:
    """The ticket this window calls next and its new rule state, or None when nobody is eligible."""
    cands = list(candidates)
    targeted = [c for c in cands if c.targeted]
    if targeted:
        return min(targeted, key=lambda c: c.order), state.copy()
    general = [c for c in cands if c.service in services]
    allowed = eligible_services(services, rule, {c.service for c in general})
    general = [c for c in general if c.service in allowed]
    if not general:
        return None
    has_priority = any(c.priority for c in general)
    has_normal = any(not c.priority for c in general)
    ratio = parse_ratio(rule.ratio)
    new = state.copy()
    if ratio is None:
        want_priority = has_priority
    else:
        n_normal, n_priority = ratio
        cycle = n_normal + n_priority
        desired_priority = (new.pos % cycle) < n_priority
        want_priority = desired_priority if (has_priority and has_normal) else has_priority
        if want_priority == desired_priority:
            new.pos = (new.pos + 1) % cycle
        else:
            new.pos %= cycle
    kind = [c for c in general if c.priority == want_priority]
    present = [s for s in allowed if any(c.service == s for c in kind)]
    if rule.mode == "weight" and len(present) > 1:
        service = _weighted(present, rule.weights, new.credit)
    else:
        service = present[0]
        if rule.mode == "weight":
            _weighted(present, rule.weights, new.credit)
    chosen = min((c for c in kind if c.service == service), key=lambda c: c.order)
    return chosen, new


def _weighted(present: list[str], weights: dict[str, int], credit: dict[str, int]) -> str:
    """Smooth weighted round robin (as in nginx): add weights, take the largest, subtract the total."""
    total = 0
    best: str | None = None
    for s in present:
        w = max(1, weights.get(s, 1))
        total += w
        credit[s] = credit.get(s, 0) + w
        if best is None or credit[s] > credit[best]:
            best = s
    assert best is not None
    credit[best] -= total
    return best


def look_ahead(
    services: list[str], rule: WindowRule, state: RuleState, candidates: Iterable[Candidate], n: int
) -> list[Candidate]:
    """The next `n` tickets this window would call if nothing else changed (for its display)."""
    pool = list(candidates)
    st = state.copy()
    out: list[Candidate] = []
    while pool and len(out) < n:
        got = pick(services, rule, st, pool)
        if got is None:
            break
        chosen, st = got
        out.append(chosen)
        pool.remove(chosen)
    return out
