"""到号提醒 seen from the phone's side: a ticket with a number, its page, JSON and event stream never show the number.

A real `hallweb`, broker and controller, `[notify]` on with the gateway a real HTTP server on
loopback: the gateway gets the number when the ticket is called, the web service never does.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from tests.hallbus.helpers import with_notify
from tests.hallbus.notify.gateway import Gateway
from tests.web.conftest import WebHall, wait_until
from tests.web.test_web_api import sse_events, ticket_path

PHONE = "13812345678"
TRACES = (PHONE, "138****")  # the number, whole or masked


@pytest.fixture
def hall_text(gateway: Gateway) -> Callable[[str], str]:
    """The test hall with `[notify]` on, posting to the gateway."""
    return lambda text: with_notify(text, gateway.url, ahead=3)


def test_the_phone_pages_never_show_the_number_the_gateway_gets(hall: WebHall, gateway: Gateway) -> None:
    terminal = hall.rpc("terminal-1", "terminal")
    taken = terminal.call("ticket.issue", {"service": "A", "phone": PHONE}, timeout=10)
    assert taken["notify"]["phone_masked"] == "138****5678"
    tid = taken["ticket"]["ticket_id"]
    with httpx.stream("GET", hall.web + ticket_path(tid) + "/events", timeout=30) as stream:
        events = sse_events(stream)
        first = next(d for k, d in events if k == "ticket")
        hall.counter("1", "s001").call("window.call_next", {"window": "1"}, timeout=10)
        called = next(d for k, d in events if k == "ticket" and json.loads(d)["status"] == "called")
    post = gateway.wait_posts(1)[0]["body"]
    assert (post["kind"], post["phone"], post["ticket"]) == ("called", PHONE, taken["ticket"]["number"])
    wait_until(lambda: hall.get(ticket_path(tid)).json()["status"] == "called", 10, "the page's JSON says called")
    said = [first, called, hall.get(ticket_path(tid)).text]
    said += [hall.get(path).text for path in (f"/t/{tid}", f"/t/{tid}?lang=en", "/q", "/q?lang=en")]
    for text in said:
        assert not [t for t in TRACES if t in text], text[:300]
