"""A lean MQTT 5 subscriber for ingest: one thread reads whole socket buffers and parses PUBLISH packets in a loop.

Why not paho: paho reads each packet's header a byte at a time and builds a message object, a
properties object and a callback dispatch for every message; at 20,000 messages a second that
was half of what an instance spent (bench/city_ingest.py, profiled with py-spy). This client does
only what ingest needs: CONNECT (session expiry, receive maximum, login, a retained Will),
SUBSCRIBE and UNSUBSCRIBE with a subscription identifier, PUBLISH in (QoS 0 and 1) and out (the
instance's presence notice, QoS 1), PUBACK out (batched, sent by whoever calls `ack`), PINGREQ,
DISCONNECT (plain, with the Will, or ending the session); TCP_NODELAY (SPEC 3), optional TLS,
reconnect with back-off (or, for an adopted session, none). QoS 2 is never asked for (ingest
subscribes with QoS 1), so none arrives.
"""

from __future__ import annotations

import contextlib
import logging
import select
import socket
import ssl
import struct
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

log = logging.getLogger(__name__)

PUBLISH, CONNACK, PUBACK, SUBACK, UNSUBACK, PINGRESP, DISCONNECT = 3, 2, 4, 9, 11, 13, 14
# The CONNACK reasons an operator meets, in words (MQTT 5, 3.2.2.2), for the log.
CONNACK_REFUSALS = {
    0x84: "the broker does not speak MQTT 5",
    0x85: "client id not accepted",
    0x86: "bad user name or password: check city.toml [broker] username and password_file",
    0x87: "not authorized (Mosquitto's answer to a wrong password too): check city.toml [broker] username and"
          " password_file",
    0x88: "server unavailable",
    0x89: "server busy",
    0x8A: "banned",
}
_PUBACK = struct.Struct(">BBH")
PINGREQ = b"\xc0\x00"
DISCONNECT_PACKET = b"\xe0\x00"
DISCONNECT_WITH_WILL = b"\xe0\x01\x04"  # reason 0x04: the broker publishes the Will (a clean stop says "offline" too)
DISCONNECT_ENDING_SESSION = b"\xe0\x07\x00\x05\x11\x00\x00\x00\x00"  # reason 0, session expiry 0: the session ends
SESSION_TAKEN_OVER = 0x8E  # DISCONNECT reason: another connection took this client id's session
READ_CHUNK = 256 * 1024
MAX_PACKET = 512 * 1024  # 4x a hall broker's own limit (hallbus.config.BROKER_MESSAGE_LIMIT, 128 KiB)

# topic, payload, qos, packet id, retain, subscription identifiers
OnMessage = Callable[[str, bytes, int, int, bool, tuple[int, ...]], None]


class MqttError(Exception):
    """The broker refused us, or the connection broke."""


class TakenOver(MqttError):
    """The broker ended the connection because another one connected with our client id (reason 0x8E)."""


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | 0x80 if n else b)
        if not n:
            return bytes(out)


def _read_varint(buf: bytes | bytearray | memoryview, i: int) -> tuple[int, int]:
    """(value, bytes used) of a variable byte integer at `i`; (-1, 0) when the buffer ends first."""
    value = 0
    for k in range(4):
        if i + k >= len(buf):
            return -1, 0
        b = buf[i + k]
        value |= (b & 0x7F) << (7 * k)
        if not b & 0x80:
            return value, k + 1
    raise MqttError("malformed remaining length")


def _utf8(s: str) -> bytes:
    b = s.encode("utf-8")
    return struct.pack(">H", len(b)) + b


def _packet(first: int, body: bytes) -> bytes:
    return bytes([first]) + _varint(len(body)) + body


def _sub_ids(props: bytes) -> tuple[int, ...]:
    """The subscription identifiers (property 11) among a PUBLISH's properties."""
    ids: list[int] = []
    i = 0
    while i < len(props):
        pid = props[i]
        i += 1
        if pid == 0x0B:
            v, n = _read_varint(props, i)
            ids.append(v)
            i += n
        elif pid == 0x01:  # payload format indicator: a byte
            i += 1
        elif pid == 0x02:  # message expiry: four bytes
            i += 4
        elif pid == 0x23:  # topic alias: two bytes (never sent to us: we allow none)
            i += 2
        elif pid in (0x03, 0x08, 0x09):  # content type, response topic, correlation data
            i += 2 + int.from_bytes(props[i:i + 2], "big")
        elif pid == 0x26:  # user property: two strings
            i += 2 + int.from_bytes(props[i:i + 2], "big")
            i += 2 + int.from_bytes(props[i:i + 2], "big")
        else:
            raise MqttError(f"unexpected PUBLISH property {pid}")
    return tuple(ids)


