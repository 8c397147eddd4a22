"""Request/response over the hall bus (SPEC 3.2).

Caller: `RpcClient.call(method, body)` publishes to `rpc/{method}` with an MQTT 5
ResponseTopic (`reply/{node}/{session}`), CorrelationData and a Message Expiry Interval,
and a `request_id` in the body so MQTT 3.1.1 tools and `mosquitto_rr` work too.

Server: `RpcServer` gathers the requests of each read pass of the network thread and
hands them to a `Dispatcher` as one batch (so a store can commit them at once before any
reply goes out), then publishes the replies before the next read. A malformed request
gets an error reply when it has a reply topic and a log line otherwise (a few a second
at most); it never changes state or stops the server. Before any of that work each
request is sorted by its source and held to that source's budget (`hallbus.admission`):
a node flooding the controller is shed in microseconds a request, and each batch takes
the sources in turn.

Long because: the caller and the server of one protocol share its envelope, faults and
limits here; the server's admission (identity from the envelope, shedding) has to sit in
its network-thread path, before any decoding, so it cannot go elsewhere.
"""

from __future__ import annotations

import collections
import concurrent.futures
import heapq
import itertools
import logging
import math
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import msgspec
from paho.mqtt.enums import MQTTErrorCode
from paho.mqtt.properties import Properties

from hallbus import schemas
from hallbus.admission import Admission, Verdict, round_robin, source_of
from hallbus.client import BusClient
from hallbus.nodesign import sign
from hallbus.wire import PublishProperties

log = logging.getLogger(__name__)

MAX_REQUEST_BYTES = 64 * 1024
MAX_SLOW_PENDING = 32  # requests waiting for slow work; more are answered `busy`
REAP_GRAIN_S = 0.05  # a call times out at most this late (the deadline thread wakes no more often)


class RpcFault(Exception):
    """An error reply: a snake_case code and a message in zh_CN and English."""

    def __init__(self, code: str, message: str, message_en: str = "") -> None:
        super().__init__(f"{code}: {message_en or message}")
        self.code = code
        self.message = message
        self.message_en = message_en

    def to_error(self) -> schemas.RpcError:
        """As the `error` object of a reply."""
        return schemas.RpcError(code=self.code, message=self.message, message_en=self.message_en)


class RpcTimeout(RpcFault):
    """No reply in time (the controller may be down or busy)."""

    def __init__(self, method: str, timeout: float) -> None:
        super().__init__(
            "timeout",
            f"服务暂时没有响应（{method}），请稍后再试或联系工作人员。",
            f"No answer from the hall controller ({method}) within {timeout:g} s. Please try again.",
        )


class RpcUnavailable(RpcFault):
    """The broker is not reachable right now."""

    def __init__(self) -> None:
        super().__init__(
            "unavailable",
            "与大厅服务器的连接已断开，暂时无法办理，请稍后再试或联系工作人员。",
            "The connection to the hall server is lost; this cannot be done right now. Please try again later.",
        )


def bad_reply(method: str, err: msgspec.ValidationError) -> RpcFault:
    """A reply whose `data` does not fit the method's reply type (a controller of another version?)."""
    return RpcFault(
        "bad_reply",
        f"大厅服务器的答复格式有误（{method}），请联系工作人员。",
        f"The hall controller's reply to {method} does not match the protocol: {err}. Please ask staff for help.",
    )


R = TypeVar("R", bound=msgspec.Struct)
_caller_numbers = itertools.count()
_reply_decoder = msgspec.json.Decoder(schemas.RpcReply)

# --- caller -----------------------------------------------------------------------------


