"""Mosquitto configuration for a hall: config file, password file, ACL and node credentials.

Each node in `[[nodes]]`, plus the controller, gets its own username (the node id) and a
random password, and the broker uses that username as the client id
(`use_username_as_clientid`): a login can only ever replace its own connection, never the
controller's or another node's. The ACL gives every role only what it needs (see
`acl_rules`): only the controller publishes state and events and reads `rpc/#`; a node
writes nothing but its own presence and device health and the RPC methods of its role
(terminals the citizen methods, counters the `window.*` methods, tablets only
`rating.submit`, the web service (`hallweb`) the `ticket.*` methods, `rating.submit` and
`case.query` its phone pages need, and `report.query` for the managers' console), and reads what its screen shows plus the controller's presence. Topic
ACLs cannot see which window a request names, so the controller also checks the signed
node id of `window.*` and `rating.submit` requests (see `hallbus.nodeauth`).

Sizes are bounded so no login can fill the broker's memory: a packet over
`MAX_PACKET_SIZE` (= `MESSAGE_SIZE_LIMIT`, the payload limit) ends the sender's connection
before the broker reads it, and what waits for one client is capped at
`MAX_INFLIGHT_BYTES` in flight plus `MAX_QUEUED_MESSAGES` messages and `MAX_QUEUED_BYTES`
bytes queued.
The largest message a 60-window hall really sends is measured by bench/message_sizes.py.

How much each login may publish is held at the broker too (`[broker_limits]`, on by default):
the config loads the hall's broker plugin (`PLUGIN_BUILT`, built from
hallbus/deploy/broker_plugin/hallkit_ratelimit.c by `./hall setup`) with a budget per role
(`limit_lines`), so a node flooding requests or big payloads is cut down before the broker
routes a single excess message to the controller. The same plugin refuses, for a short and
growing while, the new connections of a login whose sessions keep ending (a reconnect storm:
more than `storm_ends_per_s` in a second); only a login's password holder can end its sessions,
so wrong passwords never lock a node out.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from hallbus.config import BROKER_MESSAGE_LIMIT, BrokerLimitsSection, HallConfig
from hallbus.topics import Topics

CONTROLLER = "controller"

TERMINAL_METHODS = (
    "ticket.issue", "ticket.status", "appointment.checkin", "case.query",
    "guide.list", "guide.get", "rating.submit", "stats.today",
)
COUNTER_METHODS = (
    "window.login", "window.logout", "window.call_next", "window.recall", "window.no_show",
    "window.hold", "window.call_back", "window.transfer", "window.finish", "window.pause",
    "window.resume", "stats.today",
)
TABLET_METHODS = ("rating.submit",)
# hallweb (SPEC 12.1): follows tickets by id, lets their holder leave the queue and rate the handling,
# and looks a case up by number + last 6 of the ID number (throttled per client address in hallweb too).
# And the managers' reports (SPEC 12.2), which only the web service asks for; the manager console
# adds the `admin.*` methods: the controller checks the password and the session of each
# (hallbus.controller.admin); hallweb never sees a password hash.
WEB_METHODS = (
    "ticket.status", "ticket.statuses", "ticket.cancel", "rating.submit", "case.query", "report.query",
    "admin.login", "admin.session", "admin.logout", "admin.audit",
    "admin.followups", "admin.followup", "admin.followup.move",
    "admin.cases", "admin.settings", "admin.settings.set",
    "admin.staff.list", "admin.staff.add", "admin.staff.update", "admin.staff.disable", "admin.staff.enable",
    "admin.staff.password", "admin.staff.own_password",
)
# The RPC methods each role may call (a role absent here calls none).
ROLE_METHODS = {
    "terminal": TERMINAL_METHODS, "counter": COUNTER_METHODS, "tablet": TABLET_METHODS, "web": WEB_METHODS,
}

# A listener option: each listener takes the login's username as the client id, so a login can
# only ever take over its own connection (never the controller's persistent session).
CLIENT_ID_IS_USERNAME = (
    "# The username is the client id: a login can only take over its own connection.",
    "use_username_as_clientid true",
)

# The largest message of a busy 60-window hall with 60 staff is ~12.3 KiB (bench/message_sizes.py:
# stats/today and its reply, which grow by ~0.1 KiB per window and per staff member rated that
# day; the guide list reply 10 KiB, a window's state 1.5 KiB, the queue state 1.1 KiB). 128 KiB
# leaves 10x: 400 windows and 400 staff come to ~80 KiB. (Requests are answered `too_large`
# past 64 KiB by the controller anyway.) A controller message over the limit would cut its own
# connection: raise this (hallbus.config.BROKER_MESSAGE_LIMIT) before a hall grows near it.
MESSAGE_SIZE_LIMIT = BROKER_MESSAGE_LIMIT
# The whole packet (payload, topic, properties) is held to the same size: a bigger one ends the
# connection before the broker reads it, and MQTT 5 clients are told the limit in the CONNACK
# (BusClient then refuses to send a bigger message instead of being disconnected for it). The
# payload limit alone is only a backstop: Mosquitto 2.0 answers it with a code paho takes as a
# protocol error, and paho sends the message again on every reconnect.
MAX_PACKET_SIZE = MESSAGE_SIZE_LIMIT
# Per client, messages waiting beyond those in flight (the controller's backlog while it
# restarts: ~1,500 requests of ~0.3 KiB in tests/hallbus/deploy/test_controller_kill.py).
MAX_QUEUED_MESSAGES = 10000
MAX_QUEUED_BYTES = 32 * 1024 * 1024
# Per client, bytes in flight (sent, not yet acknowledged): an MQTT 5 client that names no
# Receive Maximum (paho, our BusClient) may take 65,535 messages in flight, which the queue
# limits do not count. Under bench/reliability.py --phase hostile's big requests the broker
# peaked at 90-450 MiB without this, 72-81 MiB with it. 4 MiB is ~13,000 real requests.
MAX_INFLIGHT_BYTES = 4 * 1024 * 1024


# The broker plugin holding each login to its [broker_limits] budget: `./hall setup` builds it
# beside its source with gcc and the headers of Debian's mosquitto-dev and libmosquitto-dev.
PLUGIN_SOURCE = Path(__file__).resolve().parent / "broker_plugin" / "hallkit_ratelimit.c"
PLUGIN_BUILT = PLUGIN_SOURCE.with_suffix(".so")
UNLISTED = "unlisted"  # the plugin's budget for a login not in the hall's config (a password file edited by hand)


class PluginNotBuilt(RuntimeError):
    """[broker_limits] is on, but the broker plugin it needs is not there."""

    def __init__(self, path: Path) -> None:
        super().__init__(
            f"代理限流插件未编译: 找不到 {path}。请在大厅服务器上运行 ./hall install (开发机: ./hall setup;需要 gcc、mosquitto-dev、libmosquitto-dev),"
            f"或用 --plugin 指明其位置;仅在开发时可在 hall.toml 中设 [broker_limits] enabled = false。"
            f" The broker's rate-limit plugin is not built: {path} does not exist. Run ./hall install on the hall server"
            f" (./hall setup on a developer's machine; it needs gcc, mosquitto-dev and libmosquitto-dev) or name the built file with --plugin; only for development,"
            f" set [broker_limits] enabled = false in hall.toml."
        )
        self.path = path


def not_world_readable(path: Path) -> Path | None:
    """The first of `path` and its folders that a user of no group of its own cannot read or pass, if any."""
    path = path.resolve()
    for p in [path, *path.parents]:
        need = stat.S_IROTH if p == path else stat.S_IXOTH
        try:
            if not p.stat().st_mode & need:
                return p
        except OSError:
            return p
    return None


def limits_active(limits: BrokerLimitsSection) -> bool:
    """Whether the broker holds logins to budgets at all (on, and some rate set)."""
    return limits.enabled and (limits.per_second > 0 or limits.bytes_per_second > 0)


def budget(limits: BrokerLimitsSection, role: str) -> tuple[float, int, int, int]:
    """(messages a second, messages at once, bytes a second, bytes at once) of one role; 0 rates: no limit."""
    if role == "controller":
        return (0, 0, 0, 0)  # the controller publishes all state, events and replies: never limited
    k = limits.web_scale if role == "web" else 1.0
    return (round(limits.per_second * k, 3), round(limits.burst * k), round(limits.bytes_per_second * k),
            round(limits.bytes_burst * k))


def limit_lines(limits: BrokerLimitsSection, logins: list[tuple[str, str]], plugin: Path) -> list[str]:
    """The broker config lines loading the plugin with a budget per role and each login's role."""
    roles = ["controller", *ROLE_READS, UNLISTED]
    lines = ["# Per-login publish budgets ([broker_limits] in hall.toml; hallbus/deploy/broker_plugin/): a",
             "# budget is messages a second, messages at once, bytes a second, bytes at once (a rate of 0: no",
             "# limit). Over it a message is dropped before it is routed; see docs/protocol.md.",
             f"plugin {plugin}"]
    for role in roles:
        msgs, burst, nbytes, bytes_burst = budget(limits, "terminal" if role == UNLISTED else role)
        lines.append(f"plugin_opt_budget_{role} {msgs:g} {burst} {nbytes} {bytes_burst}")
    lines += [f"plugin_opt_default {UNLISTED}", f"plugin_opt_disconnect_over {limits.disconnect_over:g}",
              "plugin_opt_log_every_s 10",
              "# Reconnect storms: more sessions of one login ended in a second than this refuse its new",
              "# connections for a while, growing (the plugin counts only sessions that logged in).",
              f"plugin_opt_storm_ends_per_s {limits.storm_ends_per_s:g}",
              f"plugin_opt_storm_block_s {limits.storm_block_s:g}",
              f"plugin_opt_storm_block_max_s {limits.storm_block_max_s:g}"]
    return lines + [f"plugin_opt_login_{node} {role}" for node, role in logins]


