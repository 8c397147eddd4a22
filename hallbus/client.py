"""The hall bus MQTT client (paho-mqtt 2, MQTT 5).

One `BusClient` per process: TCP_NODELAY on its socket, a retained birth and a last
will sharing a session id (SPEC 3.1), reconnect with backoff and resubscribe, its own
retained state republished after every reconnect, thread-safe publishing, and a clean
shutdown that publishes `offline`. Handlers run on paho's network thread; an exception
in a handler is logged and never stops the loop. A QoS 1/2 message is acknowledged to
the broker after its handlers ran, or later by a handler that took the acknowledgement
(`defer_ack`). paho's public API throughout; its read hooks: `hallbus.paho_private`.
"""

from __future__ import annotations

import logging
import socket
import ssl
import threading
import uuid
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from hallbus import __version__, schemas
from hallbus.brokerurl import BrokerAddress
from hallbus.paho_private import HookedClient, ReadHook, close_sockets
from hallbus.topics import Topics, check_id

log = logging.getLogger(__name__)

class _PahoNoise(logging.Filter):
    """paho 2.2 logs an ERROR from its loop after every clean disconnect; that is not an error."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Client is not connected")


_paho_log = logging.getLogger("hallbus.paho")
_paho_log.addFilter(_PahoNoise())

# Bytes of a PUBLISH besides payload and topic: fixed header, lengths, packet id, and the
# properties of an RPC request (reply topic, correlation data, expiry).
PACKET_OVERHEAD = 256

MessageHandler = Callable[[str, bytes, "Properties | None"], None]
ConnectionListener = Callable[[bool], None]


def filter_matches(levels: tuple[str, ...], topic_levels: list[str]) -> bool:
    """Whether a topic (split at "/") matches a subscription filter (split at "/"), as MQTT says.

    paho's `topic_matches_sub` builds a matching tree for every call (4 us); this is a
    plain walk over the levels. `+` is one level (an empty one too), `#` the rest (the
    parent level included), and wildcards at the first level never match `$` topics.
    """
    if topic_levels[0].startswith("$") and levels[0] in ("+", "#"):
        return False
    n = len(topic_levels)
    for i, level in enumerate(levels):
        if level == "#":
            return True
        if i >= n or (level != "+" and level != topic_levels[i]):
            return False
    return len(levels) == n


def _not_sent() -> mqtt.MQTTMessageInfo:
    """What `publish` gives for a message it did not send because the broker would not take it."""
    info = mqtt.MQTTMessageInfo(0)
    info.rc = MQTTErrorCode.MQTT_ERR_PAYLOAD_SIZE
    return info


def _no_ack() -> None:
    """The acknowledgement of a message that needs none (QoS 0, or not in a handler)."""


class _Ack:
    """Acknowledges one received message once, on the connection it came on."""

    def __init__(self, client: mqtt.Client, mid: int, qos: int, bus: BusClient, connection: int) -> None:
        self._client, self._mid, self._qos, self._bus, self._connection = client, mid, qos, bus, connection
        self._done = False
        self._lock = threading.Lock()

    def __call__(self) -> None:
        with self._lock:
            if self._done:
                return
            self._done = True
        if self._bus.connect_count == self._connection:
            self._client.ack(self._mid, self._qos)


class BusClient:
    """A node's connection to the hall bus."""

    def __init__(
        self,
        *,
        hall: str,
        node: str,
        role: str,
        broker: BrokerAddress,
        sw: str = __version__,
        persistent_session: bool = False,
        session_expiry_s: int = 300,
        keepalive: int = 15,
        reconnect_min_s: float = 0.1,
        reconnect_max_s: float = 1.0,
        client_id: str | None = None,
    ) -> None:
        self.topics = Topics(hall)
        self.node = check_id(node, "node id")
        self.role = role
        self.broker = broker
        self.sw = sw
        self.session = str(uuid.uuid4())
        self.keepalive = keepalive
        self._persistent = persistent_session
        self._session_expiry_s = session_expiry_s
        self._lock = threading.RLock()
        self._subscriptions: dict[str, tuple[MessageHandler, int]] = {}
        self._no_local: set[str] = set()  # filters subscribed with MQTT 5 No Local: our own messages stay away
        self._subscribed: dict[str, threading.Event] = {}  # filter -> set by the broker's SUBACK
        self._suback_waiting: dict[int, list[threading.Event]] = {}  # SUBSCRIBE mid -> its filters' events
        self._live = False  # subscriptions made on this connection (under _lock): new ones go out at once
        self._retained: dict[str, bytes] = {}
        self._listeners: list[ConnectionListener] = []
        self._connected = threading.Event()
        self._stopping = False
        self._started = False
        self.last_error: str | None = None
        self.connect_count = 0
        self.max_packet: int | None = None  # the broker's Maximum Packet Size (its CONNACK), if it says one
        self._delivering: mqtt.MQTTMessage | None = None  # the message handlers run for (network thread)
        self._deferred: Callable[[], None] | None = None  # its acknowledgement, if a handler took it

        cid = client_id or (node if persistent_session else f"{node}-{self.session[:8]}")
        self._mqtt = HookedClient(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=cid,
            protocol=mqtt.MQTTv5,
            reconnect_on_failure=True,
        )
        self._mqtt.enable_logger(_paho_log)
        # Messages are acknowledged after their handlers ran, or later by a handler that took
        # the acknowledgement (defer_ack): an RPC request only once its answer is queued.
        self._mqtt.manual_ack_set(True)
        self._mqtt.max_queued_messages_set(10000)
        self._mqtt.max_inflight_messages_set(1000)
        self._mqtt.reconnect_delay_set(reconnect_min_s, reconnect_max_s)  # type: ignore[arg-type]
        if broker.username:
            self._mqtt.username_pw_set(broker.username, broker.password)
        if broker.tls:
            self._mqtt.tls_set(ca_certs=broker.ca_file, cert_reqs=ssl.CERT_REQUIRED)
        will = schemas.NodeStatus(state="lost", role=role, session=self.session, sw=sw)
        self._mqtt.will_set(self.topics.node_status(node), schemas.encode(will), qos=1, retain=True)
        self._mqtt.on_socket_open = self._on_socket_open
        self._mqtt.on_connect = self._on_connect
        self._mqtt.on_disconnect = self._on_disconnect
        self._mqtt.on_message = self._on_message
        self._exact: dict[str, list[MessageHandler]] = {}
        self._wild: list[tuple[tuple[str, ...], MessageHandler]] = []
        self._routes_changed()
        self._mqtt.on_connect_fail = self._on_connect_fail
        self._mqtt.on_subscribe = self._on_subscribe

    # --- lifecycle ------------------------------------------------------------------------

    def start(self, wait: float | None = None) -> bool:
        """Connect in the background (retrying forever); optionally wait for the first connection."""
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        if self._persistent:
            props.SessionExpiryInterval = self._session_expiry_s
        self._started = True
        self._mqtt.connect_async(
            self.broker.host,
            self.broker.port,
            keepalive=self.keepalive,
            clean_start=not self._persistent,
            properties=props,
        )
        self._mqtt.loop_start()
        if wait is not None:
            return self._connected.wait(wait)
        return self._connected.is_set()

    def stop(self, timeout: float = 2.0) -> None:
        """Publish `offline`, disconnect cleanly (no will), stop the network thread and close its sockets."""
        if not self._started:
            return
        self._stopping = True
        if self._connected.is_set():
            status = schemas.NodeStatus(state="offline", role=self.role, session=self.session, sw=self.sw)
            try:
                info = self._mqtt.publish(
                    self.topics.node_status(self.node), schemas.encode(status), qos=1, retain=True
                )
                info.wait_for_publish(timeout)
            except (RuntimeError, ValueError) as err:
                log.warning("could not publish offline status: %s", err)
        self._mqtt.disconnect()
        close_sockets(self._mqtt)  # `loop_stop` alone left two sockets open until a full garbage collection
        self._connected.clear()
        self._started = False

    @property
    def connected(self) -> bool:
        """True while connected to the broker."""
        return self._connected.is_set()

    def wait_connected(self, timeout: float) -> bool:
        """Block until connected or `timeout` seconds pass."""
        return self._connected.wait(timeout)

    def add_connection_listener(self, listener: ConnectionListener) -> None:
        """Call `listener(True/False)` on every connect and disconnect (from the network thread)."""
        with self._lock:
            self._listeners.append(listener)

    # --- subscribe and publish ------------------------------------------------------------

    def subscribe(
        self, topic_filter: str, handler: MessageHandler, qos: int = 1, *, no_local: bool = False
    ) -> threading.Event:
        """Route messages matching `topic_filter` to `handler(topic, payload, properties)`.

        Kept across reconnects. One handler per filter; a later call replaces it. The
        event returned is set once the broker has acknowledged the subscription (its
        SUBACK): from then on every message published to the filter arrives. Use QoS 1
        with a persistent session: paho leaves a QoS 2 release it does not know (after a
        restart) unanswered when the acknowledgement is manual. With `no_local`, what this
        client publishes itself is not sent back to it (MQTT 5 No Local).
        """
        with self._lock:
            self._subscriptions[topic_filter] = (handler, qos)
            if no_local:
                self._no_local.add(topic_filter)
            else:
                self._no_local.discard(topic_filter)
            done = self._subscribed[topic_filter] = threading.Event()
            self._routes_changed()
            if self._live:
                _rc, mid = self._mqtt.subscribe(topic_filter, options=self._options(topic_filter, qos))
                if mid is not None:
                    self._suback_waiting[mid] = [done]
        return done

    def _options(self, topic_filter: str, qos: int) -> SubscribeOptions:
        return SubscribeOptions(qos=qos, noLocal=topic_filter in self._no_local)

    @property
    def filters(self) -> list[str]:
        """Every topic filter this client subscribes to, its own presence included (what its login must read)."""
        with self._lock:
            return [*self._subscriptions, self.topics.node_status(self.node)]

    def wait_subscribed(self, topic_filter: str, timeout: float) -> bool:
        """Block until the broker acknowledged the subscription to `topic_filter` on this connection."""
        with self._lock:
            done = self._subscribed.get(topic_filter)
        return done is not None and done.wait(timeout)

    def unsubscribe(self, topic_filter: str) -> None:
        """Stop routing `topic_filter`."""
        with self._lock:
            self._subscriptions.pop(topic_filter, None)
            self._no_local.discard(topic_filter)
            self._subscribed.pop(topic_filter, None)
            self._routes_changed()
            if self._live:
                self._mqtt.unsubscribe(topic_filter)

    def add_read_hook(self, hook: ReadHook) -> None:
        """Run `hook()` on the network thread after each pass that read from the broker.

        It runs outside any message handler; what it publishes is written before the
        network thread reads again. It must not block for long: the connection waits.
        """
        with self._lock:
            self._mqtt.read_hooks = (*self._mqtt.read_hooks, hook)

    def remove_read_hook(self, hook: ReadHook) -> None:
        """Stop running `hook` after read passes."""
        with self._lock:
            self._mqtt.read_hooks = tuple(h for h in self._mqtt.read_hooks if h != hook)

    def _routes_changed(self) -> None:
        # Exact topics are looked up in a dict; only wildcard filters are matched one by one.
        # (paho's own filter trie costs tens of microseconds per message on the RPC path.)
        exact: dict[str, list[MessageHandler]] = {}
        wild: list[tuple[str, MessageHandler]] = []
        for f, (h, _q) in self._subscriptions.items():
            if "+" in f or "#" in f:
                wild.append((f, h))
            else:
                exact.setdefault(f, []).append(h)
        exact.setdefault(self.topics.node_status(self.node), []).append(self._on_own_status)
        self._exact, self._wild = exact, [(tuple(f.split("/")), h) for f, h in wild]

    def publish(
        self,
        topic: str,
        payload: Any,
        *,
        qos: int = 1,
        retain: bool = False,
        properties: Properties | None = None,
    ) -> mqtt.MQTTMessageInfo:
        """Publish a Struct, dict or bytes; thread-safe. QoS 1 messages queue while offline.

        A message bigger than the broker takes is not sent (logged; the returned info has
        `rc` MQTT_ERR_PAYLOAD_SIZE): the broker would drop the connection, and paho would
        send the message again on every reconnect.
        """
        data = payload if isinstance(payload, bytes | bytearray) else schemas.encode(payload)
        if not self._fits(topic, data):
            return _not_sent()
        return self._mqtt.publish(topic, data, qos=qos, retain=retain, properties=properties)

    def _fits(self, topic: str, data: bytes | bytearray) -> bool:
        limit = self.max_packet
        size = len(data) + len(topic.encode()) + PACKET_OVERHEAD
        if limit is None or size <= limit:
            return True
        log.error("not publishing %d bytes on %s: the broker takes packets of at most %d bytes", len(data), topic, limit)
        return False

    def publish_state(self, topic: str, payload: Any, *, qos: int = 1) -> mqtt.MQTTMessageInfo:
        """Publish retained state and remember it, so it is republished after a reconnect."""
        data = payload if isinstance(payload, bytes | bytearray) else schemas.encode(payload)
        if not self._fits(topic, data):
            return _not_sent()
        with self._lock:
            self._retained[topic] = bytes(data)
        return self._mqtt.publish(topic, data, qos=qos, retain=True)

    def retained_state(self, topic: str) -> bytes | None:
        """What this client last published as retained state on `topic` (None: nothing, or cleared)."""
        with self._lock:
            return self._retained.get(topic)

    def clear_state(self, topic: str) -> None:
        """Remove a retained topic (empty retained payload) and forget it."""
        with self._lock:
            self._retained.pop(topic, None)
        self._mqtt.publish(topic, b"", qos=1, retain=True)

    def publish_devices(self, devices: schemas.NodeDevices) -> None:
        """Publish this node's device health (retained)."""
        self.publish_state(self.topics.node_devices(self.node), devices)

    # --- paho callbacks (network thread) ----------------------------------------------------

    def _on_socket_open(self, _c: mqtt.Client, _u: Any, sock: Any) -> None:
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except (OSError, AttributeError):  # not a TCP socket (e.g. websockets wrapper)
            pass

    def _on_connect(self, client: mqtt.Client, _u: Any, _flags: Any, rc: Any, props: Any = None) -> None:
        if rc.is_failure:
            self.last_error = f"broker refused the connection: {rc}"
            log.error("%s (%s)", self.last_error, self.broker.url)
            return
        self.max_packet = getattr(props, "MaximumPacketSize", None)
        self.connect_count += 1
        self.last_error = None
        with self._lock:
            subs = list(self._subscriptions.items())
            retained = list(self._retained.items())
            if subs:
                waiting = [self._subscribed[f] for f, _s in subs]
                for done in waiting:
                    done.clear()  # until this connection's SUBACK
                _rc, mid = client.subscribe([(f, self._options(f, q)) for f, (_h, q) in subs])
                if mid is not None:
                    self._suback_waiting[mid] = waiting
            self._live = True
        # Watch our own status: a late will of an older session must not leave us marked lost.
        client.subscribe(self.topics.node_status(self.node), 1)
        birth = schemas.NodeStatus(state="online", role=self.role, session=self.session, sw=self.sw)
        client.publish(self.topics.node_status(self.node), schemas.encode(birth), qos=1, retain=True)
        for topic, data in retained:
            client.publish(topic, data, qos=1, retain=True)
        log.info("connected to %s as %s (session %s)", self.broker.url, self.node, self.session[:8])
        self._connected.set()
        self._notify(True)

    def _on_subscribe(self, _c: mqtt.Client, _u: Any, mid: int, _codes: Any, _props: Any = None) -> None:
        with self._lock:
            for done in self._suback_waiting.pop(mid, ()):
                done.set()

    def _on_own_status(self, _topic: str, payload: bytes, _props: Properties | None) -> None:
        client = self._mqtt
        if self._stopping or not self._connected.is_set():
            return
        try:
            status = schemas.decode(payload, schemas.NodeStatus)
        except ValueError:  # msgspec errors, and UnicodeDecodeError for bad UTF-8 in a string
            status = None
        if status is not None and status.session == self.session:
            return
        if status is not None and status.state == "online":
            log.warning("another process (session %s) also runs as node %s", status.session[:8], self.node)
            return
        # A will or an offline of an older session arrived after our birth: say we are here.
        birth = schemas.NodeStatus(state="online", role=self.role, session=self.session, sw=self.sw)
        client.publish(self.topics.node_status(self.node), schemas.encode(birth), qos=1, retain=True)

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _flags: Any, rc: Any, _props: Any = None) -> None:
        was = self._connected.is_set()
        self._connected.clear()
        with self._lock:
            self._live = False
            self._suback_waiting.clear()
        if not self._stopping:
            self.last_error = f"connection to the broker lost: {rc}"
            log.warning("%s; retrying", self.last_error)
        if was:
            self._notify(False)

    def _on_connect_fail(self, _c: mqtt.Client, _u: Any) -> None:
        self.last_error = f"cannot reach the broker at {self.broker.url}"
        log.debug("%s; retrying", self.last_error)

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        self._delivering, self._deferred = msg, None
        try:
            topic = msg.topic
        except UnicodeDecodeError:
            log.warning("dropped a message whose topic is not UTF-8")
        else:
            self._route(topic, bytes(msg.payload), getattr(msg, "properties", None))
        finally:
            deferred = self._deferred
            self._delivering = self._deferred = None
            if deferred is None and msg.qos:
                self._mqtt.ack(msg.mid, msg.qos)

    def defer_ack(self) -> Callable[[], None]:
        """From a message handler: acknowledge this message to the broker later, not on return.

        Returns the acknowledgement (call it once, from any thread). Until it is called the
        broker keeps the message for this session and sends it again after a reconnect or
        a restart; an acknowledgement made on an older connection is not sent (the broker
        sends the message again instead). An RPC server acknowledges a request only once
        its answer is queued behind it, so a crash between the two loses nothing.
        """
        msg = self._delivering
        if msg is None or not msg.qos:
            return _no_ack
        if self._deferred is None:
            self._deferred = _Ack(self._mqtt, msg.mid, msg.qos, self, self.connect_count)
        return self._deferred

    def _route(self, topic: str, payload: bytes, props: Properties | None) -> None:
        handlers = list(self._exact.get(topic, ()))
        if self._wild:
            levels = topic.split("/")
            for f, h in self._wild:
                if filter_matches(f, levels):
                    handlers.append(h)
        if not handlers:
            log.debug("message on %s matched no handler", topic)
            return
        for handler in handlers:
            try:
                handler(topic, payload, props)
            except Exception:  # a bad handler must never stop the network loop
                log.exception("a handler failed on a message on %s", topic)

    def _notify(self, up: bool) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(up)
            except Exception:
                log.exception("connection listener failed")
