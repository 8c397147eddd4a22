"""到号提醒 end to end: the controller behind its generated broker config posts to a real HTTP gateway on loopback.

Terminals, the counter and the web service log in with their own credentials and sign
with their node keys, as installed. The gateway is `http.server` on a free port: it
records each POST, can answer an error, and can be down (its socket closed).
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import msgspec
import pytest

from hallbus.client import BusClient
from hallbus.controller.app import HallController
from hallbus.controller.clock import ManualClock
from hallbus.controller.store import db_path
from hallbus.rpc import RpcClient, RpcFault
from tests.hallbus.deploy.secured import write_secured_hall
from tests.hallbus.deploy.test_ticket_limits import SignedHall
from tests.hallbus.helpers import with_notify
from tests.hallbus.notify.gateway import Gateway

T0 = dt.datetime(2026, 3, 3, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
PHONE = "13812345678"
OTHER = "19987654321"
WAITING = "15500001111"


class NotifyHall(SignedHall):
    """The signed sample hall with `[notify]` on, posting to `gateway`; the controller restartable."""

    def __init__(self, tmp: Path, gateway: Gateway) -> None:
        self.out = tmp / "broker"
        self.config_path, self.config, self.broker = write_secured_hall(
            tmp, self.out, lambda text: with_notify(text, gateway.url, ahead=2, retry_max_s=0.5, give_up_s=600)
        )
        self.data = self.config_path.parent / "data"
        self.clock = ManualClock(T0)
        self.buses: list[BusClient] = []
        self.app: HallController | None = None

    def start_controller(self) -> None:
        """The controller again, on the same data (the broker kept running)."""
        self.app = HallController(self.config, data_dir=self.data, broker=self.address("controller"),
                                  clock=self.clock, tick_s=0.05)
        assert self.app.start(wait=5)
        assert self.app.bus.wait_subscribed(self.app.bus.topics.rpc_all, 5)

    def stop_controller(self) -> None:
        assert self.app is not None
        self.app.stop()
        self.app = None

    def client(self, node: str, role: str) -> RpcClient:
        """`node` logged in with its credentials, signing with its node key."""
        bus = BusClient(hall=self.config.hall.id, node=node, role=role, broker=self.address(node))
        assert bus.start(wait=5), f"{node} could not log in"
        self.buses.append(bus)
        client = RpcClient(bus, node_key=bytes.fromhex(self.creds(node)["node_key"]))
        assert bus.wait_subscribed(client.reply_topic, 5)
        return client

    def rows(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        """A query on the hall database, read-only beside the running controller."""
        with closing(sqlite3.connect(f"file:{db_path(self.data)}?mode=ro", uri=True, isolation_level=None)) as conn, conn:
            return conn.execute(sql, args).fetchall()

    def until_rows(self, sql: str, want: Any, timeout: float = 10.0) -> None:
        """Wait until the query's rows are `want` (the controller records outcomes at its tick)."""
        deadline = time.monotonic() + timeout
        got = self.rows(sql)
        while got != want:
            assert time.monotonic() < deadline, f"{sql}: {got}, not {want}"
            time.sleep(0.02)
            got = self.rows(sql)


@pytest.fixture
def hall(tmp_path: Path, gateway: Gateway) -> Iterator[NotifyHall]:
    h = NotifyHall(tmp_path, gateway)
    try:
        h.start()
        yield h
    finally:
        h.stop()


def issue(term: RpcClient, phone: str | None = None, service: str = "A") -> dict[str, Any]:
    body: dict[str, Any] = {"service": service}
    if phone is not None:
        body["phone"] = phone
    return dict(term.call("ticket.issue", body))


def call_next(counter: RpcClient, window: str = "1") -> str:
    state = counter.call("window.call_next", {"window": window})["window"]
    return str(state["ticket"]["number"])


def finish(counter: RpcClient, window: str = "1") -> None:
    counter.call("window.finish", {"window": window})


def serve_next(counter: RpcClient) -> str:
    """Finish who is at the window (if anyone) and call the next."""
    try:
        finish(counter)
    except RpcFault as err:
        assert err.code == "no_current_ticket", err
    return call_next(counter)


def login(hall: NotifyHall) -> RpcClient:
    counter = hall.client("counter-1", "counter")
    counter.call("window.login", {"window": "1", "staff": "s001", "password": "hall001"})
    return counter


