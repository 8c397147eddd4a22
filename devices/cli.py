"""Diagnostics command line: one subcommand per device kind, plus `sim` for simulators.

Each device kind owns its subcommands in `devices/<kind>/cli.py` (`add_arguments(parser)`, setting
`func` on the parsed namespace); each simulator in `devices/<kind>/sim.py` (`add_sim_arguments`,
`sim_main`). This module only dispatches. The imports are plain on purpose: a kind missing from
an install is an ImportError at start, never a subcommand that silently is not there.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence

from devices.idcard import cli as idcard_cli
from devices.idcard import sim as idcard_sim
from devices.pcsc import cli as pcsc_cli
from devices.printer import cli as printer_cli
from devices.printer import sim as printer_sim
from devices.qr import cli as qr_cli
from devices.scanner import cli as scanner_cli
from devices.scanner import sim as scanner_sim

AddArguments = Callable[[argparse.ArgumentParser], None]

# kind -> (its add_arguments, help text)
COMMANDS: dict[str, tuple[AddArguments, str]] = {
    "idcard": (
        idcard_cli.add_arguments,
        "resident ID card reader (SAM over serial) / 身份证阅读器",
    ),
    "pcsc": (pcsc_cli.add_arguments, "PC/SC card readers (staff badges, social security cards)"),
    "qr": (qr_cli.add_arguments, "QR codes from images or a camera / 二维码"),
    "printer": (printer_cli.add_arguments, "ESC/POS ticket printer / 小票打印机"),
    "scanner": (scanner_cli.add_arguments, "serial QR scan engine / 扫码模组"),
}
# kind -> (add_sim_arguments, sim_main)
SIMULATORS: dict[str, tuple[AddArguments, Callable[[argparse.Namespace], int]]] = {
    "idcard": (idcard_sim.add_sim_arguments, idcard_sim.sim_main),
    "printer": (printer_sim.add_sim_arguments, printer_sim.sim_main),
    "scanner": (scanner_sim.add_sim_arguments, scanner_sim.sim_main),
}


def build_parser() -> argparse.ArgumentParser:
    """The whole `python -m devices` parser."""
    parser = argparse.ArgumentParser(
        prog="python -m devices", description="Hall device diagnostics"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging on stderr")
    kinds = parser.add_subparsers(dest="kind", metavar="KIND")
    kinds.required = True
    for kind, (add_arguments, help_text) in COMMANDS.items():
        add_arguments(kinds.add_parser(kind, help=help_text))
    sim = kinds.add_parser("sim", help="run a device simulator on a new pty linked at PATH")
    sims = sim.add_subparsers(dest="sim_kind", metavar="DEVICE")
    sims.required = True
    for kind, (add_sim_arguments, sim_main) in SIMULATORS.items():
        sp = sims.add_parser(kind, help=f"{kind} simulator")
        add_sim_arguments(sp)
        sp.set_defaults(func=sim_main)
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
