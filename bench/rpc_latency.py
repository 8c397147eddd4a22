"""RPC round trip through loopback Mosquitto: hallbus RPC vs a bare paho echo, interleaved.

    .venv/bin/python bench/rpc_latency.py [--n 2000]

Both paths go through the same broker in the same run, alternating request by request,
so machine noise hits both alike. The bare echo is the floor: one paho client publishes,
another answers on a fixed topic, TCP_NODELAY on both. The hallbus path is the real
library: RpcClient (ResponseTopic, CorrelationData, expiry, request_id) against RpcServer
(validation into the request Struct, idempotency cache, batches on the network thread)
with a trivial handler. Prints p50/p99 of each and the ratios; target: hallbus p50 within 1.5x of echo.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import BareEcho, emit, interleaved, summary_ms  # noqa: E402
from hallbus.brokerurl import parse_broker_url  # noqa: E402
from hallbus.client import BusClient  # noqa: E402
from hallbus.localbroker import LocalBroker  # noqa: E402
from hallbus.rpc import RpcClient, RpcServer, SimpleDispatcher  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=2000, help="requests of each kind")
    ap.add_argument("--warmup", type=int, default=200)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp, LocalBroker(Path(tmp)) as broker:
        addr = parse_broker_url(broker.url)
        payload = b'{"v":1,"ts":"2026-01-01T00:00:00+08:00","request_id":"x"}'
        echo = BareEcho(broker.host, broker.port, payload)
        # hallbus rpc
        srv_bus = BusClient(hall="bench", node="controller", role="controller", broker=addr, persistent_session=True)
        srv_bus.start(wait=5)
        server = RpcServer(srv_bus, SimpleDispatcher({"stats.today": lambda _r: {"stats": {"served": 1}}}))
        server.start()
        cli_bus = BusClient(hall="bench", node="terminal-1", role="terminal", broker=addr)
        cli_bus.start(wait=5)
        rpc = RpcClient(cli_bus)
        time.sleep(0.3)

        def rpc_once() -> float:
            t0 = time.perf_counter()
            rpc.call("stats.today", {}, timeout=5)
            return time.perf_counter() - t0

        echo_t, rpc_t = interleaved(echo.once, rpc_once, args.n, args.warmup)
        server.stop()
        cli_bus.stop()
        srv_bus.stop()
        echo.close()

    e, r = summary_ms(echo_t), summary_ms(rpc_t)
    ratio50 = r["p50_ms"] / e["p50_ms"]
    ratio99 = r["p99_ms"] / e["p99_ms"]
    print(f"bare paho echo : p50 {e['p50_ms']:.3f} ms  p99 {e['p99_ms']:.3f} ms  (n={e['n']})")
    print(f"hallbus RPC    : p50 {r['p50_ms']:.3f} ms  p99 {r['p99_ms']:.3f} ms  (n={r['n']})")
    print(f"ratio          : p50 {ratio50:.2f}x  p99 {ratio99:.2f}x  (target p50 <= 1.5x)")
    emit({"bench": "rpc_latency", "echo": e, "hallbus_rpc": r,
          "ratio_p50": round(ratio50, 3), "ratio_p99": round(ratio99, 3)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
