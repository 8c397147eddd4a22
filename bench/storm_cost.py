"""What a reconnect storm costs the hall's broker, with and without the plugin's storm refusal (issue 17).

    .venv/bin/python bench/storm_cost.py [--seconds 10]

The sample hall's generated broker config, started twice: with `[broker_limits]
storm_ends_per_s` at its default and at 0 (no storm refusal; the publish budgets stay on).
Each time tablet-3 and terminal-1, each a process of its own with its real credentials
(bench/hostile.py's `storm`), connect and disconnect without a pause for `--seconds`; the
figure is the CPU time the Mosquitto process spent (utime + stime from /proc), beside the
connections the attackers made and how many the broker let in. CPU seconds are what the
broker takes from the hall server whatever else runs on the machine, so they compare
better than latencies on a loaded machine (the load average is printed too).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from hallbus.localbroker import LocalBroker  # noqa: E402
from hallbus.sample import all_day_text, open_all_day  # noqa: E402
from tests.hallbus.deploy.secured import secured_broker  # noqa: E402
from tests.hallbus.helpers import with_broker_limits  # noqa: E402

ATTACKERS = (("terminal", "terminal-1"), ("tablet", "tablet-3"))


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def storm(tmp: Path, seconds: float, **limits: object) -> dict[str, object]:
    config_path, _cfg = open_all_day(tmp, text=with_broker_limits(all_day_text(tmp), **limits))
    broker: LocalBroker = secured_broker(tmp / "broker", config_path)
    broker.start()
    try:
        assert broker.proc is not None
        before = cpu_s(broker.proc.pid)
        load = os.getloadavg()[0]
        procs = [subprocess.Popen(
            [sys.executable, str(REPO / "bench" / "hostile.py"), "--attack", role, "--kinds", "storm",
             "--creds", str(tmp / "broker" / "credentials" / f"{node}.json"), "--port", str(broker.port),
             "--hall", "demo-county", "--seconds", str(seconds)],
            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for role, node in ATTACKERS]
        counts = [json.loads(p.communicate(timeout=seconds + 60)[0].decode().strip().splitlines()[-1]) for p in procs]
        used = cpu_s(broker.proc.pid) - before
    finally:
        broker.stop()
    connects = sum(c.get("storm_connects", 0) for c in counts)
    return {"broker_cpu_s": round(used, 2), "connects": connects,
            "let_in": sum(c.get("storm_let_in", 0) for c in counts),
            "broker_cpu_us_per_connect": round(used / max(connects, 1) * 1e6, 1),
            "load": [round(load, 2), round(os.getloadavg()[0], 2)]}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=10.0)
    args = ap.parse_args()
    result = {}
    for name, limits in (("refusal on", {}), ("refusal off", {"storm_ends_per_s": 0})):
        with tempfile.TemporaryDirectory() as tmp:
            result[name] = r = storm(Path(tmp), args.seconds, **limits)
            print(f"storm ({name}): the broker used {r['broker_cpu_s']} CPU s for {r['connects']} connections "
                  f"({r['broker_cpu_us_per_connect']} us each), {r['let_in']} let in; load {r['load']}")
    print(json.dumps({"bench": "storm_cost", **result}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
