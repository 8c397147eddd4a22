"""Reliability under faults, with real processes (SPEC section 10, issue 10).

    .venv/bin/python bench/reliability.py [--phase restart|kill|garbage|hostile|all]

1. broker restart under load: the controller (`hallbus serve`, a real process) and one
   bus client per node of the sample hall (39) while two terminals issue tickets; the
   broker is restarted (no persistence, so it forgets every retained message). Figures:
   the time each node takes to be back, and whether the retained state (12 windows,
   queue, stats, recent calls, every node's presence) is there again within 2 s.
2. controller kill -9 under load: terminals issue tickets and a counter + tablet pair
   calls, finishes and rates, while the controller is killed with SIGKILL and
   restarted. Figures: acknowledged tickets and ratings missing after restart (must be 0),
   ticket numbers issued twice (must be 0).
3. garbage: 10,000 malformed payloads on every topic the controller and the screens
   subscribe to; then the controller must still answer correctly and every node still
   be connected. Figure: correct answers afterwards, processes alive.
4. hostile nodes (bench/hostile.py): behind the generated broker config, a counter's RPC
   latency alone and while a tablet and a terminal attack at full speed with their real
   credentials (request floods, payloads at the size limit, huge publishes, reconnect
   storms as `controller`). Figures: p50/p99 both ways (bar: p99 within 2x), failed
   counter requests, the controller seen leaving, the broker's peak memory.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench._common import emit  # noqa: E402
from bench._hall import Serve  # noqa: E402
from bench.hostile import describe, phase_hostile  # noqa: E402
from hallbus.brokerurl import parse_broker_url  # noqa: E402
from hallbus.client import BusClient  # noqa: E402
from hallbus.config import HallConfig  # noqa: E402
from hallbus.localbroker import LocalBroker  # noqa: E402
from hallbus.rpc import RpcClient, RpcFault  # noqa: E402
from hallbus.sample import open_all_day  # noqa: E402


def call(rpc: RpcClient, method: str, body: dict[str, Any], *, rid: str | None = None,
         deadline_s: float = 20.0) -> dict[str, Any]:
    """Call with retries through outages, keeping the request_id (idempotent)."""
    rid = rid or str(uuid.uuid4())
    end = time.monotonic() + deadline_s
    while True:
        try:
            return rpc.call(method, body, timeout=2.0, request_id=rid)
        except RpcFault as f:
            if f.code not in ("timeout", "unavailable") or time.monotonic() > end:
                raise
            time.sleep(0.05)


class Issuer(threading.Thread):
    """A terminal issuing tickets as fast as the controller answers; records what was acknowledged."""

    def __init__(self, rpc: RpcClient, services: list[str]) -> None:
        super().__init__(daemon=True)
        self.rpc, self.services = rpc, services
        self.acked: list[str] = []
        self.refused: dict[str, int] = {}
        self.stop_flag = threading.Event()

    def run(self) -> None:
        i = 0
        while not self.stop_flag.is_set():
            svc = self.services[i % len(self.services)]
            i += 1
            try:
                data = call(self.rpc, "ticket.issue", {"service": svc})
                self.acked.append(data["ticket"]["number"])
            except RpcFault as f:
                self.refused[f.code] = self.refused.get(f.code, 0) + 1
                time.sleep(0.01)


def make_nodes(cfg: HallConfig, broker: LocalBroker) -> list[BusClient]:
    """One bus client per node in the config, subscribed to what that role's screen reads."""
    addr = parse_broker_url(broker.url)
    out = []
    for n in cfg.nodes:
        bus = BusClient(hall=cfg.hall.id, node=n.id, role=n.role, broker=addr)
        t = bus.topics
        subs = {"terminal": [t.queue_state], "counter": [t.window_state(n.window or ""), t.queue_state],
                "tablet": [t.window_state(n.window or "")], "window": [t.window_state(n.window or ""), t.calls],
                "hall": [t.window_state_all, t.queue_state, t.calls, t.calls_recent, t.stats_today],
                "web": [t.window_state_all, t.queue_state, t.calls, t.calls_recent]}[n.role]
        for s in subs:
            bus.subscribe(s, lambda *_a: None)
        out.append(bus)
    for bus in out:
        bus.start()
    for bus in out:
        bus.wait_connected(10)
    return out


