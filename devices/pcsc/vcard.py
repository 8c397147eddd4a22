"""A card emulator on the vpcd socket (vsmartcard's virtual reader driver for pcscd).

vpcd protocol: every message is a 2-byte big-endian length and a payload. From the driver,
a 1-byte payload is a control code (00 power off, 01 power on, 02 reset, 04 get ATR; only
04 is answered, with the ATR); anything longer is a command APDU, answered with the R-APDU.
The card counts as present while our TCP connection to the driver is open.

Personalities: `StaffBadge` (contactless UID), `SocialSecurityCard` (UnionPay application
with a PAN, over PPSE or PSE, T=0 style 61xx answers), `MuteCard` (answers nothing useful).
`python -m devices.pcsc.vcard --port P --card badge|ssc|mute` runs one from the shell.
"""

from __future__ import annotations

import argparse
import logging
import signal
import socket
import threading
import time
from types import FrameType
from typing import Protocol

from devices.pcsc import tlv
from devices.pcsc.emv import PPSE, PSE

log = logging.getLogger(__name__)

DEFAULT_PORT = 35963  # 0x8C7B, vpcd's default
SW_OK = b"\x90\x00"


class CardPulled(Exception):
    """Raised by a personality to vanish mid-transaction: the connection closes without an answer."""


class VirtualCard(Protocol):
    """A card personality: its ATR and how it answers one APDU."""

    atr: bytes

    def apdu(self, command: bytes) -> bytes:
        """The R-APDU (data + SW1 SW2) for `command`."""
        ...


def part3_atr(standard: int = 0x03, card_name: int = 0x0001) -> bytes:
    """PC/SC part 3 ATR of a contactless storage card (default: ISO 14443 A-3, MIFARE Classic 1K)."""
    body = (
        bytes([0x8F, 0x80, 0x01, 0x80, 0x4F, 0x0C, 0xA0, 0x00, 0x00, 0x03, 0x06, standard])
        + card_name.to_bytes(2, "big")
        + bytes(4)
    )
    tck = 0
    for b in body:
        tck ^= b
    return b"\x3b" + body + bytes([tck])


class StaffBadge:
    """A contactless staff badge: a UID via `FF CA 00 00 00`, nothing else."""

    def __init__(self, uid: bytes = bytes.fromhex("04A1B2C3D4E580")) -> None:
        self.uid = uid
        self.atr = part3_atr()

    def apdu(self, command: bytes) -> bytes:
        """GET DATA (UID) answered; everything else 6A 81 (not supported), as a reader does."""
        if command[:4] == b"\xff\xca\x00\x00":
            le = command[4] if len(command) > 4 else 0
            return (self.uid[:le] if le else self.uid) + SW_OK
        return b"\x6a\x81"


class SocialSecurityCard:
    """A third-generation social security card (社保卡) with a UnionPay debit application."""

    def __init__(
        self,
        pan: str = "6217001234560684",
        *,
        aid: bytes = bytes.fromhex("A000000333010101"),
        ppse: bool = True,
        pse: bool = True,
        gpo: bool = True,
        pan_tag: int = 0x5A,
        t0: bool = True,
    ) -> None:
        self.pan = pan
        self.aid = aid
        self.ppse, self.pse, self.gpo, self.pan_tag, self.t0 = ppse, pse, gpo, pan_tag, t0
        self.atr = (
            bytes.fromhex("3B6C00000000000000000000009000")
            if not t0
            else bytes.fromhex("3B6800000073C84013009000")
        )
        self._selected = b""
        self._pending = b""
        self.log: list[bytes] = []

    def _records(self) -> dict[tuple[int, int], bytes]:
        digits = self.pan + ("F" if len(self.pan) % 2 else "")
        if self.pan_tag == 0x5A:
            rec1 = tlv.encode(
                0x70, tlv.encode(0x5F20, b"ZHANG/SAN") + tlv.encode(0x9F1F, b"000000")
            )
            rec2 = tlv.encode(
                0x70, tlv.encode(0x5A, bytes.fromhex(digits)) + tlv.encode(0x5F34, b"\x01")
            )
        else:
            track2 = (self.pan + "D30122010000000000").ljust(38, "F")[:38]
            rec1 = tlv.encode(0x70, tlv.encode(0x57, bytes.fromhex(track2)))
            rec2 = tlv.encode(0x70, tlv.encode(0x5F24, bytes.fromhex("301231")))
        return {(1, 1): rec1, (1, 2): rec2, (2, 1): tlv.encode(0x70, tlv.encode(0x8C, bytes(8)))}

    def _answer(self, data: bytes) -> bytes:
        if self.t0 and data:
            # T=0: say how much there is; the host fetches it with GET RESPONSE.
            self._pending = data
            return bytes([0x61, min(len(data), 0xFF)])
        return data + SW_OK

    def apdu(self, command: bytes) -> bytes:
        """Answer SELECT, GET RESPONSE, GET PROCESSING OPTIONS and READ RECORD like the card."""
        self.log.append(command)
        cla, ins = command[0], command[1]
        if ins == 0xC0 and cla == 0x00:
            data, self._pending = self._pending, b""
            return data + SW_OK if data else b"\x6f\x00"
        if cla == 0xFF:
            return b"\x6e\x00"  # a contact card does not know the reader's GET DATA
        if ins == 0xA4 and command[2] == 0x04:
            name = command[5 : 5 + command[4]]
            if name == PPSE and self.ppse:
                entry = tlv.encode(
                    0x61,
                    tlv.encode(0x4F, self.aid)
                    + tlv.encode(0x50, b"UnionPay Debit")
                    + tlv.encode(0x87, b"\x01"),
                )
                self._selected = PPSE
                return self._answer(
                    tlv.encode(
                        0x6F, tlv.encode(0x84, PPSE) + tlv.encode(0xA5, tlv.encode(0xBF0C, entry))
                    )
                )
            if name == PSE and self.pse:
                self._selected = PSE
                return self._answer(
                    tlv.encode(
                        0x6F, tlv.encode(0x84, PSE) + tlv.encode(0xA5, tlv.encode(0x88, b"\x01"))
                    )
                )
            if name == self.aid:
                self._selected = self.aid
                pdol = bytes.fromhex("9F66049F02069F03069F1A0295055F2A029A039C019F3704")
                return self._answer(
                    tlv.encode(
                        0x6F,
                        tlv.encode(0x84, self.aid)
                        + tlv.encode(
                            0xA5, tlv.encode(0x50, b"UnionPay Debit") + tlv.encode(0x9F38, pdol)
                        ),
                    )
                )
            return b"\x6a\x82"
        if ins == 0xA8 and cla == 0x80:
            if not self.gpo or self._selected != self.aid:
                return b"\x69\x85"
            afl = bytes([1 << 3, 1, 2, 0, 2 << 3, 1, 1, 0])
            return self._answer(
                tlv.encode(0x77, tlv.encode(0x82, b"\x7c\x00") + tlv.encode(0x94, afl))
            )
        if ins == 0xB2:
            sfi, record = command[3] >> 3, command[2]
            if self._selected == PSE:
                if (sfi, record) == (1, 1):
                    entry = tlv.encode(
                        0x61, tlv.encode(0x4F, self.aid) + tlv.encode(0x50, b"UnionPay Debit")
                    )
                    return self._answer(tlv.encode(0x70, entry))
                return b"\x6a\x83"
            if self._selected != self.aid:
                return b"\x69\x85"
            rec = self._records().get((sfi, record))
            if rec is None:
                return b"\x6a\x83" if sfi in (1, 2) else b"\x6a\x82"
            return self._answer(rec)
        return b"\x6d\x00"


