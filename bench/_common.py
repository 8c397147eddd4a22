"""Shared pieces of the benchmarks: percentiles, a bare paho client with TCP_NODELAY, output."""

from __future__ import annotations

import json
import socket
import statistics
from typing import Any

import msgspec
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from hallbus.config import HallConfig, RpcLimitsSection


def pct(values: list[float], p: float) -> float:
    """The p-th percentile (0-100) by nearest rank."""
    s = sorted(values)
    if not s:
        return float("nan")
    k = max(0, min(len(s) - 1, round(p / 100 * len(s) + 0.5) - 1))
    return s[k]


def summary_ms(values_s: list[float]) -> dict[str, float]:
    """p50/p99/mean of durations in seconds, as milliseconds."""
    ms = [v * 1000 for v in values_s]
    return {"n": len(ms), "p50_ms": round(pct(ms, 50), 3), "p99_ms": round(pct(ms, 99), 3),
            "mean_ms": round(statistics.fmean(ms), 3) if ms else float("nan")}


def without_rpc_limits(cfg: HallConfig) -> HallConfig:
    """`cfg` with the per-node request budget off (`[rpc_limits] per_second = 0`): a bench that
    drives a whole hall from one node sends far more than one node's budget takes."""
    return msgspec.structs.replace(cfg, rpc_limits=RpcLimitsSection(per_second=0))


def bare_client(client_id: str, host: str, port: int) -> mqtt.Client:
    """A plain paho MQTT 5 client with TCP_NODELAY, connected and looping."""
    c = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    c.on_socket_open = lambda _c, _u, sock: sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    c.connect(host, port)
    c.loop_start()
    return c


def emit(result: dict[str, Any]) -> None:
    """The final line of every benchmark: one JSON object."""
    print(json.dumps(result, ensure_ascii=False))


class BareEcho:
    """The floor of a request/response on this broker: one plain paho client asks, another answers."""

    def __init__(self, host: str, port: int, payload: bytes) -> None:
        import threading

        self.payload = payload
        self.server = bare_client("echo-server", host, port)
        self.server.on_message = lambda c, _u, msg: c.publish("bench/echo/resp", msg.payload, qos=1)
        self.server.subscribe("bench/echo/req", qos=1)
        self.client = bare_client("echo-client", host, port)
        self._got = threading.Event()
        self.client.on_message = lambda _c, _u, _m: self._got.set()
        self.client.subscribe("bench/echo/resp", qos=1)

    def once(self) -> float:
        """One round trip, in seconds."""
        import time

        self._got.clear()
        t0 = time.perf_counter()
        self.client.publish("bench/echo/req", self.payload, qos=1)
        if not self._got.wait(5):
            raise RuntimeError("echo timed out")
        return time.perf_counter() - t0

    def close(self) -> None:
        """Disconnect both clients."""
        for c in (self.client, self.server):
            c.disconnect()
            c.loop_stop()


def interleaved(a: Any, b: Any, n: int, warmup: int) -> tuple[list[float], list[float]]:
    """Time `a()` and `b()` n times each, alternating which goes first, after a warm-up."""
    for _ in range(warmup):
        a()
        b()
    ta: list[float] = []
    tb: list[float] = []
    for i in range(n):
        if i % 2:
            ta.append(a())
            tb.append(b())
        else:
            tb.append(b())
            ta.append(a())
    return ta, tb
