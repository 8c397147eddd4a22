"""The hall's one TOML config (`hall.toml`), loaded and validated at start (SPEC section 7).

Errors name the file, the key and the line, and say what was expected, e.g.
`hall.toml:42: services[2].daily_cap: Expected int, got str`.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, TypeVar

import msgspec

from hallbus.topics import ID_RE

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = REPO_ROOT / "assets" / "hall.example.toml"

Role = Literal["terminal", "tablet", "counter", "window", "hall", "web"]
StaffRole = Literal["manager", "supervisor", "staff"]  # the manager console's roles (SPEC 12.2; docs/admin.md)


class ConfigError(Exception):
    """A config file that cannot be used; the message names file, line and key."""

    def __init__(self, path: Path | str, key: str, message: str, line: int | None = None) -> None:
        self.path = str(path)
        self.key = key
        self.line = line
        self.detail = message
        where = f"{self.path}:{line}" if line else self.path
        super().__init__(f"{where}: {key}: {message}" if key else f"{where}: {message}")


class Strict(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Config tables refuse unknown keys: a typo must not be silently ignored."""


class HallSection(Strict, kw_only=True):
    """[hall]: who this hall is."""

    id: str
    name: str
    name_en: str = ""
    timezone: str = "Asia/Shanghai"
    rollover: str = "03:00"  # day roll-over, local time HH:MM
    data_dir: str = "var/hall"
    notice: str = ""
    notice_en: str = ""
    track_url: str = ""  # "" = `{[web] public_url}/t/{ticket_id}` (SPEC 12)


class BrokerSection(Strict, kw_only=True):
    """[broker]: where the hall's Mosquitto is."""

    host: str = "127.0.0.1"
    port: int = 1883
    tls: bool = False
    ca_file: str | None = None
    credentials_file: str | None = None
    username: str | None = None
    password: str | None = None
    keepalive: int = 15


class PrivacySection(Strict, kw_only=True):
    """[privacy]: the hall key for HMAC of ID numbers."""

    key_file: str = "var/hall/hall.key"
    node_keys_file: str | None = None  # controller only: node keys from `hallbus broker-config`
    staff_secrets_file: str | None = None  # controller only: staff password hashes and badge UIDs


class Slot(Strict, kw_only=True):
    """A time-slot quota: at most `cap` tickets issued between `start` and `end`."""

    start: str
    end: str
    cap: int


class ServiceSection(Strict, kw_only=True):
    """[[services]]: one business line (业务) with its ticket prefix."""

    code: str
    name: str
    name_en: str = ""
    department: str = ""
    daily_cap: int = 300
    slots: list[Slot] = msgspec.field(default_factory=list)
    hours: list[str] = msgspec.field(default_factory=lambda: ["08:30-12:00", "13:30-17:30"])
    real_name: bool = False
    avg_service_s: int = 300
    alert_waiting: int | None = None
    alert_wait_s: int | None = None


class WindowRule(Strict, kw_only=True):
    """How a window picks the next ticket (see docs/queue.md)."""

    mode: Literal["order", "weight"] = "order"
    weights: dict[str, int] = msgspec.field(default_factory=dict)
    ratio: str = ""  # "normal:priority", e.g. "2:1"; empty = priority first always
    only_when_empty: dict[str, list[str]] = msgspec.field(default_factory=dict)


class WindowSection(Strict, kw_only=True):
    """[[windows]]: one counter window."""

    id: str
    name: str
    name_en: str = ""
    services: list[str]
    department: str = ""
    rule: WindowRule = msgspec.field(default_factory=WindowRule)


class StaffSection(Strict, kw_only=True):
    """[[staff]]: a member of window staff (what screens show; secrets belong in `[privacy] staff_secrets_file`).

    `badge_uid` and `password_hash` are still read here for halls set up before the
    secrets file existed; the controller warns at start (`hallbus.staff_secrets`).
    """

    id: str
    name: str
    title: str = ""
    badge_uid: str | None = None
    password_hash: str | None = None
    photo: str | None = None
    stars: float = 5.0
    department: str = ""
    role: StaffRole = "staff"  # manager (大厅管理), supervisor (督查: read-only settings), staff (own figures)


