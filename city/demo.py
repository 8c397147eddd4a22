"""The city on one machine: `./hall demo --city` (or `python -m city.demo`).

A private PostgreSQL (city/pgtest.py), a city Mosquitto (the config `hallcity broker-config` writes,
with its logins and ACL; the simulator logs in as `hallsim`), two `hallcity serve` instances sharing
one subscription group, and the simulator playing N halls (50 by default). Prints the API's
address and token and the wall's, checks that every hall has arrived, and runs until Ctrl-C (or
`--seconds`).
"""

from __future__ import annotations

import argparse
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from city.localbroker import CityBroker
from city.pgtest import LocalPostgres
from city.sim import hall_ids, write_config
from hallbus.localbroker import end_process, free_port


def main(argv: list[str] | None = None) -> int:
    """Start everything, print where it is, run until interrupted, stop everything we started."""
    ap = argparse.ArgumentParser(prog="python -m city.demo", description="The city command centre on this machine.")
    ap.add_argument("--halls", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=0, help="stop after this long (0: at Ctrl-C)")
    args = ap.parse_args(argv)
    exe = Path(sys.executable).with_name("hallcity")
    procs: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory(prefix="hallcity-demo-") as tmp, LocalPostgres() as pg:
        broker = CityBroker(Path(tmp) / "broker")
        broker.start()
        try:
            db = pg.create_database("hallcity")
            token = secrets.token_urlsafe(16)
            (Path(tmp) / "token").write_text(token, encoding="utf-8")
            cfg = Path(tmp) / "city.toml"
            write_config(cfg, hall_ids(args.halls), db, broker.url, token_file=str(Path(tmp) / "token"),
                         broker_login=broker.toml_lines())
            ports = [free_port(), free_port()]
            procs += [subprocess.Popen([str(exe), "serve", "--config", str(cfg), "--listen", f"127.0.0.1:{p}",
                                        "--instance", f"demo-{i}"], stdin=subprocess.DEVNULL)
                      for i, p in enumerate(ports)]
            procs.append(subprocess.Popen([sys.executable, "-m", "city.sim", "--halls", str(args.halls),
                                           "--broker", broker.url, "--drop-every", "30"], stdin=subprocess.DEVNULL))
            api = f"http://127.0.0.1:{ports[0]}/api/v1/halls"
            auth = {"Authorization": f"Bearer {token}"}
            deadline = time.monotonic() + 60
            seen = 0
            while time.monotonic() < deadline:
                try:
                    seen = sum(1 for h in httpx.get(api, headers=auth, timeout=2).json() if h["last_seen"])
                except (httpx.HTTPError, ValueError, TypeError):
                    seen = 0
                if seen == args.halls:
                    break
                time.sleep(0.5)
            print(f"hallcity demo: {seen} of {args.halls} simulated halls in PostgreSQL, fed by two instances.\n"
                  f"  API:    {api}   (and http://127.0.0.1:{ports[1]}/api/v1/halls)\n"
                  f"  token:  {token}\n"
                  f"  try:    curl -H 'Authorization: Bearer {token}' {api}\n"
                  f"  health: http://127.0.0.1:{ports[0]}/healthz\n"
                  f"  wall:   http://127.0.0.1:{ports[0]}/city/   (asks for the token once)\n"
                  f"  Ctrl-C stops everything.", flush=True)
            try:
                if args.seconds:
                    time.sleep(args.seconds)
                else:
                    while True:
                        time.sleep(3600)
            except KeyboardInterrupt:
                pass
            return 0 if seen == args.halls else 1
        finally:
            for proc in reversed(procs):
                end_process(proc)
            broker.stop()


if __name__ == "__main__":
    sys.exit(main())