def _reads(*names: str) -> Callable[[Topics, str], list[str]]:
    """What a role reads besides its own: `Topics` names; `window_state` is its own window's."""

    def reads(t: Topics, window: str) -> list[str]:
        return [t.window_state(window) if n == "window_state" else str(getattr(t, n)) for n in names]

    return reads


# What each role's screen follows (kiosk/<role>/role.py), beside the controller's presence.
ROLE_READS: dict[str, Callable[[Topics, str], list[str]]] = {
    "terminal": _reads("queue_state", "calls_recent", "stats_today", "window_state_all", "hall_notice"),
    "counter": _reads("window_state", "queue_state", "stats_today", "calls_recent", "calls"),
    "tablet": _reads("window_state"),
    "window": _reads("window_state", "queue_state", "calls", "calls_recent"),
    "hall": _reads("window_state_all", "queue_state", "calls", "calls_recent", "stats_today", "alerts",
                   "node_status_all", "node_devices_all", "hall_notice"),
    # hallweb: the queue and the windows to follow the tickets its phone pages show (web/); the
    # manager console's live monitor adds the day's figures, the alerts and every node's presence
    # and device health (web/monitor.py)
    "web": _reads("window_state_all", "queue_state", "calls", "calls_recent", "stats_today", "alerts",
                  "node_status_all", "node_devices_all", "hall_notice"),
}


