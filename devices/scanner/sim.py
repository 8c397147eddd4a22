"""Scan engine simulator on a pty: writes payload bytes plus a terminator, as a real engine does.

In-process (tests, demo): `with ScannerSimulator(path) as sim: sim.scan("text")`.
As a process: `python -m devices sim scanner --link PATH [--scan TEXT]...`; each line typed on
standard input is scanned too, until end of input or SIGTERM.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Literal

from devices.common.ptylink import PtyLink

Terminator = Literal["\r", "\r\n", "\t", "\n"]
TERMINATORS: dict[str, Terminator] = {"cr": "\r", "crlf": "\r\n", "tab": "\t", "lf": "\n"}


class ScannerSimulator:
    """A scan engine on a new pty linked at `path`; a driver opens `path` like /dev/ttyUSB0."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        terminator: Terminator = "\r",
        encoding: str = "utf-8",
    ) -> None:
        self.link = PtyLink(path)
        self.path = Path(path)
        self.terminator = terminator
        self.encoding = encoding
        self._lock = threading.Lock()

    def scan(
        self,
        text: str,
        *,
        terminator: Terminator | None = None,
        encoding: str | None = None,
        chunk: int = 0,
    ) -> bytes:
        """Send `text` as one scan (e.g. `encoding="gbk"` for a GBK receipt); return the bytes sent.

        With `chunk` > 0 the bytes go out in pieces of that size, as a slow UART delivers them.
        """
        data = text.encode(encoding or self.encoding) + (terminator or self.terminator).encode(
            "ascii"
        )
        self.send_raw(data, chunk=chunk)
        return data

    def send_raw(self, data: bytes, *, chunk: int = 0) -> None:
        """Write bytes exactly as given (noise, partial lines)."""
        with self._lock:
            if chunk <= 0:
                os.write(self.link.fd, data)
                return
            for i in range(0, len(data), chunk):
                os.write(self.link.fd, data[i : i + chunk])
                time.sleep(0.002)

    def close(self) -> None:
        """Unplug: remove the link and close the pty."""
        self.link.close()

    def __enter__(self) -> ScannerSimulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def add_sim_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `python -m devices sim scanner`."""
    parser.add_argument(
        "--link", required=True, metavar="PATH", help="where to link the device end of the pty"
    )
    parser.add_argument(
        "--scan",
        action="append",
        default=[],
        metavar="TEXT",
        help="scan TEXT at start (repeatable)",
    )
    parser.add_argument(
        "--interval", type=float, default=1.0, help="seconds between --scan payloads"
    )
    parser.add_argument("--terminator", choices=sorted(TERMINATORS), default="cr")
    parser.add_argument("--encoding", default="utf-8", help="payload encoding, e.g. gbk")
    parser.add_argument(
        "--no-stdin", action="store_true", help="do not read payloads from standard input"
    )


def sim_main(args: argparse.Namespace) -> int:
    """Run the simulator until end of input (or forever with --no-stdin) or SIGTERM."""
    stop = threading.Event()

    def on_term(_signum: int, _frame: FrameType | None) -> None:
        stop.set()
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    sim = ScannerSimulator(
        args.link, terminator=TERMINATORS[args.terminator], encoding=args.encoding
    )
    print(
        f"scanner simulator: {sim.link.device} linked at {args.link}", file=sys.stderr, flush=True
    )
    try:
        for text in args.scan:
            if stop.wait(args.interval):
                return 0
            sim.scan(text)
        if args.no_stdin:
            stop.wait()
        else:
            for line in sys.stdin:
                if line.strip():
                    sim.scan(line.rstrip("\r\n"))
            stop.wait(0.5)  # let the last payload drain before the pty goes away
    except KeyboardInterrupt:
        pass
    finally:
        sim.close()
    return 0
