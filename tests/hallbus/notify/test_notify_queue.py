"""When "near" is made: the queue engine's own place for the ticket, priority tickets and leavers counted.

The controller core without a broker (its batches run by hand), `[notify]` on with `ahead = 2`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest

from hallbus.config import parse_config
from hallbus.controller.app import build_controller, feature_module_factories
from hallbus.controller.clock import ManualClock
from hallbus.controller.controller import Controller
from tests.hallbus.controller.helpers import (
    T0,
    RecordingPublisher,
    call,
    elder,
    issue,
    login,
    make_config,
)
from tests.hallbus.helpers import with_notify


@pytest.fixture
def published() -> RecordingPublisher:
    return RecordingPublisher()


@pytest.fixture
def ctl(tmp_path: Path, published: RecordingPublisher) -> Iterator[Controller]:
    make_config(tmp_path)
    path = tmp_path / "hall.toml"
    config = parse_config(with_notify(path.read_text(encoding="utf-8"), "http://127.0.0.1:9/notify", ahead=2), path)
    c = build_controller(config, tmp_path / "data", clock=ManualClock(T0), hall_key=b"k" * 32,
                         factories=feature_module_factories(), refresh_async=False, publisher=published)
    try:
        yield c
    finally:
        c.close()


def outbox(ctl: Controller) -> list[tuple[str, str, dict[str, Any]]]:
    rows = ctl.store.conn.execute("SELECT ticket_id, kind, body FROM notify_outbox ORDER BY seq").fetchall()
    return [(r[0], r[1], msgspec.json.decode(r[2])) for r in rows]


def place(ctl: Controller, ticket_id: str) -> int:
    return int(call(ctl, "ticket.status", {"ticket_id": ticket_id})["ticket"]["ahead"])


def test_near_counts_priority_tickets_and_leavers_as_the_queue_engine_does(ctl: Controller) -> None:
    a = [issue(ctl, "A") for _ in range(3)]
    mine = issue(ctl, "A", phone="13812345678")
    assert mine["ahead"] == 3
    issue(ctl, "A", channel="green", id_card=elder("e1"))  # called before everyone: now 4 before mine
    assert place(ctl, mine["ticket_id"]) == 4
    login(ctl, "1")
    call(ctl, "window.call_next", {"window": "1"})  # the green ticket
    assert place(ctl, mine["ticket_id"]) == 3 and outbox(ctl) == []
    call(ctl, "ticket.cancel", {"ticket_id": a[2]["ticket_id"]})  # one before mine leaves: 2 left
    rows = outbox(ctl)
    assert [(t, k, b["ahead"]) for t, k, b in rows] == [(mine["ticket_id"], "near", 2)]
    assert place(ctl, mine["ticket_id"]) == 2
    # further moves make no second "near"; the call makes one "called"
    call(ctl, "window.finish", {"window": "1"})
    call(ctl, "window.call_next", {"window": "1"})
    call(ctl, "window.finish", {"window": "1"})
    call(ctl, "window.call_next", {"window": "1"})
    call(ctl, "window.finish", {"window": "1"})
    call(ctl, "window.call_next", {"window": "1"})
    assert [(t, k) for t, k, _b in outbox(ctl)] == [(mine["ticket_id"], "near"), (mine["ticket_id"], "called")]
    assert outbox(ctl)[1][2]["window"] == "1"


def test_a_ticket_already_close_at_issue_is_told_only_when_called(ctl: Controller) -> None:
    issue(ctl, "A")
    close = issue(ctl, "A", phone="13812345678")
    assert close["ahead"] == 1
    login(ctl, "1")
    call(ctl, "window.call_next", {"window": "1"})
    assert outbox(ctl) == []
    call(ctl, "window.finish", {"window": "1"})
    call(ctl, "window.call_next", {"window": "1"})
    assert [k for _t, k, _b in outbox(ctl)] == ["called"]


def test_a_no_show_forgets_the_number_and_nothing_published_ever_carried_it(
    ctl: Controller, published: RecordingPublisher
) -> None:
    issue(ctl, "A", phone="13812345678")
    login(ctl, "1")
    call(ctl, "window.call_next", {"window": "1"})
    call(ctl, "window.recall", {"window": "1"})
    assert ctl.store.conn.execute("SELECT COUNT(*) FROM notify_phones").fetchone()[0] == 1
    call(ctl, "window.no_show", {"window": "1"})
    assert ctl.store.conn.execute("SELECT COUNT(*) FROM notify_phones").fetchone()[0] == 0
    ctl.publish_all()  # every retained state once more, stats/today too
    sent = [p for _t, p in published.events] + list(published.states.values())
    assert len(published.states) > 5 and not [p for p in sent if b"13812345678" in p or b"****5678" in p]


def test_with_notify_off_a_number_is_checked_and_not_kept(tmp_path: Path) -> None:
    c = build_controller(make_config(tmp_path), tmp_path / "data", clock=ManualClock(T0), hall_key=b"k" * 32,
                         factories=feature_module_factories(), refresh_async=False)
    try:
        reply = call(c, "ticket.issue", {"service": "A", "phone": "13812345678"})
        assert reply["notify"] is None
        assert c.store.conn.execute("SELECT COUNT(*) FROM notify_phones").fetchone()[0] == 0
    finally:
        c.close()