class LoginSection(Strict, kw_only=True):
    """[login]: how staff logins are throttled (back-off per staff id and per node, in the controller's store)."""

    staff_free_attempts: int = 5  # wrong passwords for one staff id before the back-off starts
    node_free_attempts: int = 10  # failed logins from one counter before it must wait too
    backoff_s: int = 30  # the first wait; each further failure doubles it
    max_backoff_s: int = 900  # never longer than this: no lock-out an attacker can make permanent
    forget_after_s: int = 3600  # failures with no new one for this long are forgotten


class DeviceSection(Strict, kw_only=True):
    """Devices of one node: `"sim"`, a port URL, a camera source, or absent."""

    idcard: str | None = None
    printer: str | None = None
    printer_width: int = 80
    camera: str | None = None
    scanner: str | None = None
    pcsc: str | None = None
    voice: str | None = None


class NodeSection(Strict, kw_only=True):
    """[[nodes]]: one screen or device host in the hall."""

    id: str
    role: Role
    window: str | None = None
    devices: DeviceSection = msgspec.field(default_factory=DeviceSection)
    layout: str = ""


class QueueSection(Strict, kw_only=True):
    """[queue]: hall-wide queue rules."""

    recall_limit: int = 3
    person_daily_limit: int = 5
    no_show_block_minutes: int = 0
    est_window: int = 20


class TicketLimitsSection(Strict, kw_only=True):
    """[ticket_limits]: how fast one terminal may take tickets, and who may take the green channel (绿色通道).

    The pace is kept per signed node id (`hallbus.nodeauth`): a hall without node keys has
    no identity to keep it by and issues unlimited (the controller says so at start).
    """

    per_minute: int = 6  # tickets one terminal issues per minute on average (0: no limit)
    burst: int = 6  # tickets one terminal may issue one after another before the pace applies
    green_min_age: int = 70  # the green channel for an ID card whose holder is this old or older (0: never)

    def green_by_age(self, birth: str | None, day: str) -> bool:
        """Whether a card holder born on `birth` may take the green channel on `day` (both YYYY-MM-DD).

        The one rule: the controller holds a `ticket.issue` to it, and a terminal asks for the
        green channel when its card read meets it.
        """
        if self.green_min_age <= 0 or not birth:
            return False
        age = age_on(birth, day)
        return age is not None and age >= self.green_min_age


def age_on(birth: str, day: str) -> int | None:
    """Whole years from `birth` to `day` (both YYYY-MM-DD); None when either is no date."""
    try:
        born, on = dt.date.fromisoformat(birth), dt.date.fromisoformat(day)
    except ValueError:
        return None
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


class RpcLimitsSection(Strict, kw_only=True):
    """[rpc_limits]: how many requests of any kind the controller takes from one node (`hallbus.admission`).

    Kept per signed node id where a request is signed, else per the node its reply topic
    claims (a hall without node keys, where a node may claim another's name). Far above
    what any real kiosk sends: only a node sending at full speed meets it, and is
    answered `busy`, so it cannot bury every other node's requests.
    """

    per_second: float = 20.0  # requests one node sends a second on average (0: no limit)
    burst: int = 100  # requests one node may send at once before that average applies
    web_scale: float = 10.0  # a `web` node (hallweb, asking for every phone in the hall) gets this many times as much


# The largest message the hall's broker takes (`message_size_limit`, `max_packet_size`: see
# hallbus/deploy/brokerconf.py for how it is sized). Here so [broker_limits] can be checked against it.
BROKER_MESSAGE_LIMIT = 128 * 1024


class BrokerLimitsSection(Strict, kw_only=True):
    """[broker_limits]: how much one login may publish, held by the broker before any message is routed.

    `hallbus broker-config` writes these as the options of the hall's broker plugin
    (hallbus/deploy/broker_plugin/hallkit_ratelimit.c): a token bucket per login for PUBLISH
    messages and one for bytes (payload and topic). Over either, the broker drops the message
    unrouted, so a node at full speed costs the controller nothing. Wider than `[rpc_limits]`:
    a real node never meets it, and within it the controller's own per-node budget still
    answers `busy`. The controller's own login is never limited.
    """

    enabled: bool = True  # false: no plugin line in the generated broker config
    per_second: float = 50.0  # messages one login publishes a second on average (0: no message limit)
    burst: int = 500  # messages one login may publish at once before that average applies
    bytes_per_second: int = 256 * 1024  # bytes (payload + topic) a second on average (0: no byte limit)
    bytes_burst: int = 2 * 1024 * 1024  # bytes at once; at least the broker's 128 KiB message size limit
    web_scale: float = 10.0  # the web service (role web, every phone in the hall) gets this many times as much
    disconnect_over: float = 8.0  # refused messages (bytes) past this many bursts, less what the rate has
    # forgiven since, end the login's connection at each further refused publish (0: never)
    storm_ends_per_s: float = 5.0  # more sessions of one login ended (taken over or closed) within a second than
    # this: a reconnect storm, and its new connections are refused for a while (0: never). Wrong passwords never count.
    storm_block_s: float = 5.0  # the first such refusal; doubled at each storm within storm_block_max_s of the last
    storm_block_max_s: float = 120.0  # the longest refusal


