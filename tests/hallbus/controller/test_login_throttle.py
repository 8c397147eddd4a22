"""Staff login back-off in the engine: per staff id and per node, by time, and never a lasting lock-out."""

from __future__ import annotations

from pathlib import Path

import pytest

from hallbus.controller.clock import ManualClock
from hallbus.controller.controller import Controller
from hallbus.rpc import RpcFault
from tests.hallbus.controller.helpers import call, request

LOGIN = "[login]\nstaff_free_attempts = 5\nnode_free_attempts = 8\nbackoff_s = 30\nmax_backoff_s = 120\nforget_after_s = 600\n"


@pytest.fixture
def config(tmp_path: Path):  # type: ignore[no-untyped-def]
    from tests.hallbus.controller.helpers import make_config

    return make_config(tmp_path, extra=LOGIN)


def attempt(ctl: Controller, window: str, node: str, **body: str) -> str:
    """One login from `node`; the outcome's code ("ok" when signed in)."""
    try:
        call(ctl, "window.login", {"window": window, "node": node, **body}, caller=node)
    except RpcFault as f:
        return f.code
    return "ok"


def failures(ctl: Controller) -> dict[str, tuple[int, float]]:
    rows = ctl.store.conn.execute("SELECT key, failures, blocked_until FROM login_failures").fetchall()
    return {str(k): (int(n), float(b)) for k, n, b in rows}


def test_wrong_passwords_back_off_then_the_right_one_works(ctl: Controller, clock: ManualClock) -> None:
    outcomes = [attempt(ctl, "1", "counter-1", staff="s001", password=f"guess{i}") for i in range(40)]
    assert outcomes[:5] == ["login_failed"] * 5
    assert set(outcomes[5:]) == {"login_throttled"}, "a waiting key refuses before the password counts"
    assert failures(ctl)["staff:s001"][0] == 5, "refusals while waiting are not counted"
    with pytest.raises(RpcFault) as info:
        call(ctl, "window.login", {"window": "1", "staff": "s001", "password": "hall001"}, caller="counter-1")
    f = info.value
    assert f.code == "login_throttled" and "09:00:30" in f.message and "09:00:30" in f.message_en
    assert "约30秒后" in f.message and "badge" in f.message_en
    clock.advance(31)
    assert attempt(ctl, "1", "counter-1", staff="s001", password="hall001") == "ok"
    assert "staff:s001" not in failures(ctl), "the right password clears the staff id"


def test_each_further_failure_doubles_the_wait_up_to_the_cap(ctl: Controller, clock: ManualClock) -> None:
    waits = []
    for i in range(9):
        code = attempt(ctl, "1", "counter-1", staff="s002", password=f"x{i}")
        assert code == "login_failed"
        until = failures(ctl)["staff:s002"][1]
        waits.append(round(until - clock().timestamp()) if until else 0)
        clock.advance(max(waits[-1], 0) + 1)
    assert waits == [0, 0, 0, 0, 30, 60, 120, 120, 120]


def test_a_badge_still_works_while_passwords_wait(ctl: Controller, clock: ManualClock) -> None:
    """An attacker who guesses a colleague's password cannot keep them out: the badge is another key."""
    for i in range(5):
        attempt(ctl, "1", "counter-1", staff="s001", password=f"x{i}")
    assert attempt(ctl, "1", "counter-1", staff="s001", password="hall001") == "login_throttled"
    assert attempt(ctl, "1", "counter-1", badge_uid="04a1b2c3010080") == "ok"


def test_a_node_that_fails_too_often_waits_whatever_it_sends(ctl: Controller, clock: ManualClock) -> None:
    outcomes = [attempt(ctl, "2", "counter-2", badge_uid=f"{i:014x}") for i in range(12)]
    assert outcomes == ["login_failed"] * 8 + ["login_throttled"] * 4
    assert attempt(ctl, "2", "counter-2", badge_uid="04a1b2c3020780") == "login_throttled"
    # another counter is not held up by this one
    assert attempt(ctl, "3", "counter-3", badge_uid="04a1b2c3030e80") == "ok"
    clock.advance(31)
    assert attempt(ctl, "2", "counter-2", badge_uid="04a1b2c3020780") == "ok"


def test_junk_ids_add_no_rows_and_old_failures_are_forgotten(ctl: Controller, clock: ManualClock) -> None:
    for i in range(7):
        attempt(ctl, "4", f"made-up-{i}", staff=f"nobody-{i}", password="x")
    # neither made-up staff ids nor made-up node names become keys: the window stands in for the node
    assert set(failures(ctl)) == {"window:4"}
    clock.advance(601)
    ctl.tick()
    assert failures(ctl) == {}


def test_a_refused_attempt_costs_no_password_hash(ctl: Controller, clock: ManualClock) -> None:
    """The worker thread skips PBKDF2 for a key that waits: a flood of guesses costs the hall no CPU."""

    def prepared(staff: str, password: str) -> bool | None:
        req = request("window.login", {"window": "1", "staff": staff, "password": password}, caller="counter-1")
        work = ctl.slow_work(req)
        assert work is not None
        work()
        return None if req.prepared is None else bool(req.prepared["password_ok"])

    for i in range(5):
        attempt(ctl, "1", "counter-1", staff="s001", password=f"x{i}")
    assert prepared("s001", "hall001") is None, "no hash while s001 waits"
    assert prepared("s002", "hall002") is True, "other staff ids are hashed as before"
    clock.advance(31)
    ctl.tick()  # the controller's tick moves the hint's clock on, about once a second
    assert prepared("s001", "hall001") is True
    assert attempt(ctl, "1", "counter-1", staff="s001", password="hall001") == "ok"
