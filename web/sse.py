"""Server-sent events for the live pages: one view per event, a comment ping when a view is None."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from litestar.response import ServerSentEvent, ServerSentEventMessage


def event_stream(views: AsyncIterator[Any], event: str) -> ServerSentEvent:
    """`text/event-stream` of `views` (JSON as event `event`; None: a `: ping` comment), unbuffered by nginx."""

    async def stream() -> AsyncIterator[ServerSentEventMessage]:
        async for view in views:
            if view is None:
                yield ServerSentEventMessage(comment="ping")
            else:
                yield ServerSentEventMessage(event=event, data=json.dumps(view, ensure_ascii=False))

    return ServerSentEvent(stream(), headers={"X-Accel-Buffering": "no"})
