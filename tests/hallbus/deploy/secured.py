"""The sample hall behind the broker config `hallbus broker-config` generates (ACL, passwords, node keys)."""

from __future__ import annotations

import getpass
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from hallbus.config import HallConfig
from hallbus.localbroker import LocalBroker, free_port
from hallbus.sample import all_day_text, open_all_day


def secured_hall(
    tmp: Path, out: Path, edit: Callable[[str], str] = lambda text: text
) -> tuple[Path, HallConfig, LocalBroker]:
    """Write the all-day sample hall (node keys in `out`, `edit` applied) and its broker config into `out`.

    Returns the config's path, the config and the broker (not started yet).
    """
    (out / "persist").mkdir(parents=True)
    port = free_port()
    text = all_day_text(tmp).replace("[privacy]\n", f'[privacy]\nnode_keys_file = "{out}/node-keys.json"\n', 1)
    config_path, config = open_all_day(tmp, text=edit(text))
    done = subprocess.run(
        [sys.executable, "-m", "hallbus", "broker-config", "--config", str(config_path), "--out",
         str(out), "--listen", "127.0.0.1", "--port", str(port), "--run-as", getpass.getuser(),
         "--persistence-dir", f"{out}/persist/"],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return config_path, config, LocalBroker(out, port, conf_file=out / "mosquitto.conf")
