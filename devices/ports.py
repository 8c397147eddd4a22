"""Free TCP ports for the processes tests and the demo start (a broker, a private pcscd).

A port the kernel picks (bind to 0) comes from the range it also gives every outgoing
connection, so a client connecting elsewhere could take it before the server binds it
("Address already in use"), and after a burst of connections (a reconnect-storm bench)
that range is full of closing sockets. A random port under that range is never anybody's
outgoing port; random, so that processes picking at the same time rarely meet.
"""

from __future__ import annotations

import random
import socket
from pathlib import Path


def ephemeral_low() -> int:
    """The first port the kernel hands out to outgoing connections (Linux; 32768 elsewhere)."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def _bindable(host: str, ports: range) -> bool:
    socks: list[socket.socket] = []
    try:
        for port in ports:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            socks.append(s)
            s.bind((host, port))
        return True
    except OSError:
        return False
    finally:
        for s in socks:
            s.close()


def free_port(count: int = 1, host: str = "127.0.0.1") -> int:
    """A TCP port P with P .. P+count-1 all free on `host` right now, below the ephemeral range."""
    low = min(ephemeral_low(), 65536)
    first = 10000 if low > 12000 else 1024
    rng = random.SystemRandom()
    for _ in range(200):
        port = rng.randrange(first, low - count + 1)
        if _bindable(host, range(port, port + count)):
            return port
    for _ in range(200):  # a crowded range: let the kernel choose
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind((host, 0))
            port = int(s.getsockname()[1])
        if port + count <= 65536 and _bindable(host, range(port, port + count)):
            return port
    raise RuntimeError(f"no {count} free TCP port(s) in a row on {host}")
