"""`city.toml`, loaded and validated at start (SPEC 13), with errors naming file, line and key as `hall.toml`'s.

    [broker]      where the city broker is, the shared-subscription group
    [db]          url = "postgresql://..."
    [web]         listen, the API's bearer token (file)
    [thresholds]  when a hall gets a yellow or a red card
    [[halls]]     id, name, district, kind (city / county / township)
    timezone      (at the top) the halls' time zone: where "today" and "this month" begin
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from hallbus.config import (
    ConfigError,
    Strict,
    decode_checked,
    read_config_text,
    split_listen,
)
from hallbus.topics import ID_RE

REPO_ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_CONFIG = REPO_ROOT / "assets" / "city.example.toml"

HallKind = Literal["city", "county", "township"]


class CityBrokerSection(Strict, kw_only=True):
    """[broker]: the city broker (EMQX cluster in production, Mosquitto in tests)."""

    host: str = "127.0.0.1"
    port: int = 1883
    username: str | None = None
    password: str | None = None
    password_file: str | None = None  # hallcity's password in a file (0600; prefer it to `password`): `hallcity broker-config` creates it
    # The port the halls' bridges log in on, on the Mosquitto `hallcity broker-config` writes: a listener of
    # their own, where a login's username is its client id (docs/city.md, "The city broker").
    bridge_port: int = 1884
    tls: bool = False
    ca_file: str | None = None
    keepalive: int = 15
    group: str = "hallcity"  # the shared-subscription group: every instance of one city uses the same
    # How long the broker keeps a stopped instance's session (its share of messages and those it had
    # not acknowledged) for its next start: nothing is lost, but Mosquitto keeps dealing that share to
    # it meanwhile, so a live instance adopts it (adopt_after_s). 0: a stopped instance leaves the group
    # at once (what was in flight to it is lost on Mosquitto; EMQX deals it again to the others). docs/city.md
    session_expiry_s: int = 600
    # A peer offline this long: one live instance adopts its session until it is back (city/adopt.py); 0: never
    adopt_after_s: float = 1.5


class DbSection(Strict, kw_only=True):
    """[db]: the PostgreSQL holding the city's state and history."""

    url: str
    pool_max: int = 8
    batch_ms: int = 50  # how long ingest gathers messages into one transaction
    buffer_max: int = 200_000  # messages held (unacknowledged) while PostgreSQL is away; past it they are dropped and counted
    keep_minutes_days: int = 35  # city_minute's days kept (dropped whole after); city_day is kept for ever. docs/city.md


class CityWebSection(Strict, kw_only=True):
    """[web]: the wall and the JSON API."""

    listen: str = "127.0.0.1:8090"
    token: str | None = None  # the API's bearer token (prefer token_file); none of both: no token asked (behind a proxy's auth)
    token_file: str | None = None


class ThresholdsSection(Strict, kw_only=True):
    """[thresholds]: yellow and red cards (黄牌/红牌) of a hall, and when a silent hall counts as offline."""

    wait_yellow_s: int = 1200  # the longest wait now past this: yellow
    wait_red_s: int = 2400
    satisfaction_yellow: float = 0.95  # satisfaction today below this: yellow
    satisfaction_red: float = 0.90
    overdue_yellow: int = 1  # overdue cases at or past this: yellow
    overdue_red: int = 5
    devices_faulty_yellow: int = 1
    devices_faulty_red: int = 3
    silent_after_s: int = 0  # nothing heard from a hall this long: offline (0: only its bridge's notice and controller decide)


class HallEntry(Strict, kw_only=True):
    """[[halls]]: one hall the city watches."""

    id: str
    name: str
    district: str = ""
    kind: HallKind = "county"


