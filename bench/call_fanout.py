"""A call (叫号) reaching 300 subscribed screens: time from the `call_next` reply to the last screen.

    .venv/bin/python bench/call_fanout.py [--screens 300] [--calls 200] [--procs 3]

A real `hallbus serve` process; `--procs` processes each hold screens/procs plain paho
clients (TCP_NODELAY) subscribed to the `calls` topic, stamping each call on arrival
with CLOCK_MONOTONIC (shared by every process on the machine). A counter logs in, calls
and finishes; for each call the latency is the last screen's arrival minus the moment
the counter got its `call_next` reply. Target: p99 <= 50 ms.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import emit, summary_ms  # noqa: E402
from bench._hall import HALL, BenchHall  # noqa: E402


def screens(host: str, port: int, first: int, count: int, ready: mp.Event, stop: mp.Event, out: mp.Queue) -> None:  # type: ignore[type-arg]
    """`count` plain paho clients in one process; report {ticket: [arrival ms, ...]}."""
    import msgspec
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    topic = f"hall/v1/{HALL}/calls"
    arrivals: dict[str, list[float]] = {}
    lock = threading.Lock()
    subscribed = threading.Semaphore(0)
    clients = []

    def on_message(_c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        t = time.monotonic() * 1000
        ticket = msgspec.json.decode(msg.payload)["ticket"]
        with lock:
            arrivals.setdefault(ticket, []).append(t)

    # One network thread per process drives all its clients (as a screen process would
    # drive its one connection); a thread per client would measure the GIL, not the bus.
    for i in range(first, first + count):
        c = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id=f"screen-{i}", protocol=mqtt.MQTTv5)
        c.on_socket_open = lambda _c, _u, sock: sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        c.on_message = on_message
        c.on_subscribe = lambda *_a: subscribed.release()
        c.on_connect = lambda cl, *_a: cl.subscribe(topic, qos=1)
        c.connect(host, port)
        clients.append(c)

    def loop() -> None:
        import select

        while not stop.is_set():
            socks = {c.socket(): c for c in clients if c.socket() is not None}
            want_w = [s for s, c in socks.items() if c.want_write()]
            r, w, _ = select.select(list(socks), want_w, [], 0.05)
            for s in r:
                socks[s].loop_read()
            for s in w:
                socks[s].loop_write()
            for c in clients:
                c.loop_misc()

    th = threading.Thread(target=loop, daemon=True)
    th.start()
    for _ in clients:
        subscribed.acquire(timeout=20)
    ready.set()
    stop.wait()
    th.join(5)
    for c in clients:
        c.disconnect()
    with lock:
        out.put(dict(arrivals))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--screens", type=int, default=300)
    ap.add_argument("--calls", type=int, default=200)
    ap.add_argument("--procs", type=int, default=3)
    ap.add_argument("--dir", type=Path, default=None)
    args = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = args.screens + 200
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(need, 4096)), hard))
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if soft < need:
        print(f"the open-files limit is {soft}; {need} needed for {args.screens} screens", file=sys.stderr)
        return 2

    with tempfile.TemporaryDirectory(dir=args.dir) as tmp_s, BenchHall(Path(tmp_s)) as hall:
        from hallbus.rpc import RpcClient

        stop = mp.Event()
        out: mp.Queue = mp.Queue()  # type: ignore[type-arg]
        per = args.screens // args.procs
        procs = []
        readies = []
        for k in range(args.procs):
            count = per if k < args.procs - 1 else args.screens - per * (args.procs - 1)
            ready = mp.Event()
            readies.append(ready)
            p = mp.Process(target=screens, args=(hall.broker.host, hall.broker.port, k * per, count, ready, stop, out))
            p.start()
            procs.append(p)
        for r in readies:
            if not r.wait(60):
                raise RuntimeError("screens did not subscribe in time")
        terminal = RpcClient(hall.bus("terminal-1"))
        counter = RpcClient(hall.bus("counter-1", "counter"))
        for _ in range(args.calls + 5):
            terminal.call("ticket.issue", {"service": "A"})
        counter.call("window.login", {"window": "1", "staff": "s001", "password": "hall001"})
        replied: dict[str, float] = {}
        for i in range(args.calls + 5):
            w = counter.call("window.call_next", {"window": "1"})["window"]
            t = time.monotonic() * 1000
            if i >= 5:  # warm-up
                replied[w["ticket"]["number"]] = t
            time.sleep(0.03)  # let the screens drain before the next call
            counter.call("window.finish", {"window": "1"})
        time.sleep(0.5)
        stop.set()
        merged: dict[str, list[float]] = {}
        for _ in procs:
            for ticket, ts in out.get(timeout=30).items():
                merged.setdefault(ticket, []).extend(ts)
        for p in procs:
            p.join(10)

    lat = []
    incomplete = 0
    for ticket, t_reply in replied.items():
        got = merged.get(ticket, [])
        if len(got) < args.screens:
            incomplete += 1
            continue
        lat.append((max(got) - t_reply) / 1000)
    s = summary_ms(lat)
    print(f"screens        : {args.screens} in {args.procs} processes; {len(replied)} calls measured")
    print(f"reply -> last  : p50 {s['p50_ms']:.2f} ms  p99 {s['p99_ms']:.2f} ms  (target p99 <= 50 ms)")
    print(f"incomplete     : {incomplete} calls did not reach every screen")
    emit({"bench": "call_fanout", "screens": args.screens, "calls": len(replied), "reply_to_last": s,
          "incomplete": incomplete, "ok": incomplete == 0 and s["p99_ms"] <= 50})
    return 0


if __name__ == "__main__":
    sys.exit(main())