class RpcClient:
    """Calls RPC methods on the controller and matches replies by correlation."""

    def __init__(self, bus: BusClient, node_key: bytes | None = None) -> None:
        """`node_key` (from the node's credentials) signs the node id on every request."""
        self.bus = bus
        self.node_key = node_key
        # Each caller on a bus gets its own reply topic, so several callers never steal replies.
        self.reply_topic = bus.topics.reply(bus.node, bus.session, next(_caller_numbers))
        self._pending: dict[str, concurrent.futures.Future[dict[str, Any]]] = {}
        self._lock = threading.Lock()
        # One thread expires every pending call at its deadline (a Timer per call costs a thread).
        # It runs while deadlines are left and ends with the last one: a thread that never ended
        # would keep this client, its bus and the bus's sockets alive for the life of the process
        # (a test run that made hundreds of clients ran out of file descriptors).
        self._deadlines: list[tuple[float, str, str, float]] = []
        self._deadline_cond = threading.Condition(self._lock)
        self._reaper_wakes_at = math.inf  # when the reaper's current wait ends
        self._reaping = False  # a deadline thread runs (set and cleared under the lock)
        self.reaper_rounds = 0  # how often the deadline thread woke up (a health figure)
        bus.subscribe(self.reply_topic, self._on_reply)

    def call_async(
        self, method: str, body: Mapping[str, Any] | msgspec.Struct | None = None, *,
        timeout: float = 5.0, request_id: str | None = None,
    ) -> concurrent.futures.Future[dict[str, Any]]:
        """Send a request; the future gives `data` or raises RpcFault / RpcTimeout / RpcUnavailable."""
        fut: concurrent.futures.Future[dict[str, Any]] = concurrent.futures.Future()
        if not self.bus.connected:
            fut.set_exception(RpcUnavailable())
            return fut
        rid = request_id or str(uuid.uuid4())
        payload = dict(schemas.to_builtins(body) if isinstance(body, msgspec.Struct) else (body or {}))
        payload.setdefault("v", schemas.SCHEMA_VERSION)
        payload.setdefault("ts", schemas.now_iso())  # an outbox keeps the moment it was made
        payload["request_id"] = rid
        payload["reply_to"] = self.reply_topic
        if self.node_key is not None:
            payload["node"] = self.bus.node
            payload["sig"] = sign(self.node_key, self.bus.node, method, rid)
        props = PublishProperties(
            response_topic=self.reply_topic, correlation=rid.encode(), expiry_s=max(1, math.ceil(timeout))
        )
        deadline = time.monotonic() + timeout
        with self._lock:
            self._pending[rid] = fut
            heapq.heappush(self._deadlines, (deadline, rid, method, timeout))
            if not self._reaping:
                self._reaping = True
                threading.Thread(target=self._reap, name="rpc-deadlines", daemon=True).start()
            elif deadline < self._reaper_wakes_at:
                self._deadline_cond.notify()
        info = self.bus.publish(self.bus.topics.rpc(method), payload, qos=1, properties=props)
        if info.rc == MQTTErrorCode.MQTT_ERR_PAYLOAD_SIZE:  # bigger than the broker takes: never sent
            with self._lock:
                self._pending.pop(rid, None)
            fut.set_exception(RpcFault("too_large", "请求过大。", "The request is too large."))
        return fut

    def call(
        self, method: str, body: Mapping[str, Any] | msgspec.Struct | None = None, *,
        timeout: float = 5.0, request_id: str | None = None,
    ) -> dict[str, Any]:
        """Send a request and wait for its `data`; raise RpcFault on an error reply."""
        return self.call_async(method, body, timeout=timeout, request_id=request_id).result(timeout + 1)

    def call_typed_async(
        self, method: schemas.Rpc[R], body: Mapping[str, Any] | msgspec.Struct | None = None, *,
        timeout: float = 5.0, request_id: str | None = None,
    ) -> concurrent.futures.Future[R]:
        """`call_async`, the reply's `data` decoded into the method's reply type (`schemas.RPC`).

        A reply that does not fit the type fails the future with RpcFault `bad_reply`.
        """
        typed: concurrent.futures.Future[R] = concurrent.futures.Future()

        def decoded(fut: concurrent.futures.Future[dict[str, Any]]) -> None:
            err = fut.exception()
            if err is not None:
                typed.set_exception(err)
                return
            try:
                typed.set_result(method.decode(fut.result()))
            except msgspec.ValidationError as bad:
                typed.set_exception(bad_reply(method.name, bad))

        self.call_async(method.name, body, timeout=timeout, request_id=request_id).add_done_callback(decoded)
        return typed

    def call_typed(
        self, method: schemas.Rpc[R], body: Mapping[str, Any] | msgspec.Struct | None = None, *,
        timeout: float = 5.0, request_id: str | None = None,
    ) -> R:
        """`call`, the reply's `data` decoded: `rpc.call_typed(schemas.TICKET_ISSUE, {...}).ticket.number`."""
        return self.call_typed_async(method, body, timeout=timeout, request_id=request_id).result(timeout + 1)

    def _reap(self) -> None:
        while True:
            expired: list[tuple[concurrent.futures.Future[dict[str, Any]], str, float]] = []
            with self._lock:
                if not self._deadlines:
                    self._reaping = False  # the next call starts another
                    return
                self.reaper_rounds += 1
                now = time.monotonic()
                while self._deadlines and self._deadlines[0][0] <= now:
                    _d, rid, method, timeout = heapq.heappop(self._deadlines)
                    fut = self._pending.pop(rid, None)
                    if fut is not None:
                        expired.append((fut, method, timeout))
                if self._deadlines and not expired:
                    # Answered calls leave their deadlines in the heap; waking for each of
                    # them would wake this thread once per call. Coarser is plenty for a
                    # timeout: at most one wake-up per REAP_GRAIN_S.
                    self._reaper_wakes_at = max(self._deadlines[0][0], now + REAP_GRAIN_S)
                    self._deadline_cond.wait(self._reaper_wakes_at - now)
                    self._reaper_wakes_at = math.inf
            for fut, method, timeout in expired:
                if not fut.done():
                    fut.set_exception(RpcTimeout(method, timeout))

    def _on_reply(self, _topic: str, payload: bytes, props: Properties | None) -> None:
        try:
            reply = _reply_decoder.decode(payload)
        except (ValueError, RecursionError) as err:  # msgspec errors, UnicodeDecodeError, deep nesting
            log.warning("dropped a malformed reply: %s", err)
            return
        rid = reply.request_id
        corr = getattr(props, "CorrelationData", None) if props is not None else None
        if corr and corr.decode(errors="replace") != rid:
            log.warning("reply correlation %r does not match request_id %r", corr, rid)
        with self._lock:
            fut = self._pending.pop(rid, None)
        if fut is None or fut.done():
            return  # late reply after a timeout, or a duplicate
        if reply.ok:
            fut.set_result(reply.data or {})
        else:
            error = reply.error or schemas.RpcError(code="error", message="未知错误", message_en="unknown error")
            fut.set_exception(RpcFault(error.code, error.message, error.message_en))


