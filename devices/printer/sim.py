"""ESC/POS printer simulator on a pty: parses the bytes, renders each cut ticket to a PNG, answers status.

In-process (tests, demo)::

    with PrinterSimulator(link_path, out_dir, width=58) as sim:
        ...  # a driver opens link_path like /dev/ttyUSB0
        sim.wait_for_tickets(1)
        sim.set_paper(PaperState.OUT)   # answers DLE EOT 4 with "paper out"
        sim.stop_answering()            # stops reading and replying (printer hung)

As a process: `python -m devices sim printer --link PATH [--out DIR] [--paper ok|low|out]
[--width 58|80]`; SIGUSR1 switches to paper out, SIGUSR2 back to paper ok.
"""

from __future__ import annotations

import argparse
import logging
import os
import select
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from PIL import Image

from devices.common.ptylink import PtyLink
from devices.printer.escpos import PaperState
from devices.printer.profile import profile_for
from devices.printer.render import EscPosInterpreter

log = logging.getLogger(__name__)

PAPER_NAMES = {"ok": PaperState.OK, "low": PaperState.NEAR_END, "out": PaperState.OUT}


class PrinterSimulator:
    """A thermal printer on a new pty linked at `path`; tickets land in `out_dir` as PNG files."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        out_dir: str | os.PathLike[str],
        *,
        width: int = 58,
        paper: PaperState = PaperState.OK,
    ) -> None:
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.tickets: list[Path] = []
        self.received = bytearray()
        self.dropped = 0  # tickets sent while out of paper (a real printer prints nothing)
        self._answering = True
        self._stall_after: int | None = None
        self._cond = threading.Condition()
        self.interpreter = EscPosInterpreter(profile_for(width).width_dots, self._on_page, paper)
        self.link = PtyLink(path)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="printer-sim", daemon=True)
        self._thread.start()

    @property
    def paper(self) -> PaperState:
        """The paper sensor state this printer reports."""
        return self.interpreter.paper

    def set_paper(self, state: PaperState) -> None:
        """Change the paper sensor (ok, near end, out)."""
        self.interpreter.paper = state

    def stop_answering(self, after_bytes: int = 0) -> None:
        """Hang after `after_bytes` more bytes: stop reading the line and never reply again."""
        with self._cond:
            self._stall_after = len(self.received) + after_bytes

    def resume(self) -> None:
        """Come back after `stop_answering`."""
        with self._cond:
            self._stall_after = None

    def wait_for_tickets(self, count: int, timeout: float = 10.0) -> bool:
        """Wait until `count` tickets have been cut in total."""
        with self._cond:
            return self._cond.wait_for(lambda: len(self.tickets) >= count, timeout)

    def _on_page(self, image: Image.Image) -> None:
        if self.interpreter.paper == PaperState.OUT:
            self.dropped += 1
            return
        path = self.out_dir / f"ticket-{len(self.tickets) + 1:04d}.png"
        image.save(path)
        with self._cond:
            self.tickets.append(path)
            self._cond.notify_all()
        log.info("printer simulator: ticket %s", path)

    def _budget(self) -> int | None:
        with self._cond:
            if self._stall_after is None:
                return None
            return max(0, self._stall_after - len(self.received))

    def _run(self) -> None:
        fd = self.link.fd
        while not self._stop.is_set():
            budget = self._budget()
            if budget == 0:
                self._stop.wait(0.05)  # hung: bytes pile up in the pty until the driver times out
                continue
            try:
                readable, _, _ = select.select([fd], [], [], 0.05)
                if not readable:
                    continue
                data = os.read(fd, 4096 if budget is None else min(4096, budget))
            except OSError:
                return  # closed
            if not data:
                continue
            with self._cond:
                self.received += data
            try:
                reply = self.interpreter.feed(data)
            except Exception:
                log.exception("printer simulator could not interpret the bytes")
                continue
            if reply and self._budget() != 0:
                try:
                    os.write(fd, reply)
                except OSError:
                    return

    def close(self) -> None:
        """Stop the thread and remove the pty link."""
        self._stop.set()
        self._thread.join(2)
        self.link.close()

    def __enter__(self) -> PrinterSimulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def add_sim_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `python -m devices sim printer`."""
    parser.add_argument(
        "--link", required=True, metavar="PATH", help="where to link the device end of the pty"
    )
    parser.add_argument(
        "--out", default="printer-out", metavar="DIR", help="folder for one PNG per cut ticket"
    )
    parser.add_argument(
        "--paper", choices=sorted(PAPER_NAMES), default="ok", help="paper sensor state"
    )
    parser.add_argument("--width", type=int, choices=(58, 80), default=58, help="paper width in mm")


def sim_main(args: argparse.Namespace) -> int:
    """Run until SIGTERM or Ctrl-C; SIGUSR1 = paper out, SIGUSR2 = paper ok."""
    stop = threading.Event()
    sim = PrinterSimulator(args.link, args.out, width=args.width, paper=PAPER_NAMES[args.paper])

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        if signum == signal.SIGUSR1:
            sim.set_paper(PaperState.OUT)
        elif signum == signal.SIGUSR2:
            sim.set_paper(PaperState.OK)
        else:
            stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1, signal.SIGUSR2):
        signal.signal(sig, on_signal)
    print(
        f"printer simulator: {sim.link.device} linked at {args.link}, tickets in {args.out}",
        file=sys.stderr,
        flush=True,
    )
    try:
        while not stop.wait(0.2):
            pass
    finally:
        sim.close()
    print(f"printer simulator: {len(sim.tickets)} ticket(s) written", file=sys.stderr)
    return 0
