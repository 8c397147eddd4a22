"""MQTT 5 PUBLISH properties, both ways, without paho's generic (slow) Properties code.

paho builds a fresh `Properties` object for every PUBLISH it receives (two large dicts
per object) and parses its properties through name lookups and validating setattr:
about 30 us for the three properties of an RPC request, the largest single cost of the
request path after the store's fsync. `decode_publish` here parses the properties the
hall bus uses straight from the bytes and hands everything else (any other property,
non-ASCII strings, anything malformed) to paho's own decoder, so its answers and its
errors stay paho's. It is used only on the network threads of our own clients
(`enable_on_this_thread`); other paho clients in the process are left as they are.
`PublishProperties` is the sending side: properties packed once, straight to bytes.
"""

from __future__ import annotations

import struct
import threading
from typing import Any

from paho.mqtt import _packet as paho_packet
from paho.mqtt.enums import MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

_paho_decode_publish = paho_packet.decode_publish
_scope = threading.local()
_TEMPLATE = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]

# Property id -> (attribute, kind); kinds: b byte, i4 four-byte int, i2 two-byte int,
# s UTF-8 string, d binary data, v variable byte integer (a list), p string pair (a list).
_KNOWN: dict[int, tuple[str, str]] = {
    1: ("PayloadFormatIndicator", "b"),
    2: ("MessageExpiryInterval", "i4"),
    3: ("ContentType", "s"),
    8: ("ResponseTopic", "s"),
    9: ("CorrelationData", "d"),
    11: ("SubscriptionIdentifier", "v"),
    35: ("TopicAlias", "i2"),
    38: ("UserProperty", "p"),
}


class _Unusual(Exception):
    """Not for the fast path: paho's own decoder takes the packet."""


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    value = 0
    for shift in (0, 7, 14, 21):
        if pos >= len(buf):
            raise _Unusual
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
    raise _Unusual


def _read_str(buf: bytes, pos: int, end: int) -> tuple[str, int]:
    if pos + 2 > end:
        raise _Unusual
    n = (buf[pos] << 8) | buf[pos + 1]
    pos += 2
    if pos + n > end:
        raise _Unusual
    raw = buf[pos:pos + n]
    # ASCII without NUL is valid MQTT UTF-8 as it is; anything else goes to paho's checks.
    if not raw.isascii() or b"\x00" in raw:
        raise _Unusual
    return raw.decode("ascii"), pos + n


class ReceivedProperties(Properties):
    """The properties of a received PUBLISH: paho's class, filled without its per-object cost.

    It reads like paho's (attributes `ResponseTopic`, `CorrelationData`, ...; `str()`,
    `json()`, `isEmpty()` work as there); `names` and `properties` are shared.
    """

    names = _TEMPLATE.names
    properties = _TEMPLATE.properties
    types = _TEMPLATE.types

    def __init__(self) -> None:  # noqa: D107 - not calling Properties.__init__ on purpose
        object.__setattr__(self, "packetType", PacketTypes.PUBLISH)


def _parse(buf: bytes, pos: int) -> tuple[ReceivedProperties, int]:
    """The properties starting at `pos`; returns them and where the payload starts."""
    length, pos = _read_varint(buf, pos)
    end = pos + length
    if end > len(buf):
        raise _Unusual
    props = ReceivedProperties()
    seen: set[int] = set()
    put = object.__setattr__
    while pos < end:
        ident = buf[pos]
        pos += 1
        known = _KNOWN.get(ident)
        if known is None:
            raise _Unusual
        name, kind = known
        if kind in ("b", "i2", "i4", "s", "d"):
            if ident in seen:
                raise _Unusual  # paho refuses a repeated single property
            seen.add(ident)
        value: Any
        if kind == "b":
            if pos >= end or buf[pos] > 1:
                raise _Unusual
            value, pos = buf[pos], pos + 1
        elif kind == "i4":
            if pos + 4 > end:
                raise _Unusual
            value, pos = struct.unpack_from("!L", buf, pos)[0], pos + 4
        elif kind == "i2":
            if pos + 2 > end:
                raise _Unusual
            value, pos = struct.unpack_from("!H", buf, pos)[0], pos + 2
            if value < 1:
                raise _Unusual
        elif kind == "s":
            value, pos = _read_str(buf, pos, end)
        elif kind == "d":
            if pos + 2 > end:
                raise _Unusual
            n = (buf[pos] << 8) | buf[pos + 1]
            if pos + 2 + n > end:
                raise _Unusual
            value, pos = bytes(buf[pos + 2:pos + 2 + n]), pos + 2 + n
        elif kind == "v":
            sub, pos = _read_varint(buf, pos)
            if sub < 1 or pos > end:
                raise _Unusual
            value = [*getattr(props, name, []), sub]
        else:  # "p"
            key, pos = _read_str(buf, pos, end)
            val, pos = _read_str(buf, pos, end)
            value = [*getattr(props, name, []), (key, val)]
        put(props, name, value)
    if pos != end:
        raise _Unusual
    return props, end


