"""The notifier port (one notification to one phone) and its adapter for the hall's HTTP gateway (SMS or WeChat).

The controller never talks to an SMS provider itself: the hall runs (or rents) a
gateway, and each notification is one JSON `POST` to its URL (`[notify] url`). The
body is `Notification.payload()`; the header `Idempotency-Key` carries the
notification's key, the same on every retry, so a gateway that saw a post arrive
but whose answer was lost can recognise the retry and not text the citizen twice.

A 2xx answer is delivered. A 408, 429 or 5xx answer, a timeout or a refused
connection is worth another try later; any other answer (400, 401, 404...) will not
change by trying again, so the notification is given up at once (logged).
"""

from __future__ import annotations

import http.client
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, Protocol

from hallbus import schemas
from hallbus.notify.phone import mask_mobile

RETRY_STATUS = frozenset({408, 425, 429})


@dataclass(frozen=True)
class Notification:
    """One message to one citizen: `near` ("you're next") or `called` (go to window N)."""

    key: str  # the idempotency key: one per ticket and kind, the same on every retry
    kind: str  # near | called
    phone: str
    body: dict[str, Any]  # everything else the gateway gets (ticket, window, text...)
    attempt: int = 1

    def payload(self) -> dict[str, Any]:
        """The JSON the gateway gets."""
        return {**self.body, "v": 1, "id": self.key, "kind": self.kind, "phone": self.phone,
                "attempt": self.attempt, "ts": schemas.now_iso()}

    def __repr__(self) -> str:  # never the whole number in a log line or a traceback
        return f"Notification({self.key[:8]}, {self.kind}, {mask_mobile(self.phone)}, attempt {self.attempt})"


class DeliveryError(Exception):
    """A notification was not delivered; `retry` says whether trying again later may help."""

    def __init__(self, reason: str, *, retry: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry = retry


class Notifier(Protocol):
    """Where notifications go: `send` returns once the gateway has taken it, or raises DeliveryError."""

    def send(self, notification: Notification) -> None:
        """Deliver one notification (blocking; called from the dispatcher's thread, never the writer's)."""
        ...


class HttpNotifier:
    """POSTs each notification as JSON to the gateway URL, with a bearer token when the hall has one."""

    def __init__(self, url: str, *, timeout_s: float = 5.0, token: str | None = None) -> None:
        self.url = url
        self.timeout_s = timeout_s
        self.token = token
        # Never a proxy from the environment: the number goes to the hall's gateway and nowhere else.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def send(self, notification: Notification) -> None:
        """One POST; DeliveryError(retry=...) unless the gateway answered 2xx."""
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Idempotency-Key": notification.key,
            "User-Agent": "hallkit-notify/1",
        }
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        data = schemas.encode(notification.payload())
        req = urllib.request.Request(self.url, data=data, headers=headers, method="POST")
        try:
            with self._opener.open(req, timeout=self.timeout_s) as resp:
                resp.read(4096)
        except urllib.error.HTTPError as err:
            retry = err.code >= 500 or err.code in RETRY_STATUS
            raise DeliveryError(f"gateway answered HTTP {err.code} {err.reason}", retry=retry) from err
        except (urllib.error.URLError, OSError, http.client.HTTPException) as err:
            reason = getattr(err, "reason", err)
            raise DeliveryError(f"gateway not reached: {reason}", retry=True) from err