def phase_restart(tmp: Path) -> dict[str, Any]:
    cfg_path, cfg = open_all_day(tmp / "restart")
    broker = LocalBroker(tmp / "restart" / "broker")
    broker.start()
    serve = Serve(cfg_path, broker, tmp / "restart" / "data")
    serve.start()
    nodes = make_nodes(cfg, broker)
    back_at: dict[str, float] = {}
    restart_t = [0.0]
    for bus in nodes:
        bus.add_connection_listener(lambda up, b=bus: (up and restart_t[0] and b.node not in back_at
                                                       and back_at.setdefault(b.node, time.monotonic())))
    terms = [RpcClient(b) for b in nodes if b.role == "terminal"]
    time.sleep(1.5)  # controller up
    issuers = [Issuer(r, ["A", "E", "K"]) for r in terms]
    for i in issuers:
        i.start()
    time.sleep(2.0)
    broker.stop()
    time.sleep(0.5)
    broker.start()
    restart_t[0] = time.monotonic()
    deadline = restart_t[0] + 10
    while len(back_at) < len(nodes) and time.monotonic() < deadline:
        time.sleep(0.01)
    times = [back_at[n.node] - restart_t[0] for n in nodes if n.node in back_at]
    # A fresh screen after the restart must see the whole retained state at once.
    seen: dict[str, bytes] = {}
    probe = BusClient(hall=cfg.hall.id, node="probe", role="hall", broker=parse_broker_url(broker.url))
    probe.subscribe(probe.topics.everything, lambda topic, payload, _p: seen.__setitem__(topic, payload))
    probe.start(wait=5)
    t = probe.topics
    wanted = {t.window_state(w.id) for w in cfg.windows} | {t.queue_state, t.stats_today, t.calls_recent}
    wanted |= {t.node_status(n.id) for n in cfg.nodes} | {t.node_status("controller")}
    end = time.monotonic() + 2.0
    while time.monotonic() < end and not wanted <= set(seen):
        time.sleep(0.02)
    missing = sorted(wanted - set(seen))
    online = sum(1 for n in cfg.nodes if json.loads(seen.get(t.node_status(n.id), b"{}")).get("state") == "online")
    time.sleep(1.0)
    for i in issuers:
        i.stop_flag.set()
    for i in issuers:
        i.join(30)
    acked = [n for i in issuers for n in i.acked]
    for b in [*nodes, probe]:
        b.stop()
    serve.stop()
    broker.stop()
    return {
        "nodes": len(nodes), "nodes_back": len(times),
        "back_max_s": round(max(times), 3) if times else None,
        "back_p50_s": round(sorted(times)[len(times) // 2], 3) if times else None,
        "retained_missing_after_2s": missing, "nodes_online_after": online,
        "tickets_acked": len(acked), "tickets_duplicated": len(acked) - len(set(acked)),
    }


def phase_kill(tmp: Path) -> dict[str, Any]:
    base = tmp / "kill"
    cfg_path, cfg = open_all_day(base)
    broker = LocalBroker(base / "broker")
    broker.start()
    data = base / "data"
    serve = Serve(cfg_path, broker, data)
    serve.start()
    addr = parse_broker_url(broker.url)
    buses = []

    def bus(node: str, role: str) -> BusClient:
        b = BusClient(hall=cfg.hall.id, node=node, role=role, broker=addr)
        b.start(wait=5)
        buses.append(b)
        return b

    terms = [RpcClient(bus(f"terminal-{i}", "terminal")) for i in (1, 2)]
    counter = RpcClient(bus("counter-2", "counter"))
    tablet = RpcClient(bus("tablet-2", "tablet"))
    time.sleep(1.5)
    call(counter, "window.login", {"window": "2", "staff": "s002", "password": "hall002"})
    issuers = [Issuer(r, ["A", "E", "K"]) for r in terms]
    ratings_acked: list[str] = []
    rating_errors: dict[str, int] = {}
    stop = threading.Event()

    def serve_and_rate() -> None:
        while not stop.is_set():
            try:
                state = call(counter, "window.call_next", {"window": "2"})["window"]
                if not state.get("ticket"):
                    continue
                state = call(counter, "window.finish", {"window": "2"})["window"]
                rr = state.get("rating_request")
                if not rr:
                    continue
                rid = str(uuid.uuid4())
                call(tablet, "rating.submit", {"rating_id": rid, "window": "2", "ticket": rr["ticket"],
                                               "staff": rr["staff"], "level": random.choice([3, 4, 5])})
                ratings_acked.append(rid)
            except RpcFault as f:
                rating_errors[f.code] = rating_errors.get(f.code, 0) + 1
                time.sleep(0.05)

    for i in issuers:
        i.start()
    rater = threading.Thread(target=serve_and_rate, daemon=True)
    rater.start()
    time.sleep(3.0)
    before = (sum(len(i.acked) for i in issuers), len(ratings_acked))
    serve.kill9()
    time.sleep(0.5)
    serve.start()
    time.sleep(4.0)
    stop.set()
    for i in issuers:
        i.stop_flag.set()
    for i in issuers:
        i.join(30)
    rater.join(30)
    acked = [n for i in issuers for n in i.acked]
    serve.stop()
    db = sqlite3.connect(data / "hall.db")
    numbers = [r[0] for r in db.execute("SELECT number FROM tickets WHERE day = (SELECT MAX(day) FROM tickets)")]
    rated = [r[0] for r in db.execute("SELECT rating_id FROM rec_ratings")]
    db.close()
    for b in buses:
        b.stop()
    broker.stop()
    return {
        "tickets_acked": len(acked), "tickets_acked_before_kill": before[0],
        "tickets_missing": len(set(acked) - set(numbers)),
        "numbers_issued_twice": len(numbers) - len(set(numbers)),
        "ratings_acked": len(ratings_acked), "ratings_acked_before_kill": before[1],
        "ratings_missing": len(set(ratings_acked) - set(rated)),
        "ratings_duplicated": len(rated) - len(set(rated)),
        "refusals": {**{k: v for i in issuers for k, v in i.refused.items()}, **rating_errors},
    }


def phase_garbage(tmp: Path, per_topic: int) -> dict[str, Any]:
    base = tmp / "garbage"
    cfg_path, cfg = open_all_day(base)
    broker = LocalBroker(base / "broker")
    broker.start()
    serve = Serve(cfg_path, broker, base / "data")
    serve.start()
    nodes = make_nodes(cfg, broker)
    time.sleep(1.5)
    rpc = RpcClient(next(b for b in nodes if b.role == "terminal"))
    first = call(rpc, "ticket.issue", {"service": "A"})["ticket"]["number"]
    t = nodes[0].topics
    topics = [t.rpc(m) for m in ("ticket.issue", "window.call_next", "rating.submit", "case.query", "nope")]
    topics += [t.window_state("1"), t.queue_state, t.calls, t.calls_recent, t.stats_today, t.alerts,
               t.node_status("terminal-1"), rpc.reply_topic]
    attacker = BusClient(hall=cfg.hall.id, node="fuzzer", role="terminal", broker=parse_broker_url(broker.url))
    attacker.start(wait=5)
    rng = random.Random(10)
    samples = [b"", b"{", b"[]", b"null", b'{"v":1}', b'{"v":"1","request_id":7}', b"\xff\xfe\xfd",
               b'{"request_id":"\xff"}', json.dumps({"v": 1, "request_id": "x", "service": 5}).encode()]
    t0 = time.monotonic()
    sent = 0
    for topic in topics:
        for k in range(per_topic):
            payload = samples[k % len(samples)] if k % 3 else os.urandom(rng.randrange(0, 300))
            attacker.publish(topic, payload, qos=0)
            sent += 1
            if k % 2000 == 0:
                time.sleep(0.05)  # let the broker breathe; qos 0 is fire-and-forget
    time.sleep(2.0)
    after = call(rpc, "ticket.issue", {"service": "A"}, deadline_s=30)["ticket"]["number"]
    correct = int(after[1:]) == int(first[1:]) + 1
    connected = sum(1 for b in nodes if b.connected)
    alive = serve.alive()
    for b in [*nodes, attacker]:
        b.stop()
    serve.stop()
    broker.stop()
    return {"payloads_sent": sent, "topics": len(topics), "seconds": round(time.monotonic() - t0, 1),
            "controller_alive": alive, "correct_answer_after": correct, "first": first, "after": after,
            "nodes_connected_after": connected, "nodes": len(nodes)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--phase", choices=["restart", "kill", "garbage", "hostile", "all"], default="all")
    ap.add_argument("--per-topic", type=int, default=10000)
    ap.add_argument("--attack-s", type=float, default=10.0, help="hostile: seconds measured alone and under attack")
    ap.add_argument("--attackers-own-cpu", action="store_true",
                    help="hostile: attackers pinned to the last CPU, the hall to the others (as devices of their own)")
    ap.add_argument("--no-broker-limits", action="store_true",
                    help="hostile: the broker without its per-login budgets ([broker_limits] off), for comparison")
    args = ap.parse_args()
    result: dict[str, Any] = {"bench": "reliability"}
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        if args.phase in ("restart", "all"):
            r = result["broker_restart"] = phase_restart(tmp)
            print(f"broker restart: {r['nodes_back']}/{r['nodes']} nodes back, slowest {r['back_max_s']} s "
                  f"(median {r['back_p50_s']} s); retained topics missing 2 s after: {len(r['retained_missing_after_2s'])}; "
                  f"{r['tickets_acked']} tickets acknowledged, {r['tickets_duplicated']} duplicated")
        if args.phase in ("kill", "all"):
            r = result["controller_kill9"] = phase_kill(tmp)
            print(f"controller kill -9: {r['tickets_acked']} tickets and {r['ratings_acked']} ratings acknowledged; "
                  f"missing after restart: {r['tickets_missing']} tickets, {r['ratings_missing']} ratings; "
                  f"numbers issued twice: {r['numbers_issued_twice']}; ratings twice: {r['ratings_duplicated']}")
        if args.phase in ("garbage", "all"):
            r = result["garbage"] = phase_garbage(tmp, args.per_topic)
            print(f"garbage: {r['payloads_sent']} payloads on {r['topics']} topics; controller alive: "
                  f"{r['controller_alive']}; correct answer after: {r['correct_answer_after']} "
                  f"({r['first']} -> {r['after']}); nodes connected: {r['nodes_connected_after']}/{r['nodes']}")
        if args.phase in ("hostile", "all"):
            r = result["hostile"] = phase_hostile(tmp, args.attack_s, args.attackers_own_cpu,
                                                      not args.no_broker_limits)
            print(describe(r))
    emit(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
