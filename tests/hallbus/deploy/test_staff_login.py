"""Staff logins in a hall set up as docs/install.md says, over the real broker with its generated config and ACL.

The hall starts the old way (password hashes and badge UIDs in hall.toml) and follows the
guide: `hallbus staff-secrets split`, the secrets file to the server only, hall.toml to
every node, `hallbus broker-config`, the controller with its credentials and node keys.
Then a counter's credentials guess passwords, restart nothing away, and cannot pull a
colleague off their window.
"""

from __future__ import annotations

import getpass
import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from hallbus.brokerurl import BrokerAddress
from hallbus.client import BusClient
from hallbus.config import load_config
from hallbus.controller.app import HallController
from hallbus.controller.clock import ManualClock
from hallbus.localbroker import LocalBroker, free_port
from hallbus.rpc import RpcClient, RpcFault
from hallbus.sample import all_day_text
from tests.hallbus.controller.helpers import T0
from tests.hallbus.deploy import secured

SAMPLE_SECRETS = Path(__file__).resolve().parents[3] / "assets" / "staff-secrets.example.toml"


def hallbus(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hallbus", *args], capture_output=True, text=True,
                          timeout=60, input=stdin)


def old_style_hall_toml(base: Path) -> tuple[str, list[str]]:
    """The sample hall as the old guide had it: every secret inline in hall.toml; also the secret values."""
    text = re.sub(r"(?m)^staff_secrets_file = .*\n", "", all_day_text(base))
    values: list[str] = []
    for block in SAMPLE_SECRETS.read_text(encoding="utf-8").split("[[staff]]")[1:]:
        sid = re.search(r'id = "([^"]+)"', block).group(1)  # type: ignore[union-attr]
        lines = [ln for ln in block.strip().splitlines() if ln.startswith(("badge_uid", "password_hash"))]
        values += [ln.split("=", 1)[1].strip().strip('"') for ln in lines]
        text = text.replace(f'id = "{sid}"\n', f'id = "{sid}"\n' + "\n".join(lines) + "\n", 1)
    return text, values


@dataclass
class Hall:
    """The server's and a node's files, the broker, and a restartable controller."""

    server_toml: Path
    node_toml: Path
    out: Path
    broker: LocalBroker
    clock: ManualClock = field(default_factory=lambda: ManualClock(T0))
    app: HallController | None = None
    buses: list[BusClient] = field(default_factory=list)

    def address(self, node: str) -> BrokerAddress:
        return secured.address(self.broker, self.out, node)

    def start_controller(self) -> HallController:
        cfg = load_config(self.server_toml)
        self.app = HallController(cfg, data_dir=self.server_toml.parent / "data", broker=self.address("controller"),
                                  clock=self.clock, tick_s=0.2)
        assert self.app.start(wait=5), "controller did not connect with its generated credentials"
        assert self.app.bus.wait_subscribed(self.app.bus.topics.rpc_all, 5)
        return self.app

    def stop_controller(self) -> None:
        if self.app is not None:
            self.app.stop()
            self.app = None

    def counter(self, node: str) -> RpcClient:
        """A counter node as its credentials file makes it: broker login and node key."""
        creds = json.loads((self.out / "credentials" / f"{node}.json").read_text())
        bus = BusClient(hall="demo-county", node=node, role="counter", broker=self.address(node))
        assert bus.start(wait=5), f"{node} could not log in to the broker"
        self.buses.append(bus)
        client = RpcClient(bus, node_key=bytes.fromhex(creds["node_key"]))
        assert bus.wait_subscribed(client.reply_topic, 5)
        return client


