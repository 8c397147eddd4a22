"""Server-sent events, written as bytes: encoded once per change, not once per open page.

A call changes the state of every ticket in its queue, and each ticket may be open on
several phones: the event is encoded here once per ticket (`frame`) and the same bytes
are written to every stream that follows it (`response`). Litestar's `ServerSentEvent`
would encode each message again per stream (its JSON split into lines, rebuilt, encoded).
The board does the same per language (`web.board`); the console's monitor, one view per
page, uses `event_stream`. `encoded` counts the events encoded by name (`/healthz` shows it):
one per change and ticket or language, however many pages are open.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from typing import Any, NamedTuple

import msgspec
from litestar.response import Stream

SEP = b"\r\n"
PING = b": ping" + SEP + SEP  # a comment: keeps proxies from closing a quiet stream

encoded: Counter[str] = Counter()  # events encoded in this process, by name (a health figure)


class Known(NamedTuple):
    """A view last sent and its event, encoded once for every page that shows it."""

    view: Any
    frame: bytes


def frame(event: str, data: Any) -> bytes:
    """One event named `event` carrying `data` as JSON (one line: JSON needs no line breaks)."""
    encoded[event] += 1
    return b"event: " + event.encode() + SEP + b"data: " + msgspec.json.encode(data) + SEP + SEP


def response(frames: AsyncIterator[bytes]) -> Stream:
    """A `text/event-stream` answer writing `frames` as they come (`X-Accel-Buffering: no` for nginx)."""
    return Stream(frames, media_type="text/event-stream", headers={"X-Accel-Buffering": "no"})


def event_stream(views: AsyncIterator[Any], event: str) -> Stream:
    """`text/event-stream` of `views`: each as event `event`, None as a ping comment."""

    async def frames() -> AsyncIterator[bytes]:
        async for view in views:
            yield PING if view is None else frame(event, view)

    return response(frames())
