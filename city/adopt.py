"""Session adoption: a live `hallcity` instance takes up a stopped peer's MQTT session until the peer is back.

Why: with kept sessions (`[broker] session_expiry_s`) Mosquitto goes on dealing a stopped
instance's session its share of the group's messages, and keeps what it had not acknowledged:
nothing is lost, but nobody stores that share until the instance comes back. So each instance
announces itself, retained, on `hallcity/v1/instance/{client_id}`:

    {"state": "online"}                  the instance's own connection, published at each connect
    {"state": "adopted", "by": "NAME"}   published by NAME's connection holding this session
    {"state": "offline"}                 the Will of both: the broker publishes it when the connection
                                         dies (SIGKILL, network) or stops cleanly (DISCONNECT 0x04)

Every instance reads them all (a plain subscription, QoS 0: nothing queues for a stopped one).
When a peer has been `offline` for `[broker] adopt_after_s`, exactly one live instance adopts it:
the first live name after the peer's in sorted order (wrapping round). Adopting is a second
connection with the peer's client id and clean start 0: the broker hands it the session's
queued and unacknowledged messages and its share of the group from then on. When the peer
comes back under its own name it takes its session over (the broker ends the adopter's
connection with reason 0x8E); the adopter lets it go and never reconnects it, so two
instances never fight over one session (two adopters with different views: the later one
takes over, the earlier lets go). An adopter that dies takes its adopted connections' Wills
with it: the peer is `offline` again and the next live instance adopts it.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)

PRESENCE_PREFIX = "hallcity/v1/instance/"
PRESENCE_FILTER = PRESENCE_PREFIX + "+"
ONLINE, ADOPTED, OFFLINE = "online", "adopted", "offline"


def presence_topic(client_id: str) -> str:
    """`hallcity/v1/instance/{client_id}`: where an instance's notice is retained."""
    return PRESENCE_PREFIX + client_id


def notice(state: str, by: str | None = None) -> bytes:
    """The retained notice's payload."""
    return json.dumps({"state": state, "by": by} if by else {"state": state}).encode()


def read_notice(payload: bytes) -> tuple[str, str | None] | None:
    """(state, by whom adopted) of a notice; None for an empty payload (a cleared notice) or one this version cannot read."""
    try:
        doc = json.loads(payload) if payload else None
    except ValueError:
        return None
    if not isinstance(doc, dict) or doc.get("state") not in (ONLINE, ADOPTED, OFFLINE):
        return None
    by = doc.get("by")
    return str(doc["state"]), by if isinstance(by, str) else None


def adopter_of(dead: str, live: set[str]) -> str | None:
    """The live instance that adopts `dead`: the first live name after it in sorted order, wrapping round."""
    names = sorted(live - {dead})
    if not names:
        return None
    return next((n for n in names if n > dead), names[0])


class Peers:
    """What this instance knows of the others' notices, and the decision to adopt a stopped one."""

    def __init__(self, me: str, grace_s: float, adopt: Callable[[str], None], can_adopt: Callable[[], bool],
                 announce: Callable[[], None]) -> None:
        self.me = me
        self.grace_s = grace_s
        self.adopt = adopt  # called (on a timer thread) with the name this instance should adopt
        self.can_adopt = can_adopt  # our own connection is up (our view of the others is current)
        self.announce = announce  # publish our own "online" again
        self.states: dict[str, tuple[str, str | None]] = {}  # name -> (state, adopted by)
        self._lock = threading.Lock()
        self._timers: dict[str, threading.Timer] = {}
        self._stopped = False

    def seen(self, topic: str, payload: bytes) -> None:
        """A notice on `hallcity/v1/instance/+` (the reader thread)."""
        name = topic[len(PRESENCE_PREFIX):]
        state = read_notice(payload)
        if name == self.me:
            if state is None or state[0] != ONLINE:
                # a Will of our name's that came after our "online" (an adopter's, published at our
                # takeover by a broker that follows MQTT 5 3.1.4 to the letter): we are here
                self.announce()
            return
        if not name:
            return
        with self._lock:
            if state is None:
                self.states.pop(name, None)
            else:
                self.states[name] = state
        if state is not None and state[0] == OFFLINE:
            self.check_later(name)

    def live(self) -> set[str]:
        """The instances whose own connection is up, this one included."""
        with self._lock:
            return {n for n, (s, _by) in self.states.items() if s == ONLINE} | {self.me}

    def lost(self, name: str) -> None:
        """Our connection holding `name`'s session broke (not taken over): unless it is back, it is offline again."""
        with self._lock:
            state, by = self.states.get(name, (OFFLINE, None))
            if state == ONLINE or (state == ADOPTED and by != self.me):
                return  # back under its name, or another instance took it (different views): let it be
            self.states[name] = (OFFLINE, None)
        self.check_later(name)

    def check_later(self, name: str) -> None:
        """After the grace, adopt `name` if it is still offline and this instance is the one to."""
        if self.grace_s <= 0:
            return
        with self._lock:
            if self._stopped:
                return
            old = self._timers.pop(name, None)
            if old is not None:
                old.cancel()
            timer = threading.Timer(self.grace_s, self._check, (name,))
            timer.daemon = True
            self._timers[name] = timer
            timer.start()

    def _check(self, name: str) -> None:
        with self._lock:
            self._timers.pop(name, None)
            if self._stopped or self.states.get(name, ("", None))[0] != OFFLINE:
                return
        chosen = adopter_of(name, self.live())
        if chosen == self.me and self.can_adopt():
            self.adopt(name)
        else:
            log.debug("instance %s is offline; %s adopts it", name, chosen)

    def pending(self) -> list[str]:
        """The peers whose check after the grace is still to come."""
        with self._lock:
            return sorted(self._timers)

    def stop(self) -> None:
        """No more adoptions (the instance stops)."""
        with self._lock:
            self._stopped = True
            timers, self._timers = list(self._timers.values()), {}
        for t in timers:
            t.cancel()
