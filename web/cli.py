"""`hallweb serve`: the hall's web service on uvicorn until SIGTERM or SIGINT.

    hallweb serve [--config hall.toml] [--broker mqtt://USER:PASS@HOST:PORT] [--listen HOST:PORT] [--node web]

`--listen` overrides `[web] listen`; the broker and its credentials come as for every
other process (`[broker]`, its `credentials_file`, `HALL_MQTT_USERNAME`/`PASSWORD`).
"""

from __future__ import annotations

import argparse
import logging
import sys
from types import FrameType

import uvicorn

from hallbus.cli_common import add_common, broker_from_config, node_key_from_config
from hallbus.client import BusClient
from hallbus.config import ConfigError, load_config, split_listen
from hallbus.rpc import RpcClient
from web.admin import load_secret_key
from web.app import WebApp, create_app
from web.vendor import VendorMissing, find_vendor

log = logging.getLogger(__name__)


class WebServer(uvicorn.Server):
    """uvicorn, ending the open event streams at SIGTERM/SIGINT so the stop does not wait on them.

    The phones' EventSource reconnects by itself to the next process (systemd restarts it).
    """

    def __init__(self, config: uvicorn.Config, app: WebApp) -> None:
        super().__init__(config)
        self.app = app

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self.app.close_streams()
        super().handle_exit(sig, frame)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `hallweb` console script."""
    parser = argparse.ArgumentParser(prog="hallweb", description="The hall's web service (SPEC 12).")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the citizen's phone pages")
    add_common(serve)
    serve.add_argument("--listen", default=None, help="HOST:PORT (default: [web] listen, 127.0.0.1:8080)")
    serve.add_argument("--node", default="web", help="this process's node id on the bus (default: web)")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        cfg = load_config(args.config)
        host, port = split_listen(args.listen or cfg.web.listen)
        broker = broker_from_config(cfg, args.broker)
        node_key = node_key_from_config(cfg)
        secret_key = load_secret_key(cfg)  # the console's sessions and CSRF: made on first start when missing
        vendor = find_vendor()  # the browser libraries of package.json, installed by `./hall setup` (npm ci)
    except (ConfigError, ValueError, OSError, VendorMissing) as err:
        print(f"hallweb: {err}", file=sys.stderr)
        return 2
    bus = BusClient(hall=cfg.hall.id, node=args.node, role="web", broker=broker)
    app = create_app(cfg, bus, RpcClient(bus, node_key), secret_key, vendor)
    log.info("hallweb on http://%s:%d (phones reach it as %s), broker %s", host, port, cfg.web.base_url, broker.url)
    server = WebServer(
        uvicorn.Config(app, host=host, port=port, log_level="warning", proxy_headers=True, lifespan="on",
                       timeout_graceful_shutdown=5),
        app,
    )
    server.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