@dataclass
class NodeCredentials:
    """What one node needs to log in to the hall's broker (written to credentials/NODE.json)."""

    username: str
    password: str
    role: str
    window: str | None
    node_key: str  # hex; signs the node id on window.* and rating.submit requests

    def to_json(self) -> str:
        """As the NODE.json file."""
        return json.dumps(
            {"username": self.username, "password": self.password, "role": self.role,
             "window": self.window, "node_key": self.node_key},
            ensure_ascii=False, indent=2,
        ) + "\n"


@dataclass
class BrokerFiles:
    """Everything `hallbus broker-config` writes."""

    conf: str
    passwd: str
    acl: str
    credentials: dict[str, NodeCredentials] = field(default_factory=dict)
    bridge: str | None = None


def mosquitto_hash(password: str, *, salt: bytes | None = None, iterations: int = 101) -> str:
    """A Mosquitto 2 password hash (`$7$`: PBKDF2-SHA512), as `mosquitto_passwd` writes it."""
    salt = salt or os.urandom(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), salt, iterations)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def acl_rules(topics: Topics, node: str, role: str, window: str | None) -> list[str]:
    """The ACL lines of one user (`topic read|write|readwrite FILTER`)."""
    r = topics.root
    if role == "controller":
        return [f"topic readwrite {r}#"]
    if role not in ROLE_READS:
        raise ValueError(f"unknown role {role!r}")
    # Its own presence (birth, will, offline) and device health, nothing else under node/.
    # Every kiosk has an RPC client (its reply topic), even a display that calls nothing.
    lines = [f"topic write {topics.node_status(node)}", f"topic write {topics.node_devices(node)}",
             f"topic read {r}node/{node}/#", f"topic read {topics.node_status(CONTROLLER)}",
             f"topic read {r}reply/{node}/#"]
    lines += [f"topic write {topics.rpc(m)}" for m in ROLE_METHODS.get(role, ())]
    reads = ROLE_READS[role](topics, window or "")
    return lines + [f"topic read {t}" for t in reads]


