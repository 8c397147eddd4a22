"""Which bus messages a role follows and which method of its state each one goes to (Qt-free).

Every role builds one `Routes`: topic filter -> payload type -> handler. A malformed or empty
payload is logged and dropped (`decode_or_none`), never passed on; a topic no route matches is
ignored. `RoleContext.follow(routes, ...)` subscribes the filters and delivers the messages.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from kiosk.common.sections import decode_or_none

T = TypeVar("T")
Route = tuple[type[Any], Callable[[Any], None], str]


def filter_matches(topic_filter: str, topic: str) -> bool:
    """MQTT matching: `+` is one level, a trailing `#` any number of levels."""
    want, got = topic_filter.split("/"), topic.split("/")
    for i, level in enumerate(want):
        if level == "#":
            return True
        if i >= len(got) or (level != "+" and level != got[i]):
            return False
    return len(want) == len(got)


class Routes:
    """Topic filters a role follows, each with its payload type and the state's handler."""

    def __init__(self) -> None:
        self._exact: dict[str, Route] = {}
        self._wildcards: list[tuple[str, Route]] = []

    def add(self, topic_filter: str, type_: type[T], handler: Callable[[T], None], what: str) -> Routes:
        """Deliver messages on `topic_filter` decoded as `type_` to `handler` (`what` names them in the log)."""
        route: Route = (type_, handler, what)
        if "+" in topic_filter or "#" in topic_filter:
            self._wildcards.append((topic_filter, route))
        else:
            self._exact[topic_filter] = route
        return self

    @property
    def filters(self) -> list[str]:
        """Every topic filter to subscribe."""
        return [*self._exact, *(f for f, _ in self._wildcards)]

    def deliver(self, topic: str, payload: object) -> None:
        """Decode one message and hand it to its route's handler (the first route that matches)."""
        route = self._exact.get(topic)
        if route is None:
            route = next((r for f, r in self._wildcards if filter_matches(f, topic)), None)
            if route is None:
                return
        type_, handler, what = route
        decoded = decode_or_none(payload, type_, what)
        if decoded is not None:
            handler(decoded)
