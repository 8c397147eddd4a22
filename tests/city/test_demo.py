"""`./hall demo --city` (python -m city.demo): every simulated hall arrives through two instances, and all stops."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.slow
def test_the_city_demo_brings_every_hall_in_and_says_where_the_api_is() -> None:
    done = subprocess.run([sys.executable, "-m", "city.demo", "--halls", "10", "--seconds", "0.1"],
                          capture_output=True, text=True, timeout=90)
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    assert "10 of 10 simulated halls" in done.stdout
    assert "/api/v1/halls" in done.stdout and "token:" in done.stdout
