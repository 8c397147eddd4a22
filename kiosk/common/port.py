"""How a Qt-free screen state asks for slow things: RPCs and blocking device work.

A state calls `port.call(...)` / `port.run(...)` and gets exactly one of its callbacks later, on
the thread that owns the state (the GUI thread in the app). The Qt adapter lives in
`kiosk.qt.worker`; `InlinePort` here runs everything at once, for tests of a state against the
real controller without Qt.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from hallbus.rpc import RpcClient, RpcFault

OnOk = Callable[[Any], None]
OnError = Callable[[BaseException], None]


class Port(Protocol):
    """The slow world as a screen state sees it."""

    def call(self, method: str, body: Mapping[str, Any], on_ok: OnOk, on_error: OnError, *, timeout: float = 5.0) -> None:
        """Send an RPC; `on_ok(data)` or `on_error(RpcFault)` later."""
        ...

    def run(self, work: Callable[[], Any], on_ok: OnOk, on_error: OnError) -> None:
        """Run blocking `work()` off the screen's thread; `on_ok(result)` or `on_error(exc)` later."""
        ...


class InlinePort:
    """Runs calls and work synchronously (tests and tools); the same contract, no threads to hop."""

    def __init__(self, rpc: RpcClient) -> None:
        self.rpc = rpc

    def call(self, method: str, body: Mapping[str, Any], on_ok: OnOk, on_error: OnError, *, timeout: float = 5.0) -> None:
        """Call and wait."""
        try:
            data = self.rpc.call_async(method, body, timeout=timeout).result(timeout + 1)
        except RpcFault as err:
            on_error(err)
            return
        on_ok(data)

    def run(self, work: Callable[[], Any], on_ok: OnOk, on_error: OnError) -> None:
        """Run now."""
        try:
            result = work()
        except Exception as err:
            on_error(err)
            return
        on_ok(result)
