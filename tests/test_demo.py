"""`./hall demo --headless`: the scripted scenario runs, every screen is captured, nothing is left running."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def _processes_mentioning(text: str) -> list[str]:
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmd:
            found.append(f"{pid}: {cmd}")
    return found


@pytest.mark.slow
def test_headless_demo_plays_the_scenario_and_stops_everything(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    env.pop("DISPLAY", None)
    capture = tmp_path / "bus.txt"
    done = subprocess.run([sys.executable, "-m", "kiosk.demo", "--headless", "--out", str(out), "--capture", str(capture)],
                          cwd=REPO, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    shots = sorted((out / "screens").glob("*.png"))
    roles_shot = {p.stem.split("-")[-1] for p in shots}
    assert roles_shot - {"web"} == {"terminal", "counter", "tablet", "window", "hall"}
    assert "demo: web         hallweb on http://" in done.stdout
    if Path("/usr/bin/chromium").exists():  # the phone page the printed QR leads to, called to window 3
        assert any(p.name.endswith("-phone-web.png") for p in shots), done.stdout[-2000:]
    assert any("ticket-taken" in p.name for p in shots)
    assert list((out / "kiosk").glob("*/printed/**/*.png")), "the simulated printer rendered no ticket"
    assert _processes_mentioning(str(out)) == [], "the demo left processes running"
    # The hall ran secured as docs/install.md sets it up: the generated broker config, each screen
    # logged in as its own node, the controller with node keys and the staff secrets file.
    conf = (out / "broker" / "mosquitto.conf").read_text()
    assert "allow_anonymous false" in conf and "acl_file" in conf and "use_username_as_clientid true" in conf
    broker_log = (out / "broker" / "mosquitto.log").read_text()
    for node in ("controller", "terminal-1", "counter-3", "tablet-3", "window-3", "hall-1"):
        assert f"as {node} (p5, " in broker_log and f"u'{node}')" in broker_log, f"{node} did not log in as itself"
    controller_log = (out / "controller.log").read_text()
    assert "checked against" in controller_log and "paced per signed terminal" in controller_log, controller_log
    assert f'staff_secrets_file = "{out}/staff-secrets.toml"' in (out / "hall.toml").read_text()
    # Privacy: the demo citizen's full ID number appears in no log, database or state file.
    from devices.idcard.samples import sample_card

    number = sample_card("resident").id_number.encode()
    leaks = [p for p in out.rglob("*") if p.is_file() and p.suffix != ".png"
             and number in p.read_bytes()]
    assert leaks == [], f"full ID number found in {leaks}"
    assert number.decode() not in done.stdout + done.stderr
    # ... and none went over the bus: a capture of every message of the whole scenario.
    bus = capture.read_bytes()
    assert b"/calls " in bus and b"/rpc/ticket.issue " in bus and b"id_hash" in bus, "the capture missed the scenario"
    assert number not in bus
