"""How fast one terminal may take tickets (`[ticket_limits]`), kept per signed node id.

A terminal that prints cannot honestly issue more than a few tickets a minute, but a
family takes three one after another. So the pace is a token bucket in its exact form
(GCRA, the generic cell rate algorithm): each ticket costs one `interval` (60 s /
`per_minute`) of a node's schedule, and a node may run up to `burst - 1` intervals
ahead of the clock. `burst` tickets go at once after a quiet spell, then one per
interval. One timestamp per node, and nodes are the hall's signed ones (a few dozen),
so nothing needs evicting; a controller restart forgives at most one burst.
"""

from __future__ import annotations

import math

from hallbus.config import TicketLimitsSection


class IssuePace:
    """Per node: when its schedule is due (the theoretical arrival time of GCRA)."""

    def __init__(self, limits: TicketLimitsSection) -> None:
        self.enabled = limits.per_minute > 0
        self.interval_s = 60.0 / limits.per_minute if self.enabled else 0.0
        self.ahead_s = (limits.burst - 1) * self.interval_s  # how far ahead of now a schedule may run
        self._due: dict[str, float] = {}

    def _schedule(self, node: str, now: float) -> float:
        # Never before now, and never further ahead than a full burst: that bound holds by
        # itself unless the clock stepped back, which must not lock a terminal out for the step.
        due = min(max(self._due.get(node, now), now), now + self.ahead_s + self.interval_s)
        if node in self._due:
            self._due[node] = due
        return due

    def wait_s(self, node: str, now: float) -> int:
        """Whole seconds `node` must wait before its next ticket; 0 when it may take one now."""
        if not self.enabled:
            return 0
        return max(0, math.ceil(self._schedule(node, now) - now - self.ahead_s))

    def took(self, node: str, now: float) -> None:
        """`node` was issued a ticket at `now`: its schedule moves on by one interval."""
        if self.enabled:
            self._due[node] = self._schedule(node, now) + self.interval_s
