"""The bus's PUBLISH properties and topic filter match, against paho's own and over a real broker."""

from __future__ import annotations

import threading

import paho.mqtt.client as mqtt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from hallbus.client import filter_matches
from hallbus.wire import PublishProperties


@settings(max_examples=300, deadline=None)
@given(
    response_topic=st.one_of(st.none(), st.text(min_size=1, max_size=40).filter(lambda s: "\x00" not in s)),
    correlation=st.one_of(st.none(), st.binary(max_size=40)),
    expiry_s=st.one_of(st.none(), st.integers(0, 2**32 - 1)),
)
def test_publish_properties_unpack_to_what_was_given(
    response_topic: str | None, correlation: bytes | None, expiry_s: int | None
) -> None:
    packed = PublishProperties(response_topic=response_topic, correlation=correlation, expiry_s=expiry_s).pack()
    parsed = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
    parsed.unpack(packed)
    assert getattr(parsed, "ResponseTopic", None) == response_topic
    assert getattr(parsed, "CorrelationData", None) == correlation
    assert getattr(parsed, "MessageExpiryInterval", None) == expiry_s


def test_the_properties_of_a_request_reach_the_handler_over_the_broker(make_bus) -> None:
    sender = make_bus("terminal-1")
    receiver = make_bus("controller", role="controller")
    got: list[Properties] = []
    arrived = threading.Event()
    topic = receiver.topics.rpc("ticket.issue")
    assert receiver.subscribe(topic, lambda _t, _p, props: (got.append(props), arrived.set())).wait(5)
    reply_to = receiver.topics.reply("terminal-1", "abc", 0)
    sender.publish(topic, b"{}", properties=PublishProperties(response_topic=reply_to, correlation=b"rid-1", expiry_s=5))
    assert arrived.wait(5)
    props = got[0]
    assert props.ResponseTopic == reply_to and props.CorrelationData == b"rid-1"
    assert 0 < props.MessageExpiryInterval <= 5  # the broker counts down what is left


level = st.sampled_from(["a", "b", "", "$x", "rpc", "+", "#"])


@settings(max_examples=5000, deadline=None)
@given(
    sub=st.lists(level, min_size=1, max_size=5),
    topic=st.lists(level.filter(lambda x: x not in ("+", "#")), min_size=1, max_size=5),
)
@pytest.mark.slow
def test_filter_match_agrees_with_paho(sub: list[str], topic: list[str]) -> None:
    if "#" in sub[:-1]:
        return  # not a valid filter
    sub_s, topic_s = "/".join(sub), "/".join(topic)
    assert filter_matches(tuple(sub), topic_s.split("/")) == mqtt.topic_matches_sub(sub_s, topic_s), (sub_s, topic_s)