class RatingsSection(Strict, kw_only=True):
    """[ratings]: 好差评 rules."""

    request_ttl_s: int = 120
    followup_days: Literal[5, 7, 15] = 5
    tablet_timeout_s: int = 60


class CalendarSection(Strict, kw_only=True):
    """[calendar]: local overrides of the PRC holiday schedule."""

    holidays: list[str] = msgspec.field(default_factory=list)
    workdays: list[str] = msgspec.field(default_factory=list)


class KioskSection(Strict, kw_only=True):
    """[kiosk]: screen behaviour."""

    idle_s: int = 60
    countdown_s: int = 10
    language: Literal["zh_CN", "en"] = "zh_CN"
    voice_enabled: bool = True
    voice_volume: float = 0.8
    voice_skip_to_newest: bool = False  # hall screen: in a burst, announce only the newest waiting call
    satisfaction_min_ratings: int = 10  # hall screen: 满意率 shown only from this many ratings today


class WebSection(Strict, kw_only=True):
    """[web]: the hall's web service `hallweb` (SPEC 12)."""

    listen: str = "127.0.0.1:8080"  # HOST:PORT
    public_url: str = ""  # what a phone reaches, e.g. https://zwfw.example.gov.cn; "" = http://{listen}
    secret_key_file: str = "var/hall/web.key"  # hallweb's own secret: phones' keys in case.query; the console's CSRF

    @property
    def base_url(self) -> str:
        """`public_url` without its trailing slash, or `http://{listen}` when it is not set."""
        return (self.public_url or f"http://{self.listen}").rstrip("/")


class NotifySection(Strict, kw_only=True):
    """[notify]: "you're next" messages to a citizen's phone through the hall's SMS or WeChat gateway (off by default)."""

    enabled: bool = False  # the terminal offers 到号短信提醒 and the controller posts notifications
    url: str = ""  # the gateway's endpoint: each notification is one JSON POST to it
    ahead: int = 3  # "you're next" when a queue change leaves this many people (or fewer) before the ticket
    timeout_s: float = 5.0  # one POST's timeout
    token_file: str | None = None  # a file holding the gateway's bearer token (sent as `Authorization: Bearer`)
    retry_max_s: float = 60.0  # back-off between tries while the gateway is down grows up to this
    give_up_s: float = 900.0  # a notification not delivered this long after it was made is given up (logged)
    include_link: bool = False  # also send the ticket's `track_url` (a secret link: the gateway sees it)


def split_listen(listen: str) -> tuple[str, int]:
    """`HOST:PORT` (IPv6 in brackets) as (host, port); ValueError when it is no such thing."""
    m = re.fullmatch(r"(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})", listen.strip())
    if m is None or not 0 < int(m[3]) < 65536:
        raise ValueError(f"must look like HOST:PORT (e.g. 127.0.0.1:8080), got {listen!r}")
    return m[1] or m[2], int(m[3])