# --- server -----------------------------------------------------------------------------


@dataclass
class Request:
    """One request as the dispatcher sees it."""

    method: str
    request_id: str
    body: Any  # the validated request Struct of the method
    raw: dict[str, Any] | None  # the parsed JSON; None when it was decoded straight into `body`
    reply_topic: str | None
    correlation: bytes | None
    caller: str | None  # node id from the reply topic, when it follows reply/{node}/...
    signed_node: str | None = field(default=None)  # set by the node guard once the node's signature checked out
    sig_ok: bool | None = field(default=None)  # the node signature's check, once made (None: not yet)
    source: str = field(default="")  # whose budget it spends (`hallbus.admission`)
    reply: schemas.RpcReply | None = field(default=None)
    prepared: dict[str, Any] | None = field(default=None)  # what the dispatcher's slow work found
    ack: Callable[[], None] | None = field(default=None, repr=False, compare=False)  # PUBACK, after the answer


class Dispatcher(Protocol):
    """Turns a batch of valid requests into replies (in the same order).

    It may also define `after_replies()`, called after each batch's replies are sent, and
    `slow_work(request)`, returning None or a callable that the server runs on a worker
    thread before the request joins a batch: CPU-heavy checks that need no store (such as
    a password hash) must not hold up the network thread or the other requests. The
    callable leaves what it found in `request.prepared`. And `source(request)`, the node id
    that the request proves it comes from (a checked signature) or None, called on the
    network thread for every request before admission: it must be cheap and may cache
    what it checked on the request (`sig_ok`).
    """

    def handle_batch(self, requests: list[Request]) -> list[schemas.RpcReply]:
        """Handle every request; never raise for one bad request."""
        ...


