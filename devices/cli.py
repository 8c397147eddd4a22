"""Diagnostics command line: one subcommand per device kind, plus `sim` for simulators.

Each device kind owns its subcommands in `devices/<kind>/cli.py` (`add_arguments(parser)`, setting
`func` on the parsed namespace); each simulator in `devices/<kind>/sim.py` (`add_sim_arguments`,
`sim_main`). This module only dispatches, so kinds can grow without touching each other.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

# kind -> (module with add_arguments, help text)
COMMANDS: dict[str, tuple[str, str]] = {
    "idcard": ("devices.idcard.cli", "resident ID card reader (SAM over serial) / 身份证阅读器"),
    "pcsc": ("devices.pcsc.cli", "PC/SC card readers (staff badges, social security cards)"),
    "qr": ("devices.qr.cli", "QR codes from images or a camera / 二维码"),
    "printer": ("devices.printer.cli", "ESC/POS ticket printer / 小票打印机"),
    "scanner": ("devices.scanner.cli", "serial QR scan engine / 扫码模组"),
}
# kind -> module with add_sim_arguments and sim_main
SIMULATORS: dict[str, str] = {
    "idcard": "devices.idcard.sim",
    "printer": "devices.printer.sim",
    "scanner": "devices.scanner.sim",
}


def _load(module: str) -> object | None:
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as err:
        if err.name and module.startswith(err.name):
            return None  # that device kind is not built yet
        raise


def build_parser() -> argparse.ArgumentParser:
    """The whole `python -m devices` parser."""
    parser = argparse.ArgumentParser(prog="python -m devices", description="Hall device diagnostics")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging on stderr")
    kinds = parser.add_subparsers(dest="kind", metavar="KIND")
    kinds.required = True
    for kind, (module, help_text) in COMMANDS.items():
        mod = _load(module)
        if mod is None:
            continue
        sub = kinds.add_parser(kind, help=help_text)
        mod.add_arguments(sub)  # type: ignore[attr-defined]
    sim = kinds.add_parser("sim", help="run a device simulator on a new pty linked at PATH")
    sims = sim.add_subparsers(dest="sim_kind", metavar="DEVICE")
    sims.required = True
    for kind, module in SIMULATORS.items():
        mod = _load(module)
        if mod is None:
            continue
        sp = sims.add_parser(kind, help=f"{kind} simulator")
        mod.add_sim_arguments(sp)  # type: ignore[attr-defined]
        sp.set_defaults(func=mod.sim_main)  # type: ignore[attr-defined]
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one diagnostics command; return the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
