"""Broker URLs, topic ids, masks and hashes."""

import socket

import pytest

from devices.ports import ephemeral_low, free_port
from hallbus.brokerurl import parse_broker_url
from hallbus.passwords import hash_password, verify_password
from hallbus.privacy import id_hash, mask_id, mask_name
from hallbus.topics import Topics, check_id


def test_broker_url_with_credentials() -> None:
    b = parse_broker_url("mqtt://tablet-3:s3cr%40t@10.1.2.3:1884")
    assert (b.host, b.port, b.username, b.password, b.tls) == ("10.1.2.3", 1884, "tablet-3", "s3cr@t", False)
    assert "s3cr" not in b.url
    assert parse_broker_url("mqtts://h").port == 8883


@pytest.mark.parametrize("bad", ["http://x:1", "mqtt://", "mqtt://h:port"])
def test_bad_broker_urls(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_broker_url(bad)


def test_broker_credentials_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HALL_MQTT_USERNAME", "counter-1")
    monkeypatch.setenv("HALL_MQTT_PASSWORD", "pw")
    b = parse_broker_url("mqtt://h:1").with_env_credentials()
    assert (b.username, b.password) == ("counter-1", "pw")


def test_ids_are_lowercase() -> None:
    assert check_id("window-12") == "window-12"
    for bad in ("Window", "a b", "a/b", "#", "+", ""):
        with pytest.raises(ValueError):
            check_id(bad)
    with pytest.raises(ValueError):
        Topics("Hall/1")


def test_topics_round_trip() -> None:
    t = Topics("demo")
    assert t.window_of(t.window_state("7")) == "7"
    assert t.method_of(t.rpc("ticket.issue")) == "ticket.issue"
    assert t.node_of(t.node_status("tablet-1")) == "tablet-1"
    assert t.window_of(t.queue_state) is None


def test_masks() -> None:
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳娜娜") == "欧***"
    assert mask_name("John Smith") == "J***"
    assert mask_id("11010519491231002x") == "110105********002X"


def test_id_hash_is_keyed_and_normalised() -> None:
    k1, k2 = b"k" * 32, b"j" * 32
    assert id_hash(k1, "11010519491231002x") == id_hash(k1, " 11010519491231002X ")
    assert id_hash(k1, "11010519491231002X") != id_hash(k2, "11010519491231002X")
    assert "11010519491231002" not in id_hash(k1, "11010519491231002X")


def test_password_hashes() -> None:
    h = hash_password("hall001")
    assert verify_password("hall001", h)
    assert not verify_password("hall002", h)
    assert not verify_password("x", "garbage")


@pytest.mark.parametrize(
    "kw",
    [
        {"response_topic": "hall/v1/x/reply/terminal-1/abc", "correlation": b"id-1", "expiry_s": 5},
        {"correlation": b"x" * 300},
        {"response_topic": "回复/主题"},
        {},
    ],
)
def test_fast_publish_properties_pack_like_paho(kw: dict) -> None:
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    from hallbus.wire import PublishProperties

    ref = Properties(PacketTypes.PUBLISH)
    if "expiry_s" in kw:
        ref.MessageExpiryInterval = kw["expiry_s"]
    if "response_topic" in kw:
        ref.ResponseTopic = kw["response_topic"]
    if "correlation" in kw:
        ref.CorrelationData = kw["correlation"]
    fast = PublishProperties(**kw)
    assert fast.pack() == ref.pack()
    parsed = Properties(PacketTypes.PUBLISH)
    parsed.unpack(fast.pack()[0:])
    assert getattr(parsed, "CorrelationData", None) == kw.get("correlation")


def test_a_free_port_is_never_one_an_outgoing_connection_could_take() -> None:
    """Test brokers listen below the ephemeral range, where no client's own port ever is."""
    ports = {free_port() for _ in range(20)}
    assert all(1024 <= p < ephemeral_low() for p in ports), ports
    assert len(ports) > 1  # random: two processes picking at once rarely meet
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", ports.pop()))  # and it is free


def test_free_ports_in_a_row_for_the_private_pcscd_are_below_the_ephemeral_range() -> None:
    """vpcd listens on P and P+1: both free, both below the range closing client sockets fill."""
    port = free_port(2, host="0.0.0.0")
    assert 1024 <= port and port + 1 < ephemeral_low()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as a, socket.socket(socket.AF_INET, socket.SOCK_STREAM) as b:
        a.bind(("0.0.0.0", port))
        b.bind(("0.0.0.0", port + 1))
