"""The "hostile node" phase of bench/reliability.py (issue 17): a counter's latency under attack.

    .venv/bin/python bench/reliability.py --phase hostile [--attack-s 10] [--attackers-own-cpu] [--no-broker-limits]

The sample hall behind the broker config `hallbus broker-config` generates (ACL, size
limits, client ids bound to logins, node keys, per-login publish budgets: the broker
plugin of [broker_limits], off with --no-broker-limits), its controller a real `hallbus
serve` process. A counter (counter-3, signed) pauses and resumes its window every 50 ms,
alone for the same time right before each attack, then while a tablet (tablet-3) and a
terminal (terminal-1), each in a process of its own with its real generated credentials,
attack at full speed with what the broker still lets them do:

- flood: the terminal sends `ticket.issue` requests as fast as the broker takes them;
- big: payloads just under the broker's limit on the RPC topics the login may write
  (`rating.submit`, `case.query`) and retained on its own device-health topic;
- huge: 50 MiB publishes (the broker closes the connection before reading them);
- storm: reconnecting under the client id `controller`, without a pause (the broker plugin
  refuses a storming login for a growing while: `storm_let_in` / `storm_connack_refused`).

(One more kind, `spoof`, is not part of the phase: unsigned requests whose reply topic
claims to be the counter's, as tests/hallbus/deploy/test_rpc_fairness.py sends them.)

A login is one connection (the username is the client id), so an attacker's own
connections also replace each other. Figures: the counter's p50/p99 under each attack and
alone right before it (bar: p99 within 2x), the load average around each, its failed
requests, whether a screen saw the controller leave, the broker's peak memory, and what
the attackers got through. Whatever the
controller answers the flood (tickets, refusals, rate limits) is counted by code, so
the figures stay meaningful as the controller gains limits of its own.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import re
import resource
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench._common import pct  # noqa: E402
from bench._hall import Serve  # noqa: E402
from hallbus.brokerurl import BrokerAddress  # noqa: E402
from hallbus.client import BusClient  # noqa: E402
from hallbus.deploy import brokerconf  # noqa: E402
from hallbus.localbroker import LocalBroker, free_port  # noqa: E402
from hallbus.nodesign import sign  # noqa: E402
from hallbus.rpc import RpcClient, RpcFault  # noqa: E402
from hallbus.sample import all_day_text, open_all_day  # noqa: E402
from hallbus.wire import PublishProperties  # noqa: E402

KINDS = ("flood", "big", "huge", "storm")
# The request each login floods with (the tablet signs its ratings with its node key, as a real one does)
FLOOD = {"terminal": "ticket.issue", "tablet": "rating.submit"}
BIG_TOPIC = {"terminal": "case.query", "tablet": "rating.submit"}
HUGE_BYTES = 50 * 1024 * 1024
ATTACKERS = (("terminal", "terminal-1"), ("tablet", "tablet-3"))
# The counter's requests start at most this often: a clerk presses far less often, and back to
# back (~500 a second) it would be over its own budget ([rpc_limits] 20 a second) and shed.
COUNTER_PACE_S = 0.05
SPOOFED = "counter-3"  # the node whose name `spoof` claims


# --- the attacker process ------------------------------------------------------------------

class Attacker:
    """One node's login used at full speed from threads of one process; counts what it did."""

    def __init__(self, creds: dict[str, Any], port: int, hall: str, role: str) -> None:
        self.creds, self.port, self.role = creds, port, role
        self.root = f"hall/v1/{hall}/"
        self.node = creds["username"]
        self.stop = threading.Event()
        self.counts: dict[str, int] = {}
        self.lock = threading.Lock()

    def count(self, what: str, n: int = 1) -> None:
        with self.lock:
            self.counts[what] = self.counts.get(what, 0) + n

    def client(self, client_id: str) -> mqtt.Client:
        c = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        c.username_pw_set(self.creds["username"], self.creds["password"])
        c.max_inflight_messages_set(100)
        return c

    def connected(self, client_id: str) -> mqtt.Client | None:
        c = self.client(client_id)
        up = threading.Event()

        def on_connect(_c: Any, _u: Any, _f: Any, rc: Any, _p: Any = None) -> None:
            if not rc.is_failure:
                up.set()

        c.on_connect = on_connect
        try:
            c.connect("127.0.0.1", self.port, keepalive=10)
        except OSError:
            return None
        c.loop_start()
        if up.wait(2):
            return c
        c.loop_stop()
        return None

    def publish_loop(self, what: str, topic: str, payload: Any, *, retain: bool = False) -> None:
        """Publish at QoS 1 as fast as the broker acknowledges (at most 200 unacknowledged), reconnecting."""
        while not self.stop.is_set():
            c = self.connected(f"{self.node}-{what}")
            if c is None:
                self.count(f"{what}_connect_failed")
                continue
            unacked = threading.BoundedSemaphore(200)
            c.on_publish = lambda *_a, s=unacked: s.release()
            while not self.stop.is_set() and c.is_connected():
                if not unacked.acquire(timeout=0.5):
                    continue
                data, props = payload() if callable(payload) else (payload, None)
                info = c.publish(topic, data, qos=1, retain=retain, properties=props)
                if info.rc != mqtt.MQTT_ERR_SUCCESS:
                    unacked.release()
                    break
                self.count(f"{what}_sent")
            c.disconnect()
            c.loop_stop()
            self.count(f"{what}_reconnects")

    def flood(self) -> None:
        reply = f"{self.root}reply/{self.node}/{uuid.uuid4()}/0"
        method = FLOOD[self.role]
        key = bytes.fromhex(self.creds["node_key"])

        def request() -> tuple[bytes, Any]:
            rid = str(uuid.uuid4())
            body: dict[str, Any] = {"v": 1, "request_id": rid, "reply_to": reply, "node": self.node,
                                    "sig": sign(key, self.node, method, rid)}
            if method == "ticket.issue":
                body["service"] = "A"
            else:
                body.update(rating_id=rid, level=1, window="3", reasons=["attitude"])
            return json.dumps(body).encode(), PublishProperties(response_topic=reply, correlation=rid.encode(),
                                                                expiry_s=5)

        self.publish_loop("flood", f"{self.root}rpc/{method}", request)

    def spoof(self) -> None:
        """Unsigned `stats.today` requests whose reply topic claims to be counter-3's (SPOOFED)."""
        reply = f"{self.root}reply/{SPOOFED}/{uuid.uuid4()}/0"

        def request() -> tuple[bytes, Any]:
            rid = str(uuid.uuid4())
            body = {"v": 1, "request_id": rid, "reply_to": reply}
            return json.dumps(body).encode(), PublishProperties(response_topic=reply, correlation=rid.encode(),
                                                                expiry_s=5)

        self.publish_loop("spoof", f"{self.root}rpc/stats.today", request)

    def big(self) -> None:
        pad = "x" * (brokerconf.MESSAGE_SIZE_LIMIT - 1024)
        data = json.dumps({"v": 1, "request_id": "big", "pad": pad}).encode()
        topics = [f"{self.root}rpc/{BIG_TOPIC[self.role]}", f"{self.root}node/{self.node}/devices"]
        threads = [threading.Thread(target=self.publish_loop, args=(f"big{i}", t, data),
                                    kwargs={"retain": "node/" in t}, daemon=True) for i, t in enumerate(topics)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    def huge(self) -> None:
        data = b"x" * HUGE_BYTES
        while not self.stop.is_set():
            c = self.connected(f"{self.node}-huge")
            if c is None:
                self.count("huge_connect_failed")
                continue
            c.publish(f"{self.root}node/{self.node}/status", data, qos=1, retain=True)
            self.count("huge_sent")
            end = time.monotonic() + 5
            while c.is_connected() and time.monotonic() < end and not self.stop.is_set():
                time.sleep(0.01)
            c.disconnect()
            c.loop_stop()

    def storm(self) -> None:
        """Connect and disconnect without a pause; counts the connections let in and those the broker
        refused with a CONNACK (the plugin's reconnect-storm refusal) or at TCP level."""
        answers: list[bool] = []
        while not self.stop.is_set():
            c = self.client("controller")
            c.on_connect = lambda _c, _u, _f, rc, _p=None: answers.append(not rc.is_failure)
            try:
                c.connect("127.0.0.1", self.port, keepalive=10)
                c.loop(0.02)
                c.disconnect()
                self.count("storm_connects")
            except OSError:
                self.count("storm_refused")
        self.count("storm_let_in", sum(answers))
        self.count("storm_connack_refused", len(answers) - sum(answers))

    def run(self, kinds: list[str], seconds: float) -> dict[str, int]:
        threads = [threading.Thread(target=getattr(self, a), daemon=True) for a in kinds]
        for t in threads:
            t.start()
        time.sleep(seconds)
        self.stop.set()
        for t in threads:
            t.join(10)
        return dict(sorted(self.counts.items()))


def attacker_main(argv: list[str]) -> int:
    """`hostile.py --attack ROLE --kinds flood,big --creds FILE --port P --hall H --seconds S`: one attacker."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--attack", choices=sorted(FLOOD), required=True)
    ap.add_argument("--kinds", required=True, help="comma-separated: " + ",".join((*KINDS, "spoof")))
    ap.add_argument("--creds", type=Path, required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--hall", required=True)
    ap.add_argument("--seconds", type=float, required=True)
    args = ap.parse_args(argv)
    creds = json.loads(args.creds.read_text())
    counts = Attacker(creds, args.port, args.hall, args.attack).run(args.kinds.split(","), args.seconds)
    print(json.dumps(counts))
    return 0


# --- the phase ---------------------------------------------------------------------------

class SecuredSample:
    """The sample hall behind its generated broker config, the controller as a real process."""

    def __init__(self, tmp: Path, broker_limits: bool = True) -> None:
        self.out = tmp / "broker"
        text = all_day_text(tmp).replace("[privacy]\n", f'[privacy]\nnode_keys_file = "{self.out}/node-keys.json"\n', 1)
        if not broker_limits:  # the figures before the broker's per-login budgets, for comparison
            text, n = re.subn(r"(?m)^(\[broker_limits\][^\n]*\n)enabled = true", r"\1enabled = false", text)
            assert n == 1, "no [broker_limits] enabled = true in the sample config"
        self.config_path, self.cfg = open_all_day(tmp, text=text)
        port = free_port()
        (self.out / "persist").mkdir(parents=True)
        files = brokerconf.build(self.cfg, out_dir=self.out, listen="127.0.0.1", port=port,
                                 persistence_dir=f"{self.out}/persist/", run_as=getpass.getuser())
        brokerconf.write(files, self.out)
        self.broker = LocalBroker(self.out, port, conf_file=self.out / "mosquitto.conf")
        login = {"HALL_MQTT_USERNAME": "controller", "HALL_MQTT_PASSWORD": self.creds("controller")["password"]}
        self.serve = Serve(self.config_path, self.broker, tmp / "data", env=login)
        self.log = self.serve.log

    def creds(self, node: str) -> dict[str, Any]:
        return dict(json.loads((self.out / "credentials" / f"{node}.json").read_text()))

    def address(self, node: str) -> BrokerAddress:
        c = self.creds(node)
        return BrokerAddress("127.0.0.1", self.broker.port, c["username"], c["password"])

    def start(self) -> None:
        self.broker.start()
        self.serve.start()

    def alive(self) -> bool:
        return self.serve.alive()

    def peak_rss_mb(self) -> float:
        assert self.broker.proc is not None
        for line in Path(f"/proc/{self.broker.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
        return float("nan")

    def stop(self) -> None:
        self.serve.stop()
        self.broker.stop()


def counter_run(rpc: RpcClient, seconds: float) -> dict[str, Any]:
    """Pause and resume window 3 every COUNTER_PACE_S for `seconds`; latencies of the answered, codes of the failed."""
    lat: list[float] = []
    failed: dict[str, int] = {}
    end = time.monotonic() + seconds
    i = 0
    t0 = time.perf_counter() - COUNTER_PACE_S
    while time.monotonic() < end:
        method = "window.resume" if i % 2 else "window.pause"
        i += 1
        time.sleep(max(0.0, COUNTER_PACE_S - (time.perf_counter() - t0)))
        t0 = time.perf_counter()
        try:
            rpc.call(method, {"window": "3", "reason": "bench"}, timeout=5)
            lat.append(time.perf_counter() - t0)
        except RpcFault as f:
            if f.code in ("timeout", "unavailable"):
                failed[f.code] = failed.get(f.code, 0) + 1
                time.sleep(0.05)
            else:
                lat.append(time.perf_counter() - t0)  # an answer all the same
    ms = [v * 1000 for v in lat]
    if not ms:  # not one answer in time
        return {"calls": 0, "p50_ms": None, "p99_ms": None, "max_ms": None, "failed": failed}
    return {"calls": len(lat), "p50_ms": round(pct(ms, 50), 2), "p99_ms": round(pct(ms, 99), 2),
            "max_ms": round(max(ms), 1), "failed": failed}


def split_cpus() -> tuple[set[int], set[int]] | None:
    """(the hall's CPUs, the attackers' CPU) when there are two or more, else None."""
    cpus = sorted(os.sched_getaffinity(0))
    return (set(cpus[:-1]), {cpus[-1]}) if len(cpus) >= 2 else None


def attack(
    hall: SecuredSample, rpc: RpcClient, kinds: list[str], seconds: float, attacker_cpus: set[int] | None = None
) -> dict[str, Any]:
    """The counter measured while the terminal and the tablet attack with `kinds` (in processes of their own).

    With `attacker_cpus` the attackers run on those CPUs only, as on devices of their own.
    """
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    pin = (lambda: os.sched_setaffinity(0, attacker_cpus)) if attacker_cpus else None
    procs = [subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "--attack", role, "--kinds", ",".join(kinds),
         "--creds", str(hall.out / "credentials" / f"{node}.json"), "--port", str(hall.broker.port),
         "--hall", hall.cfg.hall.id, "--seconds", str(seconds + 2)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, preexec_fn=pin) for role, node in ATTACKERS]
    try:
        time.sleep(2.0)  # the attack at full speed before measuring
        measured = counter_run(rpc, seconds)
        got: dict[str, dict[str, int]] = {}
        for (role, _node), p in zip(ATTACKERS, procs, strict=True):
            out, _ = p.communicate(timeout=60)
            lines = out.decode().strip().splitlines()
            got[role] = json.loads(lines[-1]) if lines else {}
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait(5)
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime)
    return {**measured, "attackers": got, "attackers_cpu_s": round(cpu, 1), "broker_peak_mb": hall.peak_rss_mb()}


def phase_hostile(
    tmp: Path, attack_s: float = 10.0, own_cpu: bool = False, broker_limits: bool = True
) -> dict[str, Any]:
    """The counter alone, then under each attack; `own_cpu`: the attackers on a CPU of their own.

    `broker_limits` False: the broker without its per-login budgets ([broker_limits] off), to
    compare with the figures before them on the same machine at the same time.

    On one machine the attackers' own work (~120 us of CPU per request sent) comes out of the
    hall server's cores, which a terminal or tablet on the hall's network never does. With
    `own_cpu` the attackers are pinned to the last CPU and the hall (broker, controller,
    counter) to the others: a server with one core less, and attackers that cannot slow it
    but by what they send.
    """
    split = split_cpus() if own_cpu else None
    if split is not None:
        os.sched_setaffinity(0, split[0])  # the broker and the controller started below inherit it
    hall = SecuredSample(tmp / "hostile", broker_limits)
    hall.start()
    hid = hall.cfg.hall.id
    screen = BusClient(hall=hid, node="hall-1", role="hall", broker=hall.address("hall-1"))
    controller_seen: list[str] = []
    online = threading.Event()

    def on_controller(_t: str, payload: bytes, _p: Any) -> None:
        state = json.loads(payload).get("state") if payload else None
        controller_seen.append(str(state))
        if state == "online":
            online.set()

    screen.subscribe(screen.topics.node_status("controller"), on_controller)
    counter_bus = BusClient(hall=hid, node="counter-3", role="counter", broker=hall.address("counter-3"))
    buses = [screen, counter_bus]
    try:
        for b in buses:
            b.start(wait=5)
        if not online.wait(20):
            raise RuntimeError(f"controller did not come online; see {hall.log}")
        rpc = RpcClient(counter_bus, node_key=bytes.fromhex(hall.creds("counter-3")["node_key"]))
        rpc.call("window.login", {"window": "3", "staff": "s003", "password": "hall003"}, timeout=10)
        counter_run(rpc, 1.0)  # warm up
        rss_before = hall.peak_rss_mb()
        seen_before = len(controller_seen)
        theirs = split[1] if split is not None else None
        runs: dict[str, dict[str, Any]] = {}
        for kind, kinds in [*((k, [k]) for k in KINDS), ("all", list(KINDS))]:
            # The counter alone right before each attack: on a shared machine other work comes and goes,
            # so each attack is set against the moment next to it.
            load0 = os.getloadavg()[0]
            alone = counter_run(rpc, attack_s)
            runs[kind] = {**attack(hall, rpc, kinds, attack_s, theirs), "alone": alone,
                          "load": (round(load0, 2), round(os.getloadavg()[0], 2))}
        for r in runs.values():  # no answer at all: no ratio (None), and the bar is not met
            a = r["alone"]["p99_ms"]
            r["p99_ratio"] = round(r["p99_ms"] / a, 2) if r["p99_ms"] and a else None
        ratios = [r["p99_ratio"] for r in runs.values()]
        worst = None if None in ratios else max(ratios)
        return {
            "attack_s": attack_s, "attackers_own_cpu": split is not None, "alone": runs["flood"]["alone"],
            "attacked": runs, "worst_p99_ratio": worst,
            "p99_within_2x": worst is not None and worst <= 2.0,
            "counter_failed": sum(sum(r["failed"].values()) for r in runs.values()),
            "controller_seen_not_online": [s for s in controller_seen[seen_before:] if s != "online"],
            "controller_alive": hall.alive(), "counter_connections": counter_bus.connect_count,
            "broker_peak_mb_before": rss_before, "broker_peak_mb_after": hall.peak_rss_mb(),
            "broker_limits": hall.cfg.broker_limits.enabled,
        }
    finally:
        for b in buses:
            b.stop()
        hall.stop()


def describe(r: dict[str, Any]) -> str:
    """The figures, a line per attack (each beside the counter alone just before it, and the load average)."""
    lines = [f"hostile nodes (broker limits {'on' if r.get('broker_limits', True) else 'off'}; attackers "
             f"{'on a CPU of their own' if r['attackers_own_cpu'] else 'sharing the CPUs'}):"]
    for kind, h in r["attacked"].items():
        a = h["alone"]
        ratio = f"{h['p99_ratio']}x" if h["p99_ratio"] is not None else "no answer"
        lines.append(f"  {kind:5} attack: p50 {h['p50_ms']} ms p99 {h['p99_ms']} ms ({ratio} of alone p50 "
                     f"{a['p50_ms']} p99 {a['p99_ms']} ms; {h['calls']} calls, failed {h['failed'] or 0}); "
                     f"load {h['load'][0]}-{h['load'][1]}; broker peak {h['broker_peak_mb']} MiB; attackers used "
                     f"{h['attackers_cpu_s']} CPU s: {h['attackers']}")
    worst = f"{r['worst_p99_ratio']}x" if r["worst_p99_ratio"] is not None else "no answer"
    lines.append(f"  worst p99 {worst} (bar 2x: {'met' if r['p99_within_2x'] else 'NOT met'}); "
                 f"controller seen leaving: {r['controller_seen_not_online'] or 'never'}; broker peak memory "
                 f"{r['broker_peak_mb_before']} -> {r['broker_peak_mb_after']} MiB")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(attacker_main(sys.argv[1:]))