def decode_publish(header: int, packet: bytes | bytearray, protocol: MQTTProtocolVersion) -> Any:
    """paho's `_packet.decode_publish`, with the fast property parser on our network threads."""
    if protocol != MQTTProtocolVersion.MQTTv5 or not getattr(_scope, "on", False):
        return _paho_decode_publish(header, packet, protocol)
    buf = bytes(packet)
    try:
        if len(buf) < 2:
            raise _Unusual
        tlen = (buf[0] << 8) | buf[1]
        pos = 2 + tlen
        qos = (header & 0x06) >> 1
        mid = 0
        if qos > 0:
            if pos + 2 > len(buf):
                raise _Unusual
            mid = (buf[pos] << 8) | buf[pos + 1]
            pos += 2
        props, pos = _parse(buf, pos)
    except _Unusual:
        return _paho_decode_publish(header, packet, protocol)
    return paho_packet.PublishPacket(
        dup=bool(header & 0x08),
        qos=qos,
        retain=bool(header & 0x01),
        topic=buf[2:2 + tlen],
        mid=mid,
        properties=props,
        payload=buf[pos:],
    )


def enable_on_this_thread() -> None:
    """Use the fast decoder for PUBLISH packets read on the calling thread."""
    _scope.on = True


paho_packet.decode_publish = decode_publish


class PublishProperties(Properties):
    """MQTT 5 PUBLISH properties encoded once, straight to the wire format.

    paho only ever calls `.pack()` on the properties of an outgoing PUBLISH; its generic
    Properties class spends ~30 us validating and packing. Only the three properties the
    bus sends are supported: Message Expiry Interval (0x02), Response Topic (0x08),
    Correlation Data (0x09).
    """

    ResponseTopic: str | None
    CorrelationData: bytes | None
    MessageExpiryInterval: int | None
    _packed: bytes

    def __init__(  # noqa: D107 - deliberately not calling Properties.__init__ (that is the slow part)
        self,
        *,
        response_topic: str | None = None,
        correlation: bytes | None = None,
        expiry_s: int | None = None,
    ) -> None:
        body = bytearray()
        if expiry_s is not None:
            body += b"\x02" + int(expiry_s).to_bytes(4, "big")
        if response_topic is not None:
            raw = response_topic.encode("utf-8")
            body += b"\x08" + len(raw).to_bytes(2, "big") + raw
        if correlation is not None:
            body += b"\x09" + len(correlation).to_bytes(2, "big") + correlation
        object.__setattr__(self, "packetType", PacketTypes.PUBLISH)
        object.__setattr__(self, "_packed", _varint(len(body)) + bytes(body))
        object.__setattr__(self, "ResponseTopic", response_topic)
        object.__setattr__(self, "CorrelationData", correlation)
        object.__setattr__(self, "MessageExpiryInterval", expiry_s)

    def __repr__(self) -> str:
        return (f"PublishProperties(response_topic={self.ResponseTopic!r}, "
                f"correlation={self.CorrelationData!r}, expiry_s={self.MessageExpiryInterval!r})")

    __str__ = __repr__

    def pack(self) -> bytes:
        """The encoded properties, length prefix included."""
        return self._packed
