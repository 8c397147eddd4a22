"""Our fast paths against paho's own: the PUBLISH decoder (any packet) and the topic filter match."""

from __future__ import annotations

import struct
import threading
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from paho.mqtt.enums import MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from hallbus import wire

V5 = MQTTProtocolVersion.MQTTv5
NAMES = [n.replace(" ", "") for n in Properties(PacketTypes.PUBLISH).names]


def _props(p: Any) -> dict[str, Any]:
    return {n: getattr(p, n) for n in NAMES if hasattr(p, n)}


def _outcome(fn: Any, header: int, packet: bytes) -> Any:
    try:
        r = fn(header, packet, V5)
    except Exception as err:  # the same failure, whatever it is
        return ("error", type(err).__name__)
    return (r.dup, r.qos, r.retain, bytes(r.topic), r.mid, _props(r.properties), bytes(r.payload))


def _fast(header: int, packet: bytes, protocol: MQTTProtocolVersion) -> Any:
    wire.enable_on_this_thread()
    return wire.decode_publish(header, packet, protocol)


def _packet(topic: bytes, mid: int | None, props: bytes, payload: bytes) -> bytes:
    out = struct.pack("!H", len(topic)) + topic
    if mid is not None:
        out += struct.pack("!H", mid)
    return out + props + payload


def _vbi(n: int) -> bytes:
    return wire._varint(n)


def _utf(s: bytes) -> bytes:
    return struct.pack("!H", len(s)) + s


prop_bytes = st.one_of(
    st.builds(lambda v: b"\x01" + bytes([v]), st.integers(0, 2)),
    st.builds(lambda v: b"\x02" + struct.pack("!L", v), st.integers(0, 2**32 - 1)),
    st.builds(lambda s: b"\x03" + _utf(s), st.binary(max_size=20)),
    st.builds(lambda s: b"\x08" + _utf(s), st.one_of(st.binary(max_size=40), st.text(max_size=20).map(str.encode))),
    st.builds(lambda s: b"\x09" + _utf(s), st.binary(max_size=40)),
    st.builds(lambda v: b"\x0b" + _vbi(v), st.integers(0, 2**28 - 1)),
    st.builds(lambda v: b"\x23" + struct.pack("!H", v), st.integers(0, 65535)),
    st.builds(lambda k, v: b"\x26" + _utf(k) + _utf(v), st.binary(max_size=10), st.binary(max_size=10)),
    st.binary(min_size=1, max_size=6),  # anything at all: unknown ids, truncated values
)


@settings(max_examples=3000, deadline=None)
@given(
    qos=st.integers(0, 2),
    flags=st.integers(0, 15),
    topic=st.binary(max_size=30),
    mid=st.integers(0, 65535),
    props=st.lists(prop_bytes, max_size=6),
    length_skew=st.sampled_from([0, 0, 0, -1, 1, 3]),
    payload=st.binary(max_size=30),
)
def test_fast_decoder_agrees_with_paho(
    qos: int, flags: int, topic: bytes, mid: int, props: list[bytes], length_skew: int, payload: bytes
) -> None:
    body = b"".join(props)
    header = 0x30 | (flags & 0x09) | (qos << 1)
    packet = _packet(topic, mid if qos else None, _vbi(max(0, len(body) + length_skew)) + body, payload)
    assert _outcome(_fast, header, packet) == _outcome(wire._paho_decode_publish, header, packet)


@settings(max_examples=2000, deadline=None)
@given(header=st.integers(0x30, 0x3F), packet=st.binary(max_size=60))
def test_fast_decoder_agrees_with_paho_on_random_bytes(header: int, packet: bytes) -> None:
    assert _outcome(_fast, header, packet) == _outcome(wire._paho_decode_publish, header, packet)


def test_an_rpc_request_takes_the_fast_path() -> None:
    props = wire.PublishProperties(response_topic="hall/v1/h/reply/terminal-1/abc/0", correlation=b"rid-1", expiry_s=5)
    packet = _packet(b"hall/v1/h/rpc/ticket.issue", 7, props.pack(), b'{"v":1}')
    r = _fast(0x32, packet, V5)
    assert isinstance(r.properties, wire.ReceivedProperties)
    assert (r.properties.ResponseTopic, r.properties.CorrelationData, r.properties.MessageExpiryInterval) == (
        "hall/v1/h/reply/terminal-1/abc/0", b"rid-1", 5)
    assert (r.topic, r.mid, r.payload) == (b"hall/v1/h/rpc/ticket.issue", 7, b'{"v":1}')
    assert "ResponseTopic" in str(r.properties) and not r.properties.isEmpty()


def test_other_threads_keep_paho_decoder() -> None:
    props = wire.PublishProperties(correlation=b"x")
    packet = _packet(b"t", 1, props.pack(), b"")
    seen: list[Any] = []
    t = threading.Thread(target=lambda: seen.append(wire.decode_publish(0x32, packet, V5)))
    t.start()
    t.join()
    assert not isinstance(seen[0].properties, wire.ReceivedProperties)
    assert seen[0].properties.CorrelationData == b"x"


@pytest.mark.parametrize("topic", ["回复/主题", "a\u0000b"])
def test_unusual_strings_go_to_paho(topic: str) -> None:
    packet = _packet(b"t", None, wire.PublishProperties(response_topic=topic).pack(), b"")
    assert _outcome(_fast, 0x30, packet) == _outcome(wire._paho_decode_publish, 0x30, packet)


level = st.sampled_from(["a", "b", "", "$x", "rpc", "+", "#"])


@settings(max_examples=5000, deadline=None)
@given(
    sub=st.lists(level, min_size=1, max_size=5),
    topic=st.lists(level.filter(lambda x: x not in ("+", "#")), min_size=1, max_size=5),
)
def test_filter_match_agrees_with_paho(sub: list[str], topic: list[str]) -> None:
    import paho.mqtt.client as mqtt

    from hallbus.client import filter_matches

    if "#" in sub[:-1]:
        return  # not a valid filter
    sub_s, topic_s = "/".join(sub), "/".join(topic)
    assert filter_matches(tuple(sub), topic_s.split("/")) == mqtt.topic_matches_sub(sub_s, topic_s), (sub_s, topic_s)
