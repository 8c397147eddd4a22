"""`TicketPrinter`: print tickets and notices, read the paper sensor, report health.

Every call is bounded in time: writes have a timeout and status reads wait at most
`status_timeout`, so a printer that stops answering gives a clear `PrinterError`, never a hang.
Safe to call from several threads (one lock around the link); the kiosk should still call it off
the GUI thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from devices.printer.escpos import EscPos, PaperState, parse_paper_status
from devices.printer.layout import MaterialsNotice, Ticket, layout_notice, layout_ticket
from devices.printer.profile import PrinterProfile, profile_for
from devices.printer.transport import DummyTransport, Transport, TransportError, transport_for_url

log = logging.getLogger(__name__)

PrinterState = Literal["ok", "paper_low", "paper_out", "error"]
CHUNK = 512  # bytes per write: a stall is noticed within one write timeout


class PrinterError(Exception):
    """A print or status request failed; `code` is a snake_case reason, the text is zh_CN / English."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class PaperOut(PrinterError):
    """The paper sensor says the roll is empty."""

    def __init__(self, detail: str = "") -> None:
        super().__init__(
            "paper_out",
            "打印机缺纸，请更换纸卷。 / Printer is out of paper; load a new roll." + detail,
        )


@dataclass(frozen=True, slots=True)
class PrinterHealth:
    """Printer health as the hall bus reports it: `ok`, `paper_low`, `paper_out` or `error`."""

    state: PrinterState
    detail: str = ""

    def as_dict(self) -> dict[str, str]:
        """The `node/{node}/devices` entry for the printer."""
        return {"state": self.state, "detail": self.detail}


_PAPER_HEALTH: dict[PaperState, PrinterHealth] = {
    PaperState.OK: PrinterHealth("ok", "纸张正常 / paper ok"),
    PaperState.NEAR_END: PrinterHealth(
        "paper_low", "纸卷将尽，请准备更换。 / Paper roll near its end; have a new one ready."
    ),
    PaperState.OUT: PrinterHealth(
        "paper_out", "打印机缺纸，请更换纸卷。 / Printer is out of paper; load a new roll."
    ),
}