class HallConfig(Strict, kw_only=True):
    """The whole hall.toml."""

    hall: HallSection
    broker: BrokerSection = msgspec.field(default_factory=BrokerSection)
    privacy: PrivacySection = msgspec.field(default_factory=PrivacySection)
    services: list[ServiceSection] = msgspec.field(default_factory=list)
    windows: list[WindowSection] = msgspec.field(default_factory=list)
    staff: list[StaffSection] = msgspec.field(default_factory=list)
    login: LoginSection = msgspec.field(default_factory=LoginSection)
    nodes: list[NodeSection] = msgspec.field(default_factory=list)
    devices: dict[str, DeviceSection] = msgspec.field(default_factory=dict)
    queue: QueueSection = msgspec.field(default_factory=QueueSection)
    ticket_limits: TicketLimitsSection = msgspec.field(default_factory=TicketLimitsSection)
    rpc_limits: RpcLimitsSection = msgspec.field(default_factory=RpcLimitsSection)
    broker_limits: BrokerLimitsSection = msgspec.field(default_factory=BrokerLimitsSection)
    ratings: RatingsSection = msgspec.field(default_factory=RatingsSection)
    calendar: CalendarSection = msgspec.field(default_factory=CalendarSection)
    kiosk: KioskSection = msgspec.field(default_factory=KioskSection)
    web: WebSection = msgspec.field(default_factory=WebSection)
    notify: NotifySection = msgspec.field(default_factory=NotifySection)
    path: str = ""

    def track_url(self, ticket_id: str) -> str:
        """A ticket's tracking link: `[hall] track_url`, else `{[web] public_url}/t/{ticket_id}`."""
        pattern = self.hall.track_url or f"{self.web.base_url}/t/{{ticket_id}}"
        return pattern.replace("{ticket_id}", ticket_id)

    def service(self, code: str) -> ServiceSection | None:
        """The service with this ticket prefix."""
        return next((s for s in self.services if s.code == code), None)

    def window(self, wid: str) -> WindowSection | None:
        """The window with this id."""
        return next((w for w in self.windows if w.id == wid), None)

    def node(self, nid: str) -> NodeSection | None:
        """The node with this id."""
        return next((n for n in self.nodes if n.id == nid), None)

    def staff_member(self, sid: str) -> StaffSection | None:
        """The staff member with this id."""
        return next((s for s in self.staff if s.id == sid), None)

    def node_devices(self, nid: str) -> DeviceSection:
        """A node's devices, `[devices.NODE]` taking precedence over the node's inline table."""
        if nid in self.devices:
            return self.devices[nid]
        node = self.node(nid)
        return node.devices if node else DeviceSection()

    def resolve(self, p: str) -> Path:
        """A path from the config, relative to the repository root when not absolute."""
        path = Path(p)
        return path if path.is_absolute() else REPO_ROOT / path


_PATH_RE = re.compile(r"\$((?:\.[A-Za-z_][\w-]*|\[\d+\]|\[\.\.\.\])*)")
_PART_RE = re.compile(r"\.([A-Za-z_][\w-]*)|\[(\d+)\]")


def _parse_path(path: str) -> list[str | int]:
    parts: list[str | int] = []
    for name, index in _PART_RE.findall(path):
        parts.append(name if name else int(index))
    return parts


def _key_text(parts: list[str | int]) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else p)
    return out


def locate(text: str, parts: list[str | int]) -> int | None:
    """Best-effort line number (1-based) of the key at `parts` in TOML `text`.

    Understands `[table]`, `[[array]]` headers (counting occurrences), dotted headers and
    plain `key = value` lines; falls back to the nearest enclosing header.
    """
    lines = text.splitlines()
    header_re = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
    key_re = re.compile(r"^\s*([A-Za-z0-9_\-\"]+)\s*=")
    # Walk headers: compute the "logical path" of each line.
    counts: dict[str, int] = {}
    best: int | None = None
    best_len = -1
    current: list[str | int] = []
    for i, line in enumerate(lines, start=1):
        m = header_re.match(line)
        if m:
            name = m.group(2).replace('"', "")
            segs: list[str | int] = list(name.split("."))
            if m.group(1) == "[[":
                counts[name] = counts.get(name, -1) + 1
                segs = segs + [counts[name]]
            current = segs
            if current == parts[: len(current)] and len(current) > best_len:
                best, best_len = i, len(current)
            continue
        k = key_re.match(line)
        if k:
            here = current + [k.group(1).strip('"')]
            n = len(here)
            if here == parts[:n] and n > best_len:
                best, best_len = i, n
    return best


