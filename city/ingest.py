"""Ingest: every hall's bridged topics, through MQTT 5 shared subscriptions, batched into PostgreSQL.

Several `hallcity` instances subscribe as one group (`$share/{group}/hall/v1/+/...`): the broker
gives each message to one of them, and any may store any message (the writes are idempotent).
A message is acknowledged (PUBACK) only once the transaction holding it has committed, so an
instance killed mid-batch loses nothing it acknowledged: the broker sends what it had not
acknowledged again to its next session, which keeps its client id (`[broker] session_expiry_s`).

Retained state is not sent to shared subscriptions (MQTT 5, 4.8.2): after each connect an
instance also reads the retained state once through plain subscriptions (`RETAINED_SWEEP_S`)
and then drops them; state it reads twice is stored once.

A stopped instance's session is adopted by a live one (city/adopt.py): a second connection
under the stopped one's client id, whose messages go into the same batches and are acknowledged
on that connection after the commit, until the stopped instance comes back and takes it over.

PostgreSQL away: messages stay in memory, unacknowledged, up to `[db] buffer_max`; past it a
message is acknowledged and dropped, and counted (`dropped`, on /healthz). Meanwhile /healthz
says `"db": "delayed"`, and the batch is written as soon as PostgreSQL is back.
"""

from __future__ import annotations

import datetime as dt
import logging
import socket
import threading
import time
import uuid
from collections import Counter
from functools import partial
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from city.adopt import ADOPTED, OFFLINE, ONLINE, PRESENCE_FILTER, Peers, notice, presence_topic
from city.config import CityConfig
from city.db import Batch, write_batch
from city.mqttin import DISCONNECT_ENDING_SESSION, DISCONNECT_WITH_WILL, Login, Subscriber
from city.parse import Parser
from city.retention import Maintainer

log = logging.getLogger(__name__)

# What the hall's bridge forwards (hallbus/deploy/brokerconf.py bridge_config) and what else the city reads.
STATE_FILTERS = ("queue/state", "stats/today", "node/+/status", "node/+/devices", "window/+/state",
                 "bridge/+/connected")
EVENT_FILTERS = ("alerts", "calls")
RETAINED_SWEEP_S = 3.0  # plain subscriptions to the retained state are dropped this long after a connect
RETRY_MAX_S = 5.0


SHARED_ID, SWEEP_ID, PRESENCE_ID = 1, 2, 3  # MQTT 5 subscription identifiers: which of our subscriptions brought a message


def shared(group: str, rel: str) -> str:
    """A shared-subscription filter over every hall: `$share/{group}/hall/v1/+/{rel}`."""
    return f"$share/{group}/hall/v1/+/{rel}"