@dataclass
class Login:
    """Where and how to connect."""

    host: str
    port: int
    client_id: str
    username: str | None = None
    password: str | None = None
    tls: bool = False
    ca_file: str | None = None
    keepalive: int = 15
    session_expiry_s: int = 0
    will_topic: str | None = None  # the broker publishes `will_payload` there (QoS 1, retained) when the connection dies
    will_payload: bytes = b""
    reconnect: bool = True  # False: one connection only (an adopted session is never fought for)


class Subscriber:
    """One connection to the broker, kept up by its own thread until `stop`."""

    def __init__(self, login: Login, on_message: OnMessage, on_connect: Callable[[Subscriber], None],
                 on_disconnect: Callable[[str], None], on_suback: Callable[[int, bytes], None]) -> None:
        self.login = login
        self.on_message = on_message
        self.on_connect = on_connect
        self.on_disconnect = on_disconnect
        self.on_suback = on_suback
        self._sock: socket.socket | None = None
        self._send_lock = threading.Lock()
        self._last_sent = 0.0
        self._mid = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pending = bytearray()
        self.session_present = False  # CONNACK's flag: the broker had kept a session under this client id
        self.taken_over = False  # the last connection was ended by another taking this client id (0x8E)
        self.generation = 0  # one more at each connection: packet ids of an older one must not be acknowledged

    # --- sending (any thread) ------------------------------------------------------------------

    def _send(self, data: bytes) -> None:
        with self._send_lock:
            sock = self._sock
            if sock is None:
                return  # not connected: what is unacknowledged comes again at the next session
            try:
                sock.sendall(data)
                self._last_sent = time.monotonic()
            except OSError:
                pass  # the reader sees the broken connection and reconnects

    def _next_mid(self) -> int:
        with self._send_lock:
            self._mid = self._mid % 65535 + 1
            return self._mid

    def ack(self, mids: Sequence[int]) -> None:
        """Acknowledge QoS 1 messages, in one write."""
        if mids:
            pack = _PUBACK.pack
            self._send(b"".join(pack(0x40, 2, m) for m in mids))

    def subscribe(self, filters: Sequence[str], sub_id: int, qos: int = 1) -> int:
        """SUBSCRIBE with a subscription identifier; the packet id (SUBACK comes to `on_suback`)."""
        mid = self._next_mid()
        props = b"\x0b" + _varint(sub_id)
        body = struct.pack(">H", mid) + _varint(len(props)) + props + b"".join(_utf8(f) + bytes([qos]) for f in filters)
        self._send(_packet(0x82, body))
        return mid

    def publish(self, topic: str, payload: bytes, *, retain: bool = True) -> None:
        """PUBLISH at QoS 1 (the broker's PUBACK is not waited for: a notice is published again at each connect)."""
        body = _utf8(topic) + struct.pack(">H", self._next_mid()) + b"\x00" + payload
        self._send(_packet(0x32 | int(retain), body))

    def unsubscribe(self, filters: Sequence[str]) -> None:
        """UNSUBSCRIBE (the UNSUBACK is not waited for)."""
        mid = self._next_mid()
        self._send(_packet(0xA2, struct.pack(">H", mid) + b"\x00" + b"".join(_utf8(f) for f in filters)))

    # --- the connection thread -----------------------------------------------------------------

    def start(self) -> None:
        """Connect in the background, and keep connecting."""
        self._thread = threading.Thread(target=self._run, name=f"mqtt-{self.login.client_id}", daemon=True)
        self._thread.start()

    def stop(self, packet: bytes = DISCONNECT_PACKET) -> None:
        """DISCONNECT (the session stays for `session_expiry_s`) and end the thread.

        `DISCONNECT_WITH_WILL` has the broker publish the Will; `DISCONNECT_ENDING_SESSION` ends the session.
        """
        self._stop.set()
        self._send(packet)
        with self._send_lock:
            sock, self._sock = self._sock, None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)  # wakes the reader's select() at once
            sock.close()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(5)

    def _run(self) -> None:
        delay = 0.2
        while not self._stop.is_set():
            try:
                sock = self._connect()
            except (OSError, MqttError) as err:
                if not self.login.reconnect:
                    self.on_disconnect(str(err) or type(err).__name__)
                    return
                log.warning("city broker %s:%d: %s; trying again in %.1f s", self.login.host, self.login.port, err, delay)
                self._stop.wait(delay)
                delay = min(delay * 2, 1.0)  # SPEC 10: back within 2 s of a broker restart
                continue
            delay = 0.2
            self.taken_over = False
            try:
                self.on_connect(self)
                self._read(sock)
                reason = "closed by the broker"
            except (OSError, MqttError, ValueError) as err:
                reason = str(err) or type(err).__name__
                self.taken_over = isinstance(err, TakenOver)
            with self._send_lock:
                if self._sock is sock:
                    self._sock = None
            try:
                sock.close()
            except OSError:
                pass
            if not self._stop.is_set():
                self.on_disconnect(reason)
                if not self.login.reconnect:
                    return
                self._stop.wait(0.2)

    def _connect(self) -> socket.socket:
        lg = self.login
        raw = socket.create_connection((lg.host, lg.port), timeout=10)
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # SPEC 3
        sock: socket.socket = raw
        if lg.tls:
            ctx = ssl.create_default_context(cafile=lg.ca_file)
            sock = ctx.wrap_socket(raw, server_hostname=lg.host)
        flags = 0x00 if lg.session_expiry_s else 0x02  # clean start only when no session is kept
        payload = _utf8(lg.client_id)
        if lg.will_topic:
            flags |= 0x04 | 0x08 | 0x20  # a Will, QoS 1, retained
            payload += b"\x00" + _utf8(lg.will_topic) + struct.pack(">H", len(lg.will_payload)) + lg.will_payload
        if lg.username:
            flags |= 0x80
            payload += _utf8(lg.username)
            if lg.password is not None:
                flags |= 0x40
                payload += _utf8(lg.password)
        props = (b"\x11" + struct.pack(">I", lg.session_expiry_s) + b"\x21" + struct.pack(">H", 65535)
                 + b"\x27" + struct.pack(">I", MAX_PACKET))  # the broker drops for us what is bigger
        body = _utf8("MQTT") + bytes([5, flags]) + struct.pack(">H", lg.keepalive) + _varint(len(props)) + props + payload
        sock.sendall(_packet(0x10, body))
        buf = b""
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                raise MqttError("the broker closed the connection at CONNECT")
            buf += chunk
            length, n = _read_varint(buf, 1)
            if length >= 0 and len(buf) >= 1 + n + length:
                break
        if buf[0] >> 4 != CONNACK:
            raise MqttError("no CONNACK")
        reason = buf[1 + n + 1]
        if reason >= 0x80:
            what = CONNACK_REFUSALS.get(reason, "")
            raise MqttError(f"the broker refused the connection (reason {reason:#x}{': ' + what if what else ''})")
        self.session_present = bool(buf[1 + n] & 1)
        sock.settimeout(None)
        with self._send_lock:
            self._sock = sock
            self._last_sent = time.monotonic()
            self.generation += 1
        rest = buf[1 + n + length:]
        self._pending = bytearray(rest)
        return sock

    def _read(self, sock: socket.socket) -> None:
        buf = self._pending
        keepalive = self.login.keepalive
        while not self._stop.is_set():
            ready: list[socket.socket] = []
            has_tls_bytes = isinstance(sock, ssl.SSLSocket) and sock.pending() > 0
            if not has_tls_bytes:
                ready, _w, _x = select.select([sock], [], [], 1.0)
            if has_tls_bytes or ready:
                data = sock.recv(READ_CHUNK)
                if not data:
                    return
                buf += data
                pos = self._parse(buf)
                if pos:
                    del buf[:pos]
            if keepalive and time.monotonic() - self._last_sent > keepalive / 2:
                self._send(PINGREQ)

    def _parse(self, buf: bytearray) -> int:
        """Handle every whole packet in `buf`; how many bytes were used."""
        pos = 0
        end = len(buf)
        on_message = self.on_message
        while end - pos >= 2:
            first = buf[pos]
            length, n = _read_varint(buf, pos + 1)
            if length < 0:
                break
            start = pos + 1 + n
            stop = start + length
            if stop > end:
                break
            kind = first >> 4
            if kind == PUBLISH:
                qos = (first >> 1) & 3
                tl = (buf[start] << 8) | buf[start + 1]
                i = start + 2 + tl
                topic = buf[start + 2:i].decode("utf-8", "replace")
                mid = 0
                if qos:
                    mid = (buf[i] << 8) | buf[i + 1]
                    i += 2
                plen, k = _read_varint(buf, i)
                i += k
                sub_ids = _sub_ids(bytes(buf[i:i + plen])) if plen else ()
                on_message(topic, bytes(buf[i + plen:stop]), qos, mid, bool(first & 1), sub_ids)
            elif kind == SUBACK:
                mid = (buf[start] << 8) | buf[start + 1]
                plen, k = _read_varint(buf, start + 2)
                self.on_suback(mid, bytes(buf[start + 2 + k + plen:stop]))
            elif kind == DISCONNECT:
                reason = buf[start] if length else 0
                if reason == SESSION_TAKEN_OVER:
                    raise TakenOver("another connection took this session over (reason 0x8e)")
                raise MqttError(f"the broker ended the connection (reason {reason:#x})")
            # PINGRESP, UNSUBACK, PUBACK: nothing to do
            pos = stop
        return pos