def _validate_semantics(cfg: HallConfig) -> list[tuple[list[str | int], str]]:
    errs: list[tuple[list[str | int], str]] = []
    if not ID_RE.match(cfg.hall.id):
        errs.append((["hall", "id"], "must be lowercase letters, digits and '-'"))
    codes: set[str] = set()
    for i, s in enumerate(cfg.services):
        if not re.fullmatch(r"[A-Z]", s.code):
            errs.append((["services", i, "code"], f"must be one capital letter (the ticket prefix), got {s.code!r}"))
        if s.code in codes:
            errs.append((["services", i, "code"], f"service code {s.code!r} is used twice"))
        codes.add(s.code)
        if s.daily_cap < 1 or s.daily_cap > 999:
            errs.append((["services", i, "daily_cap"], "must be between 1 and 999 (ticket numbers have 3 digits)"))
        for j, h in enumerate(s.hours):
            if not re.fullmatch(r"\d\d:\d\d-\d\d:\d\d", h):
                errs.append((["services", i, "hours", j], f"must look like 08:30-12:00, got {h!r}"))
    wids: set[str] = set()
    for i, w in enumerate(cfg.windows):
        if not ID_RE.match(w.id):
            errs.append((["windows", i, "id"], "must be lowercase letters, digits and '-'"))
        if w.id in wids:
            errs.append((["windows", i, "id"], f"window id {w.id!r} is used twice"))
        wids.add(w.id)
        for j, code in enumerate(w.services):
            if code not in codes:
                errs.append((["windows", i, "services", j], f"unknown service {code!r}"))
    sids: set[str] = set()
    for i, st in enumerate(cfg.staff):
        if st.id in sids:
            errs.append((["staff", i, "id"], f"staff id {st.id!r} is used twice"))
        sids.add(st.id)
    lg = cfg.login
    for key in ("staff_free_attempts", "node_free_attempts", "backoff_s", "forget_after_s"):
        if getattr(lg, key) < 1:
            errs.append((["login", key], "must be at least 1"))
    if lg.max_backoff_s < lg.backoff_s:
        errs.append((["login", "max_backoff_s"], f"must be at least backoff_s ({lg.backoff_s})"))
    nids: set[str] = set()
    for i, n in enumerate(cfg.nodes):
        if not ID_RE.match(n.id):
            errs.append((["nodes", i, "id"], "must be lowercase letters, digits and '-'"))
        if n.id in nids:
            errs.append((["nodes", i, "id"], f"node id {n.id!r} is used twice"))
        nids.add(n.id)
        if n.role in ("tablet", "counter", "window") and n.window is None:
            errs.append((["nodes", i, "window"], f"a {n.role} node needs the window it belongs to"))
        if n.window is not None and n.window not in wids:
            errs.append((["nodes", i, "window"], f"unknown window {n.window!r}"))
    limits = cfg.ticket_limits
    if limits.per_minute < 0:
        errs.append((["ticket_limits", "per_minute"], "must be 0 (no limit) or more"))
    if limits.burst < 1:
        errs.append((["ticket_limits", "burst"], "must be 1 or more (a terminal issues at least one ticket)"))
    if limits.green_min_age < 0:
        errs.append((["ticket_limits", "green_min_age"], "must be 0 (no age rule) or more"))
    if cfg.hall.track_url and "{ticket_id}" not in cfg.hall.track_url:
        errs.append((["hall", "track_url"], "must contain {ticket_id} (or leave it out: {[web] public_url}/t/{ticket_id})"))
    try:
        split_listen(cfg.web.listen)
    except ValueError as err:
        errs.append((["web", "listen"], str(err)))
    if cfg.web.public_url and not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", cfg.web.public_url):
        errs.append((["web", "public_url"], f"must be an http:// or https:// address, got {cfg.web.public_url!r}"))
    if cfg.rpc_limits.per_second < 0:
        errs.append((["rpc_limits", "per_second"], "must be 0 (no limit) or more"))
    if cfg.rpc_limits.burst < 1:
        errs.append((["rpc_limits", "burst"], "must be 1 or more"))
    if cfg.rpc_limits.web_scale < 1:
        errs.append((["rpc_limits", "web_scale"], "must be 1 or more (the web service asks for many phones)"))
    errs.extend(_notify_errors(cfg.notify))
    errs += _broker_limits_errors(cfg.broker_limits)
    if not re.fullmatch(r"\d\d:\d\d", cfg.hall.rollover):
        errs.append((["hall", "rollover"], f"must look like 03:00, got {cfg.hall.rollover!r}"))
    return errs


def _notify_errors(n: NotifySection) -> list[tuple[list[str | int], str]]:
    errs: list[tuple[list[str | int], str]] = []
    if n.enabled and not re.fullmatch(r"https?://[^\s/?#]+(/[^\s#]*)?", n.url):
        errs.append((["notify", "url"], f"must be the gateway's http:// or https:// address when enabled, got {n.url!r}"))
    if not 0 <= n.ahead <= 50:
        errs.append((["notify", "ahead"], f"must be between 0 (only the next one) and 50, got {n.ahead}"))
    for key in ("timeout_s", "retry_max_s", "give_up_s"):
        if getattr(n, key) <= 0:
            errs.append((["notify", key], "must be more than 0"))
    return errs