@pytest.fixture
def hall(tmp_path: Path) -> Iterator[Hall]:
    old_text, values = old_style_hall_toml(tmp_path)
    old = tmp_path / "old" / "hall.toml"
    old.parent.mkdir()
    old.write_text(old_text, encoding="utf-8")
    server, node = tmp_path / "server", tmp_path / "node"
    server.mkdir()
    node.mkdir()
    # docs/install.md, step 3 (a hall from before the split): split, secrets to the server only
    split = hallbus("staff-secrets", "split", "--config", str(old), "--out", str(tmp_path / "split"),
                    "--secrets-path", str(server / "staff-secrets.toml"))
    assert split.returncode == 0, split.stderr
    assert (tmp_path / "split" / "staff-secrets.toml").stat().st_mode & 0o077 == 0, "written for its owner only"
    (server / "staff-secrets.toml").write_bytes((tmp_path / "split" / "staff-secrets.toml").read_bytes())
    (server / "staff-secrets.toml").chmod(0o640)
    node_text = (tmp_path / "split" / "hall.toml").read_text(encoding="utf-8")
    (node / "hall.toml").write_text(node_text, encoding="utf-8")  # "copy hall.toml to every node"
    # step 4: the broker's files (step 5 below: the server's hall.toml names the node keys)
    out = tmp_path / "broker"
    (out / "persist").mkdir(parents=True)
    broker = None
    for _ in range(3):  # a free port may be taken by another test process before Mosquitto binds it
        port = free_port()
        gen = hallbus("broker-config", "--config", str(node / "hall.toml"), "--out", str(out), "--listen",
                      "127.0.0.1", "--port", str(port), "--run-as", getpass.getuser(),
                      "--persistence-dir", f"{out}/persist/")
        assert gen.returncode == 0, gen.stderr
        broker = LocalBroker(out, port, conf_file=out / "mosquitto.conf")
        try:
            broker.start()
            break
        except RuntimeError as err:
            if "Address already in use" not in str(err):
                raise
    assert broker is not None and broker.proc is not None and broker.proc.poll() is None
    server_text = node_text.replace(
        "[privacy]\n", f'[privacy]\nnode_keys_file = "{out / "node-keys.json"}"\n', 1)
    (server / "hall.toml").write_text(server_text, encoding="utf-8")
    for v in values:
        assert v not in node_text, "a node's hall.toml must carry no password hash or badge UID"
    assert "password_hash" not in node_text and "badge_uid" not in node_text
    h = Hall(server / "hall.toml", node / "hall.toml", out, broker)
    try:
        yield h
    finally:
        for bus in h.buses:
            bus.stop()
        h.stop_controller()
        broker.stop()


def login(client: RpcClient, window: str, **body: str) -> str:
    """The outcome of one login: "ok" or the error code."""
    try:
        client.call("window.login", {"window": window, **body})
    except RpcFault as err:
        return err.code
    return "ok"


def test_the_split_files_check_as_the_guide_says(hall: Hall) -> None:
    server = hallbus("staff-secrets", "check", "--config", str(hall.server_toml), "--json")
    assert server.returncode == 0, server.stderr
    figures = json.loads(server.stdout)
    assert figures["with_password"] == figures["staff"] == figures["with_badge"] == 14
    assert figures["secrets_in_hall_toml"] == []
    assert figures["secrets_file"] == str(hall.server_toml.parent / "staff-secrets.toml")
    # the hall.toml of before the split is what the check warns about
    old = hallbus("staff-secrets", "check", "--config", str(hall.server_toml.parent.parent / "old" / "hall.toml"))
    assert old.returncode == 1 and "copied to every node" in old.stderr and "s001" in old.stderr


def test_forty_wrong_passwords_are_throttled_across_a_restart(hall: Hall) -> None:
    hall.start_controller()
    counter = hall.counter("counter-1")
    t0 = time.monotonic()
    outcomes = [login(counter, "1", staff="s001", password=f"guess{i:02d}") for i in range(40)]
    took = time.monotonic() - t0
    print(f"40 wrong passwords: {outcomes.count('login_failed')} checked, "
          f"{outcomes.count('login_throttled')} refused unchecked, in {took:.2f} s")
    assert outcomes == ["login_failed"] * 5 + ["login_throttled"] * 35
    hall.stop_controller()
    hall.start_controller()  # a restart does not reset the back-off
    with pytest.raises(RpcFault) as err:
        counter.call("window.login", {"window": "1", "staff": "s001", "password": "hall001"})
    assert err.value.code == "login_throttled" and "09:00:30" in err.value.message
    hall.clock.advance(31)
    assert login(counter, "1", staff="s001", password="hall001") == "ok", "the right password after the wait"


def test_one_window_per_person_over_the_bus(hall: Hall) -> None:
    hall.start_controller()
    c1, c2 = hall.counter("counter-1"), hall.counter("counter-2")
    assert login(c1, "1", badge_uid="04a1b2c3010080") == "ok"  # the badge from the controller's secrets file
    for body in ({"badge_uid": "04:a1:b2:c3:01:00:80"}, {"staff": "s001", "password": "hall001"}):
        with pytest.raises(RpcFault) as err:
            c2.call("window.login", {"window": "2", **body})
        assert err.value.code == "staff_busy" and "已在1号窗口登录" in err.value.message
    # window 1 is untouched: its person is still signed in there
    assert c1.call("window.pause", {"window": "1", "reason": "午休"})["window"]["staff"]["id"] == "s001"
    assert login(c2, "2", staff="s002", password="hall002") == "ok"
