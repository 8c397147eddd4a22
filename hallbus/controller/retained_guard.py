"""The controller's retained state stays its own: what another client writes there is replaced.

The controller is the only writer of `window/+/state`, `queue/state`, `calls/recent` and
`stats/today`. The broker ACL keeps nodes off them, but a misconfigured or open broker
(or junk from before the ACL) would leave a retained message there that every screen
starting up takes for the truth, until the state next changes. So the controller
subscribes to them with MQTT 5 No Local (its own messages are not sent back) and treats
whatever arrives as a foreign write: it publishes its own state there again, or clears
a topic it has no state for (a window not in the config). The broker's retained messages
arrive at once on subscribing, so junk left while the controller was away is replaced
at start the same way.

Two writers fighting (a second controller on another client id) must not become a loop
at network speed: a topic is re-asserted at once at most once a second; writes beyond
that are re-asserted by the next `catch_up()` (the controller's tick).
"""

from __future__ import annotations

import logging
import threading
import time

from paho.mqtt.properties import Properties

from hallbus.client import BusClient

log = logging.getLogger(__name__)

AT_ONCE_EVERY_S = 1.0  # a topic is re-asserted at once at most this often; the tick does the rest


class RetainedGuard:
    """Watches the controller's retained topics and puts its own state back over foreign writes."""

    def __init__(self, bus: BusClient) -> None:
        self.bus = bus
        t = bus.topics
        self.filters = (t.window_state_all, t.queue_state, t.calls_recent, t.stats_today)
        self.replaced = 0  # foreign writes put right (a health figure, and for tests)
        self._lock = threading.Lock()
        self._last_fix: dict[str, float] = {}
        self._due: set[str] = set()

    def start(self) -> None:
        """Subscribe (before the bus connects, so the broker's retained junk is seen at start)."""
        for f in self.filters:
            self.bus.subscribe(f, self._on_write, no_local=True)

    def _on_write(self, topic: str, payload: bytes, _props: Properties | None) -> None:
        ours = self.bus.retained_state(topic)
        if payload == (ours or b""):
            return  # ours already (a retained copy from an earlier session of the controller)
        now = time.monotonic()
        with self._lock:
            if now - self._last_fix.get(topic, -AT_ONCE_EVERY_S) < AT_ONCE_EVERY_S:
                self._due.add(topic)
                return
            self._last_fix[topic] = now
        self._reassert(topic)

    def catch_up(self) -> None:
        """Re-assert the topics written again since their last fix (called by the controller's tick)."""
        with self._lock:
            due, self._due = self._due, set()
            now = time.monotonic()
            for topic in due:
                self._last_fix[topic] = now
        for topic in due:
            self._reassert(topic)

    def _reassert(self, topic: str) -> None:
        ours = self.bus.retained_state(topic)
        with self._lock:
            self.replaced += 1
            n = self.replaced
        if n <= 10 or n % 1000 == 0:  # a few lines, not one per write of a flood
            log.warning("another client wrote %s, a topic only the controller writes; its state is put back "
                        "(%d so far; check the broker ACL, or whether a second controller runs)", topic, n)
        if ours is None:
            self.bus.clear_state(topic)
        else:
            self.bus.publish(topic, ours, qos=1, retain=True)
