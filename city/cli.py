"""`hallcity serve`: one city command-centre instance (ingest + JSON API) on uvicorn until SIGTERM or SIGINT.

    hallcity serve [--config city.toml] [--listen HOST:PORT] [--instance NAME] [--verbose]
    hallcity migrate [--config city.toml]     (also makes city_minute's partitions and drops the old days)
    hallcity broker-config [--config city.toml] --out DIR [--listen ADDR] [--port N] [--bridge-port N]
                           [--persistence-dir DIR] [--run-as USER] [--tls-cert PEM --tls-key PEM]
                           [--password-group GROUP] [--sim]

Run two or more on different machines (or ports) with the same config: they share the bus's
load through the shared subscription group `[broker] group`. `--instance` names the instance's
MQTT session (default: the host name and the listen port), so a restarted instance takes up
the messages its last session had not acknowledged.
"""

from __future__ import annotations

import argparse
import grp
import logging
import socket
import sys
from pathlib import Path

import psycopg
import uvicorn
from psycopg_pool import PoolTimeout

from city import brokerconf
from city.api import create_app
from city.config import CityConfig, load_city_config
from city.db import migrate, open_pool
from city.ingest import Ingest
from city.retention import Maintainer
from hallbus.config import ConfigError, split_listen
from hallbus.deploy.cli import broker_group

log = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `hallcity` console script."""
    parser = argparse.ArgumentParser(prog="hallcity", description="The city command centre (SPEC 13).")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="ingest every hall's bus into PostgreSQL and serve the API")
    mig = sub.add_parser("migrate", help="bring the database's tables up to date and exit")
    bc = sub.add_parser("broker-config", help="write the city's Mosquitto config, its logins and ACL (city/brokerconf.py)")
    bc.add_argument("--out", type=Path, required=True, help="folder to write into (e.g. /etc/mosquitto/hallcity)")
    bc.add_argument("--listen", default="0.0.0.0", help="listener address (default 0.0.0.0)")
    bc.add_argument("--port", type=int, default=None, help="hallcity's listener (default [broker] port)")
    bc.add_argument("--bridge-port", type=int, default=None, help="the halls' bridges' listener (default [broker] bridge_port)")
    bc.add_argument("--persistence-dir", default="/var/lib/mosquitto/")
    bc.add_argument("--run-as", default=None, help="the user Mosquitto runs as (default: its own)")
    bc.add_argument("--tls-cert", default=None, help="certificate (chain) of the halls' listener: TLS only there")
    bc.add_argument("--tls-key", default=None, help="its private key")
    bc.add_argument("--password-group", default=None,
                    help="a new [broker] password_file is 0640 of this group (the one hallcity runs in, e.g. hallcity)")
    bc.add_argument("--sim", action="store_true", help="add the simulator's login hallsim (tests and demos only)")
    for p in (serve, mig, bc):
        p.add_argument("--config", default=None, help="city.toml (default: assets/city.example.toml)")
        p.add_argument("--verbose", "-v", action="store_true")
    serve.add_argument("--listen", default=None, help="HOST:PORT (default: [web] listen)")
    serve.add_argument("--instance", default=None, help="this instance's MQTT client id (default: hallcity-HOST-PORT)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        cfg = load_city_config(args.config)
        host, port = split_listen(args.listen or cfg.web.listen) if args.command == "serve" else ("", 0)
        token = cfg.api_token()
        if args.command == "broker-config":
            return write_broker_config(cfg, args)
        cfg.broker_password()  # a password file that cannot be read stops the start here
        if args.command == "serve" and (args.instance or "").startswith("hall-"):
            raise ValueError(f"--instance {args.instance!r}: hall-... 是各大厅桥接的客户端标识,请换一个名字。"
                             " hall-... are the client ids of the halls' bridges: choose another name")
    except (ConfigError, ValueError, LookupError) as err:
        print(f"hallcity: {err}", file=sys.stderr)
        return 2
    pool = open_pool(cfg.db.url, cfg.db.pool_max)
    try:
        try:
            with pool.connection(timeout=30) as conn:
                applied = migrate(conn)
        except (psycopg.OperationalError, PoolTimeout) as err:
            print(f"hallcity: 30 秒内无法连接数据库 {cfg.db.url},请检查 PostgreSQL 是否运行以及 [db] url。"
                  f" PostgreSQL at {cfg.db.url} could not be reached within 30 s ({err}); check that it runs and"
                  f" the [db] url in {cfg.path}.", file=sys.stderr)
            return 1
        if applied:
            log.info("database migrated: %s", applied)
        if args.command == "migrate":
            # city_minute's partitions too, at once (serve's ingest does it at start and hourly)
            return 0 if Maintainer(pool, cfg.db.keep_minutes_days).run_once() is not None else 1
        ingest = Ingest(cfg, pool, instance=args.instance or f"hallcity-{socket.gethostname()}-{port}")
        app = create_app(cfg, pool, ingest, token)
        if token is None:
            log.warning("no API token set ([web] token_file): /api/v1 is open; keep it behind the city's proxy auth")
        ingest.start()
        try:
            uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
        finally:
            ingest.stop()
    finally:
        pool.close()
    return 0


def write_broker_config(cfg: CityConfig, args: argparse.Namespace) -> int:
    """`hallcity broker-config`: write the files and say what each hall's operator gets."""
    files = brokerconf.build(cfg, args.out, listen=args.listen, port=args.port, bridge_port=args.bridge_port,
                             persistence_dir=args.persistence_dir, run_as=args.run_as, sim=args.sim,
                             tls_cert=args.tls_cert, tls_key=args.tls_key)
    hallcity_gid = None
    if args.password_group:
        try:
            hallcity_gid = grp.getgrnam(args.password_group).gr_gid
        except KeyError:
            raise LookupError(f"没有名为 {args.password_group} 的用户组。 There is no group {args.password_group}.") from None
    # no such user or group: LookupError, reported by main
    written = brokerconf.write(files, args.out, broker_gid=broker_group(args.run_as), hallcity_gid=hallcity_gid)
    print(f"wrote {len(written)} files to {args.out}: mosquitto.conf (mosquitto -c this file), passwd-* and acl-*;\n"
          f"  credentials/hall-ID.json for {len(cfg.halls)} halls: give each to its hall's operator, who runs\n"
          "  hallbus broker-config ... --city HOST:PORT --city-user USERNAME --city-password PASSWORD", file=sys.stderr)
    if files.hallcity_password_file is not None:
        print(f"  hallcity's password: {files.hallcity_password_file} (new)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
