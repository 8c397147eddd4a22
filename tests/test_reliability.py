"""The reliability suite (bench/reliability.py) with real processes, asserted on its figures."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from hallbus.config import load_config

REPO = Path(__file__).resolve().parent.parent


def _run(*args: str) -> dict:
    out = subprocess.run([sys.executable, str(REPO / "bench" / "reliability.py"), *args],
                         cwd=REPO, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_broker_restart_under_load() -> None:
    r = _run("--phase", "restart")["broker_restart"]
    nodes = len(load_config().nodes)  # every node of the sample hall (39 screens and the web service)
    assert r["nodes_back"] == r["nodes"] == nodes >= 39
    assert r["back_max_s"] <= 2.0
    assert r["retained_missing_after_2s"] == []
    assert r["nodes_online_after"] == nodes
    assert r["tickets_acked"] > 0 and r["tickets_duplicated"] == 0


@pytest.mark.slow
def test_controller_kill_9_under_load_loses_nothing_acknowledged() -> None:
    r = _run("--phase", "kill")["controller_kill9"]
    assert r["tickets_acked_before_kill"] > 0 and r["ratings_acked_before_kill"] > 0
    assert r["tickets_acked"] > r["tickets_acked_before_kill"], "no ticket was issued after the restart"
    assert r["tickets_missing"] == 0 and r["numbers_issued_twice"] == 0
    assert r["ratings_missing"] == 0 and r["ratings_duplicated"] == 0


@pytest.mark.slow
def test_garbage_on_every_subscribed_topic() -> None:
    r = _run("--phase", "garbage", "--per-topic", "2000")["garbage"]
    assert r["controller_alive"] and r["correct_answer_after"]
    assert r["nodes_connected_after"] == r["nodes"]


@pytest.mark.slow
def test_hostile_nodes_cannot_take_the_broker_or_the_controller_down() -> None:
    """The figures of the hostile phase are printed (latency is the machine's); what must hold here is not timed."""
    r = _run("--phase", "hostile", "--attack-s", "4")["hostile"]
    for kind in ("flood", "big", "huge", "storm", "all"):
        for node, counts in r["attacked"][kind]["attackers"].items():
            assert sum(n for what, n in counts.items() if what.endswith(("_sent", "_connects"))), f"{node}: no {kind}"
    assert r["controller_alive"] and r["controller_seen_not_online"] == []
    assert r["counter_connections"] == 1, "the counter was kicked off"
    assert r["broker_peak_mb_after"] < 150, "the broker's memory grew with the attack"
