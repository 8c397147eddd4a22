"""`kiosk --role ROLE --config FILE --node NODE_ID [--window W]`: one screen of the hall (SPEC section 8)."""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from hallbus.config import ConfigError
from kiosk.roles import ROLES


def _size(text: str) -> tuple[int, int]:
    m = re.fullmatch(r"(\d+)x(\d+)", text)
    if not m:
        raise argparse.ArgumentTypeError("give the size as WIDTHxHEIGHT, e.g. 1920x1080")
    return int(m.group(1)), int(m.group(2))


def build_parser() -> argparse.ArgumentParser:
    """The `kiosk` command line."""
    p = argparse.ArgumentParser(prog="kiosk", description="A hall screen: terminal, tablet, counter, window or hall")
    p.add_argument("--role", required=True, choices=sorted(ROLES))
    p.add_argument("--config", type=Path, default=None, help="hall.toml (default: the shipped sample)")
    p.add_argument("--node", required=True, help="this screen's node id from the config")
    p.add_argument("--window", default=None, help="the window this screen belongs to (default from the node)")
    p.add_argument("--broker", default=None, help="mqtt://[USER:PASS@]HOST:PORT (overrides the config)")
    p.add_argument("--data", type=Path, default=None, help="where local state lives (default from config)")
    p.add_argument("--lang", choices=["zh_CN", "en"], default=None, help="start language (default from [kiosk])")
    p.add_argument("--elderly", action="store_true", help="start in large-print mode")
    p.add_argument("--size", type=_size, default=None, help="run in a window of WIDTHxHEIGHT instead of full screen")
    p.add_argument("--screenshot", type=Path, default=None, help="settle, write a PNG of the window to FILE, exit")
    p.add_argument("--settle", type=float, default=3.0, help="longest wait for the first state before a screenshot (s)")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `kiosk`."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if args.screenshot is not None and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        # No screen: draw off-screen with the software renderer (docs, CI, a headless demo).
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        os.environ.setdefault("QT_QUICK_BACKEND", "software")
    from kiosk.app import Options, run  # Qt is imported only once the arguments are good

    size = args.size
    if args.screenshot is not None and size is None:
        size = (1920, 1080)
    options = Options(
        role=args.role, node=args.node, config=args.config, window=args.window, broker=args.broker,
        data=args.data, language=args.lang, elderly=args.elderly, size=size,
        screenshot=args.screenshot, settle_s=args.settle,
    )
    try:
        return run(options)
    except ConfigError as err:
        print(f"kiosk: config error: {err}", file=sys.stderr)
        return 2
    except (ValueError, OSError) as err:
        print(f"kiosk: {err}", file=sys.stderr)
        return 2
