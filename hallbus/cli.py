"""`hallbus`: the hall controller and the administration command line (SPEC section 8).

Every subcommand accepts `--config FILE`, `--broker mqtt://[USER:PASS@]HOST:PORT`,
`--data DIR` and `--json` (`hallbus.cli_common`). Each subcommand lives in its own
module, named in COMMANDS, with `add_arguments(parser, name)` setting
`func(args, ctx) -> int`. They are imported plainly: a missing one fails at once.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from hallbus import docs, staff_secrets_cli
from hallbus.cli_common import Context, add_common, broker_from_config
from hallbus.config import ConfigError, load_config
from hallbus.controller import cli_admin, cli_serve
from hallbus.deploy import cli as deploy_cli
from hallbus.records import cli as records_cli

__all__ = ["COMMANDS", "build_parser", "main"]

# name -> (module with add_arguments, help)
COMMANDS: dict[str, tuple[ModuleType, str]] = {
    "serve": (cli_serve, "run the hall controller"),
    "tickets": (cli_admin, "list the day's tickets"),
    "stats": (cli_admin, "today's figures"),
    "windows": (cli_admin, "windows and who sits there"),
    "cases": (records_cli, "cases: import, overdue"),
    "ratings": (records_cli, "ratings and follow-up tasks"),
    "broker-config": (deploy_cli, "write Mosquitto config, passwords, ACL and node credentials"),
    "staff-secrets": (staff_secrets_cli, "staff password hashes and badge UIDs: hash, check, split"),
    "docs": (docs, "regenerate docs/protocol.md from the schemas"),
}


def build_parser() -> argparse.ArgumentParser:
    """The whole `hallbus` parser."""
    parser = argparse.ArgumentParser(prog="hallbus", description="Hall controller and administration")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, (module, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text)
        add_common(p)
        module.add_arguments(p, name)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `hallbus`."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        cfg = load_config(args.config)
    except ConfigError as err:
        print(f"hallbus: config error: {err}", file=sys.stderr)
        return 2
    try:
        broker = broker_from_config(cfg, args.broker)
    except (ValueError, OSError) as err:
        print(f"hallbus: {err}", file=sys.stderr)
        return 2
    data_dir = args.data or cfg.resolve(cfg.hall.data_dir)
    ctx = Context(config=cfg, broker=broker, data_dir=Path(data_dir), json=args.json)
    try:
        return int(args.func(args, ctx) or 0)
    except KeyboardInterrupt:
        return 130
