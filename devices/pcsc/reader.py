"""PC/SC access on pyscard's `scard` layer: list readers, read one card, and monitor events.

`scard` (not the high-level classes) keeps every PC/SC return code, so "pcscd not running",
"reader unplugged" and "card pulled away mid-transaction" each become their own typed error.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

from smartcard import scard

from devices.common.health import Health
from devices.common.worker import Backoff, HealthCallback, Worker
from devices.pcsc import emv
from devices.pcsc.errors import (
    CardRemovedError,
    NoCardError,
    NoReaderError,
    PcscdNotRunning,
    PcscError,
    ReaderGoneError,
)

log = logging.getLogger(__name__)

GET_UID = bytes.fromhex("FFCA000000")
# PC/SC part 3 ATR of a contactless storage card (MIFARE and the like): no applications to select.
_PART3_STORAGE = bytes.fromhex("804F0CA0000003 06".replace(" ", ""))
_SERVICE_GONE = {
    scard.SCARD_E_NO_SERVICE,
    scard.SCARD_E_SERVICE_STOPPED,
    getattr(scard, "SCARD_E_NO_SERVER", scard.SCARD_E_NO_SERVICE),
}
_READER_GONE = {scard.SCARD_E_READER_UNAVAILABLE, scard.SCARD_E_UNKNOWN_READER}
_CARD_GONE = {scard.SCARD_W_REMOVED_CARD, scard.SCARD_W_RESET_CARD, scard.SCARD_E_NO_SMARTCARD}


def _hresult_text(hr: int) -> str:
    try:
        return str(scard.SCardGetErrorMessage(hr))
    except Exception:  # pragma: no cover - message lookup never matters for control flow
        return f"0x{hr & 0xFFFFFFFF:08X}"


@contextmanager
def context() -> Iterator[Any]:
    """A PC/SC context, released afterwards; `PcscdNotRunning` when the service is absent."""
    hr, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if hr != scard.SCARD_S_SUCCESS:
        raise PcscdNotRunning(_hresult_text(hr))
    try:
        yield ctx
    finally:
        scard.SCardReleaseContext(ctx)


def _list(ctx: Any) -> list[str]:
    hr, readers = scard.SCardListReaders(ctx, [])
    if hr == scard.SCARD_E_NO_READERS_AVAILABLE:
        return []
    if hr in _SERVICE_GONE or hr == scard.SCARD_E_INVALID_HANDLE:
        raise PcscdNotRunning(_hresult_text(hr))
    if hr != scard.SCARD_S_SUCCESS:
        raise PcscError(
            f"列出读卡器失败：{_hresult_text(hr)}。",
            f"Listing readers failed: {_hresult_text(hr)}.",
        )
    return list(readers)


def list_readers() -> list[str]:
    """Names of the connected PC/SC readers (may be empty)."""
    with context() as ctx:
        return _list(ctx)


@dataclass(frozen=True)
class CardInfo:
    """What a hall needs from a card: ATR, contactless UID (badges), masked bank number (社保卡)."""

    reader: str
    atr: str
    uid: str | None = None
    pan_masked: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The card object of `python -m devices pcsc read --json`."""
        return {"atr": self.atr, "uid": self.uid, "pan_masked": self.pan_masked}


