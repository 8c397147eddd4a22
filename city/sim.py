"""Simulated halls for the city: `python -m city.sim --halls 500 --broker mqtt://HOST:PORT`.

Each hall publishes what its bridge would forward to the city broker (hallbus/deploy/brokerconf.py
`bridge_config`): retained node presence and device health, window state, queue state and the
day's figures, alert events, and the bridge's own notice (`bridge/city-{hall}/connected`: `1`,
and `0` when it drops). Figures move through a day (people come, wait, are served and rate);
now and then a device fails, a case goes overdue, and a hall drops off and comes back.

    --write-config FILE --db URL   also write a city.toml listing the simulated halls
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import random
import socket
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from hallbus import schemas
from hallbus.brokerurl import parse_broker_url
from hallbus.paho_private import close_sockets
from hallbus.topics import Topics

log = logging.getLogger(__name__)

DISTRICTS = ("渝中区", "江北区", "南岸区", "沙坪坝区", "九龙坡区", "渝北区", "巴南区", "北碚区", "万州区", "涪陵区")
KINDS = ("county", "township", "township", "township")
SERVICES = (("A", "社保医保"), ("B", "不动产登记"), ("C", "户籍证照"), ("D", "企业开办"))
Message = tuple[str, bytes, bool]  # topic, payload, retained
WINDOW = 5000  # messages the simulator sends before it waits for the broker's acknowledgements


def hall_ids(n: int) -> list[str]:
    """The simulated halls' ids: sim-0001, sim-0002, ..."""
    return [f"sim-{i:04d}" for i in range(1, n + 1)]


