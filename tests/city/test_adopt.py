"""Session adoption (city/adopt.py): who adopts a stopped peer, the notices, and two adopters with different views."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

import pytest

from city.adopt import ADOPTED, OFFLINE, ONLINE, adopter_of, notice, presence_topic, read_notice
from city.localbroker import CityBroker
from city.sim import Publisher
from hallbus import schemas
from hallbus.topics import Topics
from tests.city.conftest import City, wait_for


def test_exactly_one_live_instance_adopts_each_stopped_one() -> None:
    live = {"hc-b", "hc-d", "hc-e"}
    assert adopter_of("hc-a", live) == "hc-b"
    assert adopter_of("hc-c", live) == "hc-d"
    assert adopter_of("hc-f", live) == "hc-b"  # wraps round
    assert adopter_of("hc-d", live) == "hc-e"  # a stale "online" of the dead one itself is never its adopter
    assert adopter_of("hc-a", set()) is None
    # every live instance, computing from the same notices, names the same adopter
    assert len({adopter_of("hc-c", live | {me}) for me in live}) == 1


def test_notices_read_back_and_anything_else_is_ignored() -> None:
    assert read_notice(notice(ONLINE)) == (ONLINE, None)
    assert read_notice(notice(ADOPTED, "hc-b")) == (ADOPTED, "hc-b")
    assert read_notice(notice(OFFLINE)) == (OFFLINE, None)
    for junk in (b"", b"1", b"not json", b'{"state": "dancing"}', b"[]"):
        assert read_notice(junk) is None


def test_two_adopters_with_different_views_do_not_fight(make_city: Callable[..., City], city_broker: CityBroker) -> None:
    halls = ["w-1", "w-2"]
    city = make_city(halls, broker_extra="adopt_after_s = 1.0\n")
    a, b, c = city.ingest("inst-a"), city.ingest("inst-b"), city.ingest("inst-c")
    city.instances.remove(a)
    a.stop()
    wait_for(lambda: b.adopted, 10, "inst-b (next after inst-a) adopts it")
    assert c.adopted == {}
    c._adopt("inst-a")  # as if inst-c had seen other notices: it connects under inst-a's name too
    wait_for(lambda: c.adopted and not b.adopted, 10, "the later adopter holds the session, the earlier lets go",
             lambda: (b.health(), c.health()))
    wait_for(lambda: b.peers.states.get("inst-a") == (ADOPTED, "inst-c") and not b.peers.pending(), 10,
             "inst-b sees who holds it now and makes no second attempt", lambda: (b.peers.states, b.peers.pending()))
    pub = Publisher(city_broker.url, "sim-views")
    now = dt.datetime.now(dt.UTC).astimezone().isoformat()
    pub.send([(Topics(h).alerts, schemas.encode(schemas.Alert(kind="device", level="warn", subject=f"v {n}", ts=now)),
               False) for n in range(300) for h in halls]).wait_for_publish(10)  # type: ignore[union-attr]
    wait_for(lambda: city.query("SELECT count(*)::int FROM city_alert") == [(600,)], 15, "every alert stored",
             lambda: city.query("SELECT count(*)::int FROM city_alert"))
    assert (b.adoptions, c.adoptions, b.adopted, list(c.adopted)) == (1, 1, {}, ["inst-a"])
    pub.close()


def test_a_live_instance_answers_a_stray_offline_notice_of_its_name(make_city: Callable[..., City],
                                                                     city_broker: CityBroker) -> None:
    city = make_city(["s-1"])
    b, c = city.ingest("inst-b"), city.ingest("inst-c")
    wait_for(lambda: c.peers.states.get("inst-b") == (ONLINE, None), 5, "inst-c reads inst-b's notice")
    pub = Publisher(city_broker.hallcity_url, "stray-will")  # only hallcity may write hallcity/v1/
    # what a broker may publish late: an adopter's Will of inst-b's name, after inst-b's own "online"
    pub.client.publish(presence_topic("inst-b"), notice(OFFLINE), qos=1, retain=True).wait_for_publish(5)
    wait_for(lambda: c.peers.pending() == ["inst-b"], 5, "inst-c reads it and waits the grace")
    wait_for(lambda: c.peers.states.get("inst-b") == (ONLINE, None) and not c.peers.pending(), 10,
             "inst-b says online again and inst-c's check finds it so", lambda: (c.peers.states, c.peers.pending()))
    assert (b.adoptions, c.adoptions, b.adopted, c.adopted) == (0, 0, {}, {})
    pub.close()


def test_an_expired_session_is_not_adopted_and_its_notice_is_cleared(make_city: Callable[..., City],
                                                                     caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="city.ingest")
    # the session expires (1 s) before the grace ends (3 s): an instance retired for good
    city = make_city(["e-1"], broker_extra="session_expiry_s = 1\nadopt_after_s = 3\n")
    a, b = city.ingest("inst-a"), city.ingest("inst-b")
    wait_for(lambda: b.peers.states.get("inst-a") == (ONLINE, None), 5, "inst-b reads inst-a's notice")
    city.instances.remove(a)
    a.stop()
    wait_for(lambda: b.adoptions == 1 and "inst-a" not in b.peers.states, 15,
             "inst-b tries, finds no session, and clears the notice", lambda: (b.health(), b.peers.states))
    assert b.adopted == {} and not b.peers.pending()
    assert "instance inst-a is offline and its session has expired: nothing to adopt" in caplog.text
    assert "adopted its session" not in caplog.text