class _Card:
    """One connected card; `transmit` handles T=0 61xx/6Cxx and maps return codes to errors."""

    def __init__(self, ctx: Any, reader: str) -> None:
        self.reader = reader
        hr, self.handle, self.protocol = scard.SCardConnect(
            ctx, reader, scard.SCARD_SHARE_SHARED, scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1
        )
        if hr != scard.SCARD_S_SUCCESS:
            raise self._error(hr, connecting=True)

    def _error(self, hr: int, connecting: bool = False) -> PcscError:
        if hr in _SERVICE_GONE:
            return PcscdNotRunning(_hresult_text(hr))
        if hr in _READER_GONE:
            return ReaderGoneError(self.reader) if not connecting else NoReaderError(self.reader)
        if hr in _CARD_GONE or hr == scard.SCARD_E_NOT_TRANSACTED and not connecting:
            return NoCardError(self.reader) if connecting else CardRemovedError(self.reader)
        if hr == scard.SCARD_W_UNRESPONSIVE_CARD or hr == scard.SCARD_W_UNPOWERED_CARD:
            return NoCardError(self.reader)
        return PcscError(
            f"读卡器操作失败：{_hresult_text(hr)}。",
            f"Reader operation failed: {_hresult_text(hr)}.",
        )

    def atr(self) -> bytes:
        """The card's answer to reset."""
        hr, _reader, _state, _proto, atr = scard.SCardStatus(self.handle)
        if hr != scard.SCARD_S_SUCCESS:
            raise self._error(hr)
        return bytes(atr)

    def raw(self, apdu: bytes) -> tuple[bytes, int]:
        """One APDU exchange: (data, SW1SW2)."""
        pci = scard.SCARD_PCI_T0 if self.protocol == scard.SCARD_PROTOCOL_T0 else scard.SCARD_PCI_T1
        hr, resp = scard.SCardTransmit(self.handle, pci, list(apdu))
        if hr != scard.SCARD_S_SUCCESS:
            raise self._error(hr)
        if len(resp) < 2:
            # Every card answers at least SW1 SW2: nothing at all means the card left mid-exchange
            # (vpcd says so this way; pcscd only notices at its next presence poll).
            raise CardRemovedError(self.reader)
        return bytes(resp[:-2]), (resp[-2] << 8) | resp[-1]

    def transmit(self, apdu: bytes) -> tuple[bytes, int]:
        """Exchange `apdu`, fetching GET RESPONSE data (61xx) and retrying with the right Le (6Cxx)."""
        data, sw = self.raw(apdu)
        for _ in range(8):
            if sw >> 8 == 0x61:
                more, sw = self.raw(bytes([apdu[0] & 0x03, 0xC0, 0x00, 0x00, sw & 0xFF]))
                data += more
            elif sw >> 8 == 0x6C and len(apdu) >= 5:
                data, sw = self.raw(apdu[:-1] + bytes([sw & 0xFF]))
            else:
                break
        return data, sw

    def close(self) -> None:
        """Disconnect, leaving the card powered for the next user."""
        scard.SCardDisconnect(self.handle, scard.SCARD_LEAVE_CARD)


def _read_with(ctx: Any, reader: str, *, with_pan: bool = True) -> CardInfo:
    card = _Card(ctx, reader)
    try:
        atr = card.atr()
        uid: str | None = None
        data, sw = card.transmit(GET_UID)
        if sw == emv.SW_OK and data:
            uid = data.hex().upper()
        pan = None
        if with_pan and _PART3_STORAGE not in atr:
            pan = emv.read_pan_masked(card.transmit)
        return CardInfo(reader=reader, atr=atr.hex().upper(), uid=uid, pan_masked=pan)
    finally:
        card.close()


def read_card(reader: str, *, with_pan: bool = True) -> CardInfo:
    """Connect to the card in `reader` and read ATR, UID and (for bank-capable cards) the masked PAN."""
    with context() as ctx:
        if reader not in _list(ctx):
            raise NoReaderError(reader)
        return _read_with(ctx, reader, with_pan=with_pan)


def read_all() -> list[tuple[str, CardInfo | None]]:
    """Every reader with its card (None when empty) - the `pcsc read` diagnostics."""
    out: list[tuple[str, CardInfo | None]] = []
    with context() as ctx:
        for reader in _list(ctx):
            try:
                out.append((reader, _read_with(ctx, reader)))
            except NoCardError:
                out.append((reader, None))
    return out


def wait_for_card(reader: str, present: bool = True, timeout: float = 5.0) -> bool:
    """Block until pcscd reports a card in `reader` (or none, with present=False); False on timeout."""
    deadline = time.monotonic() + timeout
    with context() as ctx:
        while time.monotonic() < deadline:
            hr, states = scard.SCardGetStatusChange(ctx, 100, [(reader, scard.SCARD_STATE_UNAWARE)])
            if (
                hr == scard.SCARD_S_SUCCESS
                and bool(states[0][1] & scard.SCARD_STATE_PRESENT) == present
            ):
                return True
            time.sleep(0.05)
    return False


# -- monitoring -----------------------------------------------------------------------------

EventKind = Literal["reader_added", "reader_removed", "card_inserted", "card_removed"]


@dataclass(frozen=True)
class PcscEvent:
    """A reader or card event; `card` is filled for insertions when the monitor reads cards."""

    kind: EventKind
    reader: str
    atr: str | None = None
    card: CardInfo | None = None
    error: PcscError | None = None


