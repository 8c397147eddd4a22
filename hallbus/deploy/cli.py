"""`hallbus broker-config --out DIR`: Mosquitto config, passwords, ACL, node credentials, city bridge."""

from __future__ import annotations

import argparse
import json
import os
import pwd
import sys
from pathlib import Path

from hallbus.deploy import brokerconf


def add_arguments(parser: argparse.ArgumentParser, _name: str) -> None:
    """Options of `hallbus broker-config`."""
    parser.add_argument("--out", type=Path, required=True, help="folder to write into (e.g. /etc/mosquitto/hallkit)")
    parser.add_argument("--listen", default="0.0.0.0", help="listener address (default 0.0.0.0)")
    parser.add_argument("--port", type=int, default=None, help="listener port (default from [broker] port)")
    parser.add_argument("--persistence-dir", default="/var/lib/mosquitto/")
    parser.add_argument("--run-as", default=None, help="the user Mosquitto runs as (default: its own)")
    parser.add_argument("--tls-cert", default=None)
    parser.add_argument("--tls-key", default=None)
    parser.add_argument("--tls-ca", default=None)
    parser.add_argument("--tls-port", type=int, default=8883)
    parser.add_argument("--city", default=None, help="HOST:PORT of a city-level broker to bridge state and alerts to")
    parser.add_argument("--city-user", default=None)
    parser.add_argument("--city-password", default=None)
    parser.add_argument("--city-ca", default=None)
    parser.add_argument("--plugin", type=Path, default=None,
                        help=f"the built rate-limit plugin ([broker_limits]; default {brokerconf.PLUGIN_BUILT})")
    parser.set_defaults(func=run)


def broker_group(run_as: str | None) -> int | None:
    """The group of `run_as` when root writes what the broker, running as that user, must read; else None.

    Raise LookupError (its text for a person) when there is no such user.
    """
    if not run_as or os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(run_as).pw_gid
    except KeyError:
        raise LookupError(f"没有名为 {run_as} 的用户，请先安装 Mosquitto 或改正 --run-as。 / "
                          f"There is no user {run_as}: install Mosquitto first, or correct --run-as.") from None


def run(args: argparse.Namespace, ctx: object) -> int:
    """Write the files and say what was written."""
    cfg = ctx.config  # type: ignore[attr-defined]
    city = None
    if args.city:
        city = {"address": args.city, "username": args.city_user or "", "password": args.city_password or "",
                "cafile": args.city_ca or ""}
    try:
        files = brokerconf.build(
            cfg, out_dir=args.out, listen=args.listen, port=args.port, persistence_dir=args.persistence_dir,
            run_as=args.run_as, tls_cert=args.tls_cert, tls_key=args.tls_key, tls_ca=args.tls_ca,
            tls_port=args.tls_port, city=city, plugin=args.plugin.resolve() if args.plugin else None,
        )
    except brokerconf.PluginNotBuilt as err:
        print(f"hallbus broker-config: {err}", file=sys.stderr)
        return 2
    if brokerconf.limits_active(cfg.broker_limits):
        unreadable = brokerconf.not_world_readable(args.plugin or brokerconf.PLUGIN_BUILT)
        if unreadable:
            print(f"hallbus broker-config: 警告: Mosquitto 以自己的用户运行, 可能读不到插件 ({unreadable} 对其他用户不可读)。"
                  f" Warning: Mosquitto runs as its own user and may not read the plugin: {unreadable} is not"
                  " readable by others.", file=sys.stderr)
    try:
        broker_gid = broker_group(args.run_as)
    except LookupError as err:
        print(f"hallbus: {err}", file=sys.stderr)
        return 2
    written = brokerconf.write(files, args.out, broker_gid=broker_gid)
    if ctx.json:  # type: ignore[attr-defined]
        print(json.dumps({"written": [str(p) for p in written], "nodes": sorted(files.credentials)}))
    else:
        print(f"wrote {len(written)} files to {args.out}:", file=sys.stderr)
        print(f"  {args.out / 'mosquitto.conf'}  (mosquitto -c this file)", file=sys.stderr)
        print(f"  passwd, acl, node-keys.json (controller only), credentials/NODE.json for "
              f"{len(files.credentials)} nodes: copy each to its node", file=sys.stderr)
        if brokerconf.limits_active(cfg.broker_limits):
            print(f"  publish budgets per login ([broker_limits]): the plugin {args.plugin or brokerconf.PLUGIN_BUILT}",
                  file=sys.stderr)
        else:
            print("  [broker_limits] off: no login is held to a publish budget", file=sys.stderr)
    return 0
