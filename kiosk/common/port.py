"""How a Qt-free screen state asks for slow things: RPCs and blocking device work.

A state calls `port.call(...)` / `port.run(...)` and gets exactly one of its callbacks later, on
the thread that owns the state (the GUI thread in the app). An RPC names its method from the
one table (`schemas.TICKET_ISSUE` ...), and `on_ok` gets the reply decoded into the method's
reply type (`schemas.TicketReply` ...); a reply that does not fit it arrives at `on_error` as
the RpcFault `bad_reply`, whose message a person can read as it is. The Qt adapter lives in
`kiosk.qt.worker`; `InlinePort` here runs everything at once, for tests of a state against the
real controller without Qt.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol, TypeVar

import msgspec

from hallbus import schemas
from hallbus.rpc import RpcClient, RpcFault

R = TypeVar("R", bound=msgspec.Struct)
OnOk = Callable[[Any], None]
OnError = Callable[[BaseException], None]


class Port(Protocol):
    """The slow world as a screen state sees it."""

    def call(
        self, method: schemas.Rpc[R], body: Mapping[str, Any], on_ok: Callable[[R], None], on_error: OnError, *,
        timeout: float = 5.0,
    ) -> None:
        """Send an RPC; `on_ok(reply)` (the method's reply type) or `on_error(RpcFault)` later."""
        ...

    def run(self, work: Callable[[], Any], on_ok: OnOk, on_error: OnError) -> None:
        """Run blocking `work()` off the screen's thread; `on_ok(result)` or `on_error(exc)` later."""
        ...


class InlinePort:
    """Runs calls and work synchronously (tests and tools); the same contract, no threads to hop."""

    def __init__(self, rpc: RpcClient) -> None:
        self.rpc = rpc

    def call(
        self, method: schemas.Rpc[R], body: Mapping[str, Any], on_ok: Callable[[R], None], on_error: OnError, *,
        timeout: float = 5.0,
    ) -> None:
        """Call and wait."""
        try:
            reply = self.rpc.call_typed_async(method, body, timeout=timeout).result(timeout + 1)
        except RpcFault as err:
            on_error(err)
            return
        on_ok(reply)

    def run(self, work: Callable[[], Any], on_ok: OnOk, on_error: OnError) -> None:
        """Run now."""
        try:
            result = work()
        except Exception as err:
            on_error(err)
            return
        on_ok(result)