class CityConfig(Strict, kw_only=True):
    """The whole city.toml."""

    broker: CityBrokerSection = msgspec.field(default_factory=CityBrokerSection)
    db: DbSection
    web: CityWebSection = msgspec.field(default_factory=CityWebSection)
    thresholds: ThresholdsSection = msgspec.field(default_factory=ThresholdsSection)
    halls: list[HallEntry] = msgspec.field(default_factory=list)
    timezone: str = "Asia/Shanghai"  # the halls' days: "served today" is of the halls' today, not this server's
    path: str = ""

    def today(self, now: dt.datetime | None = None) -> dt.date:
        """The halls' date now (`timezone`)."""
        return (now or dt.datetime.now(dt.UTC)).astimezone(ZoneInfo(self.timezone)).date()

    def resolve(self, p: str) -> Path:
        """A path of the config, relative to the config file's folder."""
        q = Path(p)
        return q if q.is_absolute() else Path(self.path).resolve().parent / q

    def secret_file(self, key: str, p: str) -> str | None:
        """The first line of the secret file `p` named by `key` (stripped); None when it is empty."""
        try:
            return self.resolve(p).read_text(encoding="utf-8").strip() or None
        except OSError as err:
            raise ConfigError(self.path, key, f"cannot be read: {err}") from err

    def api_token(self) -> str | None:
        """The API's bearer token: `[web] token_file`, `[web] token` or HALLCITY_TOKEN; None when none is set."""
        if self.web.token_file:
            return self.secret_file("web.token_file", self.web.token_file)
        return self.web.token or os.environ.get("HALLCITY_TOKEN") or None

    def broker_password(self) -> str | None:
        """hallcity's password at the city broker: `[broker] password_file`, else `[broker] password`."""
        if self.broker.password_file:
            return self.secret_file("broker.password_file", self.broker.password_file)
        return self.broker.password


def _semantic_errors(cfg: CityConfig) -> list[tuple[list[str | int], str]]:
    errs: list[tuple[list[str | int], str]] = []
    seen: set[str] = set()
    for i, h in enumerate(cfg.halls):
        if not ID_RE.match(h.id):
            errs.append((["halls", i, "id"], f"{h.id!r} must be lowercase letters, digits and '-' only"))
        elif h.id in seen:
            errs.append((["halls", i, "id"], f"hall {h.id!r} is listed twice"))
        seen.add(h.id)
    if not cfg.db.url.startswith(("postgresql://", "postgres://")):
        errs.append((["db", "url"], "must look like postgresql://USER@HOST:PORT/DBNAME"))
    try:
        split_listen(cfg.web.listen)
    except ValueError as err:
        errs.append((["web", "listen"], str(err)))
    if cfg.broker.adopt_after_s < 0:
        errs.append((["broker", "adopt_after_s"], "must be 0 (never adopt) or more"))
    if not cfg.broker.group or "/" in cfg.broker.group or "+" in cfg.broker.group or "#" in cfg.broker.group:
        errs.append((["broker", "group"], "must be a plain name (no '/', '+' or '#')"))
    try:
        ZoneInfo(cfg.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        errs.append((["timezone"], f"{cfg.timezone!r} is not a time zone name (e.g. \"Asia/Shanghai\")"))
    t = cfg.thresholds
    for key, yellow, red, worse_high in (
        ("wait_red_s", t.wait_yellow_s, t.wait_red_s, True),
        ("satisfaction_red", t.satisfaction_yellow, t.satisfaction_red, False),
        ("overdue_red", t.overdue_yellow, t.overdue_red, True),
        ("devices_faulty_red", t.devices_faulty_yellow, t.devices_faulty_red, True),
    ):
        if (red < yellow) if worse_high else (red > yellow):
            errs.append((["thresholds", key], "the red card's threshold must be at least as bad as the yellow card's"))
    for key, value in (("pool_max", cfg.db.pool_max), ("batch_ms", cfg.db.batch_ms), ("buffer_max", cfg.db.buffer_max)):
        if value < 1:
            errs.append((["db", key], "must be 1 or more"))
    if cfg.db.keep_minutes_days < 2:
        errs.append((["db", "keep_minutes_days"], "must be 2 or more (the hall's page shows the last 24 hours by minute)"))
    return errs


def parse_city_config(text: str, path: Path | str = "<city.toml>") -> CityConfig:
    """Parse and validate city.toml text; raise ConfigError naming file, key and line."""
    cfg = decode_checked(text, path, CityConfig, _semantic_errors)
    cfg.path = str(path)
    return cfg


def load_city_config(path: Path | str | None = None) -> CityConfig:
    """Load `path` (default: the shipped example) and validate it."""
    p = Path(path) if path else EXAMPLE_CONFIG
    return parse_city_config(read_config_text(p), p)