class TicketPrinter:
    """An ESC/POS ticket printer at a URL (see `devices.printer.transport`) with a 58/80 mm profile."""

    def __init__(
        self,
        port: str | Transport,
        *,
        width: int = 58,
        native_qr: bool = True,
        profile: PrinterProfile | None = None,
        status_timeout: float = 1.0,
        write_timeout: float = 3.0,
    ) -> None:
        self.transport = transport_for_url(port) if isinstance(port, str) else port
        self.transport.write_timeout = write_timeout
        self.profile = profile or profile_for(width, native_qr=native_qr)
        self.status_timeout = status_timeout
        self._lock = threading.RLock()
        self._open = False
        self._recover = False  # the last link failed mid-stream: clear the printer's buffers first
        self._health = PrinterHealth("error", "尚未连接 / not connected yet")
        self._on_health: Callable[[PrinterHealth], None] | None = None
        self._poll_stop = threading.Event()
        self._poll_thread: threading.Thread | None = None

    # -- link -----------------------------------------------------------------------------------

    def _ensure_open(self) -> None:
        if not self._open:
            try:
                self.transport.open()
            except TransportError as err:
                raise self._fail(
                    "not_connected",
                    f"无法连接打印机 {self.transport.url}，请检查电源和线缆。 / Cannot reach printer {self.transport.url}; check power and cable. ({err})",
                ) from err
            self._open = True
            if self._recover:
                try:
                    self.transport.write(EscPos.clear_buffers())
                    self._recover = False
                except TransportError:
                    pass

    def close(self) -> None:
        """Stop polling and close the link."""
        self.stop_polling()
        with self._lock:
            if self._open:
                self.transport.close()
                self._open = False

    def __enter__(self) -> TicketPrinter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _fail(self, code: str, message: str) -> PrinterError:
        """Record an error as health, drop the link (reopened next time), return the exception."""
        if self._open and code != "paper_out":
            self.transport.close()
            self._open = False
            self._recover = True
        self._set_health(PrinterHealth("error", message))
        return PrinterError(code, message)

    # -- status ---------------------------------------------------------------------------------

    def paper_status(self) -> PaperState:
        """Ask DLE EOT 4; raise `PrinterError("not_answering")` when no reply comes in time."""
        with self._lock:
            self._ensure_open()
            try:
                self.transport.drain_input()
                self.transport.write(EscPos.paper_status_request())
                reply = self.transport.read(1, self.status_timeout)
            except TransportError as err:
                raise self._fail(
                    "not_answering",
                    f"打印机 {self.transport.url} 无响应，请检查电源和线缆。 / Printer {self.transport.url} is not answering; check power and cable. ({err})",
                ) from err
            if not reply:
                raise self._fail(
                    "not_answering",
                    f"打印机 {self.transport.url} 无响应，请检查电源和线缆。 / Printer {self.transport.url} is not answering; check power and cable.",
                )
            state = parse_paper_status(reply[0])
            self._set_health(_PAPER_HEALTH[state])
            return state

    def check_health(self) -> PrinterHealth:
        """Poll the paper sensor once and return the resulting health (never raises)."""
        try:
            self.paper_status()
        except PrinterError:
            pass
        return self._health

    @property
    def health(self) -> PrinterHealth:
        """The latest health."""
        return self._health

    def _set_health(self, health: PrinterHealth) -> None:
        if health == self._health:
            return
        self._health = health
        log.info("printer %s: %s %s", self.transport.url, health.state, health.detail)
        if self._on_health is not None:
            try:
                self._on_health(health)
            except Exception:
                log.exception("on_health callback failed")

    def start_polling(
        self, on_health: Callable[[PrinterHealth], None], interval_s: float = 5.0
    ) -> None:
        """Poll paper status every `interval_s` on a thread; `on_health` is called on changes."""
        self._on_health = on_health
        if self._poll_thread is not None:
            return
        self._poll_stop.clear()

        def run() -> None:
            while True:
                self.check_health()
                if self._poll_stop.wait(interval_s):
                    return

        self._poll_thread = threading.Thread(target=run, name="printer-status", daemon=True)
        self._poll_thread.start()

    def stop_polling(self) -> None:
        """Stop the polling thread."""
        self._poll_stop.set()
        if self._poll_thread is not None:
            self._poll_thread.join(self.status_timeout + 2)
            self._poll_thread = None

    # -- printing -------------------------------------------------------------------------------

    def render(self, build: Callable[[EscPos], None]) -> bytes:
        """The bytes `build` would send (nothing is sent)."""
        buffer = DummyTransport()
        build(EscPos(buffer, self.profile))
        return bytes(buffer.output)

    def print_ticket(self, ticket: Ticket) -> PaperState:
        """Print a queue ticket; raises `PaperOut` or `PrinterError`. Returns the paper state after."""
        return self.send(self.render(lambda p: layout_ticket(p, ticket)))

    def print_notice(self, notice: MaterialsNotice) -> PaperState:
        """Print a 一次性告知单 (materials notice); same errors as `print_ticket`."""
        return self.send(self.render(lambda p: layout_notice(p, notice)))

    def send(self, data: bytes) -> PaperState:
        """Check paper, send `data` in chunks, then check again that the printer is still there."""
        with self._lock:
            if self.profile.status and self.paper_status() == PaperState.OUT:
                raise PaperOut()
            self._ensure_open()
            try:
                for start in range(0, len(data), CHUNK):
                    self.transport.write(data[start : start + CHUNK])
            except TransportError as err:
                raise self._fail(
                    "not_answering",
                    f"打印中途打印机停止响应，小票可能不完整，请检查打印机。 / The printer stopped answering in the middle of a ticket; the ticket may be incomplete. ({err})",
                ) from err
            if not self.profile.status:
                return PaperState.OK
            try:
                state = self.paper_status()
            except PrinterError as err:
                raise self._fail(
                    "not_answering",
                    "打印后打印机没有回应，小票可能没有打出，请检查打印机。 / The printer did not answer after the ticket; it may not have printed. Check the printer.",
                ) from err
            if state == PaperState.OUT:
                raise PaperOut(" 小票可能不完整。 / The ticket may be incomplete.")
            return state
