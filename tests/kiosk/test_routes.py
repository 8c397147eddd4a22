"""A role's bus routes: exact topics and wildcards reach their handler decoded; malformed payloads never do."""

from __future__ import annotations

from hallbus import schemas
from kiosk.common.routes import Routes, filter_matches
from tests.kiosk.statepayloads import call, wstate


def test_messages_reach_the_handler_of_their_topic_decoded_and_bad_ones_are_dropped() -> None:
    calls: list[schemas.Call] = []
    states: list[schemas.WindowState] = []
    routes = (
        Routes()
        .add("h/calls", schemas.Call, calls.append, "call")
        .add("h/window/+/state", schemas.WindowState, states.append, "window state")
    )
    assert routes.filters == ["h/calls", "h/window/+/state"]
    routes.deliver("h/calls", schemas.encode(call("A001", "1")))
    routes.deliver("h/calls", b"{not json")  # malformed: logged, dropped
    routes.deliver("h/calls", b"")  # a cleared retained message
    routes.deliver("h/window/3/state", schemas.encode(wstate("3", "A002")))
    routes.deliver("h/window/3/other", schemas.encode(wstate("3", "A003")))  # no route
    routes.deliver("h/stats", schemas.encode(call("A004", "1")))  # no route
    assert [c.ticket for c in calls] == ["A001"]
    assert [(s.window, s.ticket.number if s.ticket else None) for s in states] == [("3", "A002")]


def test_topic_filters_match_as_mqtt_does() -> None:
    assert filter_matches("a/+/s", "a/1/s") and not filter_matches("a/+/s", "a/1/x")
    assert not filter_matches("a/+/s", "a/1/s/t") and not filter_matches("a/+", "a")
    assert filter_matches("a/#", "a/b/c") and filter_matches("a/#", "a") and filter_matches("a/b", "a/b")