Handler = Callable[[Request], Mapping[str, Any]]


def ok_reply(request_id: str, data: Mapping[str, Any], ts: str | None = None) -> schemas.RpcReply:
    """A success reply envelope (`ts`: when it was made, if the caller knows it already)."""
    if ts is None:
        return schemas.RpcReply(request_id=request_id, ok=True, data=dict(data))
    return schemas.RpcReply(request_id=request_id, ok=True, data=dict(data), ts=ts)


def error_reply(request_id: str, fault: RpcFault) -> schemas.RpcReply:
    """An error reply envelope."""
    return schemas.RpcReply(request_id=request_id, ok=False, error=fault.to_error())


def internal_fault() -> RpcFault:
    """What a caller hears when a handler had a bug."""
    return RpcFault(
        "internal_error",
        "服务器内部错误，本次操作未完成，请联系工作人员。",
        "Internal error in the hall controller; nothing was changed. Please ask staff for help.",
    )


def call_handler(handlers: Mapping[str, Handler], req: Request) -> schemas.RpcReply:
    """Run one handler and wrap its result or fault in a reply envelope."""
    handler = handlers.get(req.method)
    if handler is None:
        return error_reply(req.request_id, unknown_method(req.method))
    try:
        return ok_reply(req.request_id, handler(req))
    except RpcFault as fault:
        return error_reply(req.request_id, fault)
    except Exception:
        log.exception("handler for %s failed (request %s)", req.method, req.request_id)
        return error_reply(req.request_id, internal_fault())


def busy_fault() -> RpcFault:
    """What a caller hears when too many slow requests (such as logins) wait already."""
    return RpcFault(
        "busy",
        "服务器正忙，请稍后再试。",
        "The hall controller is busy with other requests of this kind; please try again in a moment.",
    )


def over_budget_fault() -> RpcFault:
    """What a node hears (a few times a second at most) while it sends more than its budget (`[rpc_limits]`)."""
    return RpcFault(
        "busy",
        "本终端的请求过于频繁，请稍后再试。",
        "This node sends more requests than the hall controller takes from one node; please try again in a moment.",
    )


def unknown_method(method: str) -> RpcFault:
    """The fault for a method the server does not know."""
    return RpcFault("unknown_method", f"不支持的请求：{method}。", f"Unknown method: {method}.")


class SimpleDispatcher:
    """Handlers by method, with an in-memory idempotency cache keyed by request_id."""

    def __init__(self, handlers: Mapping[str, Handler], cache_size: int = 10000) -> None:
        self.handlers = dict(handlers)
        self._cache: collections.OrderedDict[str, schemas.RpcReply] = collections.OrderedDict()
        self._cache_size = cache_size

    def handle_batch(self, requests: list[Request]) -> list[schemas.RpcReply]:
        """Handle each request in order; a repeated request_id gets its first answer."""
        out = []
        for req in requests:
            cached = self._cache.get(req.request_id)
            if cached is None:
                cached = call_handler(self.handlers, req)
                self._cache[req.request_id] = cached
                if len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
            out.append(cached)
        return out


class _Envelope(msgspec.Struct):
    """The fields of any request that say who sent it, decoded before anything else (unknown fields skipped)."""

    request_id: Any = None
    reply_to: Any = None
    node: Any = None
    sig: Any = None


_envelope_decoder = msgspec.json.Decoder(_Envelope)


class _Malformed(Exception):
    """A request that cannot be served, with what is known of where to answer."""

    def __init__(self, fault: RpcFault, request_id: str, reply_topic: str | None) -> None:
        super().__init__(fault.message_en)
        self.fault = fault
        self.request_id = request_id
        self.reply_topic = reply_topic


