"""hallweb's JSON routes against a real server, broker and controller: the ticket, its events, leaving, 404s."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.web.conftest import PUBLIC_URL, WebHall, wait_until

SPEC_FIELDS = {"number", "service", "service_name", "status", "ahead", "est_wait_s", "window", "window_name",
               "called_at", "issued_at"}


def ticket_path(ticket_id: str) -> str:
    return f"/api/v1/tickets/{ticket_id}"


def test_healthz_says_the_bus_is_up(hall: WebHall) -> None:
    got = hall.get("/healthz")
    assert got.status_code == 200 and got.json()["ok"] is True and got.json()["bus"] == "up"


def test_a_ticket_as_json_has_the_spec_fields_and_nothing_personal(hall: WebHall) -> None:
    first, second = hall.issue("A"), hall.issue("A")
    assert second.track_url == f"{PUBLIC_URL}/t/{second.ticket_id}"  # the QR leads to this service's public address
    got = hall.get(ticket_path(second.ticket_id))
    assert got.status_code == 200 and got.headers["content-type"].startswith("application/json")
    body = got.json()
    assert SPEC_FIELDS <= set(body)
    assert "ticket_id" not in body and "name_masked" not in body and "track_url" not in body
    assert (body["number"], body["status"], body["ahead"], body["window"]) == (second.number, "waiting", 1, None)
    assert body["service"] == "A" and body["service_name"] and body["issued_at"] == second.issued_at
    assert first.number != second.number


@pytest.mark.parametrize("bad", ["nope", "20260303-a001-0000000000000000", "%00", "x" * 300, "20260303-A001-zz"])
def test_unknown_or_malformed_ids_are_404_with_a_json_error(hall: WebHall, bad: str) -> None:
    got = hall.get(ticket_path(bad))
    assert got.status_code == 404
    err = got.json()["error"]
    assert err["code"] == "not_found" and "没有找到" in err["message"]
    page = hall.get(f"/t/{bad}")
    assert page.status_code == 404 and "没有找到" in page.text and page.headers["content-type"].startswith("text/html")


def test_unknown_routes_are_404_never_5xx(hall: WebHall) -> None:
    for path in ("/api/v1/nothing", "/api/v1/tickets/", "/t/", "/static/../hall.toml", "/q?lang=%ff%fe"):
        assert hall.get(path).status_code in (200, 404), path
    assert hall.get("/api/v1/nothing").json()["error"]["code"] == "not_found"


def test_every_answer_carries_the_security_headers(hall: WebHall) -> None:
    t = hall.issue("A")
    for path in (f"/t/{t.ticket_id}", ticket_path(t.ticket_id), "/q", "/healthz", "/t/nope", "/static/ticket.js"):
        h = hall.get(path).headers
        assert "script-src 'self'" in h["content-security-policy"] and "unsafe-inline" not in h["content-security-policy"]
        assert h["x-content-type-options"] == "nosniff" and h["referrer-policy"] == "no-referrer"
        if not path.startswith("/static/"):
            assert h["cache-control"] == "no-store", path


def sse_events(response: httpx.Response) -> Iterator[tuple[str, str]]:
    """(event, data) of each event of a text/event-stream; ("", comment) for a comment."""
    event, data = "message", []
    for line in response.iter_lines():
        if line.startswith(":"):
            yield "", line[1:].strip()
        elif line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].strip())
        elif line == "" and data:
            yield event, "\n".join(data)
            event, data = "message", []


def test_the_event_stream_sends_the_state_at_once_and_again_at_every_change(hall: WebHall) -> None:
    first, mine = hall.issue("A"), hall.issue("A")
    counter = hall.counter("1", "s001")
    with httpx.stream("GET", hall.web + ticket_path(mine.ticket_id) + "/events", timeout=30) as response:
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
        events = sse_events(response)
        kind, data = next(events)
        assert kind == "ticket" and json.loads(data)["ahead"] == 1
        counter.call("window.call_next", {"window": "1"}, timeout=10)  # calls `first`: one fewer ahead
        kind, data = next(e for e in events if e[0] == "ticket")
        assert json.loads(data)["ahead"] == 0 and json.loads(data)["status"] == "waiting"
        counter.call("window.finish", {"window": "1"}, timeout=10)
        counter.call("window.call_next", {"window": "1"}, timeout=10)  # now mine
        called = next(json.loads(d) for k, d in events if k == "ticket" and json.loads(d)["status"] == "called")
        assert called["window"] == "1" and called["window_name"] == "1号窗口" and called["called_at"]
    assert first.number < mine.number


def test_the_holder_leaves_the_queue_and_is_refused_once_called(hall: WebHall) -> None:
    leaving, called = hall.issue("A"), hall.issue("K")
    got = httpx.post(hall.web + ticket_path(leaving.ticket_id) + "/cancel", timeout=15)
    assert got.status_code == 200 and got.json()["status"] == "cancelled"
    assert hall.get(ticket_path(leaving.ticket_id)).json()["status"] == "cancelled"
    counter = hall.counter("1", "s001")
    counter.call("window.call_next", {"window": "1"}, timeout=10)
    refused = httpx.post(hall.web + ticket_path(called.ticket_id) + "/cancel", timeout=15)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "ticket_not_waiting"
    assert hall.get(ticket_path(called.ticket_id)).json()["status"] == "called"
    assert httpx.post(hall.web + ticket_path("nope") + "/cancel", timeout=15).status_code == 404


def test_the_ticket_page_first_load_is_under_60_kb_over_the_wire(hall: WebHall) -> None:
    t = hall.issue("A")
    total = 0
    with httpx.Client(base_url=hall.web, headers={"Accept-Encoding": "gzip"}, timeout=15) as client:
        page = client.get(f"/t/{t.ticket_id}")
        assert page.status_code == 200 and page.headers.get("content-encoding") == "gzip"
        assets = [a for a in ("/static/web.css", "/static/ticket.js", "/static/favicon.svg") if a in page.text]
        assert len(assets) == 3, "the page no longer loads what this test weighs"
        total += page.num_bytes_downloaded
        for path in assets:
            got = client.get(path)
            assert got.status_code == 200
            total += got.num_bytes_downloaded
    print(f"ticket page first load: {total} bytes over the wire (gzip)")
    assert total <= 60 * 1024  # SPEC 14


def test_garbage_in_paths_queries_and_bodies_is_a_4xx_never_a_5xx(hall: WebHall) -> None:
    t = hall.issue("A")
    tid = t.ticket_id
    requests = [
        ("GET", f"/t/{tid}?lang=%00%ff&leave=%%%"), ("GET", f"/t/{tid}?lang=" + "x" * 5000),
        ("GET", "/t/%E4%BD%A0%E5%A5%BD"), ("GET", "/t/" + "a" * 3000), ("GET", "/api/v1/tickets/%2e%2e%2fhall.toml"),
        ("POST", f"/api/v1/tickets/{tid}/cancel?x=1"), ("PUT", f"/api/v1/tickets/{tid}"), ("DELETE", f"/t/{tid}"),
        ("POST", "/t/nope/cancel"), ("POST", "/q"), ("GET", "/api/v1/tickets/" + tid.upper()),
        ("GET", "/static/nothing.js"), ("GET", "/static/%00"),
    ]
    for method, path in requests:
        got = httpx.request(method, hall.web + path, timeout=15, content=b"\xff\x00{garbage", follow_redirects=False)
        assert got.status_code < 500, (method, path, got.status_code, got.text[:300])
    # Only the one cancel above changed anything: the ticket left the queue, nothing else moved.
    assert hall.get(ticket_path(tid)).json()["status"] == "cancelled"


def test_with_the_broker_down_pages_say_so_and_keep_the_last_known_state(hall: WebHall) -> None:
    t = hall.issue("A")
    assert hall.get(ticket_path(t.ticket_id)).json()["status"] == "waiting"  # now known to hallweb
    hall.broker.stop()
    wait_until(lambda: hall.get("/healthz").json()["bus"] == "down", 30, "hallweb noticing the broker is gone")
    known = hall.get(ticket_path(t.ticket_id))
    assert known.status_code == 200 and known.json()["number"] == t.number  # the last known state
    page = hall.get(f"/t/{t.ticket_id}")
    assert page.status_code == 200 and t.number in page.text
    assert '<p id="conn" class="conn down">暂时连不上大厅服务器' in page.text  # the line, not the script's words
    never_seen = hall.get(ticket_path(t.ticket_id[:-4] + "0000"))
    assert never_seen.status_code == 503 and never_seen.json()["error"]["code"] == "bus_down"
    assert "暂时连不上大厅服务器" in hall.get("/q").text
    hall.broker.start()
    wait_until(lambda: hall.get("/healthz").json()["bus"] == "up", 60, "hallweb back on the bus")
    wait_until(lambda: '<p id="conn" class="conn">' in hall.get(f"/t/{t.ticket_id}").text, 60, "the page back up")


def test_a_recall_and_a_no_show_are_said_honestly(hall: WebHall) -> None:
    t = hall.issue("A")
    counter = hall.counter("1", "s001")
    counter.call("window.call_next", {"window": "1"}, timeout=10)
    counter.call("window.recall", {"window": "1"}, timeout=10)
    recalled = hall.get(ticket_path(t.ticket_id)).json()
    assert (recalled["status"], recalled["attempt"], recalled["window"]) == ("called", 2, "1")
    page = hall.get(f"/t/{t.ticket_id}").text
    assert "第 2 次叫号，请尽快前往" in page and "1号窗口" in page
    counter.call("window.no_show", {"window": "1"}, timeout=10)
    missed = hall.get(ticket_path(t.ticket_id)).json()
    assert missed["status"] == "no_show" and missed["window"] is None
    page = hall.get(f"/t/{t.ticket_id}?lang=en").text
    assert "Missed: you were not there when called" in page.split('id="words"')[0]  # the page's own line
    assert "I&#39;m leaving the queue" not in page and "leave=1" not in page


def test_a_finished_handling_is_rated_once_from_the_phone(hall: WebHall) -> None:
    waiting, served = hall.issue("K"), hall.issue("A")
    counter = hall.counter("2", "s002")  # window 2 serves A only
    counter.call("window.call_next", {"window": "2"}, timeout=10)
    counter.call("window.finish", {"window": "2"}, timeout=10)
    rate = hall.web + "/api/v1/ratings"
    bad = httpx.post(rate, json={"ticket_id": served.ticket_id, "level": 1, "reasons": []}, timeout=15)
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "reasons_required"
    ok = httpx.post(rate, json={"ticket_id": served.ticket_id, "level": 2, "reasons": ["attitude"], "rating_id": "r-1"},
                    timeout=15)
    assert ok.status_code == 200 and ok.json() == {"accepted": True, "rating_id": "r-1"}
    again = httpx.post(rate, json={"ticket_id": served.ticket_id, "level": 5, "rating_id": "r-2"}, timeout=15)
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_rated"  # one rating per handling
    early = httpx.post(rate, json={"ticket_id": waiting.ticket_id, "level": 5}, timeout=15)
    assert early.status_code == 409 and early.json()["error"]["code"] == "ticket_not_rateable"
    for junk in (b"{", b'{"ticket_id": 5, "level": "x"}', b'{"level": 5}', b"[]"):
        got = httpx.post(rate, content=junk, headers={"content-type": "application/json"}, timeout=15)
        assert got.status_code in (400, 404), (junk, got.status_code, got.text[:200])
    assert httpx.post(rate, json={"ticket_id": "nope", "level": 5}, timeout=15).status_code == 404


def test_the_page_knows_the_tablet_rated_first(hall: WebHall) -> None:
    mine = hall.issue("A")
    counter = hall.counter("1", "s001")
    counter.call("window.call_next", {"window": "1"}, timeout=10)
    counter.call("window.finish", {"window": "1"}, timeout=10)
    assert hall.get(ticket_path(mine.ticket_id)).json()["rated"] is False
    page = hall.get(f"/t/{mine.ticket_id}").text
    assert 'id="rate"' in page and 'id="rated"' not in page  # (the script's hidden "rated elsewhere" line aside)
    tablet = hall.rpc("tablet-1", "tablet")
    tablet.call("rating.submit", {"rating_id": str(uuid.uuid4()), "window": "1", "level": 4}, timeout=10)
    assert hall.get(ticket_path(mine.ticket_id)).json()["rated"] is True
    page = hall.get(f"/t/{mine.ticket_id}").text
    assert '<section class="card rated" id="rated"><p class="big">已评价，谢谢' in page
    assert 'id="rate"' not in page  # no form the controller would refuse
    english = hall.get(f"/t/{mine.ticket_id}?lang=en").text
    assert "Already rated, thank you" in english


def test_with_the_controller_away_the_stream_says_so_keeps_the_state_and_recovers(hall: WebHall) -> None:
    mine = hall.issue("A")
    with httpx.stream("GET", hall.web + ticket_path(mine.ticket_id) + "/events", timeout=60) as response:
        events = (json.loads(d) for k, d in sse_events(response) if k == "ticket")
        first = next(events)
        assert first["away"] is False and first["status"] == "waiting"
        hall.stop_controller()  # a clean stop: its presence says `offline`
        away = next(events)
        assert away["away"] is True and (away["number"], away["status"]) == (mine.number, "waiting")
        assert hall.controller_away()
        known = hall.get(ticket_path(mine.ticket_id))
        assert known.status_code == 200 and known.json()["away"] is True  # at once, not after a timeout
        page = hall.get(f"/t/{mine.ticket_id}").text
        assert '<p id="conn" class="conn down">暂时连不上大厅服务器，显示的是最后已知的状态' in page
        assert "暂时连不上大厅服务器" in hall.get("/q").text
        proc = hall.start_controller_process()  # the real controller process, on the same data
        back = next(events)
        assert back["away"] is False and back["status"] == "waiting"
        hall.counter("1", "s001").call("window.call_next", {"window": "1"}, timeout=10)
        assert next(e for e in events if e["status"] == "called")["window"] == "1"
        proc.kill()  # a death: its last will says `lost`
        proc.wait(10)
        gone = next(events)
        assert gone["away"] is True and gone["status"] == "called"
        hall.start_controller_process()
        assert next(events)["away"] is False
    assert '<p id="conn" class="conn">' in hall.get(f"/t/{mine.ticket_id}").text