def test_near_and_called_reach_the_gateway_once_each_and_the_number_goes_with_the_ticket(
    hall: NotifyHall, gateway: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    term = hall.client("terminal-1", "terminal")
    web = hall.client("web", "web")
    seen: list[bytes] = []  # everything the web service may read: retained state, calls
    web.bus.subscribe(web.bus.topics.root + "#", lambda _t, payload, _p: seen.append(bytes(payload)))
    assert web.bus.wait_subscribed(web.bus.topics.root + "#", 5)
    for _ in range(3):
        issue(term)
    got = issue(term, PHONE)
    ticket = got["ticket"]
    assert (ticket["number"], ticket["ahead"]) == ("A004", 3)
    assert got["notify"] == {"phone_masked": "138****5678", "ahead": 2}
    assert hall.rows("SELECT phone, watch_near FROM notify_phones") == [(PHONE, 1)]

    counter = login(hall)
    assert call_next(counter) == "A001"  # A004 now has 2 ahead: "near"
    near = gateway.wait_posts(1)[0]
    body = near["body"]
    assert (body["kind"], body["ticket"], body["ahead"], body["phone"]) == ("near", "A004", 2, PHONE)
    assert near["headers"]["Idempotency-Key"] == body["id"] and near["path"] == "/notify"
    assert "A004号" in body["text"] and "前面还有2人" in body["text"] and "2 people before you" in body["text_en"]
    assert "track_url" not in body  # a secret link: not sent unless the hall says so
    status = web.call("ticket.status", {"ticket_id": ticket["ticket_id"]})["ticket"]
    assert status["ahead"] == body["ahead"]  # the notification's place is the queue engine's

    assert serve_next(counter) == "A002"
    assert serve_next(counter) == "A003"
    assert serve_next(counter) == "A004"
    called = gateway.wait_posts(2)[1]["body"]
    assert (called["kind"], called["ticket"], called["window"], called["window_name"]) == ("called", "A004", "1", "1号窗口")
    assert called["text"] == "【某某县政务服务中心】请A004号到1号窗口办理。"
    # a recall is no second "called"; the number is kept while the ticket is open
    counter.call("window.recall", {"window": "1"})
    assert hall.rows("SELECT phone FROM notify_phones") == [(PHONE,)]
    hall.until_rows("SELECT kind, state FROM notify_outbox ORDER BY seq", [("near", "sent"), ("called", "sent")])

    issue(term, WAITING, service="E")  # not served at window 1: its number stays (the byte check sees it)
    finish(counter)  # served: the number is gone at once, in the finishing transaction
    assert hall.rows("SELECT phone FROM notify_phones") == [(WAITING,)]
    # The next notification arrives after nothing else: none of A004's was posted twice.
    issue(term, OTHER)
    call_next(counter)
    posts = gateway.wait_posts(3)
    assert [(p["body"]["ticket"], p["body"]["kind"]) for p in posts] == [("A004", "near"), ("A004", "called"),
                                                                          ("A005", "called")]
    assert len({p["body"]["id"] for p in posts}) == 3

    # Nowhere else: not in any log line, not in what the web service reads, and once the controller
    # has stopped (the WAL checkpointed into the database), not in the database's bytes either.
    replies = msgspec.json.encode(web.call("ticket.statuses", {"ticket_ids": [ticket["ticket_id"]]}))
    assert PHONE.encode() not in replies and b"5678" not in replies
    assert len(seen) > 10 and not [m for m in seen if PHONE.encode() in m or b"****5678" in m]
    finish(counter)
    hall.stop_controller()
    assert PHONE not in caplog.text and OTHER not in caplog.text
    raw = b"".join(f.read_bytes() for f in hall.data.iterdir() if f.name.startswith("hall.db"))
    assert WAITING.encode() in raw
    assert PHONE.encode() not in raw and OTHER.encode() not in raw


def test_a_bad_number_is_refused_in_words_and_issues_nothing(hall: NotifyHall) -> None:
    term = hall.client("terminal-1", "terminal")
    for bad in ("1381234567", "23812345678", "138-1234-5678", "１３８１２３４５６７８", "12812345678"):
        with pytest.raises(RpcFault) as err:
            issue(term, bad)
        assert err.value.code == "bad_request"
        assert "手机号码不正确" in err.value.message and "11" in err.value.message
        assert "mobile number" in (err.value.message_en or "")
    assert issue(term)["ticket"]["number"] == "A001"  # nothing was issued meanwhile
    assert hall.rows("SELECT COUNT(*) FROM notify_phones") == [(0,)]


def test_the_gateway_down_then_up_gets_each_notification_once(hall: NotifyHall, gateway: Gateway) -> None:
    term = hall.client("terminal-1", "terminal")
    counter = login(hall)
    gateway.stop()  # connection refused
    issue(term, PHONE)
    assert call_next(counter) == "A001"
    hall.until_rows("SELECT kind, state, attempts >= 2 FROM notify_outbox", [("called", "pending", 1)])
    gateway.answers.append(503)  # up, but the first answer is an error: the retry carries the same key
    gateway.start()
    posts = gateway.wait_posts(2)
    assert [p["status"] for p in posts] == [503, 200]
    assert posts[0]["body"]["id"] == posts[1]["body"]["id"] == posts[1]["headers"]["Idempotency-Key"]
    assert posts[1]["body"]["attempt"] > posts[0]["body"]["attempt"] >= 3  # two or more tries hit the closed port
    hall.until_rows("SELECT kind, state FROM notify_outbox", [("called", "sent")])
    # A later notification is the next post: the delivered one was not posted again.
    finish(counter)
    issue(term, OTHER)
    call_next(counter)
    assert [p["body"]["ticket"] for p in gateway.wait_posts(3)] == ["A001", "A001", "A002"]


def test_notifications_pending_at_a_restart_are_delivered_after_it(hall: NotifyHall, gateway: Gateway) -> None:
    term = hall.client("terminal-1", "terminal")
    counter = login(hall)
    gateway.stop()
    issue(term, PHONE)
    call_next(counter)
    hall.until_rows("SELECT kind, state FROM notify_outbox", [("called", "pending")])
    hall.stop_controller()
    gateway.start()
    assert gateway.posts == []
    hall.start_controller()
    post = gateway.wait_posts(1)[0]["body"]
    assert (post["kind"], post["ticket"], post["phone"]) == ("called", "A001", PHONE)
    hall.until_rows("SELECT state FROM notify_outbox", [("sent",)])
    finish(counter)
    issue(term, OTHER)
    call_next(counter)
    assert [p["body"]["ticket"] for p in gateway.wait_posts(2)] == ["A001", "A002"]


def test_a_refusing_gateway_and_a_long_outage_are_given_up_with_a_reason(
    hall: NotifyHall, gateway: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    term = hall.client("terminal-1", "terminal")
    counter = login(hall)
    gateway.answers.append(400)  # a refusal no retry changes
    issue(term, PHONE)
    call_next(counter)
    gateway.wait_posts(1)
    hall.until_rows("SELECT state, last_error FROM notify_outbox", [("failed", "gateway answered HTTP 400 Bad Request")])
    assert "called for ticket A001 not delivered: gateway answered HTTP 400" in caplog.text

    gateway.stop()
    finish(counter)
    issue(term, OTHER)
    call_next(counter)
    hall.until_rows("SELECT ticket_id IS NOT NULL, state, attempts >= 1 FROM notify_outbox WHERE seq = 2",
                    [(1, "pending", 1)])
    hall.clock.advance(601)  # past give_up_s
    hall.until_rows("SELECT state FROM notify_outbox WHERE seq = 2", [("failed",)])
    assert "called for ticket A002 not delivered: gave up after" in caplog.text
    assert len(gateway.posts) == 1


def test_numbers_go_when_a_ticket_is_cancelled_or_expires_at_the_day_roll_over(hall: NotifyHall) -> None:
    term = hall.client("terminal-1", "terminal")
    web = hall.client("web", "web")
    a = issue(term, PHONE)["ticket"]
    issue(term, OTHER)
    assert len(hall.rows("SELECT * FROM notify_phones")) == 2
    web.call("ticket.cancel", {"ticket_id": a["ticket_id"]})
    assert hall.rows("SELECT phone FROM notify_phones") == [(OTHER,)]
    # A001 left: A002 has nobody before it, but it had fewer than 3 ahead at issue: no "near" now
    assert hall.rows("SELECT watch_near FROM notify_phones") == [(0,)]
    hall.clock.set(T0.replace(hour=3, minute=1) + dt.timedelta(days=1))  # the next hall day
    hall.until_rows("SELECT COUNT(*) FROM notify_phones", [(0,)])
    assert hall.rows("SELECT COUNT(*) FROM notify_outbox WHERE state = 'pending'") == [(0,)]
