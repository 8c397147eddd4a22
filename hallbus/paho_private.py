"""The one place the hall bus relies on paho-mqtt beyond its public API: read hooks, a read-ahead, faster properties.

Needed by: `RpcServer` (group commit). The requests one pass of the network thread
reads are handled as one batch, so the controller commits them with one fsync and
answers before it reads again: `bench/ticket_throughput.py` (bar >= 1,000 durable
issues/s). paho has no public "after a read" event, so `HookedClient` overrides its
(public) `loop_read` and counts on paho's (private) network loop calling `loop_read`
whenever the socket is readable, as `Client._loop` does in the version tested below.

Needed by: `RpcServer` under a flood (bench/reliability.py --phase hostile). paho decodes
the MQTT 5 properties of every message it receives with `Properties.unpack`, which
looks each property's name up by scanning and re-spacing all 27 names several times:
nearly half of what the controller spends on a request it sheds. `fast_unpack`
replaces it (for every paho client in the process) with the same result: the
properties every request carries (expiry, response topic, correlation data, content
type) are set directly; any other goes through paho's own checks as before.

And a read-ahead: paho reads a packet's first byte, each byte of its length, then the
rest, each with a system call of its own. `HookedClient._sock_recv` (paho's private
socket read) serves them from one read of up to 64 KiB, and `loop_read` handles what
was read ahead before it returns (the network loop's select() cannot see it).

And closing: paho's `loop_start` (and a first `loop`) opens a pair of loopback sockets to wake
its network loop, and nothing public closes them: `loop_stop` and `disconnect` leave them open
until the client is garbage, and a client sits in a cycle of its callbacks, so until a full
collection (a test run held hundreds). `close_sockets` stops the loop and closes them with
paho's private `_reset_sockets`; `BusClient.stop` and the tests' hand-driven clients use it.

Everything else the bus client does goes through paho's public API (`on_message`,
`publish`, `Properties`, ...). The self-check below runs at import: with any other
paho version it stops with a sentence saying what is needed, instead of failing
somewhere later in a way nobody connects with paho.
"""

from __future__ import annotations

import logging
import select
from collections.abc import Callable
from typing import Any

import paho.mqtt
import paho.mqtt.client as mqtt
from paho.mqtt.enums import MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import (  # type: ignore[attr-defined]
    MalformedPacket,
    MQTTException,
    Properties,
    VariableByteIntegers,
    readBytes,
    readInt16,
    readInt32,
)

log = logging.getLogger(__name__)

TESTED = "2.2"  # paho-mqtt 2.2.x; pyproject.toml pins the same range
MAX_READ_PASSES = 256  # read passes gathered before the read hooks run, under a pipeline of requests
READ_CHUNK = 64 * 1024  # bytes read from the socket at once (paho would read a packet in 3-4 calls)

ReadHook = Callable[[], None]


def _self_check() -> None:
    version = paho.mqtt.__version__
    if version.split(".")[:2] != TESTED.split("."):
        raise ImportError(
            f"paho-mqtt 版本不符：需要 {TESTED}.x，当前为 {version}，请运行 ./hall setup 重新安装。 "
            f"(hallbus needs paho-mqtt {TESTED}.x (tested with 2.2.0), found {version}: "
            f"hallbus/paho_private.py hooks into paho's network loop. Run ./hall setup "
            f"(pyproject.toml pins paho-mqtt>={TESTED},<2.3).)"
        )
    if not callable(getattr(mqtt.Client, "_reset_sockets", None)):
        raise ImportError(
            f"paho-mqtt {version} 与大厅总线不兼容，请运行 ./hall setup 安装经过测试的版本。 "
            f"(paho-mqtt {version}: Client._reset_sockets is gone, so a stopped bus could not close "
            "its sockets (hallbus/paho_private.py, close_sockets).)"
        )
    loop = getattr(mqtt.Client, "_loop", None)
    calls_loop_read = "loop_read" in getattr(getattr(loop, "__code__", None), "co_names", ())
    if not calls_loop_read:
        raise ImportError(
            f"paho-mqtt {version} 与大厅总线不兼容，请运行 ./hall setup 安装经过测试的版本。 "
            f"(paho-mqtt {version}: Client._loop no longer calls loop_read, so the read hooks of "
            "hallbus/paho_private.py would never run (RPC batches would never be answered).)"
        )


_self_check()


def _read_utf(buffer: bytes, maxlen: int) -> tuple[str, int]:
    """paho's `readUTF`, its character checks done by the codec (which refuses D800-DFFF itself) and `in`."""
    if maxlen < 2:
        raise MalformedPacket("Not enough data to read string length")
    length: int = readInt16(buffer)  # type: ignore[no-untyped-call]
    if length > maxlen - 2:
        raise MalformedPacket("Length delimited string too long")
    text = buffer[2:2 + length].decode("utf-8")
    if "\x00" in text:
        raise MalformedPacket("[MQTT-1.5.4-2] Null found in UTF-8 data")
    if "\ufeff" in text:
        raise MalformedPacket("[MQTT-1.5.4-3] U+FEFF in UTF-8 data")
    return text, length + 2


_TEMPLATE: Any = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
_NAMES: dict[str, int] = _TEMPLATE.names
_ALL_NAMES = tuple(name.replace(" ", "") for name in _NAMES)
# The single-valued properties without range checks that requests carry, and how each is read:
# Message Expiry Interval, Content Type, Response Topic, Correlation Data.
_PLAIN: dict[int, tuple[str, Callable[[bytes, int], tuple[Any, int]]]] = {
    2: ("MessageExpiryInterval", lambda buf, _left: (readInt32(buf), 4)),  # type: ignore[no-untyped-call]
    3: ("ContentType", _read_utf),
    8: ("ResponseTopic", _read_utf),
    9: ("CorrelationData", readBytes),
}
_paho_init = Properties.__init__  # paho's own (tests compare)
_paho_unpack = Properties.unpack