def _existing(out_dir: Path | None, node: str) -> dict[str, str] | None:
    if out_dir is None:
        return None
    path = out_dir / "credentials" / f"{node}.json"
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def build(
    cfg: HallConfig,
    *,
    out_dir: Path | None = None,
    listen: str = "0.0.0.0",
    port: int | None = None,
    persistence_dir: str = "/var/lib/mosquitto/",
    run_as: str | None = None,
    tls_cert: str | None = None,
    tls_key: str | None = None,
    tls_ca: str | None = None,
    tls_port: int = 8883,
    city: dict[str, str] | None = None,
    plugin: Path | None = None,
) -> BrokerFiles:
    """Build the files for `cfg`; passwords already in `out_dir/credentials` are kept.

    With `[broker_limits]` on, the config loads the rate-limit plugin (`plugin`, by default
    `PLUGIN_BUILT`); raise PluginNotBuilt if that file is not there.
    """
    plugin = plugin or PLUGIN_BUILT
    if limits_active(cfg.broker_limits) and not plugin.is_file():
        raise PluginNotBuilt(plugin)
    topics = Topics(cfg.hall.id)
    base = out_dir.resolve() if out_dir else Path("/etc/mosquitto/hallkit")
    nodes: list[tuple[str, str, str | None]] = [(CONTROLLER, "controller", None)]
    nodes += [(n.id, n.role, n.window) for n in cfg.nodes]
    creds: dict[str, NodeCredentials] = {}
    passwd_lines: list[str] = []
    acl_lines = ["# hall kit ACL: generated by `hallbus broker-config`; anonymous clients get nothing.", ""]
    for node, role, window in nodes:
        old = _existing(out_dir, node) or {}
        password = old.get("password") or secrets.token_urlsafe(18)
        node_key = old.get("node_key") or secrets.token_hex(32)
        creds[node] = NodeCredentials(node, password, role, window, node_key)
        passwd_lines.append(f"{node}:{mosquitto_hash(password)}")
        acl_lines.append(f"user {node}")
        acl_lines += acl_rules(topics, node, role, window)
        acl_lines.append("")
    conf = [
        "# Mosquitto for the hall kit: generated by `hallbus broker-config`.",
        f"# hall: {cfg.hall.id} ({cfg.hall.name})",
        "per_listener_settings false",
        "allow_anonymous false",
        f"password_file {base / 'passwd'}",
        f"acl_file {base / 'acl'}",
        *(limit_lines(cfg.broker_limits, [(n, r) for n, r, _w in nodes], plugin)
          if limits_active(cfg.broker_limits) else ["# [broker_limits] off: no login is held to a publish budget."]),
        "# Without TCP_NODELAY a request/response on a LAN takes ~40-90 ms instead of ~1 ms.",
        "set_tcp_nodelay true",
        "persistence true",
        f"persistence_location {persistence_dir}",
        "autosave_interval 30",
        "# Sizes: the largest real message is ~12 KiB (bench/message_sizes.py, 60 windows).",
        f"message_size_limit {MESSAGE_SIZE_LIMIT}",
        f"max_packet_size {MAX_PACKET_SIZE}",
        f"max_queued_messages {MAX_QUEUED_MESSAGES}",
        f"max_queued_bytes {MAX_QUEUED_BYTES}",
        f"max_inflight_bytes {MAX_INFLIGHT_BYTES}",
        "max_inflight_messages 100",
        "log_type error",
        "log_type warning",
        "log_type notice",
        "connection_messages true",
        "",
        f"listener {port or cfg.broker.port} {listen}",
        *CLIENT_ID_IS_USERNAME,
    ]
    if run_as:
        conf.insert(3, f"user {run_as}")
    if tls_cert and tls_key:
        conf += ["", f"listener {tls_port} {listen}", *CLIENT_ID_IS_USERNAME, f"certfile {tls_cert}",
                 f"keyfile {tls_key}"]
        if tls_ca:
            conf.append(f"cafile {tls_ca}")
        conf.append("tls_version tlsv1.2")
    bridge = None
    if city:
        bridge = bridge_config(cfg, city)
        conf += ["", f"include_dir {base / 'conf.d'}"]
    return BrokerFiles(
        conf="\n".join(conf) + "\n",
        passwd="\n".join(passwd_lines) + "\n",
        acl="\n".join(acl_lines),
        credentials=creds,
        bridge=bridge,
    )


