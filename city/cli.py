"""`hallcity serve`: one city command-centre instance (ingest + JSON API) on uvicorn until SIGTERM or SIGINT.

    hallcity serve [--config city.toml] [--listen HOST:PORT] [--instance NAME] [--verbose]
    hallcity migrate [--config city.toml]     (also makes city_minute's partitions and drops the old days)

Run two or more on different machines (or ports) with the same config: they share the bus's
load through the shared subscription group `[broker] group`. `--instance` names the instance's
MQTT session (default: the host name and the listen port), so a restarted instance takes up
the messages its last session had not acknowledged.
"""

from __future__ import annotations

import argparse
import logging
import socket
import sys

import psycopg
import uvicorn
from psycopg_pool import PoolTimeout

from city.api import create_app
from city.config import load_city_config
from city.db import migrate, open_pool
from city.ingest import Ingest
from city.retention import Maintainer
from hallbus.config import ConfigError, split_listen

log = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `hallcity` console script."""
    parser = argparse.ArgumentParser(prog="hallcity", description="The city command centre (SPEC 13).")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="ingest every hall's bus into PostgreSQL and serve the API")
    mig = sub.add_parser("migrate", help="bring the database's tables up to date and exit")
    for p in (serve, mig):
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
    except (ConfigError, ValueError) as err:
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


if __name__ == "__main__":
    sys.exit(main())
