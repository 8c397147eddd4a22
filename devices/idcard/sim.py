"""SAM module simulator: answers the real GA/T 467 bytes on a pty, scriptable for tests and the demo.

In-process: `SamSimulator(link=PATH)` (or `fd=` of a pty end) with `start()`/`stop()`; place or
remove cards, queue SW3 errors, slow replies, line noise, damaged frames, a card pulled away
mid-read. From the shell: `python -m devices sim idcard --link PATH [--card KIND|none]`.
"""

from __future__ import annotations

import argparse
import logging
import os
import select
import signal
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Literal

from devices.common.ptylink import PtyLink
from devices.idcard import commands as c
from devices.idcard.card import CARD_TYPES, CardData, CardType, encode_text
from devices.idcard.commands import RawCard
from devices.idcard.errors import FrameError
from devices.idcard.frame import Command, FrameParser, Reply
from devices.idcard.samples import sample_card

log = logging.getLogger(__name__)

Fault = Literal["sw3", "checksum", "length", "truncate", "wrong_reply", "silent", "remove_mid_read"]
# 05.01-20101215-0011364427-2253674683 when formatted (a made-up module id)
SAM_ID = (
    bytes([5, 0, 1, 0])
    + (20101215).to_bytes(4, "little")
    + (11364427).to_bytes(4, "little")
    + (2253674683).to_bytes(4, "little")
)
_NAMES = {(k.cmd, k.para): v.name for k, v in ((Command(*key), e) for key, e in c.EXPECT.items())}


@dataclass
class _Queued:
    command: str  # "find", "select", "read", "read_fp", "sam_id", "reset", "sam_status", or "*"
    fault: Fault
    sw3: int = 0


