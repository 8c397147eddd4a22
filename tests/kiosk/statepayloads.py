"""Bus payloads for testing the roles' Qt-free states: the sample hall, its texts, calls and window states."""

from __future__ import annotations

from typing import Any

from hallbus import schemas
from hallbus.config import load_config
from kiosk.common.i18n import Catalogue

CFG = load_config()
CAT = Catalogue()
TS = "2026-03-03T09:00:00.000+08:00"


def call(ticket: str, window: str, ts: str = TS, attempt: int = 1) -> schemas.Call:
    """A call of `ticket` to `window`, as the controller publishes it."""
    return schemas.Call(
        ticket=ticket, window=window, window_name=f"{window}号窗口", text="", ts=ts, attempt=attempt
    )


def wstate(
    window: str, ticket: str | None = None, *, called_at: str = TS, attempt: int = 1, **kw: Any
) -> schemas.WindowState:
    """The retained state of `window`, serving `ticket` (or idle) with a staff member logged in."""
    t = None
    if ticket is not None:
        t = schemas.Ticket(number=ticket, service="A", called_at=called_at, attempt=attempt)
    staff = kw.pop("staff", schemas.StaffCard(id="s001", name="李明"))
    return schemas.WindowState(
        window=window,
        name=f"{window}号窗口",
        status="serving" if t else kw.pop("status", "idle"),
        ticket=t,
        staff=staff,
        **kw,
    )



class Sink:
    """A rating sink that keeps what it is given (the real one is the durable outbox)."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def put(self, method: str, body: dict[str, Any], request_id: str | None = None) -> str:
        """Keep the rating's body."""
        self.items.append(body)
        return request_id or ""
