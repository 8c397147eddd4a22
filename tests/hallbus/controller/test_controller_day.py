"""The day: roll-over, archived figures, stats, queue alerts once per crossing, the store itself."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from hallbus.controller.app import build_controller
from hallbus.controller.clock import HallTime, ManualClock
from hallbus.controller.controller import Controller
from hallbus.controller.module import ControllerModule, Tx
from hallbus.controller.store import Store
from hallbus.rpc import Request
from tests.hallbus.controller.helpers import (
    HALL,
    T0,
    RecordingPublisher,
    call,
    id_card,
    issue,
    login,
    make_config,
    window_call,
)

ALERTS = f"hall/v1/{HALL}/alerts"


def test_rollover_expires_open_tickets_restarts_numbers_and_archives(
    ctl: Controller, clock: ManualClock, published: RecordingPublisher
) -> None:
    login(ctl, "9", "s009")
    for _ in range(4):
        issue(ctl, "E")
    clock.advance(60)
    window_call(ctl, "call_next", "9")
    clock.advance(120)
    window_call(ctl, "finish", "9")
    window_call(ctl, "call_next", "9")
    window_call(ctl, "hold", "9")
    window_call(ctl, "call_next", "9")  # E003 still called at the end of the day
    clock.set(T0.replace(day=4, hour=2, minute=59))
    ctl.tick()
    assert issue(ctl, "E")["number"] == "E005"  # still the same hall day
    clock.set(T0.replace(day=4, hour=3, minute=0, second=1))
    ctl.tick()
    statuses = dict(ctl.store.conn.execute("SELECT number, status FROM tickets WHERE day = '2026-03-03'").fetchall())
    assert statuses == {"E001": "done", "E002": "expired", "E003": "expired", "E004": "expired", "E005": "expired"}
    day = ctl.store.conn.execute(
        "SELECT tickets_issued, served, expired, avg_service_s, figures FROM days WHERE day = '2026-03-03'"
    ).fetchone()
    assert day[:4] == (5, 1, 4, 120.0)
    figures = json.loads(day[4])
    assert figures["tickets_issued"] == 5 and figures["date"] == "2026-03-03"
    state = published.state(f"hall/v1/{HALL}/window/9/state")
    assert state["status"] == "closed" and state["staff"] is None and state["held"] == []
    assert published.state(f"hall/v1/{HALL}/queue/state")["total_waiting"] == 0
    assert published.state(f"hall/v1/{HALL}/stats/today")["tickets_issued"] == 0
    assert published.state(f"hall/v1/{HALL}/calls/recent")["calls"] == []
    t = issue(ctl, "E")
    assert t["number"] == "E001" and t["ticket_id"].startswith("20260304-e001-")


def test_a_request_after_the_rollover_hour_rolls_the_day_first(ctl: Controller, clock: ManualClock) -> None:
    issue(ctl, "A")
    clock.set(T0.replace(day=5, hour=8))  # the controller was off for a day and a half
    assert issue(ctl, "A")["number"] == "A001"
    assert ctl.store.conn.execute("SELECT status FROM tickets WHERE day = '2026-03-03'").fetchone()[0] == "expired"


def test_stats_today(ctl: Controller, clock: ManualClock) -> None:
    login(ctl, "9", "s009")
    issue(ctl, "E")
    issue(ctl, "E")
    issue(ctl, "E")
    clock.advance(100)
    window_call(ctl, "call_next", "9")
    clock.advance(50)
    window_call(ctl, "finish", "9")
    window_call(ctl, "call_next", "9")
    window_call(ctl, "no_show", "9")
    stats = call(ctl, "stats.today")["stats"]
    assert stats["tickets_issued"] == 3 and stats["visitors"] == 3
    assert stats["served"] == 1 and stats["no_show"] == 1
    assert stats["avg_wait_s"] == pytest.approx((100 + 150) / 2)
    assert stats["avg_service_s"] == 50.0
    assert stats["date"] == "2026-03-03"


def test_waiting_alert_once_per_crossing(ctl: Controller, published: RecordingPublisher) -> None:
    ctl.queue.services["A"].alert_waiting = 3
    for _ in range(3):
        issue(ctl, "A")
    ctl.tick()
    ctl.tick()
    issue(ctl, "A")
    ctl.tick()
    alerts = published.events_on(ALERTS)
    assert len(alerts) == 1
    assert alerts[0]["kind"] == "queue_threshold" and alerts[0]["subject"].startswith("A ")
    assert "3" in alerts[0]["detail"]
    login(ctl, "1", "s001")
    for _ in range(2):
        window_call(ctl, "call_next", "1")
        window_call(ctl, "finish", "1")
    ctl.tick()  # below the line again: re-armed, no alert
    assert len(published.events_on(ALERTS)) == 1
    issue(ctl, "A")
    ctl.tick()
    assert len(published.events_on(ALERTS)) == 2


def test_wait_time_alert(ctl: Controller, clock: ManualClock, published: RecordingPublisher) -> None:
    issue(ctl, "C", id_card={"id_hash": "ab" * 32})  # C: alert_wait_s = 1800 in the sample
    clock.advance(1799)
    ctl.tick()
    assert published.events_on(ALERTS) == []
    clock.advance(2)
    ctl.tick()
    clock.advance(60)
    ctl.tick()
    (alert,) = published.events_on(ALERTS)
    assert "30" in alert["detail"] and alert["level"] == "warn"


def test_store_is_wal_and_fully_synchronous(ctl: Controller) -> None:
    conn = ctl.store.conn
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_the_wal_starts_over_under_steady_writes(tmp_path: Path) -> None:
    """Checkpoints beside a busy writer must still let the WAL restart, or it grows without end."""
    import threading

    store = Store(tmp_path / "h.db")
    store.migrate("t", ("CREATE TABLE t (a INTEGER, b BLOB)",))
    stop = threading.Event()
    writes = [0]
    checkpointed = [0]  # the writes when the last checkpoint began
    wrote = threading.Condition()

    def writer() -> None:
        while not stop.is_set():
            with wrote:  # the tick checkpoints between batches: a writer never runs ~300 commits past it
                wrote.wait_for(lambda: stop.is_set() or writes[0] - checkpointed[0] < 300, 10)
            with store.lock:
                store.conn.execute("BEGIN IMMEDIATE")
                store.conn.execute("INSERT INTO t VALUES (?, zeroblob(3000))", (writes[0],))
                store.conn.execute("COMMIT")
            with wrote:
                writes[0] += 1
                wrote.notify_all()

    t = threading.Thread(target=writer)
    t.start()
    try:
        while writes[0] < 10000:  # a checkpoint every 100 commits, as the tick does under load
            with wrote:
                goal = checkpointed[0] + 100  # below the writer's limit, so it always gets there
                assert wrote.wait_for(lambda goal=goal: writes[0] >= goal, 10), "the writer stopped"
                checkpointed[0] = writes[0]
                wrote.notify_all()
            store.checkpoint(restart_frames=200)
    finally:
        stop.set()
        with wrote:
            wrote.notify_all()
        t.join()
    wal = (tmp_path / "h.db-wal").stat().st_size
    # Every write adds at least one 4 KiB frame: without restarts the WAL holds them all
    # (about 12 KiB a write here); with them it stays at what a few checkpoint rounds let in.
    # (The writer waits for the checkpointer as the controller's batches wait for its tick: on a
    # loaded machine a free-running writer thread once got ~1,100 commits between two rounds.)
    assert wal < writes[0] * 4096 / 3, (wal, writes[0])
    store.close()


def test_migrations_run_once_per_module(tmp_path: Path) -> None:
    store = Store(tmp_path / "h.db")
    scripts = ("CREATE TABLE m1 (a INTEGER)", "ALTER TABLE m1 ADD COLUMN b TEXT; CREATE INDEX m1_a ON m1(a)")
    assert store.migrate("feature", scripts[:1]) == 1
    assert store.migrate("feature", scripts) == 1
    assert store.migrate("feature", scripts) == 0
    assert store.version("feature") == 2
    store.conn.execute("INSERT INTO m1(a, b) VALUES (1, 'x')")
    store.close()
    again = Store(tmp_path / "h.db")
    assert again.migrate("feature", scripts) == 0
    assert again.conn.execute("SELECT b FROM m1").fetchone()[0] == "x"
    again.close()


class Counter(ControllerModule):
    """A small feature module: its own table, an RPC, a tick and a stats figure."""

    name = "counter"
    migrations = ("CREATE TABLE counter (n INTEGER NOT NULL); INSERT INTO counter VALUES (0)",)

    def handlers(self) -> dict[str, object]:  # type: ignore[override]
        return {"guide.get": self._bump}

    def _bump(self, req: Request, tx: Tx) -> dict[str, object]:
        tx.execute("UPDATE counter SET n = n + 1")
        tx.mark("stats")
        return {"n": tx.execute("SELECT n FROM counter").fetchone()[0]}

    def contribute_stats(self, tx: Tx, stats: dict[str, object]) -> None:
        stats["cases_done"] = tx.execute("SELECT n FROM counter").fetchone()[0]


def test_a_feature_module_plugs_in(tmp_path: Path) -> None:
    cfg = make_config(tmp_path)
    pub = RecordingPublisher()
    ctl = build_controller(
        cfg, tmp_path / "d", clock=ManualClock(T0), hall_key=b"k" * 32, publisher=pub,
        factories=[lambda ctx: Counter()], refresh_async=False,
    )
    try:
        assert call(ctl, "guide.get", {"item": "x"}) == {"n": 1}
        assert call(ctl, "guide.get", {"item": "x"}, request_id="same") == {"n": 2}
        assert call(ctl, "guide.get", {"item": "x"}, request_id="same") == {"n": 2}
        assert pub.state(f"hall/v1/{HALL}/stats/today")["cases_done"] == 2
    finally:
        ctl.close()


def test_the_hall_day_and_hours_follow_the_halls_zone_whatever_zone_the_clock_speaks(tmp_path: Path) -> None:
    """08:30 on 4 March in Shanghai is 00:30 UTC: just past midnight on the clock's own dial.

    A clock that hands out UTC moments (a host clock, a test's clock) must not leave the
    hall on yesterday's day all morning, nor read its opening hours off the UTC dial.
    """
    config = make_config(tmp_path, all_day=False)
    morning = dt.datetime(2026, 3, 4, 0, 30, tzinfo=dt.UTC)
    ctl = build_controller(
        config, tmp_path / "d", clock=ManualClock(morning), hall_key=b"k" * 32, factories=[], refresh_async=False
    )
    try:
        hall = HallTime.of(config)
        assert hall.business_day(morning) == dt.date(2026, 3, 4)
        # 03:30 in Shanghai (19:30 UTC the day before) is past the roll-over: the new day.
        assert hall.business_day(dt.datetime(2026, 3, 3, 19, 30, tzinfo=dt.UTC)) == dt.date(2026, 3, 4)
        ticket = issue(ctl, "G", id_card=id_card("1"))  # open 08:30-12:00 in the hall: open now
        assert ticket["ticket_id"].startswith("20260304-g001-")
        assert ticket["issued_at"].startswith("2026-03-04T08:30:00")
    finally:
        ctl.close()
