"""`python -m devices qr decode|watch`: read QR codes from pictures or a camera, for installers."""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time

from devices.common.health import Health
from devices.qr.decode import QrCode, decode_image_file
from devices.qr.watcher import QrWatcher


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Build `qr decode` and `qr watch`."""
    sub = parser.add_subparsers(dest="qr_command", metavar="COMMAND")
    sub.required = True
    decode = sub.add_parser("decode", help="decode QR codes in picture files / 识别图片中的二维码")
    decode.add_argument("images", nargs="+", metavar="IMAGE")
    decode.add_argument("--json", action="store_true", help="one JSON object per line")
    decode.set_defaults(func=run_decode)
    watch = sub.add_parser("watch", help="print codes as a camera sees them / 摄像头扫码")
    watch.add_argument(
        "--camera",
        required=True,
        metavar="SRC",
        help="index, /dev/videoN, video file, picture folder or stream URL",
    )
    watch.add_argument("--json", action="store_true", help="one JSON object per code")
    watch.add_argument(
        "--fps", type=float, default=10.0, help="decode at most this many frames per second"
    )
    watch.add_argument(
        "--hold-off", type=float, default=2.0, help="seconds before the same code is reported again"
    )
    watch.add_argument(
        "--timeout",
        type=float,
        default=0.0,
        help="stop after this many seconds (0: until Ctrl-C or the end of a file)",
    )
    watch.set_defaults(func=run_watch)


def run_decode(args: argparse.Namespace) -> int:
    """Decode each picture; exit 1 when any could not be read (after reporting every one)."""
    failures = 0
    for path in args.images:
        try:
            codes = decode_image_file(path)
        except (ValueError, OSError) as err:
            failures += 1
            message = (
                str(err)
                if isinstance(err, ValueError)
                else f"无法读取文件 {path}（{err.strerror}），请检查路径。 / Cannot read {path}: {err.strerror}; check the path."
            )
            if args.json:
                print(json.dumps({"path": path, "codes": [], "error": message}, ensure_ascii=False))
            else:
                print(f"{path}: {message}", file=sys.stderr)
            continue
        if args.json:
            print(
                json.dumps(
                    {"path": path, "codes": [c.as_dict() for c in codes]}, ensure_ascii=False
                )
            )
        elif codes:
            for code in codes:
                print(f"{path}: {code.text}")
        else:
            print(f"{path}: 未发现二维码 / no QR code found")
        sys.stdout.flush()
    return 1 if failures else 0


def run_watch(args: argparse.Namespace) -> int:
    """Print each code once as it comes into view; exit 1 if the camera never worked."""
    lock = threading.Lock()
    seen_ok = threading.Event()

    def on_code(code: QrCode) -> None:
        with lock:
            if args.json:
                line = {
                    "text": code.text,
                    "format": code.format,
                    "decoder": code.decoder,
                    "strategy": code.strategy,
                    "ts": time.time(),
                }
                print(json.dumps(line, ensure_ascii=False), flush=True)
            else:
                print(code.text, flush=True)

    def on_health(health: Health) -> None:
        if health.state == "ok":
            seen_ok.set()
        print(f"camera: {health.state} {health.detail}", file=sys.stderr, flush=True)

    watcher = QrWatcher(args.camera, on_code, on_health, max_fps=args.fps, hold_off_s=args.hold_off)
    watcher.start()
    try:
        watcher.wait(args.timeout or None)
    finally:
        watcher.stop()
    if not seen_ok.is_set():
        print(f"camera: {watcher.health.detail}", file=sys.stderr)
        return 1
    return 0
