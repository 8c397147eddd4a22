"""One store for the hall: databases made by the code before it (01c7308) are adopted, nothing runs twice.

The two SQL dumps in data/ were made with that code: `hall-db-01c7308-cli-only.sql.gz` by
`hallbus cases import` alone (the records' tables made untracked, IF NOT EXISTS, no
`schema_versions`), `hall-db-01c7308-controller.sql.gz` by the controller (two tickets)
and then the same import.
"""

from __future__ import annotations

import contextlib
import gzip
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from hallbus.controller.admin import AdminModule
from hallbus.controller.app import build_controller, feature_module_factories, open_store
from hallbus.controller.clock import ManualClock
from hallbus.controller.controller import Controller
from hallbus.controller.login_throttle import LoginThrottle
from hallbus.controller.queue_schema import QUEUE_MIGRATIONS
from hallbus.controller.settings import HallSettings
from hallbus.controller.staff_accounts import StaffAccountsModule
from hallbus.controller.store import CORE_MIGRATIONS, Store, StoreError, db_path
from hallbus.notify.module import NOTIFY_MIGRATIONS, NotifyModule
from hallbus.records.cases import CASES_MIGRATIONS
from hallbus.records.modules import migrations as records_migrations
from hallbus.records.ratings import RATINGS_MIGRATIONS
from hallbus.reports.daybook import REPORTS_MIGRATIONS
from hallbus.reports.module import ReportsModule
from hallbus.rpc import RpcFault
from tests.hallbus.controller.helpers import T0, call, issue
from tests.hallbus.records.conftest import records_config

DUMPS = Path(__file__).parent / "data"
CASE = ("ZW2026030100001", "reviewing", "张*", "李明")
APPOINTMENT = ("YY20260303001", "A", "王*", "booked")


def _restore(name: str, data: Path) -> None:
    data.mkdir(parents=True)
    db = sqlite3.connect(data / "hall.db")
    db.executescript(gzip.decompress((DUMPS / f"hall-db-01c7308-{name}.sql.gz").read_bytes()).decode("utf-8"))
    db.close()


def _records(conn: sqlite3.Connection) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    cases = conn.execute("SELECT case_no, status, applicant_masked, handler FROM rec_cases").fetchall()
    appts = conn.execute("SELECT code, service, name_masked, status FROM rec_appointments").fetchall()
    return cases, appts


@contextlib.contextmanager
def _controller(tmp_path: Path, data: Path) -> Iterator[Controller]:
    ctl = build_controller(records_config(tmp_path), data, clock=ManualClock(T0), hall_key=b"k" * 32,
                           factories=feature_module_factories(), refresh_async=False)
    try:
        yield ctl
    finally:
        ctl.close()


def _every_migration() -> list[tuple[str, int]]:
    modules = [
        ("core", CORE_MIGRATIONS), ("queue", QUEUE_MIGRATIONS), (LoginThrottle.name, LoginThrottle.migrations),
        *records_migrations(), (NotifyModule.name, NOTIFY_MIGRATIONS), (ReportsModule.name, REPORTS_MIGRATIONS),
        (AdminModule.name, AdminModule.migrations), (StaffAccountsModule.name, StaffAccountsModule.migrations),
        (HallSettings.name, HallSettings.migrations),
    ]
    return [(name, n) for name, scripts in modules for n in range(1, len(scripts) + 1)]


