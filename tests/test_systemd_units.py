"""The systemd units parse cleanly (systemd-analyze verify), apart from binaries not installed here."""

import shutil
import subprocess
from pathlib import Path

import pytest

UNITS = Path(__file__).resolve().parent.parent / "systemd"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
@pytest.mark.parametrize("unit", ["hallbus.service", "hallweb.service", "kiosk@.service", "kiosk-eglfs@.service",
                                  "hallcity@.service"])
def test_unit_verifies(unit: str) -> None:
    out = subprocess.run(["systemd-analyze", "verify", str(UNITS / unit)], capture_output=True, text=True, timeout=60)
    problems = [
        line for line in (out.stdout + out.stderr).splitlines()
        if line.strip() and "is not executable" not in line and "No such file or directory" not in line
    ]
    assert problems == [], problems


def test_controller_unit_is_hardened_and_watched() -> None:
    text = (UNITS / "hallbus.service").read_text()
    for line in ("Type=notify", "WatchdogSec=", "Restart=on-failure", "User=hallkit", "ProtectSystem=strict",
                 "StateDirectory=hallkit", "NoNewPrivileges=true"):
        assert line in text


def test_web_unit_is_hardened_and_kept_from_the_controllers_state() -> None:
    text = (UNITS / "hallweb.service").read_text()
    for line in ("User=hallweb", "ExecStart=/opt/hallkit/.venv/bin/hallweb serve", "InaccessiblePaths=-/var/lib/hallkit",
                 "ProtectSystem=strict", "NoNewPrivileges=true", "Restart=on-failure",
                 "StateDirectory=hallweb", "StateDirectoryMode=0700"):  # its secret, kept across restarts
        assert line in text


def test_web_service_cannot_read_the_controllers_secrets() -> None:
    """The process the phones reach reads no login but its own: not the controller's, no node key, no staff secret."""
    unit = (UNITS / "hallweb.service").read_text()
    users = (UNITS / "hallkit.sysusers.conf").read_text()
    assert "SupplementaryGroups" not in unit and not any(
        line.split()[:3] == ["m", "hallweb", "hallkit"] for line in users.splitlines()
    ), "the group hallkit reads credentials.json, node-keys.json and staff-secrets.toml"
    hidden = " ".join(line for line in unit.splitlines() if line.startswith("InaccessiblePaths="))
    for secret in ("/etc/hallkit/credentials.json", "/etc/hallkit/node-keys.json", "/etc/hallkit/staff-secrets.toml"):
        assert f"-{secret}" in hidden, secret