class MuteCard:
    """A card that answers nothing useful: 6A 82 to SELECT, 6D 00 to everything else."""

    def __init__(self, atr: bytes = bytes.fromhex("3B021450")) -> None:
        self.atr = atr

    def apdu(self, command: bytes) -> bytes:
        """Refuse."""
        return b"\x6a\x82" if len(command) > 1 and command[1] == 0xA4 else b"\x6d\x00"


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("vpcd closed the connection")
        buf += chunk
    return buf


class VpcdCard:
    """Puts a `VirtualCard` into a vpcd reader slot: `insert(card)` connects, `remove()` disconnects."""

    def __init__(self, host: str = "127.0.0.1", port: int = DEFAULT_PORT) -> None:
        self.host = host
        self.port = port
        self.card: VirtualCard | None = None
        self.apdus = 0
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def insert(self, card: VirtualCard, timeout: float = 5.0) -> None:
        """Connect to the driver (retrying while pcscd starts) and serve `card` until `remove()`."""
        self.remove()
        deadline = time.monotonic() + timeout
        while True:
            try:
                sock = socket.create_connection((self.host, self.port), timeout=1.0)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        sock.settimeout(None)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._lock:
            self.card, self._sock = card, sock
        self._thread = threading.Thread(
            target=self._serve, args=(sock, card), name=f"vpcd-card:{self.port}", daemon=True
        )
        self._thread.start()

    def remove(self) -> None:
        """Take the card out (close the connection)."""
        with self._lock:
            sock, self._sock, self.card = self._sock, None, None
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(2.0)
            self._thread = None

    @property
    def inserted(self) -> bool:
        """True while a card is being served."""
        return self._sock is not None

    def _serve(self, sock: socket.socket, card: VirtualCard) -> None:
        try:
            while True:
                length = int.from_bytes(_recv_exact(sock, 2), "big")
                payload = _recv_exact(sock, length)
                if length == 1:
                    if payload[0] == 0x04:
                        reply = card.atr
                    else:
                        continue  # power off / on / reset: no answer
                else:
                    self.apdus += 1
                    try:
                        reply = card.apdu(payload)
                    except CardPulled:
                        with self._lock:
                            if self._sock is sock:
                                self._sock, self.card = None, None
                        sock.close()
                        return
                    except Exception:
                        log.exception("virtual card failed on %s", payload.hex())
                        reply = b"\x6f\x00"
                sock.sendall(len(reply).to_bytes(2, "big") + reply)
        except (OSError, ConnectionError):
            pass

    def __enter__(self) -> VpcdCard:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


PERSONALITIES = {"badge": StaffBadge, "ssc": SocialSecurityCard, "mute": MuteCard}


def main(argv: list[str] | None = None) -> int:
    """Serve one virtual card on a vpcd port until Ctrl-C or SIGTERM."""
    parser = argparse.ArgumentParser(
        prog="python -m devices.pcsc.vcard", description="virtual card for the vpcd reader"
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--card", choices=sorted(PERSONALITIES), default="badge")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    done = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    vc = VpcdCard(args.host, args.port)
    vc.insert(PERSONALITIES[args.card](), timeout=30)
    print(f"virtual {args.card} card in vpcd {args.host}:{args.port}", flush=True)
    done.wait()
    vc.remove()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
