"""The one place the hall bus relies on paho-mqtt beyond its public API: read hooks.

Needed by: `RpcServer` (group commit). The requests one pass of the network thread
reads are handled as one batch, so the controller commits them with one fsync and
answers before it reads again: `bench/ticket_throughput.py` (bar >= 1,000 durable
issues/s). paho has no public "after a read" event, so `HookedClient` overrides its
(public) `loop_read` and counts on paho's (private) network loop calling `loop_read`
whenever the socket is readable, as `Client._loop` does in the version tested below.

Everything else the bus client does goes through paho's public API (`on_message`,
`publish`, `Properties`, ...). The self-check below runs at import: with any other
paho version it stops with a sentence saying what is needed, instead of failing
somewhere later in a way nobody connects with paho.
"""

from __future__ import annotations

import logging
import select
from collections.abc import Callable
from typing import Any

import paho.mqtt
import paho.mqtt.client as mqtt
from paho.mqtt.enums import MQTTErrorCode

log = logging.getLogger(__name__)

TESTED = "2.2"  # paho-mqtt 2.2.x; pyproject.toml pins the same range
MAX_READ_PASSES = 256  # read passes gathered before the read hooks run, under a pipeline of requests

ReadHook = Callable[[], None]


def _self_check() -> None:
    version = paho.mqtt.__version__
    if version.split(".")[:2] != TESTED.split("."):
        raise ImportError(
            f"paho-mqtt 版本不符：需要 {TESTED}.x，当前为 {version}，请运行 ./hall setup 重新安装。 "
            f"(hallbus needs paho-mqtt {TESTED}.x (tested with 2.2.0), found {version}: "
            f"hallbus/paho_private.py hooks into paho's network loop. Run ./hall setup "
            f"(pyproject.toml pins paho-mqtt>={TESTED},<2.3).)"
        )
    loop = getattr(mqtt.Client, "_loop", None)
    calls_loop_read = "loop_read" in getattr(getattr(loop, "__code__", None), "co_names", ())
    if not calls_loop_read:
        raise ImportError(
            f"paho-mqtt {version} 与大厅总线不兼容，请运行 ./hall setup 安装经过测试的版本。 "
            f"(paho-mqtt {version}: Client._loop no longer calls loop_read, so the read hooks of "
            "hallbus/paho_private.py would never run (RPC batches would never be answered).)"
        )


_self_check()


def _readable(sock: Any) -> bool:
    """Whether more bytes wait on the socket right now (TLS buffers included)."""
    pending = getattr(sock, "pending", None)
    if pending is not None and pending() > 0:
        return True
    try:
        return bool(select.select([sock], [], [], 0)[0])
    except (OSError, ValueError, TypeError):  # closed under us: the loop notices on its own
        return False


class HookedClient(mqtt.Client):
    """paho's client, plus read hooks on the network thread.

    After paho has read what the socket holds (up to MAX_READ_PASSES passes while more
    keeps arriving), the hooks run, outside any paho callback, and whatever they
    published is written at once.
    """

    read_hooks: tuple[ReadHook, ...] = ()

    def loop_read(self, max_packets: int = 1) -> MQTTErrorCode:
        """paho's `loop_read`, then more passes while bytes keep coming, then the read hooks."""
        rc = super().loop_read(max_packets)
        hooks = self.read_hooks
        if not hooks:
            return rc
        passes = 1
        while rc == MQTTErrorCode.MQTT_ERR_SUCCESS and passes < MAX_READ_PASSES:
            sock = self.socket()
            if sock is None or not _readable(sock):
                break
            rc = super().loop_read(max_packets)
            passes += 1
        for hook in hooks:
            try:
                hook()
            except Exception:  # a bad hook must never stop the network loop
                log.exception("a read hook failed")
        if self.socket() is not None and self.want_write():
            wrc = self.loop_write()
            if rc == MQTTErrorCode.MQTT_ERR_SUCCESS:
                rc = wrc
        return rc
