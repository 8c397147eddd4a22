"""The only place hall bus topic strings are built (SPEC section 3).

Every topic lives under `hall/v1/{hall}/`. Call sites ask a `Topics` object for a
topic; they never format topic strings themselves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

VERSION = 1
ID_RE = re.compile(r"^[a-z0-9-]+$")


def check_id(value: str, what: str = "id") -> str:
    """Return `value` if it is a valid bus id (lowercase `[a-z0-9-]`), else raise ValueError."""
    if not ID_RE.match(value):
        raise ValueError(f"{what} {value!r} must be lowercase letters, digits and '-' only")
    return value


@dataclass(frozen=True)
class TopicSpec:
    """One row of the topic catalogue: pattern, retained or not, QoS, payload type, purpose."""

    name: str
    pattern: str  # relative to the root, with {placeholders}
    retained: bool
    qos: int
    payload: str  # name of the schema in hallbus.schemas
    purpose: str


CATALOGUE: tuple[TopicSpec, ...] = (
    TopicSpec("node_status", "node/{node}/status", True, 1, "NodeStatus",
              "presence of every node; also its last will (`lost`, same session)"),
    TopicSpec("node_devices", "node/{node}/devices", True, 1, "NodeDevices",
              "health of the node's devices"),
    TopicSpec("rpc", "rpc/{method}", False, 1, "RpcRequest",
              "request to the controller; MQTT 5 ResponseTopic + CorrelationData, `request_id` in the body"),
    TopicSpec("reply", "reply/{node}/{session}/{n}", False, 1, "RpcReply",
              "replies to one RPC caller (its ResponseTopic): node, process session, caller number"),
    TopicSpec("window_state", "window/{window}/state", True, 1, "WindowState",
              "one window: status, current ticket, staff, rating request"),
    TopicSpec("queue_state", "queue/state", True, 1, "QueueState",
              "waiting per service, estimated wait, open windows"),
    TopicSpec("calls_recent", "calls/recent", True, 1, "CallsRecent",
              "the last 10 calls, newest first"),
    TopicSpec("stats_today", "stats/today", True, 1, "StatsToday",
              "today's figures"),
    TopicSpec("hall_notice", "hall/notice", True, 1, "HallNotice",
              "the hall's notice on the screens (a manager's text, else hall.toml's), plain text"),
    TopicSpec("calls", "calls", False, 1, "Call", "event: a ticket called to a window"),
    TopicSpec("alerts", "alerts", False, 1, "Alert", "event: deadline, device and queue alerts"),
)


class Topics:
    """Topic names for one hall."""

    def __init__(self, hall: str) -> None:
        self.hall = check_id(hall, "hall id")
        self.root = f"hall/v1/{hall}/"

    def node_status(self, node: str) -> str:
        """Retained presence of a node (also its LWT)."""
        return f"{self.root}node/{node}/status"

    def node_devices(self, node: str) -> str:
        """Retained device health of a node."""
        return f"{self.root}node/{node}/devices"

    @property
    def node_status_all(self) -> str:
        """Filter: every node's presence."""
        return f"{self.root}node/+/status"

    @property
    def node_devices_all(self) -> str:
        """Filter: every node's device health."""
        return f"{self.root}node/+/devices"

    def rpc(self, method: str) -> str:
        """Request topic of an RPC method."""
        return f"{self.root}rpc/{method}"

    @property
    def rpc_all(self) -> str:
        """Filter: every RPC request (the controller subscribes to it)."""
        return f"{self.root}rpc/+"

    def method_of(self, topic: str) -> str | None:
        """The RPC method named by a request topic, or None."""
        prefix = f"{self.root}rpc/"
        return topic[len(prefix):] if topic.startswith(prefix) else None

    def reply(self, node: str, session: str, n: int = 0) -> str:
        """Reply topic for RPC caller number `n` of one client session."""
        return f"{self.root}reply/{node}/{session}/{n}"

    def reply_prefix(self) -> str:
        """Every reply topic starts with this."""
        return f"{self.root}reply/"

    def window_state(self, window: str) -> str:
        """Retained state of a window."""
        return f"{self.root}window/{window}/state"

    @property
    def window_state_all(self) -> str:
        """Filter: every window's state."""
        return f"{self.root}window/+/state"

    def window_of(self, topic: str) -> str | None:
        """The window id in a window state topic, or None."""
        prefix = f"{self.root}window/"
        if topic.startswith(prefix) and topic.endswith("/state"):
            return topic[len(prefix):-len("/state")]
        return None

    def node_of(self, topic: str) -> str | None:
        """The node id in a node/{node}/... topic, or None."""
        prefix = f"{self.root}node/"
        if topic.startswith(prefix):
            rest = topic[len(prefix):]
            return rest.split("/", 1)[0]
        return None

    @property
    def queue_state(self) -> str:
        """Retained queue state."""
        return f"{self.root}queue/state"

    @property
    def calls_recent(self) -> str:
        """Retained list of the last calls."""
        return f"{self.root}calls/recent"

    @property
    def stats_today(self) -> str:
        """Retained figures of the day."""
        return f"{self.root}stats/today"

    @property
    def hall_notice(self) -> str:
        """Retained notice of the hall."""
        return f"{self.root}hall/notice"

    @property
    def calls(self) -> str:
        """Event topic of calls."""
        return f"{self.root}calls"

    @property
    def alerts(self) -> str:
        """Event topic of alerts."""
        return f"{self.root}alerts"

    @property
    def everything(self) -> str:
        """Filter: the whole hall."""
        return f"{self.root}#"
