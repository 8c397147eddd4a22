"""The largest message the hall really sends, per topic (what the broker's size limits are sized from).

    .venv/bin/python bench/message_sizes.py [--tickets 600]

The sample hall grown to 60 windows (and a staff member for each) runs a busy day on a
private Mosquitto: the controller in this process, every window logged in, tickets issued
for every service, called, finished and rated at every window, some held (a window's
state lists its held tickets), and every guide entry and list asked for. A listener on
the whole hall, and on every reply, records the largest payload per topic kind. The figure
`hallbus broker-config` limits to (`brokerconf.MESSAGE_SIZE_LIMIT`) is printed beside it.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench._common import bare_client, emit, without_rpc_limits  # noqa: E402
from hallbus.brokerurl import parse_broker_url  # noqa: E402
from hallbus.client import BusClient  # noqa: E402
from hallbus.controller.app import STATS_INTERVAL_S, HallController  # noqa: E402
from hallbus.deploy.brokerconf import MAX_PACKET_SIZE, MESSAGE_SIZE_LIMIT  # noqa: E402
from hallbus.localbroker import LocalBroker  # noqa: E402
from hallbus.passwords import hash_password  # noqa: E402
from hallbus.rpc import RpcClient, RpcFault  # noqa: E402
from hallbus.sample import open_all_day  # noqa: E402

WINDOWS = 60
SAMPLE_WINDOWS = 12
SAMPLE_STAFF = 14
ROUNDS = 6  # calls per window; the first ones held, the others finished and rated
HELD_ROUNDS = 2


def big_hall_extra(services: list[str]) -> str:
    """Windows 13-60 (every service) and a staff member for each window past the sample's 14."""
    lines = []
    for n in range(SAMPLE_WINDOWS + 1, WINDOWS + 1):
        lines += ["[[windows]]", f'id = "{n}"', f'name = "{n}号窗口"', f'name_en = "Window {n}"',
                  f"services = {json.dumps(services)}", ""]
    for n in range(SAMPLE_STAFF + 1, WINDOWS + 1):
        lines += ["[[staff]]", f'id = "s{n:03d}"', f'name = "员工{n}"', 'title = "一级科员"',
                  f'password_hash = "{hash_password(f"hall{n:03d}", iterations=1000)}"', ""]
    return "\n".join(lines)


def kind(topic: str, root: str) -> str:
    """The catalogue name of a topic: `window/3/state` -> `window/+/state`, replies by method."""
    parts = topic[len(root):].split("/")
    if parts[0] in ("window", "node") and len(parts) == 3:
        return f"{parts[0]}/+/{parts[2]}"
    if parts[0] == "reply":
        return "reply"
    return "/".join(parts)


class Sizes:
    """Largest payload seen per topic kind (and per RPC method for replies)."""

    def __init__(self) -> None:
        self.largest: dict[str, int] = {}
        self.lock = threading.Lock()

    def note(self, name: str, size: int) -> None:
        with self.lock:
            if size > self.largest.get(name, -1):
                self.largest[name] = size


