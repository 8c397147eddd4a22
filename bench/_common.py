"""Shared pieces of the benchmarks: percentiles, a bare paho client with TCP_NODELAY, output."""

from __future__ import annotations

import json
import socket
import statistics
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion


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