def _broker_limits_errors(b: BrokerLimitsSection) -> list[tuple[list[str | int], str]]:
    errs: list[tuple[list[str | int], str]] = []
    for key in ("per_second", "bytes_per_second", "disconnect_over", "storm_ends_per_s"):
        if getattr(b, key) < 0:
            errs.append((["broker_limits", key], "must be 0 (no limit) or more"))
    if b.storm_ends_per_s > 0 and b.storm_block_s <= 0:
        errs.append((["broker_limits", "storm_block_s"], "must be more than 0"))
    if b.storm_ends_per_s > 0 and b.storm_block_max_s < b.storm_block_s:
        errs.append((["broker_limits", "storm_block_max_s"], "must be at least storm_block_s"))
    if b.per_second > 0 and b.burst < 1:
        errs.append((["broker_limits", "burst"], "must be 1 or more"))
    if b.bytes_per_second > 0 and b.bytes_burst < BROKER_MESSAGE_LIMIT:
        errs.append((["broker_limits", "bytes_burst"], f"must be at least {BROKER_MESSAGE_LIMIT} (the broker's "
                     "message size limit), or no message that big could ever pass"))
    if b.web_scale < 1:
        errs.append((["broker_limits", "web_scale"], "must be 1 or more (the web service asks for many phones)"))
    return errs


T = TypeVar("T")


def decode_toml(text: str, path: Path | str, kind: type[T]) -> T:
    """TOML text as the typed `kind`; raise ConfigError naming file, key and line."""
    try:
        raw: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        m = re.search(r"line (\d+)", str(err))
        raise ConfigError(path, "", f"not valid TOML: {err}", int(m.group(1)) if m else None) from err
    try:
        return msgspec.convert(raw, type=kind)
    except msgspec.ValidationError as err:
        msg = str(err)
        m = re.search(r" - at `(\$[^`]*)`", msg)
        parts = _parse_path(m.group(1)) if m else []
        detail = msg.split(" - at ")[0].replace("`", "")
        if detail.startswith("Object contains unknown field"):
            fm = re.search(r"unknown field (\S+)", detail)
            if fm:
                parts.append(fm.group(1).strip("`"))
                detail = "unknown key (a typo?)"
        if detail.startswith("Object missing required field"):
            fm = re.search(r"required field (\S+)", detail)
            if fm:
                parts.append(fm.group(1).strip("`"))
                detail = "this key is required"
        raise ConfigError(path, _key_text(parts), detail, locate(text, parts)) from err


def decode_checked(text: str, path: Path | str, kind: type[T],
                   check: Callable[[T], list[tuple[list[str | int], str]]]) -> T:
    """TOML text as the typed `kind`, then `check`ed (key path, detail): ConfigError naming the first problem's line."""
    value = decode_toml(text, path, kind)
    errs = check(value)
    if errs:
        parts, detail = errs[0]
        extra = f" (and {len(errs) - 1} more problem(s))" if len(errs) > 1 else ""
        raise ConfigError(path, _key_text(parts), detail + extra, locate(text, parts))
    return value


def parse_config(text: str, path: Path | str = "<config>") -> HallConfig:
    """Parse and validate config text; raise ConfigError naming key and line."""
    cfg = decode_checked(text, path, HallConfig, _validate_semantics)
    cfg.path = str(path)
    return cfg


def read_config_text(p: Path, missing: str = "file not found") -> str:
    """A config file's text; ConfigError naming the file when it is absent, unreadable or not UTF-8."""
    try:
        return p.read_text(encoding="utf-8")
    except FileNotFoundError as err:
        raise ConfigError(p, "", missing) from err
    except PermissionError as err:
        raise ConfigError(p, "", "permission denied (is this process in the file's group?)") from err
    except UnicodeDecodeError as err:
        raise ConfigError(p, "", "file is not UTF-8 text") from err


def load_config(path: Path | str | None = None) -> HallConfig:
    """Load `path` (default: the shipped sample) and validate it."""
    p = Path(path) if path else DEFAULT_CONFIG
    return parse_config(read_config_text(p), p)