class SamSimulator:
    """A simulated SAM with one card slot; everything it says goes over the real pty."""

    def __init__(
        self,
        link: str | os.PathLike[str] | None = None,
        *,
        fd: int | None = None,
        card: CardData | CardType | None = "resident",
        sticky: bool = False,
        delay: float = 0.0,
    ) -> None:
        if (link is None) == (fd is None):
            raise ValueError("give exactly one of link= or fd=")
        self._link = PtyLink(link) if link is not None else None
        self.fd: int = self._link.fd if self._link is not None else fd  # type: ignore[assignment]
        self.device = str(self._link.path) if self._link is not None else ""
        # sticky: the card stays findable after a read (some SAMs); else it must leave and come back.
        self.sticky = sticky
        self.delay = delay
        self.commands_seen: list[str] = []
        self.reads = 0
        self.replies_sent = 0  # frames written in answer to commands (faulty ones included)
        self._changed = threading.Condition()
        self._card: CardData | None = None
        self._found = False
        self._selected = False
        self._halted = False
        self._faults: deque[_Queued] = deque()
        self._noise = b""
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="idcard-sim", daemon=True)
        self.place(card)

    # -- script -----------------------------------------------------------------------------

    def place(self, card: CardData | CardType | None) -> None:
        """Put a card on the reader (a kind name gives the sample card); None takes it away."""
        with self._lock:
            self._card = sample_card(card) if isinstance(card, str) else card
            self._found = self._selected = self._halted = False

    def remove(self) -> None:
        """Take the card away."""
        self.place(None)

    @property
    def card(self) -> CardData | None:
        """The card on the reader, if any."""
        return self._card

    def fail(self, command: str, fault: Fault = "sw3", sw3: int = 0x41, times: int = 1) -> None:
        """Queue `fault` for the next `times` occurrences of `command` ("*" for any command)."""
        with self._lock:
            for _ in range(times):
                self._faults.append(_Queued(command, fault, sw3))

    def add_noise(self, data: bytes) -> None:
        """Send `data` on the line just before the next reply."""
        with self._lock:
            self._noise += data

    def inject(self, data: bytes) -> None:
        """Write raw bytes to the line now."""
        self._write(data)

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
        """Wait until `predicate()` holds; it is checked after each command and each reply.

        For tests: `sim.wait_for(lambda: sim.commands_seen.count("find") >= 10)` waits for real
        polls instead of sleeping and hoping they happened.
        """
        with self._changed:
            return self._changed.wait_for(predicate, timeout)

    def _notify(self) -> None:
        with self._changed:
            self._changed.notify_all()

    # -- life -------------------------------------------------------------------------------

    def start(self) -> SamSimulator:
        """Start answering in a thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop answering; close the pty and remove the link (the reader sees the port vanish)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(2.0)
        if self._link is not None:
            self._link.close()

    def __enter__(self) -> SamSimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        parser = FrameParser()
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([self.fd], [], [], 0.05)
                if not ready:
                    continue
                data = os.read(self.fd, 4096)
            except OSError:
                if self._stop.wait(0.05):
                    return
                continue
            for event in parser.feed(data):
                if isinstance(event, FrameError):
                    # The SAM answers a damaged command with SW3 10 (checksum) / 11 (length).
                    sw3 = 0x10 if "checksum" in event.message_en else 0x11
                    self._send(Reply(0, 0, sw3).frame())
                    continue
                try:
                    command = Command.from_body(event)
                except FrameError:
                    self._send(Reply(0, 0, 0x11).frame())
                    continue
                self._answer(command)

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            try:
                n = os.write(self.fd, view)
            except BlockingIOError:
                select.select([], [self.fd], [], 0.05)
                continue
            except OSError:
                return
            view = view[n:]

    def _send(self, frame: bytes) -> None:
        if self.delay:
            if self._stop.wait(self.delay):
                return
        with self._lock:
            noise, self._noise = self._noise, b""
        self._write(noise + frame)
        self.replies_sent += 1
        self._notify()

    def _take_fault(self, name: str) -> _Queued | None:
        with self._lock:
            for q in self._faults:
                if q.command in (name, "*"):
                    self._faults.remove(q)
                    return q
        return None

    def _answer(self, command: Command) -> None:
        name = _NAMES.get((command.cmd, command.para), f"{command.cmd:02x}{command.para:02x}")
        self.commands_seen.append(name)
        self._notify()
        fault = self._take_fault(name)
        reply = self._reply(name) if fault is None or fault.fault in ("remove_mid_read",) else None
        if fault is None:
            assert reply is not None
            self._send(reply.frame())
            return
        if fault.fault == "sw3":
            self._send(Reply(0, 0, fault.sw3).frame())
        elif fault.fault == "silent":
            return
        elif fault.fault == "remove_mid_read":
            assert reply is not None
            frame = reply.frame()
            self.remove()
            self._send(frame[: len(frame) // 2])
        else:
            frame = self._reply(name).frame()
            if fault.fault == "checksum":
                frame = frame[:-1] + bytes([frame[-1] ^ 0x5A])
            elif fault.fault == "length":
                frame = frame[:5] + (len(frame) + 200).to_bytes(2, "big") + frame[7:]
            elif fault.fault == "truncate":
                frame = frame[: max(8, len(frame) // 3)]
            elif fault.fault == "wrong_reply":
                # A reply that belongs to another command: the select answer to anything else.
                frame = (
                    Reply(0, 0, c.SW3_FOUND, bytes(4))
                    if name != "find"
                    else Reply(0, 0, c.SW3_OK, bytes(8))
                ).frame()
            self._send(frame)

    def _reply(self, name: str) -> Reply:
        with self._lock:
            card = self._card
            if name in ("reset", "sam_status"):
                return Reply(0, 0, c.SW3_OK)
            if name == "sam_id":
                return Reply(0, 0, c.SW3_OK, SAM_ID)
            if name == "find":
                self._selected = False
                if card is None or self._halted:
                    self._found = False
                    return Reply(0, 0, c.SW3_NO_CARD, bytes(4))
                self._found = True
                return Reply(0, 0, c.SW3_FOUND, bytes(4))
            if name == "select":
                if card is None or not self._found:
                    return Reply(0, 0, c.SW3_SELECT_FAILED, bytes(8))
                self._selected = True
                return Reply(0, 0, c.SW3_OK, bytes(8))
            if name in ("read", "read_fp"):
                if card is None or not self._selected:
                    return Reply(0, 0, 0x41)
                fp = name == "read_fp"
                raw = RawCard(
                    encode_text(card), card.photo, card.fingerprint or (bytes(1024) if fp else b"")
                )
                self._selected = self._found = False
                self._halted = not self.sticky
                self.reads += 1
                return Reply(0, 0, c.SW3_OK, c.join_read_data(raw, with_fingerprint=fp))
            return Reply(0, 0, 0x21)


def add_sim_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `python -m devices sim idcard`."""
    parser.add_argument(
        "--link", required=True, help="path where the reader's end of the pty is linked"
    )
    parser.add_argument(
        "--card",
        choices=[*CARD_TYPES, "none"],
        default="resident",
        help="card on the reader at start",
    )
    parser.add_argument(
        "--sticky", action="store_true", help="the card stays findable after a read"
    )
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before each reply")


def sim_main(args: argparse.Namespace) -> int:
    """Run the simulator until Ctrl-C or SIGTERM; SIGUSR1 takes the card away or puts it back."""
    kind: CardType | None = None if args.card == "none" else args.card
    sim = SamSimulator(Path(args.link), card=kind, sticky=args.sticky, delay=args.delay)
    done = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        done.set()

    def _toggle(signum: int, frame: FrameType | None) -> None:
        sim.place(None if sim.card is not None else (kind or "resident"))
        log.info("card %s", "placed" if sim.card is not None else "removed")

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGUSR1, _toggle)
    sim.start()
    log.info(
        "ID card SAM simulator on %s (card: %s); SIGUSR1 toggles the card", sim.device, args.card
    )
    print(f"idcard simulator ready at {sim.device}", flush=True)
    try:
        while not done.wait(0.5):
            pass
    finally:
        sim.stop()
    return 0