class Ingest:
    """One instance's consumer: the subscriber's thread takes messages, a writer thread stores them in batches."""

    def __init__(self, cfg: CityConfig, pool: ConnectionPool[Any], *, instance: str | None = None) -> None:
        self.cfg = cfg
        self.pool = pool
        self.parser = Parser({h.id for h in cfg.halls})
        self.lock = threading.Lock()
        self.mids: list[int] = []  # taken into the current batch, not yet acknowledged: connection << 32 | generation << 16 | id
        self.held = 0  # messages taken and not yet stored (the current batch and one that failed)
        self.stored = 0  # messages whose batch has committed
        self.dropped = 0  # messages given up (buffer full, or a batch PostgreSQL refused)
        self.dropped_by_hall: Counter[str] = Counter()
        self.db_ok = True
        self.db_error = ""
        self._batch_since: float | None = None  # monotonic time of the current batch's first message
        self._pending_since: float | None = None  # the same of a batch that failed (kept for a retry)
        self.bus_up = False
        self.subscribed = threading.Event()  # the shared subscriptions are in place (set at each connect)
        self._shared_mid: int | None = None
        self._stop = threading.Event()
        self._writer: threading.Thread | None = None
        self._sweep: threading.Timer | None = None
        self.retention = Maintainer(pool, cfg.db.keep_minutes_days)  # city_minute's partitions (city/retention.py)
        b = cfg.broker
        self.client_id = instance or f"hallcity-{socket.gethostname()}-{uuid.uuid4().hex[:8]}"
        self.sub = Subscriber(self._login(self.client_id), partial(self._on_message, 0), self._on_connect,
                              self._on_disconnect, self._on_suback)
        # connection 0 is our own; the others hold stopped peers' sessions (adopted: their name -> connection)
        self.conns: dict[int, Subscriber] = {0: self.sub}
        self.adopted: dict[str, int] = {}
        self.adoptions = 0  # adopted connections opened since the start
        self._next_conn = 1
        grace = b.adopt_after_s if b.session_expiry_s else 0.0  # no kept session: nothing to adopt
        self.peers = Peers(self.client_id, grace, self._adopt, lambda: self.bus_up and not self._stop.is_set(),
                           lambda: self.sub.publish(presence_topic(self.client_id), notice(ONLINE)))

    # --- the bus -------------------------------------------------------------------------------

    def start(self) -> None:
        """Connect (in the background: the broker may come later) and start the writer."""
        self.sub.start()
        self._writer = threading.Thread(target=self._write_loop, name="hallcity-writer", daemon=True)
        self._writer.start()
        self.retention.start()

    def stop(self) -> None:
        """Store and acknowledge what is taken, then disconnect (the session stays for its expiry)."""
        self._stop.set()
        if self._writer is not None:
            self._writer.join(10)
        if self._sweep is not None:
            self._sweep.cancel()
        self.retention.stop()
        self.peers.stop()
        with self.lock:
            adopted = [self.conns[i] for i in self.adopted.values()]
        for sub in adopted:
            sub.stop(DISCONNECT_WITH_WILL)  # "offline" again: another live instance adopts it
        self.sub.stop(DISCONNECT_WITH_WILL)  # our own "offline": a kept session of a stopped instance is adopted too

    def _on_connect(self, sub: Subscriber) -> None:
        self.bus_up = True
        g = self.cfg.broker.group
        self.subscribed.clear()
        sub.publish(presence_topic(self.client_id), notice(ONLINE))
        self._shared_mid = sub.subscribe([shared(g, rel) for rel in (*STATE_FILTERS, *EVENT_FILTERS)], SHARED_ID)
        sub.subscribe([f"hall/v1/+/{rel}" for rel in STATE_FILTERS], SWEEP_ID)
        sub.subscribe([PRESENCE_FILTER], PRESENCE_ID, qos=0)  # QoS 0: nothing is queued for us while we are away
        if self._sweep is not None:
            self._sweep.cancel()
        self._sweep = threading.Timer(RETAINED_SWEEP_S, self._end_sweep)
        self._sweep.daemon = True
        self._sweep.start()
        log.info("city broker connected; subscribing as %s in group %s", self.client_id, g)

    def _on_suback(self, mid: int, codes: bytes) -> None:
        if mid == self._shared_mid:
            if any(c >= 0x80 for c in codes):
                log.error("the city broker refused a shared subscription (reason codes %s): does it support MQTT 5 $share?",
                          list(codes))
            else:
                self.subscribed.set()

    def _end_sweep(self) -> None:
        self.sub.unsubscribe([f"hall/v1/+/{rel}" for rel in STATE_FILTERS])

    def _on_disconnect(self, reason: str) -> None:
        self.bus_up = False
        self.subscribed.clear()
        log.warning("city broker connection lost (%s); reconnecting", reason)

    def _on_message(self, conn: int, topic: str, payload: bytes, qos: int, mid: int, retain: bool,
                    sub_ids: tuple[int, ...]) -> None:
        sub = self.conns.get(conn)
        if sub is None:
            return  # a connection let go: what it brought comes again to the session's holder
        if sub_ids and SHARED_ID not in sub_ids:
            if PRESENCE_ID in sub_ids:
                if conn == 0:
                    self.peers.seen(topic, payload)
                if qos:
                    sub.ack((mid,))
                return
            if not retain:
                # a live message through the retained sweep: the shared subscription brings it (to one of us)
                if qos:
                    sub.ack((mid,))
                return
        received = dt.datetime.now(dt.UTC)
        with self.lock:
            if self.held >= self.cfg.db.buffer_max:
                # PostgreSQL has been away too long: give the message up, and say so
                hall = topic.split("/")[2] if topic.count("/") >= 3 else "?"
                self.dropped += 1
                self.dropped_by_hall[hall] += 1
                if qos:
                    sub.ack((mid,))
                return
            self.parser.take(topic, payload, received)
            self.held += 1
            if qos:
                self.mids.append(conn << 32 | (sub.generation & 0xFFFF) << 16 | mid)
            if self._batch_since is None:
                self._batch_since = time.monotonic()

    # --- PostgreSQL ----------------------------------------------------------------------------

    def _write_loop(self) -> None:
        pending: tuple[Batch, list[int], int, float | None] | None = None  # a batch that failed: written first, as it was
        delay = self.cfg.db.batch_ms / 1000
        retry = 0.2
        while True:
            stopping = self._stop.wait(delay)
            if pending is None:
                with self.lock:
                    n = self.parser.taken + self.parser.refused
                    batch, mids, since = self.parser.swap(), self.mids, self._batch_since
                    self.mids, self._batch_since = [], None
                    self.parser.taken = self.parser.refused = 0
                if not batch.empty() or mids:
                    pending = (batch, mids, n, since)
            if pending is not None:
                if self._store(*pending):
                    pending = None
                    retry = 0.2
                    delay = self.cfg.db.batch_ms / 1000
                else:
                    delay, retry = retry, min(retry * 2, RETRY_MAX_S)
            if stopping and (pending is None or not self.db_ok):
                return

    def _store(self, batch: Batch, mids: list[int], n: int, since: float | None) -> bool:
        """Write one batch and acknowledge its messages; False when PostgreSQL is away (kept for a retry)."""
        try:
            with self.pool.connection(timeout=2.0) as conn:
                write_batch(conn, batch)
        except (psycopg.OperationalError, PoolTimeout) as err:
            if self.db_ok:
                log.warning("PostgreSQL is away (%s); holding messages in memory (up to %d)",
                            str(err).strip()[:200], self.cfg.db.buffer_max)
            self.db_ok, self.db_error = False, str(err).strip()[:200]
            self._pending_since = since
            return False
        except psycopg.Error as err:  # PostgreSQL refused this batch's data: never retried forever
            log.error("PostgreSQL refused a batch of %d messages (%s); they are dropped and counted", n, err)
            with self.lock:
                self.dropped += n
        else:
            with self.lock:
                self.stored += n
        with self.lock:
            self.held -= n
        if not self.db_ok:
            log.info("PostgreSQL is back; the held messages are stored")
        self.db_ok, self.db_error = True, ""
        self._ack(mids)
        self._pending_since = None
        return True

    def _ack(self, mids: list[int]) -> None:
        """Acknowledge a committed batch's messages, each on the connection it came by."""
        if len(self.conns) == 1:
            gen = self.sub.generation & 0xFFFF  # ids of an earlier connection are not ours to acknowledge any more
            self.sub.ack([m & 0xFFFF for m in mids if m >> 16 == gen])
            return
        by_conn: dict[int, list[int]] = {}
        for m in mids:
            by_conn.setdefault(m >> 32, []).append(m)
        for conn, ms in by_conn.items():
            sub = self.conns.get(conn)
            if sub is not None:  # a connection let go: its session's holder now gets these again (stored once)
                gen = sub.generation & 0xFFFF
                sub.ack([m & 0xFFFF for m in ms if (m >> 16) & 0xFFFF == gen])

    # --- adopted sessions (city/adopt.py) --------------------------------------------------------

    def _login(self, client_id: str, *, reconnect: bool = True) -> Login:
        """hallcity's login under `client_id` (our own, or an adopted peer's), with that session's "offline" as its Will."""
        b = self.cfg.broker
        return Login(b.host, b.port, client_id, b.username, self.cfg.broker_password(), b.tls, b.ca_file, b.keepalive,
                     b.session_expiry_s, will_topic=presence_topic(client_id), will_payload=notice(OFFLINE),
                     reconnect=reconnect)

    def _adopt(self, name: str) -> None:
        """Connect with a stopped peer's client id and clean start 0: its session, and its share, are ours until it is back."""
        with self.lock:
            if name in self.adopted or self._stop.is_set():
                return
            conn, self._next_conn = self._next_conn, self._next_conn + 1
            sub = Subscriber(self._login(name, reconnect=False), partial(self._on_message, conn), self._on_adopted_connect,
                             lambda reason: self._on_adopted_end(name, conn, reason), lambda _m, _c: None)
            self.conns[conn] = sub
            self.adopted[name] = conn
            self.adoptions += 1
        sub.start()

    def _on_adopted_connect(self, sub: Subscriber) -> None:
        name = sub.login.client_id
        if not sub.session_present:
            # its session had expired: nothing waits there; end the new empty one and clear the notice
            log.info("instance %s is offline and its session has expired: nothing to adopt", name)
            sub.publish(presence_topic(name), b"")
            sub.stop(DISCONNECT_ENDING_SESSION)
            self._forget(name)
            return
        # the session's shared subscriptions stay; its plain ones (retained sweep, the notices) are not ours
        sub.unsubscribe([f"hall/v1/+/{rel}" for rel in STATE_FILTERS] + [PRESENCE_FILTER])
        sub.publish(presence_topic(name), notice(ADOPTED, self.client_id))
        log.warning("instance %s is offline: %s adopted its session (its queued, unacknowledged and new messages)",
                    name, self.client_id)

    def _on_adopted_end(self, name: str, conn: int, reason: str) -> None:
        with self.lock:
            sub = self.conns.get(conn)
        taken_over = sub is not None and sub.taken_over
        if self._forget(name, conn):
            if taken_over:
                log.warning("instance %s is back and took its session over; %s let it go", name, self.client_id)
            else:  # Mosquitto 2.0 closes a taken-over connection without DISCONNECT 0x8E: it may be back too
                log.warning("%s let go of the session of instance %s (%s): it is back under its name, or it is"
                            " adopted again if it stays offline", self.client_id, name, reason)
                self.peers.lost(name)

    def _forget(self, name: str, conn: int | None = None) -> bool:
        with self.lock:
            conn = self.adopted.get(name) if conn is None else conn
            if conn is None or self.adopted.get(name) != conn:
                return False
            del self.adopted[name]
            self.conns.pop(conn, None)
            return True

    def health(self) -> dict[str, Any]:
        """What /healthz says of ingest."""
        with self.lock:
            buffered = self.held
            oldest = self._pending_since or self._batch_since
            adopted = sorted(self.adopted)
        lag = round(time.monotonic() - oldest, 1) if oldest is not None else 0.0
        return {
            "bus": "connected" if self.bus_up else "disconnected",
            "subscribed": self.subscribed.is_set(),
            "db": "ok" if self.db_ok else "delayed",
            "db_error": self.db_error,
            "buffered": buffered,
            "lag_s": lag,
            "stored": self.stored,
            "refused": self.parser.refused_total,
            "dropped": self.dropped,
            "instance": self.client_id,
            "adopted": adopted,
            "adoptions": self.adoptions,
            "retention": self.retention.health(),
        }
