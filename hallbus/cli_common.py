"""What every `hallbus` subcommand (and every kiosk process) shares: the common options, the config, the broker.

Apart from `hallbus.cli`, which imports every subcommand, so a subcommand can take its
`Context` from here without importing the command line that imports it.
"""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import dataclass
from pathlib import Path

from hallbus.brokerurl import BrokerAddress, parse_broker_url
from hallbus.config import HallConfig
from hallbus.nodesign import node_key_from_credentials


@dataclass
class Context:
    """What every subcommand gets: the validated config, the broker address, the data dir."""

    config: HallConfig
    broker: BrokerAddress
    data_dir: Path
    json: bool


def broker_from_config(cfg: HallConfig, override: str | None = None) -> BrokerAddress:
    """The broker address from `--broker`, else from `[broker]`; the login, most specific first.

    A login in the `--broker` URL; else this process's own `HALL_MQTT_USERNAME` /
    `HALL_MQTT_PASSWORD` (a unit's EnvironmentFile, such as hallweb's); else the
    `[broker] credentials_file`; else `[broker] username`/`password`. The environment beats
    the file because one hall.toml serves every process of a machine: on the hall server
    its `credentials_file` is the controller's, and hallweb there must not log in as the
    controller (the broker binds client id to login, so the two would push each other off).
    """
    if override:
        return parse_broker_url(override).with_env_credentials()
    b = cfg.broker
    user, password = b.username, b.password
    if os.environ.get("HALL_MQTT_USERNAME"):
        user, password = os.environ["HALL_MQTT_USERNAME"], os.environ.get("HALL_MQTT_PASSWORD")
    elif b.credentials_file:
        creds = json.loads(cfg.resolve(b.credentials_file).read_text())
        user, password = creds.get("username", user), creds.get("password", password)
    return BrokerAddress(b.host, b.port, user, password, b.tls, b.ca_file).with_env_credentials()


def node_key_from_config(cfg: HallConfig) -> bytes | None:
    """This node's signing key: `HALL_NODE_KEY` (hex), else `node_key` in `[broker] credentials_file`."""
    env = os.environ.get("HALL_NODE_KEY")
    if env:
        return bytes.fromhex(env)
    if cfg.broker.credentials_file:
        return node_key_from_credentials(cfg.resolve(cfg.broker.credentials_file))
    return None


def add_common(parser: argparse.ArgumentParser) -> None:
    """The options every process takes."""
    parser.add_argument("--config", type=Path, default=None, help="hall.toml (default: the shipped sample)")
    parser.add_argument("--broker", default=None, help="mqtt://[USER:PASS@]HOST:PORT (overrides the config)")
    parser.add_argument("--data", type=Path, default=None, help="where state lives (default from config)")
    parser.add_argument("--json", action="store_true", help="JSON on stdout, logs on stderr")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
