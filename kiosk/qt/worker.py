"""Slow work off the GUI thread, reporting back on it: the Qt implementation of `kiosk.common.port.Port`."""

from __future__ import annotations

import concurrent.futures
import logging
from collections.abc import Callable, Mapping
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal, Slot

from hallbus import schemas
from hallbus.rpc import RpcClient
from kiosk.common.port import OnError, OnOk, R
from kiosk.qt.compat import emit

log = logging.getLogger(__name__)


class QtPort(QObject):
    """RPCs (futures from `RpcClient.call_typed_async`) and blocking work (a small thread pool).

    Every callback runs on the GUI thread, delivered through a queued signal; `pending`
    counts what has not answered yet (tests wait for it to reach zero).
    """

    # One tuple (on_ok, on_error, result, error): never a bare None through a queued signal,
    # which PySide has been seen to mis-count (a crash at exit).
    _done = Signal(object)
    busyChanged = Signal()

    def __init__(self, rpc: RpcClient | None, *, workers: int = 2, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.rpc = rpc
        self.pending = 0
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="kiosk-work")
        self._done.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    def call(
        self, method: schemas.Rpc[R], body: Mapping[str, Any], on_ok: Callable[[R], None], on_error: OnError, *,
        timeout: float = 5.0,
    ) -> None:
        """Send an RPC; the reply, decoded into the method's reply type, comes back on the GUI thread."""
        assert self.rpc is not None, "this kiosk has no RPC client"
        self._watch(self.rpc.call_typed_async(method, body, timeout=timeout), on_ok, on_error)

    def run(self, work: Callable[[], Any], on_ok: OnOk, on_error: OnError) -> None:
        """Run `work()` on the pool; the result comes back on the GUI thread."""
        self._watch(self._pool.submit(work), on_ok, on_error)

    def _watch(self, fut: concurrent.futures.Future[Any], on_ok: OnOk, on_error: OnError) -> None:
        self.pending += 1

        def done(f: concurrent.futures.Future[Any]) -> None:
            err = f.exception()
            emit(self._done, (on_ok, on_error, None if err else f.result(), err))

        fut.add_done_callback(done)

    @Slot(object)
    def _deliver(self, answer: tuple[OnOk, OnError, Any, BaseException | None]) -> None:
        self.pending -= 1
        on_ok, on_error, result, error = answer
        try:
            if error is not None:
                on_error(error)
            else:
                on_ok(result)
        except Exception:
            log.exception("a screen's callback failed")

    def shutdown(self) -> None:
        """Stop taking work; running work finishes in the background."""
        self._pool.shutdown(wait=False, cancel_futures=True)


class OnGui(QObject):
    """Makes callables that, called from any thread (a device's, paho's), run on the GUI thread."""

    _call = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._call.connect(self._run, Qt.ConnectionType.QueuedConnection)

    def wrap(self, fn: Callable[..., Any]) -> Callable[..., None]:
        """`fn` hopped to the GUI thread; the caller never waits."""
        return lambda *args: emit(self._call, (fn, args))

    @Slot(object)
    def _run(self, call: tuple[Callable[..., Any], tuple[Any, ...]]) -> None:
        fn, args = call
        try:
            fn(*args)
        except Exception:
            log.exception("a GUI-thread callback failed")