class PcscMonitor(Worker):
    """Watches pcscd in a thread and calls `on_event` for readers and cards coming and going.

    Survives pcscd restarts (health "absent" meanwhile: no reader or no pcscd; "ok" when a reader
    is there). Callbacks run on the monitor thread; an exception in one is logged and never stops
    the monitor.
    """

    def __init__(
        self,
        on_event: Callable[[PcscEvent], None],
        on_health: HealthCallback | None = None,
        *,
        read_cards: bool = True,
        poll: float = 0.25,
    ) -> None:
        super().__init__(
            "pcsc-monitor",
            on_health,
            health=Health("error", "not started"),
            label=("读卡器监视", "PC/SC monitor"),
        )
        self.on_event = on_event
        self.read_cards = read_cards
        self.poll = poll
        self.readers: dict[str, int] = {}  # reader -> last event state
        self._ctx: Any = None

    def _interrupt(self) -> None:
        ctx = self._ctx
        if ctx is not None:
            scard.SCardCancel(ctx)  # ends a SCardGetStatusChange that is waiting

    def _emit(self, event: PcscEvent) -> None:
        self._call(self.on_event, event)

    def _drop_all(self) -> None:
        for reader, state in list(self.readers.items()):
            if state & scard.SCARD_STATE_PRESENT:
                self._emit(PcscEvent("card_removed", reader))
            self._emit(PcscEvent("reader_removed", reader))
        self.readers.clear()

    def _release(self) -> None:
        if self._ctx is not None:
            scard.SCardReleaseContext(self._ctx)
            self._ctx = None

    def _finished(self) -> None:
        self._release()

    def _run(self) -> None:
        backoff = Backoff(self.poll, 5.0)
        while not self.stopping:
            try:
                if self._ctx is None:
                    hr, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
                    if hr != scard.SCARD_S_SUCCESS:
                        raise PcscdNotRunning(_hresult_text(hr))
                    self._ctx = ctx
                self._step()
                backoff.reset()
            except PcscdNotRunning as err:
                self._release()
                self._drop_all()
                self._set_health(Health("absent", err.message_zh))
                self._sleep(backoff.next())
            except Exception as err:
                log.exception("pcsc monitor error")
                self._release()
                self._set_health(Health("error", str(err)))
                self._sleep(backoff.next())

    def _step(self) -> None:
        ctx = self._ctx
        current = _list(ctx)
        for reader in [r for r in self.readers if r not in current]:
            if self.readers[reader] & scard.SCARD_STATE_PRESENT:
                self._emit(PcscEvent("card_removed", reader))
            del self.readers[reader]
            self._emit(PcscEvent("reader_removed", reader))
        for reader in current:
            if reader not in self.readers:
                self.readers[reader] = scard.SCARD_STATE_UNAWARE
                self._emit(PcscEvent("reader_added", reader))
        if current:
            self._set_health(Health("ok", f"{len(current)} reader(s)"))
        else:
            self._set_health(Health("absent", NoReaderError().message_zh))
            self._sleep(self.poll)
            return
        states = [(r, self.readers[r]) for r in current]
        hr, changed = scard.SCardGetStatusChange(ctx, int(self.poll * 1000), states)
        if hr in (scard.SCARD_E_TIMEOUT, scard.SCARD_E_CANCELLED):
            return
        if hr in _SERVICE_GONE or hr == scard.SCARD_E_INVALID_HANDLE:
            raise PcscdNotRunning(_hresult_text(hr))
        if hr in _READER_GONE:
            return  # the reader list is refreshed on the next step
        if hr != scard.SCARD_S_SUCCESS:
            raise PcscError(
                f"读卡器状态查询失败：{_hresult_text(hr)}。",
                f"Reader status query failed: {_hresult_text(hr)}.",
            )
        for reader, event_state, atr in changed:
            before = self.readers.get(reader, 0)
            self.readers[reader] = event_state & ~scard.SCARD_STATE_CHANGED
            was = bool(before & scard.SCARD_STATE_PRESENT)
            now = (
                bool(event_state & scard.SCARD_STATE_PRESENT)
                and not event_state & scard.SCARD_STATE_MUTE
            )
            if now and not was:
                self._emit(self._inserted(reader, bytes(atr)))
            elif was and not now:
                self._emit(PcscEvent("card_removed", reader))

    def _inserted(self, reader: str, atr: bytes) -> PcscEvent:
        if not self.read_cards:
            return PcscEvent("card_inserted", reader, atr=atr.hex().upper())
        try:
            info = _read_with(self._ctx, reader)
            return PcscEvent("card_inserted", reader, atr=info.atr, card=info)
        except PcscError as err:
            return PcscEvent("card_inserted", reader, atr=atr.hex().upper(), error=err)