@dataclass
class SimHall:
    """One simulated hall: its windows, nodes and the day's figures, moving a step at a time."""

    id: str
    rng: random.Random
    windows: int = 6
    waiting: list[int] = field(default_factory=lambda: [0] * len(SERVICES))
    issued: int = 0
    served: int = 0
    ratings: int = 0
    good: int = 0
    overdue: int = 0
    followups: int = 0
    faulty: set[str] = field(default_factory=set)
    oldest: list[dt.datetime | None] = field(default_factory=lambda: [None] * len(SERVICES))
    online: bool = True

    def __post_init__(self) -> None:
        self.t = Topics(self.id)
        self.load = self.rng.uniform(0.3, 2.0)  # a busy city hall or a quiet township

    def _enc(self, obj: Any) -> bytes:
        return schemas.encode(obj)

    def initial(self, now: dt.datetime) -> list[Message]:
        """The retained state a hall's bridge forwards when it connects."""
        ts = now.isoformat()
        out: list[Message] = [(self.bridge_topic, b"1", True)]
        nodes = [("controller", "controller"), ("terminal-1", "terminal"), ("hall-screen", "hall")]
        nodes += [(f"counter-{w}", "counter") for w in range(1, self.windows + 1)]
        for node, role in nodes:
            out.append((self.t.node_status(node), self._enc(
                schemas.NodeStatus(state="online", role=role, session=f"{self.id}-{node}", sw="0.1.0", ts=ts)), True))
        out.append(self.devices(ts))
        for w in range(1, self.windows + 1):
            out.append((self.t.window_state(str(w)), self._enc(schemas.WindowState(
                window=str(w), name=f"{w}号窗口", status="idle", services=[SERVICES[w % len(SERVICES)][0]],
                since=ts, ts=ts)), True))
        out += [self.queue(now), self.stats(now)]
        return out

    @property
    def bridge_topic(self) -> str:
        """The bridge's notice topic (`notification_topic` of the bridge config)."""
        return f"{self.t.root}bridge/city-{self.id}/connected"

    def devices(self, ts: str) -> Message:
        """The terminal's device health."""
        def health(d: str) -> schemas.DeviceHealth:
            return schemas.DeviceHealth(state="error" if d in self.faulty else "ok")

        devices = schemas.NodeDevices(idcard=health("idcard"), printer=health("printer"), camera=health("camera"),
                                      scanner=health("scanner"), ts=ts)
        return (self.t.node_devices("terminal-1"), self._enc(devices), True)

    def queue(self, now: dt.datetime) -> Message:
        """The queue state now."""
        services = [schemas.ServiceQueue(code=c, name=n, waiting=self.waiting[i], est_wait_s=self.waiting[i] * 240,
                                         windows_open=2, oldest_issued_at=o.isoformat() if o else None)
                    for i, ((c, n), o) in enumerate(zip(SERVICES, self.oldest, strict=True))]
        return (self.t.queue_state, self._enc(schemas.QueueState(services=services, total_waiting=sum(self.waiting),
                                                                  ts=now.isoformat())), True)

    def stats(self, now: dt.datetime) -> Message:
        """The day's figures now."""
        rate = round(self.good / self.ratings, 4) if self.ratings else None
        return (self.t.stats_today, self._enc(schemas.StatsToday(
            visitors=self.issued, tickets_issued=self.issued, served=self.served, ratings=self.ratings,
            satisfaction_rate=rate, overdue_cases=self.overdue, followups_open=self.followups,
            on_time_rate=1.0 if not self.overdue else max(0.0, round(1 - self.overdue / max(1, self.served), 4)),
            date=now.date().isoformat(), ts=now.isoformat())), True)

    def step(self, now: dt.datetime) -> list[Message]:
        """One moment of the hall's day: people come and are served; now and then something goes wrong."""
        r = self.rng
        out: list[Message] = []
        i = r.randrange(len(SERVICES))
        if r.random() < 0.55 * self.load:
            self.waiting[i] += 1
            self.issued += 1
            if self.oldest[i] is None:
                self.oldest[i] = now
        elif self.waiting[i]:
            self.waiting[i] -= 1
            self.served += 1
            self.oldest[i] = now - dt.timedelta(seconds=240 * self.waiting[i]) if self.waiting[i] else None
            if r.random() < 0.6:
                self.ratings += 1
                self.good += r.random() < 0.95
        out.append(self.queue(now))
        out.append(self.stats(now))
        roll = r.random()
        if roll < 0.02:
            device = r.choice(("printer", "idcard", "camera", "scanner"))
            self.faulty ^= {device}
            out.append(self.devices(now.isoformat()))
            if device in self.faulty:
                out.append(self.alert(now, "device", "warn", f"终端 terminal-1 {device} 故障"))
        elif roll < 0.03:
            self.overdue += 1
            out.append(self.alert(now, "case_deadline", "overdue", f"办件 C{r.randrange(10**6):06d} 已超期"))
        elif roll < 0.05:
            w = r.randrange(1, self.windows + 1)
            out.append((self.t.window_state(str(w)), self._enc(schemas.WindowState(
                window=str(w), name=f"{w}号窗口", status=r.choice(("idle", "serving", "paused")),
                services=[SERVICES[w % len(SERVICES)][0]], since=now.isoformat(), ts=now.isoformat())), True))
        return out

    def alert(self, now: dt.datetime, kind: str, level: str, subject: str) -> Message:
        """An alert event."""
        return (self.t.alerts, self._enc(schemas.Alert(kind=kind, level=level, subject=subject,  # type: ignore[arg-type]
                                                       ts=now.isoformat())), False)


def stream(halls: list[SimHall], start: dt.datetime, step_s: float = 1.0) -> Iterator[Message]:
    """Every hall's messages, a step of each in turn, the clock moving `step_s` per round."""
    now = start
    while True:
        for h in halls:
            if h.online:
                yield from h.step(now)
        now += dt.timedelta(seconds=step_s)


def write_config(path: Path, ids: list[str], db_url: str, broker: str, listen: str = "127.0.0.1:8090",
                 token_file: str | None = None, seed: int = 1, broker_login: str = "") -> None:
    """A city.toml listing the simulated halls (names and districts as the simulator makes them).

    `broker_login`: `[broker]` lines of hallcity's login (`CityBroker.toml_lines`); the login in
    `broker`'s URL (the simulator's) is never written.
    """
    b = parse_broker_url(broker)
    rng = random.Random(seed)
    lines = ["# Written by `python -m city.sim --write-config`: the simulated halls.", "[broker]",
             f'host = "{b.host}"', f"port = {b.port}", broker_login, "[db]", f'url = "{db_url}"', "", "[web]",
             f'listen = "{listen}"']
    if token_file:
        lines.append(f'token_file = "{token_file}"')
    for n, hid in enumerate(ids, start=1):
        district = DISTRICTS[n % len(DISTRICTS)]
        kind = KINDS[rng.randrange(len(KINDS))]
        lines += ["", "[[halls]]", f'id = "{hid}"', f'name = "{district}第{n}政务服务中心"',
                  f'district = "{district}"', f'kind = "{kind}"']
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _nodelay(_c: mqtt.Client, _u: Any, sock: Any) -> None:
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # SPEC 3


