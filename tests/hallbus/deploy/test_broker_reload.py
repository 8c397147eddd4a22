"""Adding a node as docs/install.md step 7 says: `broker-config` again, then a reload of the running broker.

Run as root with `--run-as mosquitto`, as on a hall server: Mosquitto drops to that user and
reads its password file again at the reload, so the file must stay readable by it. A
rewritten file left `root:root 0640` made the broker refuse every login, the controller's too.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hallbus.config import DEFAULT_CONFIG
from hallbus.localbroker import LocalBroker, free_port
from tests.hallbus.deploy.secured import Probe, creds


def _mosquitto_user() -> pwd.struct_passwd | None:
    try:
        return pwd.getpwnam("mosquitto")
    except KeyError:
        return None


pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or _mosquitto_user() is None,
    reason="needs root and Debian's mosquitto user, as on a hall server (CI and ./hall setup have both)",
)


@pytest.fixture
def hall_dir() -> Iterator[Path]:
    """A folder the mosquitto user can reach (pytest's own tmp_path is root's alone)."""
    base = Path(tempfile.mkdtemp(prefix="hallkit-reload-", dir="/tmp"))
    base.chmod(0o755)
    try:
        yield base
    finally:
        shutil.rmtree(base)


def broker_config(config: Path, out: Path, port: int, persist: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "hallbus", "broker-config", "--config", str(config), "--out", str(out),
         "--run-as", "mosquitto", "--listen", "127.0.0.1", "--port", str(port), "--persistence-dir", f"{persist}/"],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr


def logs_in(port: int, out: Path, node: str) -> bool:
    c = creds(out, node)
    probe = Probe(port, c["username"], c["password"])
    try:
        return probe.rc is not None and not probe.rc.is_failure  # type: ignore[attr-defined]
    finally:
        probe.close()


def test_adding_a_node_then_reloading_the_broker_keeps_every_login(hall_dir: Path) -> None:
    user = _mosquitto_user()
    assert user is not None
    config, out, persist, port = hall_dir / "hall.toml", hall_dir / "mosquitto", hall_dir / "persist", free_port()
    persist.mkdir()
    os.chown(persist, user.pw_uid, user.pw_gid)
    config.write_text(DEFAULT_CONFIG.read_text(encoding="utf-8"), encoding="utf-8")
    broker_config(config, out, port, persist)
    for name in ("passwd", "acl"):
        st = (out / name).stat()
        assert (st.st_gid, st.st_mode & 0o777) == (user.pw_gid, 0o640), name
    assert (out / "credentials" / "tablet-3.json").stat().st_mode & 0o777 == 0o600
    broker = LocalBroker(hall_dir / "run", port, conf_file=out / "mosquitto.conf")
    broker.start()
    try:
        assert logs_in(port, out, "tablet-3")
        # step 7: a new [[nodes]] entry, broker-config again, then `systemctl reload mosquitto` (SIGHUP)
        with config.open("a", encoding="utf-8") as f:
            f.write('\n[[nodes]]\nid = "terminal-9"\nrole = "terminal"\n')
        broker_config(config, out, port, persist)
        assert broker.proc is not None
        broker.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while not logs_in(port, out, "terminal-9"):  # each try waits for the broker's CONNACK
            assert time.monotonic() < deadline, "the new node never got in: " + broker.log_path.read_text()[-1500:]
        assert logs_in(port, out, "tablet-3") and logs_in(port, out, "controller"), "the nodes already there still do"
    finally:
        broker.stop()
