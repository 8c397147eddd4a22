"""Badge login at a counter: a real `kiosk --role counter` process, a private pcscd with the vpcd driver,
and the vpcd card emulator laying a staff badge on the reader.

The kiosk runs as its own process, as on site: libpcsclite binds to one pcscd socket per process,
so a test process that already used another pcscd could not point at this one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from devices.pcsc.privatepcscd import VPCD_DRIVER, PrivatePcscd
from devices.pcsc.vcard import StaffBadge, VpcdCard
from hallbus import schemas
from hallbus.staff_secrets import with_staff_secrets
from tests.kiosk.rolefixtures import RoleHall

pytestmark = pytest.mark.pcsc


def test_staff_log_in_with_their_badge(role_hall: RoleHall, tmp_path: Path) -> None:
    if shutil.which("pcscd") is None or not VPCD_DRIVER.exists():
        pytest.skip("pcscd and vsmartcard-vpcd are not installed (the set-up script installs them)")
    # the badge a staff member carries: its UID is only in the controller's secrets file, not in hall.toml
    assert role_hall.config.staff_member("s004").badge_uid is None  # type: ignore[union-attr]
    member = with_staff_secrets(role_hall.config).staff_member("s004")
    assert member is not None and member.badge_uid
    states: list[schemas.WindowState] = []
    seen = threading.Event()
    watcher = role_hall.rpc("watcher", "hall").bus

    def on_state(_topic: str, payload: bytes, _props: Any) -> None:
        st = schemas.decode(payload, schemas.WindowState)
        states.append(st)
        if st.staff is not None and st.staff.id == "s004":
            seen.set()

    watcher.subscribe(watcher.topics.window_state("4"), on_state)
    online = threading.Event()
    watcher.subscribe(
        watcher.topics.node_status("counter-4"),
        lambda _t, p, _pr: (
            online.set() if schemas.decode(p, schemas.NodeStatus).state == "online" else None
        ),
    )

    daemon = PrivatePcscd(tmp_path / "pcscd").start()
    slot = VpcdCard(port=daemon.slot_ports[0])
    log = open(tmp_path / "kiosk.log", "wb")
    env = {
        **os.environ,
        **daemon.env(),
        "QT_QPA_PLATFORM": "offscreen",
        "QT_QUICK_BACKEND": "software",
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kiosk",
            "--role",
            "counter",
            "--node",
            "counter-4",
            "--config",
            role_hall.config.path,
            "--broker",
            role_hall.broker.url,
            "--data",
            str(tmp_path / "kiosk"),
            "--size",
            "1280x800",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=Path(__file__).resolve().parents[3],
    )
    try:
        assert online.wait(15), (
            "the counter kiosk did not come online:\n" + (tmp_path / "kiosk.log").read_text()
        )
        assert not seen.is_set()
        slot.insert(StaffBadge(bytes.fromhex(member.badge_uid)))
        assert seen.wait(15), (
            "the badge did not log in:\n" + (tmp_path / "kiosk.log").read_text()[-3000:]
        )
        assert (
            states[-1].status == "idle"
            and states[-1].staff is not None
            and states[-1].staff.name == member.name
        )
    finally:
        slot.remove()
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        log.close()
        daemon.stop()