class Publisher:
    """A paho client publishing as the halls' bridges would (QoS 1, the retain flag kept)."""

    def __init__(self, broker: str, client_id: str = "city-sim") -> None:
        b = parse_broker_url(broker).with_env_credentials()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        self.client.max_inflight_messages_set(1000)
        self.client.max_queued_messages_set(0)
        if b.username:
            self.client.username_pw_set(b.username, b.password)
        self.client.on_socket_open = _nodelay
        self._up = threading.Event()
        self.client.on_connect = lambda _c, _u, _f, rc, _p=None: self._up.set() if not rc.is_failure else None
        self.client.connect(b.host, b.port, keepalive=30)
        self.client.loop_start()
        if not self._up.wait(10):
            raise RuntimeError(f"城市代理无法连接 ({b.url})。 The city broker at {b.url} did not accept the simulator.")

    def send(self, messages: list[Message] | Iterator[Message], qos: int = 1) -> mqtt.MQTTMessageInfo | None:
        """Publish every message, at most `WINDOW` unacknowledged at once; the last one's info."""
        info = None
        for n, (topic, payload, retain) in enumerate(messages, start=1):
            info = self.client.publish(topic, payload, qos=qos, retain=retain)
            if qos and n % WINDOW == 0:
                info.wait_for_publish(60)
        return info

    def close(self) -> None:
        """Wait for what is in flight, then disconnect and close the client's sockets (paho's wake-up pair too)."""
        self.client.loop_stop()
        self.client.disconnect()
        close_sockets(self.client)


def main(argv: list[str] | None = None) -> int:
    """Play N halls against a broker until interrupted (or `--duration` seconds)."""
    p = argparse.ArgumentParser(prog="python -m city.sim", description="Simulated halls for the city broker.")
    p.add_argument("--halls", type=int, default=50)
    p.add_argument("--broker", default="mqtt://127.0.0.1:1883",
                   help="mqtt://[USER:PASS@]HOST:PORT: on the broker `hallcity broker-config --sim` writes, hallsim's login")
    p.add_argument("--rate", type=float, default=2.0, help="steps per hall per second (default 2)")
    p.add_argument("--duration", type=float, default=0, help="seconds to run (0: until interrupted)")
    p.add_argument("--drop-every", type=float, default=60, help="every N s a random hall's bridge drops for a while (0: never)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--write-config", type=Path, default=None)
    p.add_argument("--db", default="postgresql://hallcity@127.0.0.1:5432/hallcity")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    ids = hall_ids(args.halls)
    if args.write_config:
        write_config(args.write_config, ids, args.db, args.broker, seed=args.seed)
        log.info("wrote %s", args.write_config)
    rng = random.Random(args.seed)
    halls = [SimHall(h, random.Random(rng.random())) for h in ids]
    pub = Publisher(args.broker)
    now = dt.datetime.now(dt.UTC).astimezone()
    for h in halls:
        pub.send(h.initial(now))
    log.info("%d halls published their retained state", len(halls))
    t0 = time.monotonic()
    next_drop = t0 + args.drop_every if args.drop_every else float("inf")
    dropped: dict[str, float] = {}
    period = 1 / args.rate
    try:
        while not args.duration or time.monotonic() - t0 < args.duration:
            tick = time.monotonic()
            now = dt.datetime.now(dt.UTC).astimezone()
            for h in halls:
                if h.online:
                    pub.send(h.step(now))
            if tick >= next_drop:
                victim = rng.choice(halls)
                victim.online = False
                dropped[victim.id] = tick + rng.uniform(10, 40)
                pub.send([(victim.bridge_topic, b"0", True)])
                log.info("hall %s dropped off", victim.id)
                next_drop = tick + args.drop_every
            for h in halls:
                if not h.online and dropped.get(h.id, 0) <= tick:
                    h.online = True
                    pub.send(h.initial(now))
                    log.info("hall %s is back", h.id)
            time.sleep(max(0.0, period - (time.monotonic() - tick)))
    except KeyboardInterrupt:
        pass
    pub.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