def fast_init(self: Properties, packetType: int) -> None:  # noqa: N803 (paho's name)
    """`Properties.__init__` of paho, its constant tables shared instead of built anew for each message."""
    attrs = self.__dict__
    attrs["packetType"] = packetType
    attrs["types"] = _TEMPLATE.types
    attrs["names"] = _TEMPLATE.names
    attrs["properties"] = _TEMPLATE.properties


def fast_unpack(self: Properties, buffer: bytes) -> tuple[Properties, int]:
    """`Properties.unpack` of paho, without its name scans; the same attributes and errors."""
    props: Any = self  # paho's Properties is untyped
    vbi: Any = VariableByteIntegers
    attrs = props.__dict__
    if len(attrs) > 4:  # paho's clear(), for an object that holds properties already
        for name in _ALL_NAMES:
            attrs.pop(name, None)
    propslen, vbi_len = vbi.decode(buffer)
    buffer = buffer[vbi_len:]
    left = propslen
    while left > 0:
        identifier, id_len = vbi.decode(buffer)
        buffer = buffer[id_len:]
        left -= id_len
        attr_type, packets = props.properties[identifier]
        plain_read = _PLAIN.get(identifier)
        if plain_read is None:  # any other property: paho's own reading and rules (repetition, value ranges)
            value, value_len = props.readProperty(buffer, attr_type, left)
            buffer = buffer[value_len:]
            left -= value_len
            spaced = props.getNameFromIdent(identifier)
            if not props.allowsMultiple(spaced.replace(" ", "")) and hasattr(props, spaced.replace(" ", "")):
                raise MQTTException(f"Property '{spaced}' must not exist more than once")
            setattr(props, spaced, value)
            continue
        plain, read = plain_read
        value, value_len = read(buffer, left)
        buffer = buffer[value_len:]
        left -= value_len
        if plain in attrs:
            raise MQTTException(f"Property '{plain}' must not exist more than once")
        if props.packetType not in packets:
            raise MQTTException(f"Property {plain} does not apply to packet type {PacketTypes.Names[props.packetType]}")
        attrs[plain] = value
    return self, propslen + vbi_len


Properties.__init__ = fast_init  # type: ignore[method-assign]
Properties.unpack = fast_unpack  # type: ignore[method-assign]


def _readable(sock: Any) -> bool:
    """Whether more bytes wait on the socket right now (TLS buffers included)."""
    pending = getattr(sock, "pending", None)
    if pending is not None and pending() > 0:
        return True
    try:
        return bool(select.select([sock], [], [], 0)[0])
    except (OSError, ValueError, TypeError):  # closed under us: the loop notices on its own
        return False


def close_sockets(client: mqtt.Client) -> None:
    """Stop `client`'s network thread, if one runs, and close its sockets, the wake-up pair included.

    A later `loop_start` (or `loop`) opens new ones.
    """
    client.loop_stop()
    client._reset_sockets()


class HookedClient(mqtt.Client):
    """paho's client, plus read hooks on the network thread.

    After paho has read what the socket holds (up to MAX_READ_PASSES passes while more
    keeps arriving), the hooks run, outside any paho callback, and whatever they
    published is written at once.
    """

    read_hooks: tuple[ReadHook, ...] = ()
    _rbuf: bytes = b""  # bytes read from _rbuf_sock that paho has not asked for yet, from _rpos on
    _rpos = 0
    _rbuf_sock: Any = None

    def _sock_recv(self, bufsize: int) -> bytes:
        """paho's `_sock_recv`, served from one read of up to READ_CHUNK bytes.

        paho asks for a packet's first byte, then each byte of its length, then the rest:
        four system calls a message. Read at once, a read pass costs one.
        """
        sock = self._sock
        buf, pos = self._rbuf, self._rpos
        if pos < len(buf) and sock is self._rbuf_sock:
            out = buf[pos:pos + bufsize]
            self._rpos = pos + len(out)
            return out
        data: bytes = super()._sock_recv(max(bufsize, READ_CHUNK))
        if len(data) <= bufsize:
            self._rbuf, self._rpos = b"", 0
            return data
        self._rbuf, self._rpos, self._rbuf_sock = data, bufsize, sock
        return data[:bufsize]

    def _buffered(self) -> bool:
        return self._rpos < len(self._rbuf) and self._sock is self._rbuf_sock

    def loop_read(self, max_packets: int = 1) -> MQTTErrorCode:
        """paho's `loop_read`, then more passes while bytes keep coming, then the read hooks."""
        rc = super().loop_read(max_packets)
        hooks = self.read_hooks
        passes = 1
        # What was read ahead is always handled now: the socket's select() cannot see it.
        while rc == MQTTErrorCode.MQTT_ERR_SUCCESS and (self._buffered() or (hooks and passes < MAX_READ_PASSES)):
            if not self._buffered():
                sock = self.socket()
                if sock is None or not _readable(sock):
                    break
            rc = super().loop_read(max_packets)
            passes += 1
        if not hooks:
            return rc
        for hook in hooks:
            try:
                hook()
            except Exception:  # a bad hook must never stop the network loop
                log.exception("a read hook failed")
        if self.socket() is not None and self.want_write():
            wrc = self.loop_write()
            if rc == MQTTErrorCode.MQTT_ERR_SUCCESS:
                rc = wrc
        return rc