def bridge_config(cfg: HallConfig, city: dict[str, str]) -> str:
    """A bridge forwarding this hall's queue, stats, alerts and node health to a city broker.

    `city` keys: `address` (host:port), optional `username`, `password`, `cafile`,
    `name`. Only state, stats, alerts and the bridge's own up/down notice go out; nothing comes
    back in, so the city can watch but never command the hall. Messages queue while the city is away.
    """
    r = Topics(cfg.hall.id).root
    name = city.get("name") or f"city-{cfg.hall.id}"
    lines = [
        "# Bridge to the city-level broker: generated by `hallbus broker-config --city`.",
        f"connection {name}",
        f"address {city['address']}",
        f"remote_clientid hall-{cfg.hall.id}",
        "cleansession false",
        "bridge_protocol_version mqttv311",
        "restart_timeout 1 10",
        "try_private true",
        "notifications true",
        # The notice goes to the city too (retained `1`; the city broker publishes the bridge's will,
        # `0`, when the hall's link dies): the city's way to tell a silent hall from a quiet one.
        "notifications_local_only false",
        f"notification_topic {r}bridge/{name}/connected",
        f"topic {r}queue/# out 1",
        f"topic {r}stats/# out 1",
        f"topic {r}alerts out 1",
        f"topic {r}node/# out 1",
        f"topic {r}window/+/state out 1",
    ]
    if city.get("username"):
        lines += [f"remote_username {city['username']}", f"remote_password {city.get('password', '')}"]
    if city.get("cafile"):
        lines += [f"bridge_cafile {city['cafile']}", "bridge_insecure false"]
    return "\n".join(lines) + "\n"


def put_file(path: Path, text: str, mode: int, group: int | None = None) -> Path:
    """Write `text` to `path` whole (through a temporary file) with `mode`, owned by `group` when given."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    if group is not None:
        os.chown(tmp, -1, group)
    os.chmod(tmp, mode)
    os.replace(tmp, path)
    return path


def write(files: BrokerFiles, out_dir: Path, *, broker_gid: int | None = None) -> list[Path]:
    """Write the files under `out_dir` (secrets mode 0600); return what was written.

    With `broker_gid` (the group Mosquitto runs as, `--run-as`, when run by root) the folder
    and what the broker reads (passwd, acl, the bridge) belong to that group, 0750/0640,
    every time: a run that adds a node must not leave a password file the running broker
    cannot read at its next reload (it would then refuse every login, the controller's too).
    Credentials and node keys stay root's alone.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    def put(path: Path, text: str, mode: int, *, broker_reads: bool = False) -> None:
        written.append(put_file(path, text, mode, broker_gid if broker_reads else None))

    if broker_gid is not None:
        os.chown(out_dir, -1, broker_gid)
        os.chmod(out_dir, 0o750)
    put(out_dir / "mosquitto.conf", files.conf, 0o644)
    put(out_dir / "passwd", files.passwd, 0o640, broker_reads=True)
    put(out_dir / "acl", files.acl, 0o640, broker_reads=True)
    for node, cred in files.credentials.items():
        put(out_dir / "credentials" / f"{node}.json", cred.to_json(), 0o600)
    keys = {node: c.node_key for node, c in files.credentials.items() if node != CONTROLLER}
    put(out_dir / "node-keys.json", json.dumps(keys, indent=2) + "\n", 0o600)
    if files.bridge:
        put(out_dir / "conf.d" / "city-bridge.conf", files.bridge, 0o640, broker_reads=True)
    return written
