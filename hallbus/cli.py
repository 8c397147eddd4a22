"""`hallbus`: the hall controller and the administration command line (SPEC section 8).

Every subcommand accepts `--config FILE`, `--broker mqtt://[USER:PASS@]HOST:PORT`,
`--data DIR` and `--json`. Each subcommand lives in its own module, named in COMMANDS,
with `add_arguments(parser)` setting `func(args, ctx) -> int`.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from hallbus.brokerurl import BrokerAddress, parse_broker_url
from hallbus.config import ConfigError, HallConfig, load_config

# name -> (module with add_arguments, help)
COMMANDS: dict[str, tuple[str, str]] = {
    "serve": ("hallbus.controller.cli_serve", "run the hall controller"),
    "tickets": ("hallbus.controller.cli_admin", "list the day's tickets"),
    "stats": ("hallbus.controller.cli_admin", "today's figures"),
    "windows": ("hallbus.controller.cli_admin", "windows and who sits there"),
    "cases": ("hallbus.records.cli", "cases: import, overdue"),
    "ratings": ("hallbus.records.cli", "ratings and follow-up tasks"),
    "broker-config": ("hallbus.deploy.cli", "write Mosquitto config, passwords, ACL and node credentials"),
    "docs": ("hallbus.docs", "regenerate docs/protocol.md from the schemas"),
}


@dataclass
class Context:
    """What every subcommand gets: the validated config, the broker address, the data dir."""

    config: HallConfig
    broker: BrokerAddress
    data_dir: Path
    json: bool


def broker_from_config(cfg: HallConfig, override: str | None = None) -> BrokerAddress:
    """The broker address from `--broker`, else from `[broker]` (+ credentials file), + env credentials."""
    if override:
        return parse_broker_url(override).with_env_credentials()
    b = cfg.broker
    user, password = b.username, b.password
    if b.credentials_file:
        import json

        creds = json.loads(cfg.resolve(b.credentials_file).read_text())
        user, password = creds.get("username", user), creds.get("password", password)
    return BrokerAddress(b.host, b.port, user, password, b.tls, b.ca_file).with_env_credentials()


def node_key_from_config(cfg: HallConfig) -> bytes | None:
    """This node's signing key: `HALL_NODE_KEY` (hex), else `node_key` in `[broker] credentials_file`."""
    import os

    env = os.environ.get("HALL_NODE_KEY")
    if env:
        return bytes.fromhex(env)
    if cfg.broker.credentials_file:
        from hallbus.nodeauth import node_key_from_credentials

        return node_key_from_credentials(cfg.resolve(cfg.broker.credentials_file))
    return None


def add_common(parser: argparse.ArgumentParser) -> None:
    """The options every process takes."""
    parser.add_argument("--config", type=Path, default=None, help="hall.toml (default: the shipped sample)")
    parser.add_argument("--broker", default=None, help="mqtt://[USER:PASS@]HOST:PORT (overrides the config)")
    parser.add_argument("--data", type=Path, default=None, help="where state lives (default from config)")
    parser.add_argument("--json", action="store_true", help="JSON on stdout, logs on stderr")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")


def _load(module: str) -> object | None:
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as err:
        if err.name and module.startswith(err.name):
            return None
        raise


def build_parser() -> argparse.ArgumentParser:
    """The whole `hallbus` parser."""
    parser = argparse.ArgumentParser(prog="hallbus", description="Hall controller and administration")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, (module, help_text) in COMMANDS.items():
        mod = _load(module)
        if mod is None:
            continue
        p = sub.add_parser(name, help=help_text)
        add_common(p)
        mod.add_arguments(p, name)  # type: ignore[attr-defined]
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
