"""First frame, memory and idle CPU of the counter, tablet, window and hall kiosk roles.

    .venv/bin/python bench/kiosk_roles.py [--idle 30] [--roles counter,tablet,window,hall]

A private Mosquitto and a real `hallbus serve` on the shipped sample hall (every service open all
day), with two windows serving and a few tickets waiting. Each role then runs as a real
`kiosk` process (offscreen, software rendering, 1920x1080), one after another:

- first frame: from starting the process (Python imports included) to the window's first
  swapped frame, and the part of it after the kiosk's own start (`Kiosk.start`);
- RSS after it settled;
- idle CPU: CPU time of the process over `--idle` seconds with nothing happening on the bus,
  as a percentage of one core. The hall screen is measured over `--hall-cycle` seconds instead:
  its notice rests a minute, then makes one pass across (about 40 s), and the figure is the
  average over that whole cycle (the quiet part alone is printed too).

Targets (SPEC 10): first frame <= 1.5 s, RSS <= 200 MB, idle CPU <= 1 %.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import msgspec  # noqa: E402

from bench._common import emit  # noqa: E402
from hallbus.brokerurl import parse_broker_url  # noqa: E402
from hallbus.client import BusClient  # noqa: E402
from hallbus.config import DEFAULT_CONFIG  # noqa: E402
from hallbus.localbroker import LocalBroker, end_process  # noqa: E402
from hallbus.rpc import RpcClient  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
NODES = {"counter": "counter-1", "tablet": "tablet-2", "window": "window-1", "hall": "hall-1"}
FIRST_FRAME = re.compile(r"first frame after (\d+) ms")


def sample_config(tmp: Path) -> Path:
    """The shipped sample hall, every service open all day, state under `tmp`."""
    text = DEFAULT_CONFIG.read_text(encoding="utf-8")
    text = re.sub(r"(?m)^hours = .*\n", "", text)
    text = re.sub(r"(?m)^slots = .*\n", "", text)
    text = text.replace("[[services]]\n", '[[services]]\nhours = ["00:00-24:00"]\n')
    text = text.replace('key_file = "var/hall/hall.key"', f'key_file = "{tmp / "hall.key"}"')
    text = text.replace('data_dir = "var/hall"', f'data_dir = "{tmp / "data"}"')
    path = tmp / "hall.toml"
    path.write_text(text, encoding="utf-8")
    return path


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    """Resident set size of a process in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run_role(role: str, config: Path, broker: str, tmp: Path, idle_s: float) -> dict[str, Any]:
    """Start one kiosk process, time its first frame, let it settle, measure RSS and idle CPU."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "QT_QUICK_BACKEND": "software"}
    t0 = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "kiosk", "--role", role, "--node", NODES[role], "--config", str(config),
         "--broker", broker, "--data", str(tmp / f"kiosk-{role}"), "--size", "1920x1080"],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    first: dict[str, float] = {}
    got = threading.Event()

    def read() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            m = FIRST_FRAME.search(line)
            if m and not got.is_set():
                first["wall_s"] = time.monotonic() - t0
                first["inside_s"] = int(m.group(1)) / 1000
                got.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        if not got.wait(20):
            raise RuntimeError(f"the {role} kiosk drew no frame within 20 s")
        time.sleep(5)  # connect, retained state, first animations done
        rss = rss_mb(proc.pid)
        c0, w0 = cpu_seconds(proc.pid), time.monotonic()
        quiet_s = min(idle_s, 40.0)  # the hall's notice first moves 60 s after start
        time.sleep(quiet_s)
        quiet = (cpu_seconds(proc.pid) - c0) / (time.monotonic() - w0) * 100
        time.sleep(max(0.0, idle_s - quiet_s))
        cpu = (cpu_seconds(proc.pid) - c0) / (time.monotonic() - w0) * 100
        rss = max(rss, rss_mb(proc.pid))
    finally:
        end_process(proc)
    return {
        "role": role,
        "first_frame_s": round(first["wall_s"], 3),
        "first_frame_after_start_s": round(first["inside_s"], 3),
        "rss_mb": round(rss, 1),
        "idle_cpu_pct": round(cpu, 2),
        "quiet_cpu_pct": round(quiet, 2),
        "measured_s": idle_s,
    }


def seed(broker: str) -> None:
    """Two windows serving, a few tickets waiting, one finished (its tablet shows the faces)."""
    bus = BusClient(hall="demo-county", node="terminal-1", role="terminal", broker=parse_broker_url(broker))
    if not bus.start(wait=5):
        raise RuntimeError("cannot reach the bench broker")
    rpc = RpcClient(bus)
    try:
        for w, staff in (("1", "s001"), ("2", "s002")):
            rpc.call("window.login", {"window": w, "staff": staff, "password": "hall" + staff[-3:]})
        for _ in range(6):
            rpc.call("ticket.issue", {"service": "A"})
        rpc.call("window.call_next", {"window": "2"})
        rpc.call("window.finish", {"window": "2"})
        rpc.call("window.call_next", {"window": "1"})
        rpc.call("window.call_next", {"window": "2"})
    finally:
        bus.stop()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--idle", type=float, default=30.0, help="seconds of idle CPU measurement per role")
    ap.add_argument("--hall-cycle", type=float, default=100.0, help="seconds for the hall (one notice rest + pass)")
    ap.add_argument("--roles", default="counter,tablet,window,hall")
    args = ap.parse_args()
    roles = [r for r in args.roles.split(",") if r]
    with tempfile.TemporaryDirectory(prefix="kiosk-bench-") as d:
        tmp = Path(d)
        config = sample_config(tmp)
        broker = LocalBroker(tmp / "broker")
        broker.start()
        log = open(tmp / "serve.log", "ab")
        serve = subprocess.Popen([sys.executable, "-m", "hallbus", "serve", "--config", str(config), "--broker", broker.url],
                                 cwd=REPO, stdout=log, stderr=log)
        log.close()
        results: list[dict[str, Any]] = []
        try:
            _wait_online(broker.url)
            seed(broker.url)
            for role in roles:
                r = run_role(role, config, broker.url, tmp, args.hall_cycle if role == "hall" else args.idle)
                results.append(r)
                print(f"{role:8s} first frame {r['first_frame_s'] * 1000:6.0f} ms from process start "
                      f"({r['first_frame_after_start_s'] * 1000:.0f} ms after Kiosk.start)   "
                      f"RSS {r['rss_mb']:6.1f} MB   idle CPU {r['idle_cpu_pct']:5.2f} % over {r['measured_s']:.0f} s "
                      f"(first {min(r['measured_s'], 40):.0f} s: {r['quiet_cpu_pct']:.2f} %)", flush=True)
        finally:
            serve.send_signal(signal.SIGTERM)
            try:
                serve.wait(10)
            except subprocess.TimeoutExpired:
                serve.kill()
            broker.stop()
    ok = all(r["first_frame_s"] <= 1.5 and r["rss_mb"] <= 200 and r["idle_cpu_pct"] <= 1.0 for r in results)
    emit({"bench": "kiosk_roles", "idle_s": args.idle, "roles": results, "targets_met": ok})
    return 0


def _wait_online(url: str) -> None:
    bus = BusClient(hall="demo-county", node="bench-watch", role="hall", broker=parse_broker_url(url))
    online = threading.Event()
    bus.subscribe(bus.topics.node_status("controller"),
                  lambda _t, p, _pr: online.set() if p and msgspec.json.decode(p).get("state") == "online" else None)
    bus.start(wait=5)
    try:
        if not online.wait(15):
            raise RuntimeError("the controller did not come online")
    finally:
        bus.stop()


if __name__ == "__main__":
    sys.exit(main())
