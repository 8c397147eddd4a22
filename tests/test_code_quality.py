"""ruff and mypy (strict on devices/, hallbus/ and the kiosk's Qt-free modules) hold for the whole tree."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def test_ruff_is_clean() -> None:
    out = subprocess.run([str(BIN / "ruff"), "check", "hallbus", "devices", "kiosk", "web", "city", "tests", "bench"],
                         cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]


def test_mypy_strict_on_devices_hallbus_and_the_qt_free_kiosk() -> None:
    out = subprocess.run([str(BIN / "mypy"), "--config-file", "pyproject.toml"],  # the files listed there
                         cwd=REPO, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