class RpcServer:
    """Serves `rpc/+` on a bus client through a dispatcher, in batches on the network thread.

    The requests that one read pass of the network thread brings in form a batch: the
    dispatcher handles them together (a store commits them with one fsync) and their
    replies are written before the next read. Under a pipeline of requests the batches
    grow on their own; a lone request is answered without any hand-off between threads.
    A dispatcher therefore should not block for long: the connection waits meanwhile.
    """

    def __init__(
        self,
        bus: BusClient,
        dispatcher: Dispatcher,
        *,
        methods: Mapping[str, type[schemas.RpcRequest]] | None = None,
        max_batch: int = 256,
        admission: Admission | None = None,
    ) -> None:
        """`admission`: the per-source budget (None: every request is taken; batches are still fair)."""
        self.bus = bus
        self.dispatcher = dispatcher
        self.methods = dict(methods if methods is not None else {m: t for m, (t, _d, _x) in schemas.RPC_METHODS.items()})
        self.max_batch = max_batch
        self._pending: list[Request] = []
        self._pending_lock = threading.Lock()
        self._handling = threading.Lock()  # held while a batch is handled; stop() waits on it
        self.malformed = 0
        self.handled = 0
        self.shed = 0  # requests refused over their source's budget
        self.admission = admission
        self._source: Callable[[Request], str | None] | None = getattr(dispatcher, "source", None)
        self._decoders = {m: msgspec.json.Decoder(t) for m, t in self.methods.items()}
        self._after = getattr(dispatcher, "after_replies", None)
        self._slow_work: Callable[[Request], Callable[[], None] | None] | None = getattr(dispatcher, "slow_work", None)
        self._slow_pool: concurrent.futures.ThreadPoolExecutor | None = None
        self._slow_pending = 0

    def start(self) -> None:
        """Subscribe to requests; batches run after each read pass of the network thread."""
        self.bus.add_read_hook(self._flush)
        self.bus.subscribe(self.bus.topics.rpc_all, self._on_request, qos=1)

    def stop(self) -> None:
        """Stop taking requests; answer those already taken, and wait for a batch in progress."""
        self.bus.unsubscribe(self.bus.topics.rpc_all)
        self.bus.remove_read_hook(self._flush)
        self._flush()
        if self._slow_pool is not None:
            self._slow_pool.shutdown(wait=True)
            self._slow_pool = None

    def _flush(self) -> None:
        with self._pending_lock:
            if not self._pending:
                return
            batch, self._pending = self._pending, []
        batch = round_robin(batch, _source_key)
        if self._slow_work is not None:
            batch = [req for req in batch if not self._offload(req)]
            if not batch:
                return
        with self._handling:
            for i in range(0, len(batch), self.max_batch):
                self._handle(batch[i:i + self.max_batch])

    def _offload(self, req: Request) -> bool:
        """Send a request with slow work to the worker threads; True when it went (or was refused)."""
        assert self._slow_work is not None
        try:
            work = self._slow_work(req)
        except Exception:
            log.exception("slow_work of %s failed; handled without it", req.method)
            return False
        if work is None:
            return False
        with self._pending_lock:
            busy = self._slow_pending >= MAX_SLOW_PENDING
            if not busy:
                self._slow_pending += 1
                if self._slow_pool is None:
                    self._slow_pool = concurrent.futures.ThreadPoolExecutor(2, thread_name_prefix="rpc-slow")
                pool = self._slow_pool
        if busy and req.reply_topic:
            self._send(req.reply_topic, req.correlation, error_reply(req.request_id, busy_fault()))
        # Acknowledged now, not after the slow work: held, it would keep one of the broker's
        # few in-flight slots for this session (20 by default) and so hold up every other request.
        if req.ack is not None:
            req.ack()
        if busy:
            return True
        pool.submit(self._run_slow, req, work)
        return True

    def _run_slow(self, req: Request, work: Callable[[], None]) -> None:
        try:
            work()
        except Exception:
            log.exception("slow work of %s (request %s) failed", req.method, req.request_id)
        finally:
            with self._pending_lock:
                self._slow_pending -= 1
        with self._handling:
            self._handle([req])

    # network thread: admit, parse, validate, gather for the batch of this read pass
    def _on_request(self, topic: str, payload: bytes, props: Properties | None) -> None:
        # The broker keeps the request until it is answered: a crash before that hands it
        # to the next process, whose idempotency answers it from the store or anew.
        ack = self.bus.defer_ack()
        method = self.bus.topics.method_of(topic) or ""
        reply_topic = getattr(props, "ResponseTopic", None) if props is not None else None
        corr = getattr(props, "CorrelationData", None) if props is not None else None
        source, sig_ok = self._source_of(method, payload, reply_topic, corr, ack)
        if source is None:
            return  # shed
        # Fast path: a well-formed request decodes straight into its schema in one pass.
        decoder = self._decoders.get(method)
        body: Any = None
        if decoder is not None and len(payload) <= MAX_REQUEST_BYTES:
            try:
                body = decoder.decode(payload)
            except (ValueError, RecursionError):  # RecursionError: nested deeper than msgspec goes
                body = None
        if body is not None and 0 < len(body.request_id) <= 100 and body.v == schemas.SCHEMA_VERSION:
            rid, raw = body.request_id, None
            reply_topic = reply_topic or body.reply_to
            if reply_topic and not reply_topic.startswith(self.bus.topics.reply_prefix()):
                log.warning("request %s names a reply topic outside reply/: %r; ignored", rid, reply_topic)
                reply_topic = None
        else:
            # Slow path: say precisely what is wrong.
            try:
                rid, raw, body, reply_topic = self._diagnose(method, payload, reply_topic)
            except _Malformed as bad:
                self.malformed += 1
                if bad.reply_topic:
                    self._send(bad.reply_topic, corr, error_reply(bad.request_id, bad.fault))
                elif self.malformed <= 20 or self.malformed % 1000 == 0:  # a flood of junk: a few lines
                    log.warning("dropped a malformed request on %s: %s (%d so far)", topic, bad.fault.message_en,
                                self.malformed)
                ack()
                return
        req = Request(method, rid, body, raw, reply_topic, corr, self._claimed(reply_topic), ack=ack)
        req.source, req.sig_ok = source, sig_ok
        with self._pending_lock:
            self._pending.append(req)

    def _claimed(self, reply_topic: str | None) -> str | None:
        """The node a reply topic names (`reply/{node}/...`): claimed by the sender, not proven."""
        prefix = self.bus.topics.reply_prefix()
        if not reply_topic or not reply_topic.startswith(prefix):
            return None
        return reply_topic[len(prefix):].split("/", 1)[0] or None

    def _source_of(
        self, method: str, payload: bytes, reply_topic: str | None, corr: bytes | None, ack: Callable[[], None],
    ) -> tuple[str | None, bool | None]:
        """Who sent this request and whether its budget takes it, from its envelope alone.

        (source, the signature's check) when it goes on; (None, None) when it was shed.
        Only the few envelope fields are decoded (a request over MAX_REQUEST_BYTES not at
        all): a shed request costs no schema decoding and no store work.
        """
        env = None
        if len(payload) <= MAX_REQUEST_BYTES:
            try:
                env = _envelope_decoder.decode(payload)
            except (ValueError, RecursionError):
                env = None
        rid = env.request_id if env is not None and isinstance(env.request_id, str) else ""
        if not reply_topic and env is not None and isinstance(env.reply_to, str):
            reply_topic = env.reply_to
        claimed = self._claimed(reply_topic)
        signed, sig_ok = None, None
        if (self._source is not None and env is not None and rid and isinstance(env.node, str)
                and isinstance(env.sig, str)):
            probe = Request(method, rid, env, None, reply_topic, corr, claimed)
            try:
                signed = self._source(probe)
            except Exception:
                log.exception("source() of the dispatcher failed on %s; taken as unsigned", method)
            sig_ok = probe.sig_ok
        admission = self.admission
        if admission is None:
            return source_of(signed, claimed), sig_ok
        source = admission.source(signed, claimed)
        verdict = admission.admit(source)
        if verdict == "go":
            return source, sig_ok
        if reply_topic and not reply_topic.startswith(self.bus.topics.reply_prefix()):
            reply_topic = None
        self._shed(verdict, rid, reply_topic, corr, ack)
        return None, None

    def _shed(
        self, verdict: Verdict, request_id: str | None, reply_topic: str | None, corr: bytes | None,
        ack: Callable[[], None] | None,
    ) -> None:
        """A request over its source's budget: `busy` a few times a second (with a reply topic), acknowledged."""
        self.shed += 1
        if verdict == "busy" and reply_topic and request_id:
            self._send(reply_topic, corr, error_reply(request_id, over_budget_fault()))
        if ack is not None:
            ack()

    def _diagnose(
        self, method: str, payload: bytes, reply_topic: str | None
    ) -> tuple[str, dict[str, Any], Any, str | None]:
        """Parse a request the fast path refused; raise _Malformed saying exactly what is wrong."""
        rid = ""
        try:
            if len(payload) > MAX_REQUEST_BYTES:
                raise RpcFault("too_large", "请求过大。", "The request is too large.")
            try:
                raw = msgspec.json.decode(payload)
            except ValueError as err:  # msgspec.DecodeError, or UnicodeDecodeError inside a string
                raise RpcFault("bad_json", "请求格式错误（不是有效的JSON）。", f"The request is not valid JSON: {err}") from err
            except RecursionError as err:  # e.g. 30,000 nested arrays in 60 KB: refused, not a traceback
                raise RpcFault(
                    "bad_json", "请求格式错误（JSON嵌套过深）。", f"The request's JSON is nested too deeply: {err}"
                ) from err
            if not isinstance(raw, dict):
                raise RpcFault("bad_request", "请求格式错误（应为JSON对象）。", "The request must be a JSON object.")
            rid_val = raw.get("request_id")
            rid = rid_val if isinstance(rid_val, str) else ""
            if not reply_topic and isinstance(raw.get("reply_to"), str):
                reply_topic = raw["reply_to"]
            if reply_topic and not reply_topic.startswith(self.bus.topics.reply_prefix()):
                log.warning("request %s names a reply topic outside reply/: %r; ignored", rid, reply_topic)
                reply_topic = None
            if not rid or len(rid) > 100:
                raise RpcFault("bad_request", "请求缺少request_id。", "The request has no request_id.")
            req_type = self.methods.get(method)
            if req_type is None:
                raise unknown_method(method)
            try:
                body = msgspec.convert(raw, type=req_type)
            except msgspec.ValidationError as err:
                raise RpcFault("bad_request", f"请求内容有误：{err}", f"Invalid request: {err}") from err
            if body.v != schemas.SCHEMA_VERSION:
                raise RpcFault("bad_version", f"不支持的协议版本 {body.v}。", f"Unsupported payload version {body.v}.")
        except RpcFault as fault:
            raise _Malformed(fault, rid, reply_topic) from None
        return rid, raw, body, reply_topic

    def _handle(self, batch: list[Request]) -> None:
        try:
            replies = self.dispatcher.handle_batch(batch)
        except Exception:
            log.exception("dispatcher failed on a batch of %d requests", len(batch))
            replies = [error_reply(r.request_id, internal_fault()) for r in batch]
        try:
            for req, reply in zip(batch, replies, strict=True):
                self.handled += 1
                if req.reply_topic:
                    self._send(req.reply_topic, req.correlation, reply)
        finally:  # acknowledged behind their answers; never left unacknowledged (the broker would stop)
            for req in batch:
                if req.ack is not None:
                    req.ack()
        # Optional hook: a dispatcher publishes what its batch changed once the replies
        # are out, so a caller's answer is not delayed by state publishing.
        after = self._after
        if after is not None:
            try:
                after()
            except Exception:
                log.exception("after_replies of the dispatcher failed")

    def _send(self, topic: str, corr: bytes | None, reply: schemas.RpcReply) -> None:
        props = PublishProperties(correlation=corr) if corr else None
        self.bus.publish(topic, reply, qos=1, properties=props)


def _source_key(req: Request) -> str:
    return req.source
