"""`python -m devices scanner watch --port URL`: print what a serial scan engine reads."""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time

from devices.common.health import Health
from devices.qr.decode import QrCode
from devices.scanner.reader import DEFAULT_BAUD, ScannerReader


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Build `scanner watch`."""
    sub = parser.add_subparsers(dest="scanner_command", metavar="COMMAND")
    sub.required = True
    watch = sub.add_parser("watch", help="print payloads as they are scanned / 显示扫码内容")
    watch.add_argument(
        "--port",
        required=True,
        metavar="URL",
        help="/dev/ttyUSB0, serial:///dev/ttyACM0?baud=115200 or socket://host:port",
    )
    watch.add_argument("--baud", type=int, default=DEFAULT_BAUD)
    watch.add_argument("--json", action="store_true", help="one JSON object per payload")
    watch.add_argument("--count", type=int, default=0, help="stop after this many payloads")
    watch.add_argument("--timeout", type=float, default=0.0, help="stop after this many seconds")
    watch.set_defaults(func=run_watch)


def run_watch(args: argparse.Namespace) -> int:
    """Print payloads until Ctrl-C, --count or --timeout; exit 1 if the port never opened."""
    done = threading.Event()
    opened = threading.Event()
    count = 0

    def on_code(code: QrCode) -> None:
        nonlocal count
        if args.json:
            print(
                json.dumps(
                    {"text": code.text, "format": code.format, "ts": time.time()},
                    ensure_ascii=False,
                ),
                flush=True,
            )
        else:
            print(code.text, flush=True)
        count += 1
        if args.count and count >= args.count:
            done.set()

    def on_health(health: Health) -> None:
        if health.state == "ok":
            opened.set()
        print(f"scanner: {health.state} {health.detail}", file=sys.stderr, flush=True)

    reader = ScannerReader(args.port, on_code, on_health, baudrate=args.baud)
    reader.start()
    try:
        done.wait(args.timeout or None)
    finally:
        reader.stop()
    if not opened.is_set():
        print(f"scanner: {reader.health.detail}", file=sys.stderr)
        return 1
    return 0
