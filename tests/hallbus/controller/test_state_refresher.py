"""The state publisher thread: a change after a quiet spell is published at once, a burst is paced."""

from __future__ import annotations

from pathlib import Path

from hallbus.config import HallConfig
from hallbus.controller.app import build_controller
from hallbus.controller.clock import ManualClock
from hallbus.controller.controller import REFRESH_BURST
from hallbus.controller.module import Tx


def _mark_queue(tx: Tx) -> None:
    tx.mark("queue")


def test_changes_after_a_quiet_spell_are_not_held_back_by_the_one_before(
    config: HallConfig, clock: ManualClock, tmp_path: Path
) -> None:
    # An interval far longer than any wait below: a refresh held back by it would never finish in time.
    ctl = build_controller(config, tmp_path / "data", clock=clock, hall_key=b"k" * 32, factories=[],
                           refresh_interval_s=60.0)
    try:
        for _ in range(REFRESH_BURST):  # e.g. `finish`, then `call_next` a few ms later: both at once
            ctl.run_tx(_mark_queue)
            assert ctl.flush(10)
        ctl.run_tx(_mark_queue)  # a sustained burst is paced: this one waits for the interval
        assert not ctl.flush(0.5)
    finally:
        ctl.close()