def test_a_database_the_old_command_line_made_is_adopted_once_and_keeps_its_records(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _restore("cli-only", data)
    with open_store(data) as store:
        # every migration, once, in order: the records' first ones adopt their existing tables
        assert store.applied == _every_migration()
        assert _records(store.conn) == ([CASE], [APPOINTMENT])
    with open_store(data) as store:
        assert store.applied == []
    with _controller(tmp_path, data) as ctl:
        assert ctl.store.applied == []
        assert _records(ctl.store.conn) == ([CASE], [APPOINTMENT])


def test_a_database_the_old_controller_made_runs_nothing_again_and_keeps_counting(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _restore("controller", data)
    with contextlib.closing(sqlite3.connect(data / "hall.db")) as db:
        had = dict(db.execute("SELECT module, version FROM schema_versions").fetchall())
    with _controller(tmp_path, data) as ctl:
        # only the migrations written after that code (such as core 3), each once
        assert ctl.store.applied == [(m, n) for m, n in _every_migration() if n > had.get(m, 0)]
        assert _records(ctl.store.conn) == ([CASE], [APPOINTMENT])
        assert issue(ctl, "A")["number"] == "A003"  # the old controller's A001 and A002 are kept
    with open_store(data) as store:
        assert store.applied == []


def test_a_migration_newer_than_the_program_is_refused_by_name(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with open_store(data) as store:
        store.conn.execute("UPDATE schema_versions SET version = 99 WHERE module = 'records.cases'")
    with pytest.raises(StoreError, match=r"'records.cases' is at schema version 99"):
        open_store(data)


def test_ratings_keyed_by_staff_name_take_their_handling_ids(tmp_path: Path) -> None:
    """Migration 2 of the ratings: a window rating gets its request's id, a case's first rating the case."""
    with Store(db_path(tmp_path)) as store:
        store.migrate("records.ratings", RATINGS_MIGRATIONS[:1])
        store.conn.execute(
            "INSERT INTO rec_rating_requests VALUES ('h-1', '1', 'A001', '20260303-a001-0badf00d', NULL, 's001', 1, 2)"
        )
        rows = [("r1", "ticket:20260303-a001-0badf00d:s001", "1", None), ("r2", "case:ZW1:李明", None, "ZW1"),
                ("r3", "case:ZW1:s001 ", None, "ZW1"), ("r4", "ticket:gone:s002", "2", None)]
        for rid, handling, window, case_no in rows:
            store.conn.execute(
                "INSERT INTO rec_ratings(rating_id, handling, window, case_no, level, at_ts, day, answer) "
                "VALUES (?, ?, ?, ?, 1, 0, '2026-03-03', '{}')", (rid, handling, window, case_no),
            )
        assert store.migrate("records.ratings", RATINGS_MIGRATIONS) == 1
        got = dict(store.conn.execute("SELECT rating_id, handling FROM rec_ratings").fetchall())
    # the fakes of one case keep their old keys (one rating of the case counts as its rating)
    assert got == {"r1": "h-1", "r2": "case:ZW1", "r3": "case:ZW1:s001 ", "r4": "ticket:gone:s002"}


def test_back_off_counts_from_before_the_one_back_off_are_kept(tmp_path: Path) -> None:
    """Migration 3 of the cases renames `fails` to the back-off's `failures`: a wait and a count go on.

    The staff logins' table had the back-off's columns from its first migration: its waits hold as they were.
    """
    data = tmp_path / "data"
    data.mkdir()
    now = T0.timestamp()
    with Store(db_path(data)) as store:
        store.migrate("records.cases", CASES_MIGRATIONS[:2])
        store.conn.executemany(
            "INSERT INTO rec_lookup_throttle(key, fails, last_ts, blocked_until) VALUES (?, ?, ?, ?)",
            [("case:ZW1", 5, now, now + 30), ("node:terminal-1", 4, now, now)],
        )
        store.migrate(LoginThrottle.name, LoginThrottle.migrations)
        store.conn.execute("INSERT INTO login_failures VALUES ('staff:s001', 5, ?, ?)", (now, now + 30))
    with _controller(tmp_path, data) as ctl:
        with pytest.raises(RpcFault) as info:  # the right password, refused while s001 waits
            call(ctl, "window.login", {"window": "1", "staff": "s001", "password": "hall001"}, caller="counter-1")
        assert info.value.code == "login_throttled" and "09:00:30" in info.value.message
        assert ("records.cases", 3) in ctl.store.applied
        with pytest.raises(RpcFault) as info:  # the case still waits, whichever terminal asks
            call(ctl, "case.query", {"case_no": "ZW1", "verify": "000000"}, caller="terminal-2")
        assert info.value.code == "too_many_attempts" and "30 秒后再试" in info.value.message
        with pytest.raises(RpcFault) as info:  # terminal-1's fifth wrong guess: its count went on from 4
            call(ctl, "case.query", {"case_no": "ZW2", "verify": "000000"}, caller="terminal-1")
        assert info.value.code == "case_not_found"
        rows = dict(ctl.store.conn.execute("SELECT key, failures FROM rec_lookup_throttle").fetchall())
        assert rows == {"case:ZW1": 5, "node:terminal-1": 5, "case:ZW2": 1}
