"""Per-source admission (`hallbus.admission`): budgets, busy replies, sources, round-robin batches.

And the faster MQTT 5 property decoder that makes shedding cheap (`hallbus.paho_private`):
it must give what paho's own gives, errors included.
"""

from __future__ import annotations

import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from hallbus import paho_private
from hallbus.admission import (
    BUSY_BURST,
    CLAIMED,
    MAX_CLAIMED,
    UNSIGNED,
    Admission,
    round_robin,
    source_of,
)


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_a_node_gets_its_burst_then_its_rate_and_other_nodes_are_untouched(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    adm = Admission(20, 100, clock=clock)
    assert [adm.admit("terminal-1") for _ in range(100)] == ["go"] * 100
    over = [adm.admit("terminal-1") for _ in range(1000)]
    # over budget: a few `busy` answers, the rest dropped without one
    assert over[:BUSY_BURST] == ["busy"] * BUSY_BURST and set(over[BUSY_BURST:]) == {"drop"}
    assert adm.shed == 1000
    assert adm.admit("counter-3") == "go"  # another node's budget is its own
    clock.t += 0.5  # 10 requests' worth, and half a busy reply
    assert [adm.admit("terminal-1") for _ in range(11)] == ["go"] * 10 + ["drop"]
    clock.t += 1.0
    verdicts = [adm.admit("terminal-1") for _ in range(30)]
    assert verdicts.count("go") == 20 and verdicts.count("busy") == 1
    # one log line per source per LOG_EVERY_S, with the count
    lines = [r.getMessage() for r in caplog.records if "shedding requests from terminal-1" in r.getMessage()]
    assert len(lines) == 1 and "1 over its budget" in lines[0]


def test_the_web_service_asks_for_many_phones_and_gets_a_larger_budget() -> None:
    clock = Clock()
    adm = Admission(20, 100, scale={"web": 10}, clock=clock)
    assert [adm.admit("web") for _ in range(1000)] == ["go"] * 1000
    assert adm.admit("web") == "busy"
    assert [adm.admit("terminal-1") for _ in range(101)][-1] == "busy"  # a node's stays a node's
    clock.t += 1.0
    assert [adm.admit("web") for _ in range(200)] == ["go"] * 200


def test_no_limit_takes_everything() -> None:
    adm = Admission(0, 1)
    assert {adm.admit("terminal-1") for _ in range(10_000)} == {"go"} and adm.shed == 0


def test_sources_signed_claimed_and_unsigned() -> None:
    known = {"counter-3", "terminal-1"}
    assert source_of("counter-3", "terminal-1", known) == "counter-3"  # the signature wins over any claim
    # a claim is only a claim: never the signed node's budget
    assert source_of(None, "counter-3", known) == CLAIMED + "counter-3" != source_of("counter-3", None, known)
    assert source_of(None, "made-up-7", known) == UNSIGNED  # an invented name shares one bucket
    assert source_of(None, None, known) == UNSIGNED
    adm = Admission(20, 100)  # no node list: claimed names are kept apart up to MAX_CLAIMED
    names = {adm.source(None, f"n{i}") for i in range(MAX_CLAIMED + 50)}
    assert len(names) == MAX_CLAIMED + 1 and UNSIGNED in names
    assert adm.source(None, "n0") == CLAIMED + "n0"  # one it knows stays its own


def test_a_claim_of_the_counters_name_does_not_spend_its_signed_budget() -> None:
    adm = Admission(20, 100, known={"counter-3"})
    spoofed = adm.source(None, "counter-3")
    for _ in range(10_000):
        adm.admit(spoofed)
    assert adm.admit(adm.source("counter-3", "counter-3")) == "go"


def test_round_robin_takes_sources_in_turn_in_their_own_order() -> None:
    batch = [("t", 1), ("t", 2), ("t", 3), ("c", 1), ("t", 4), ("p", 1), ("c", 2)]
    assert round_robin(batch, lambda r: r[0]) == [("t", 1), ("c", 1), ("p", 1), ("t", 2), ("c", 2), ("t", 3), ("t", 4)]
    assert round_robin([("t", 1), ("t", 2)], lambda r: r[0]) == [("t", 1), ("t", 2)]
    assert round_robin([], lambda r: r) == []
    assert round_robin([None, None, 0], lambda r: "x" if r is None else "y") == [None, 0, None]  # falsy items kept


def _packed(**props: object) -> bytes:
    p = Properties(PacketTypes.PUBLISH)
    for name, value in props.items():
        setattr(p, name, value)
    return bytes(p.pack())


def _paho(buffer: bytes) -> tuple[dict[str, object], int]:
    p = Properties(PacketTypes.PUBLISH)
    paho_private._paho_init(p, PacketTypes.PUBLISH)
    _props, n = paho_private._paho_unpack(p, buffer)
    return p.json(), n


@pytest.mark.parametrize("props", [
    {},
    {"ResponseTopic": "hall/v1/h/reply/counter-3/s/0", "CorrelationData": b"rid-1", "MessageExpiryInterval": 5},
    {"ContentType": "application/json", "PayloadFormatIndicator": 1, "ResponseTopic": "回复/主题"},
    {"UserProperty": [("a", "1"), ("b", "2")], "SubscriptionIdentifier": [7], "CorrelationData": b"\x00\xff"},
    {"TopicAlias": 3, "MessageExpiryInterval": 0},
])
def test_the_fast_property_decoder_gives_what_paho_gives(props: dict[str, object]) -> None:
    buffer = _packed(**props)
    fast = Properties(PacketTypes.PUBLISH)
    _p, n = fast.unpack(buffer)
    assert (fast.json(), n) == _paho(buffer)
    assert fast.unpack(buffer)[1] == n and fast.json() == _paho(buffer)[0]  # reused: cleared first


@pytest.mark.parametrize("buffer", [
    bytes([4, 8, 0, 1, 0]),  # a response topic holding a NUL
    bytes([5, 3, 0, 2]) + "\ufeff".encode()[:2],  # truncated
    bytes([6, 8, 0, 3]) + "\ufeff".encode(),  # U+FEFF
    bytes([8, 8, 0, 1, 0x61, 8, 0, 1, 0x62]),  # the response topic twice
    bytes([2, 0x13, 0]),  # Server Keep Alive: not a PUBLISH property
])
def test_the_fast_property_decoder_refuses_what_paho_refuses(buffer: bytes) -> None:
    with pytest.raises(Exception) as paho_err:
        _paho(buffer)
    with pytest.raises(Exception) as fast_err:
        Properties(PacketTypes.PUBLISH).unpack(buffer)
    assert type(fast_err.value) is type(paho_err.value)
