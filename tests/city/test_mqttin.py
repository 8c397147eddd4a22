"""The lean subscriber's packet parsing: packets cut anywhere across reads, properties it must skip."""

from __future__ import annotations

import queue
import struct

from city.localbroker import CityBroker
from city.mqttin import Login, Subscriber, _packet, _sub_ids, _utf8, _varint


def _publish(topic: str, payload: bytes, mid: int, props: bytes, retain: bool = False) -> bytes:
    body = _utf8(topic) + struct.pack(">H", mid) + _varint(len(props)) + props + payload
    return _packet(0x32 | int(retain), body)  # PUBLISH, QoS 1


def test_packets_cut_at_every_byte_come_out_whole_and_in_order() -> None:
    got: list[tuple[str, bytes, int, int, bool, tuple[int, ...]]] = []
    sub = Subscriber(Login("127.0.0.1", 1, "t"), lambda *m: got.append(m), lambda _s: None, lambda _r: None,
                     lambda _m, _c: None)
    user_prop = b"\x26" + _utf8("k") + _utf8("v")
    stream = (_publish("hall/v1/a/alerts", b'{"v":1}', 7, b"\x0b\x01")
              + _publish("hall/v1/b/queue/state", b"x" * 300, 65535, b"\x0b\x02" + user_prop + b"\x02\x00\x00\x00\x05",
                         retain=True)
              + b"\xd0\x00"  # PINGRESP
              + _publish("hall/v1/c/calls", b"", 1, b""))
    for cut in range(1, len(stream)):
        got.clear()
        buf = bytearray(stream[:cut])
        used = sub._parse(buf)
        del buf[:used]
        buf += stream[cut:]
        used = sub._parse(buf)
        assert used == len(buf)
        assert got == [("hall/v1/a/alerts", b'{"v":1}', 1, 7, False, (1,)),
                       ("hall/v1/b/queue/state", b"x" * 300, 1, 65535, True, (2,)),
                       ("hall/v1/c/calls", b"", 1, 1, False, ())], cut


def test_subscription_ids_are_found_among_other_properties() -> None:
    props = b"\x01\x01" + b"\x03" + _utf8("application/json") + b"\x0b\x81\x01" + b"\x0b\x02"
    assert _sub_ids(props) == (129, 2)


def test_a_wrong_password_is_said_in_words(city_broker: CityBroker) -> None:
    """The generated broker refuses hallcity with a wrong password; the reason (the log's, too) says what to check."""
    reasons: queue.Queue[str] = queue.Queue()
    sub = Subscriber(Login("127.0.0.1", city_broker.port, "t-wrong", "hallcity", "not-the-password", reconnect=False),
                     lambda *m: None, lambda _s: None, reasons.put, lambda _m, _c: None)
    sub.start()
    try:
        reason = reasons.get(timeout=10)
    finally:
        sub.stop()
    # Mosquitto answers a wrong password with 0x87 (not authorized), other brokers with 0x86
    assert ("0x87: not authorized" in reason or "0x86: bad user name or password" in reason) \
        and "[broker] username and password_file" in reason, reason
