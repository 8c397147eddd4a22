"""The store under the queue: schema upgrades keep every ticket and stored reply; old replies are pruned."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from hallbus.config import HallConfig
from hallbus.controller import store as store_mod
from hallbus.controller.app import build_controller
from hallbus.controller.clock import ManualClock
from hallbus.controller.controller import REPLY_KEEP_S, Controller
from hallbus.controller.queue import QueueModule
from hallbus.controller.queue_schema import QUEUE_MIGRATIONS
from hallbus.controller.store import PRUNE_BATCH, Store, db_path
from hallbus.controller.ticket_ids import new_ticket_id, ticket_key
from hallbus.rpc import RpcFault
from tests.hallbus.controller.helpers import T0, call, issue, login, window_call


def _controller(config: HallConfig, data: Path, clock: ManualClock) -> Controller:
    return build_controller(config, data, clock=clock, hall_key=b"k" * 32, factories=[], refresh_async=False)


def test_ticket_ids_name_their_day_and_number() -> None:
    tid = new_ticket_id("2026-03-03", "A012")
    assert tid.startswith("20260303-a012-") and len(tid) == 30  # 64 random bits (SPEC 12)
    assert ticket_key(tid) == ("2026-03-03", "A012")
    assert ticket_key("20260303-a012-1f2e3d4c") == ("2026-03-03", "A012")  # an older 32-bit link still works
    for bad in ("", "A012", "20260303-a012", "20260303-a012-XYZ12345", "20260303-a012-1f2e3d4c5", "x" * 200):
        assert ticket_key(bad) is None


def test_status_by_an_id_that_is_no_ticket_is_not_found(ctl: Controller) -> None:
    t = issue(ctl, "A")
    assert call(ctl, "ticket.status", {"ticket_id": t["ticket_id"]})["ticket"]["number"] == "A001"
    wrong_random = t["ticket_id"][:-8] + ("0" * 8 if not t["ticket_id"].endswith("0" * 8) else "1" * 8)
    for tid in (wrong_random, "not-a-ticket", "20260303-a999-00000000"):
        with pytest.raises(RpcFault) as err:
            call(ctl, "ticket.status", {"ticket_id": tid})
        assert err.value.code == "unknown_ticket"


def test_an_older_store_is_upgraded_keeping_tickets_their_order_and_stored_replies(
    config: HallConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    clock = ManualClock(T0)
    # A store as the first release left it: core schema 1, queue schema 2. (The queue is
    # run at its old schema; the stored replies are put back into their first table after.)
    with monkeypatch.context() as m:
        m.setattr(QueueModule, "migrations", QUEUE_MIGRATIONS[:2])
        old = _controller(config, data, clock)
        assert old.store.version("queue") == 2
        login(old, "9", "s009")
        # Issued in the same second: only the issue order tells them apart.
        first = call(old, "ticket.issue", {"service": "E"}, request_id="req-first")["ticket"]
        issue(old, "E")
        issue(old, "E")
        old.close()
    with closing(sqlite3.connect(db_path(data))) as conn, conn:
        conn.executescript(store_mod.CORE_MIGRATIONS[0].replace("rpc_replies", "rpc_replies_v1") + """
            INSERT INTO rpc_replies_v1 SELECT request_id, method, reply, at_ts FROM rpc_replies;
            DROP TABLE rpc_replies;
            ALTER TABLE rpc_replies_v1 RENAME TO rpc_replies;
            UPDATE schema_versions SET version = 1 WHERE module = 'core';
        """)
    conn.close()

    ctl = _controller(config, data, clock)
    try:
        assert ctl.store.version("core") == len(store_mod.CORE_MIGRATIONS)
        assert ctl.store.version("queue") == len(QUEUE_MIGRATIONS)
        # the stored reply survived: a retry gets the first answer, no new ticket
        again = call(ctl, "ticket.issue", {"service": "E"}, request_id="req-first")["ticket"]
        assert again == first
        assert call(ctl, "ticket.status", {"ticket_id": first["ticket_id"]})["ticket"]["number"] == "E001"
        # the issue order survived: equal sort keys are called in it
        called = [window_call(ctl, "call_next", "9")["ticket"]["number"]]
        for _ in range(2):
            window_call(ctl, "finish", "9")
            called.append(window_call(ctl, "call_next", "9")["ticket"]["number"])
        assert called == ["E001", "E002", "E003"]
        # numbering goes on where it was
        assert issue(ctl, "E")["number"] == "E004"
    finally:
        ctl.close()


def test_replies_are_kept_a_day_then_pruned_and_a_retry_after_that_is_new(
    ctl: Controller, clock: ManualClock
) -> None:
    first = call(ctl, "ticket.issue", {"service": "A"}, request_id="req-old")["ticket"]
    clock.advance(REPLY_KEEP_S - 60)
    ctl.tick()
    assert call(ctl, "ticket.issue", {"service": "A"}, request_id="req-old")["ticket"] == first  # still known
    young = call(ctl, "ticket.issue", {"service": "A"}, request_id="req-young")["ticket"]
    clock.advance(120)
    ctl.tick()
    assert ctl.store.stored_reply("terminal-1", "req-old") is None
    assert ctl.store.stored_reply("terminal-1", "req-young") is not None
    assert call(ctl, "ticket.issue", {"service": "A"}, request_id="req-young")["ticket"] == young
    # forgotten: the same id is a new request now (a day on, it is one)
    assert call(ctl, "ticket.issue", {"service": "A"}, request_id="req-old")["ticket"]["ticket_id"] != first["ticket_id"]


def test_pruning_takes_a_bounded_batch_of_the_oldest_replies_per_step(tmp_path: Path) -> None:
    store = Store(tmp_path / "h.db")
    try:
        store.conn.execute("BEGIN IMMEDIATE")
        for i in range(PRUNE_BATCH + 100):
            store.keep_reply("t", f"old-{i}", "ticket.issue", b"{}", 1000.0 + i)
        store.keep_reply("t", "young", "ticket.issue", b"{}", 5000.0)
        store.conn.execute("COMMIT")
        assert len(store.prune_replies(before_ts=4000.0)) == PRUNE_BATCH
        assert sorted(store.prune_replies(before_ts=4000.0)) == sorted(
            ("t", f"old-{i}") for i in range(PRUNE_BATCH, PRUNE_BATCH + 100)
        )
        assert store.prune_replies(before_ts=4000.0) == []
        assert store.reply_keys() == {("t", "young")}
    finally:
        store.close()