def run(tmp: Path, tickets: int) -> dict[str, Any]:
    _path, sample = open_all_day(tmp / "sample")
    _path, cfg = open_all_day(tmp, extra=big_hall_extra([s.code for s in sample.services]))
    cfg = without_rpc_limits(cfg)  # one probe node drives all 60 windows
    broker = LocalBroker(tmp / "broker")
    broker.start()
    sizes = Sizes()
    root = f"hall/v1/{cfg.hall.id}/"
    listener = bare_client(f"sizes-{uuid.uuid4().hex[:6]}", "127.0.0.1", broker.port)
    listener.on_message = lambda _c, _u, m: sizes.note(kind(m.topic, root), len(m.payload))
    listener.subscribe(root + "#", qos=1)
    app = HallController(cfg, data_dir=tmp / "data", broker=parse_broker_url(broker.url), tick_s=0.2)
    app.start(wait=10)
    bus = BusClient(hall=cfg.hall.id, node="sizes-probe", role="terminal", broker=parse_broker_url(broker.url))
    bus.start(wait=5)
    rpc = RpcClient(bus)
    refused: dict[str, int] = {}

    def call(method: str, body: dict[str, Any]) -> dict[str, Any] | None:
        try:
            data = rpc.call(method, body, timeout=10)
        except RpcFault as f:
            refused[f.code] = refused.get(f.code, 0) + 1
            return None
        return data

    try:
        rpc_sizes = measure_replies(cfg, call, sizes, tickets)
        time.sleep(STATS_INTERVAL_S + 0.5)  # the last stats/today goes out at most a second later
    finally:
        bus.stop()
        app.stop()
        listener.disconnect()
        listener.loop_stop()
        broker.stop()
    largest = max(sizes.largest.values())
    return {"windows": len(cfg.windows), "largest_by_topic": dict(sorted(sizes.largest.items())),
            "largest_reply_by_method": rpc_sizes, "largest_bytes": largest,
            "message_size_limit": MESSAGE_SIZE_LIMIT, "max_packet_size": MAX_PACKET_SIZE,
            "margin": round(MESSAGE_SIZE_LIMIT / largest, 1), "refused": refused}


def measure_replies(cfg: Any, call: Any, sizes: Sizes, tickets: int) -> dict[str, int]:
    """Drive a busy day; return the largest reply `data` per method (as JSON bytes)."""
    import msgspec

    per_method: dict[str, int] = {}

    def timed(method: str, body: dict[str, Any]) -> dict[str, Any] | None:
        data = call(method, body)
        if data is not None:
            size = len(msgspec.json.encode(data))
            per_method[method] = max(per_method.get(method, 0), size)
        return data

    windows = [w.id for w in cfg.windows]
    for i, w in enumerate(windows):
        staff = cfg.staff[i % len(cfg.staff)].id
        timed("window.login", {"window": w, "staff": staff, "password": "hall" + staff[-3:]})
    services = [s.code for s in cfg.services]
    ids: dict[str, str] = {}  # ticket number -> its id, the citizen's proof when rating at a terminal
    for k in range(tickets):  # every one with an ID card: the real-name services need one
        card = {"id_hash": f"{k:064x}", "name_masked": "张*", "id_masked": "1101**********1234"}
        issued = timed("ticket.issue", {"service": services[k % len(services)], "id_card": card})
        if issued:
            ids[issued["ticket"]["number"]] = issued["ticket"]["ticket_id"]
    for rnd in range(ROUNDS):
        for w in windows:
            state = timed("window.call_next", {"window": w})
            if not state or not state["window"].get("ticket"):
                continue
            if rnd < HELD_ROUNDS:
                timed("window.hold", {"window": w})  # held tickets are listed in the window's state
                continue
            done = timed("window.finish", {"window": w})
            rr = done and done["window"].get("rating_request")
            if rr:
                timed("rating.submit", {"rating_id": str(uuid.uuid4()), "window": w, "ticket": rr["ticket"],
                                        "ticket_id": ids.get(rr["ticket"]),
                                        "staff": rr["staff"], "level": 1 + rnd % 5, "reasons": ["attitude"],
                                        "comment": "排队时间太长了，希望增加窗口。" * 8})
    timed("stats.today", {})
    listing = timed("guide.list", {"q": ""}) or {}
    for item in listing.get("items", []):
        timed("guide.get", {"item": item.get("id") or item.get("item") or ""})
    return dict(sorted(per_method.items()))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tickets", type=int, default=600)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        r = run(Path(d), args.tickets)
    for name, size in r["largest_by_topic"].items():
        print(f"  {name:24} {size:>8} bytes")
    print(f"largest message: {r['largest_bytes']} bytes; broker limit {r['message_size_limit']} bytes "
          f"({r['margin']}x), packets {r['max_packet_size']} bytes; refusals on the way: {r['refused']}")
    emit({"bench": "message_sizes", **r})
    return 0


if __name__ == "__main__":
    sys.exit(main())
