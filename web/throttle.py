"""Failed look-ups, counted per client and per case number, with a growing wait (SPEC 12.1).

`POST /api/v1/cases/query` answers 429 with `Retry-After` while a key waits. Each key has
`free` failures; every failure after them doubles the wait from `base_s` up to `max_s`; a
key with no failure for `forget_s` starts again. A success clears the client's count, not
the case number's (a stranger guessing one case must not be helped by the owner's success).

A client is its address (`client_address`): an IPv4 address, or an IPv6 address's /64 (one
phone or home network holds a whole /64 and may take any address in it). Behind nginx that
is the address nginx saw (`X-Forwarded-For`, which uvicorn takes from 127.0.0.1 only).

This throttle is kept in memory: the first, cheap line, forgotten at a restart. Behind it the
controller counts the same failures in its store (`hallbus.records.lookups`), per case number
and per phone: each `case.query` names the phone by `ClientKeys.of(address)`, an HMAC of the
address under hallweb's own secret (`[web] secret_key_file`), so the controller keeps a count
per phone without ever storing an address, and a restart of hallweb forgets nothing there.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

IPV6_CLIENT_PREFIX = 64  # an IPv6 client is its /64: the smallest network one subscriber gets


def client_address(host: str | None) -> str:
    """The address failures are counted by: IPv4 as is, IPv6 as its /64 (IPv4-mapped: the IPv4)."""
    if not host:
        return "?"
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host  # not an address (a test client's name): itself
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, IPV6_CLIENT_PREFIX), strict=False))
    return str(ip)


class ClientKeys:
    """hallweb's keyed hash of a client's address: what `case.query` sends as `client` (32 hex digits).

    Under hallweb's one secret (`[web] secret_key_file`, `web.admin.load_secret_key`): the same
    after a restart, so the controller's count per phone holds.
    """

    def __init__(self, secret: bytes) -> None:
        self._key = hmac.new(secret, b"hallweb case.query client", hashlib.sha256).digest()  # its own use of the secret

    def of(self, address: str) -> str:
        """The client key of an address (`client_address`)."""
        return hmac.new(self._key, address.encode(), hashlib.sha256).hexdigest()[:32]


@dataclass
class _Count:
    failures: int = 0
    last: float = 0.0
    until: float = 0.0


class FailureThrottle:
    """Growing waits after failed attempts, per key."""

    def __init__(self, *, free: int = 5, base_s: float = 30.0, max_s: float = 900.0, forget_s: float = 3600.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.free, self.base_s, self.max_s, self.forget_s, self.clock = free, base_s, max_s, forget_s, clock
        self._counts: dict[str, _Count] = {}
        self._lock = threading.Lock()

    def wait_s(self, *keys: str) -> int:
        """Whole seconds until every key may try again (0: now)."""
        now = self.clock()
        with self._lock:
            left = max((c.until - now for k in keys if (c := self._counts.get(k)) is not None), default=0.0)
        return max(0, int(left + 0.999))

    def failed(self, *keys: str) -> None:
        """Count a failed attempt against every key."""
        now = self.clock()
        with self._lock:
            if len(self._counts) > 100_000:  # a flood of made-up keys must not grow without end
                self._counts = {k: c for k, c in self._counts.items() if now - c.last < self.forget_s}
            for key in keys:
                c = self._counts.get(key)
                if c is None or now - c.last >= self.forget_s:
                    c = self._counts[key] = _Count()
                c.failures += 1
                c.last = now
                over = c.failures - self.free
                if over > 0:
                    c.until = now + min(self.max_s, self.base_s * 2 ** (over - 1))

    def succeeded(self, key: str) -> None:
        """Forget a key's failures."""
        with self._lock:
            self._counts.pop(key, None)
