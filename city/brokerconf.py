"""`hallcity broker-config`: the city's Mosquitto, with a login per hall bridge and an ACL.

Two listeners, each with its own password file and ACL (`per_listener_settings true`):

- `[broker] port`, for `hallcity`: the login `[broker] username` reads `hall/v1/#` (plain and
  through `$share/{group}/hall/v1/...`: Mosquitto 2 checks a shared subscription's read access
  on the topic of each message it delivers, the `$share/{group}/` stripped) and reads and
  writes `hallcity/v1/#` (the instances' own notices); it writes nothing under `hall/`. Client
  ids are free here: each instance names its own (`hallcity serve --instance`), so the
  instances cannot share one id the way a login bound to its username would.
- `[broker] bridge_port`, for the halls' bridges: the login `hall-{id}` of each `[[halls]]`
  writes `hall/v1/{id}/#` (its state, figures, alerts and its bridge's notice, which is also
  the bridge's will the broker publishes when the link dies) and reads nothing. The listener
  takes the username as the client id (`use_username_as_clientid`), so a hall's login can only
  ever replace its own bridge's connection, never another hall's nor a `hallcity` instance's;
  the username is the client id the hall's bridge sends anyway (`remote_clientid hall-{id}`).
  A hall login is in this listener's password file only: it cannot log in on `hallcity`'s.

With `sim=True` (tests, the demo and the benchmark only) a login `hallsim` on `hallcity`'s
listener may write `hall/v1/#`: the simulator plays hundreds of halls over one connection.

A password already in `out_dir` is kept at each run (re-running for a new hall must not break
every other hall's bridge); `hallcity`'s comes from `[broker] password_file` (created when
missing) or `[broker] password`.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from city.config import CityConfig
from hallbus.config import BROKER_MESSAGE_LIMIT, ConfigError
from hallbus.deploy.brokerconf import mosquitto_hash, put_file

SIM_LOGIN = "hallsim"
# A hall's broker lets no packet bigger than this through (hallbus.config), and its bridge sends
# each on with the same topic: nothing a hall forwards is bigger. Past it the broker ends the
# sender's connection before reading the packet.
MESSAGE_SIZE_LIMIT = BROKER_MESSAGE_LIMIT
# Messages waiting for one client beyond those in flight: an instance stopped for a restart
# keeps its session (`[broker] session_expiry_s`) and its share queues up meanwhile (500 halls
# at a few messages a second for ten minutes: ~1.5 million).
MAX_QUEUED_MESSAGES = 2_000_000


def hall_login(hall: str) -> str:
    """The username (and client id) of a hall's bridge at the city broker."""
    return f"hall-{hall}"


@dataclass
class CityBrokerFiles:
    """What `hallcity broker-config` writes: the config, a password file and an ACL per listener, credentials."""

    conf: str
    passwd_hallcity: str
    acl_hallcity: str
    passwd_halls: str
    acl_halls: str
    credentials: dict[str, dict[str, str]] = field(default_factory=dict)  # login -> its JSON
    hallcity_password_file: Path | None = None  # to create (0600) when it was named but missing
    hallcity_password: str = ""


def hall_acl(hall: str) -> list[str]:
    """A hall bridge's ACL lines: writes its own hall's topics (and its notice, its will), reads nothing."""
    return [f"user {hall_login(hall)}", f"topic write hall/v1/{hall}/#", ""]


def hallcity_acl(username: str) -> list[str]:
    """hallcity's ACL lines: reads every hall (plain and shared), reads and writes its own tree only."""
    return [f"user {username}", "topic read hall/v1/#", "topic readwrite hallcity/v1/#", ""]


def _old_password(out_dir: Path, login: str) -> str | None:
    try:
        data = json.loads((out_dir / "credentials" / f"{login}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    pw = data.get("password") if isinstance(data, dict) else None
    return pw if isinstance(pw, str) and pw else None


def _hallcity_password(cfg: CityConfig) -> tuple[str, Path | None]:
    """(hallcity's password, the file to create for it or None)."""
    b = cfg.broker
    if b.password_file:
        path = cfg.resolve(b.password_file)
        if path.exists():
            pw = cfg.broker_password()
            if not pw:
                raise ConfigError(cfg.path, "broker.password_file", f"{path} is empty")
            return pw, None
        return secrets.token_urlsafe(18), path
    if b.password:
        return b.password, None
    raise ConfigError(cfg.path, "broker.password_file",
                      "城市代理需要 hallcity 的密码: 请在 [broker] 中设 password_file (不存在时会生成)。"
                      " hallcity needs a password at the city broker: set [broker] password_file"
                      " (created when missing) or password")


def build(cfg: CityConfig, out_dir: Path, *, listen: str = "0.0.0.0", port: int | None = None,
          bridge_port: int | None = None, persistence_dir: str = "/var/lib/mosquitto/", run_as: str | None = None,
          sim: bool = False) -> CityBrokerFiles:
    """The files for `cfg`; passwords already in `out_dir/credentials` are kept."""
    if not cfg.broker.username:
        raise ConfigError(cfg.path, "broker.username",
                          "城市代理需要 hallcity 的用户名: 请在 [broker] 中设 username (如 \"hallcity\")。"
                          " hallcity needs a login at the city broker: set [broker] username (e.g. \"hallcity\")")
    hc_user = cfg.broker.username
    if hc_user == SIM_LOGIN or hc_user.startswith("hall-"):
        raise ConfigError(cfg.path, "broker.username", f"{hc_user!r} is a name of the halls' or the simulator's logins")
    hc_pw, hc_file = _hallcity_password(cfg)
    base = out_dir.resolve()
    creds: dict[str, dict[str, str]] = {}
    halls_pw: list[str] = []
    halls_acl = ["# The halls' bridges (listener on [broker] bridge_port): generated by `hallcity broker-config`.",
                 "# Each writes its own hall's topics and reads nothing; anonymous clients get nothing.", ""]
    bridge = bridge_port or cfg.broker.bridge_port
    for h in cfg.halls:
        login = hall_login(h.id)
        pw = _old_password(out_dir, login) or secrets.token_urlsafe(18)
        creds[login] = {"hall": h.id, "username": login, "password": pw, "bridge_port": str(bridge)}
        halls_pw.append(f"{login}:{mosquitto_hash(pw)}")
        halls_acl += hall_acl(h.id)
    hc_pw_lines = [f"{hc_user}:{mosquitto_hash(hc_pw)}"]
    hc_acl = ["# hallcity's listener ([broker] port): generated by `hallcity broker-config`.", "",
              *hallcity_acl(hc_user)]
    if sim:
        pw = _old_password(out_dir, SIM_LOGIN) or secrets.token_urlsafe(18)
        creds[SIM_LOGIN] = {"username": SIM_LOGIN, "password": pw, "port": str(port or cfg.broker.port)}
        hc_pw_lines.append(f"{SIM_LOGIN}:{mosquitto_hash(pw)}")
        hc_acl += ["# The simulator (tests, demo, benchmark only: --sim): plays every hall over one connection.",
                   f"user {SIM_LOGIN}", "topic write hall/v1/#", ""]
    conf = [
        "# The city's Mosquitto: generated by `hallcity broker-config` (docs/city.md, \"The city broker\").",
        "per_listener_settings true",
        *([f"user {run_as}"] if run_as else []),
        "# Without TCP_NODELAY every bridged message waits for Nagle's algorithm.",
        "set_tcp_nodelay true",
        "persistence true",
        f"persistence_location {persistence_dir}",
        "autosave_interval 30",
        "# hallcity acknowledges only once its batch is stored: no cap on what is in flight to it, and a",
        "# large queue for an instance that restarts (its session stays, [broker] session_expiry_s).",
        "max_inflight_messages 0",
        f"max_queued_messages {MAX_QUEUED_MESSAGES}",
        "# Sizes: nothing a hall's broker lets through is bigger (hallbus.config.BROKER_MESSAGE_LIMIT).",
        f"message_size_limit {MESSAGE_SIZE_LIMIT}",
        f"max_packet_size {MESSAGE_SIZE_LIMIT}",
        "log_type error",
        "log_type warning",
        "log_type notice",
        "connection_messages true",
        "",
        "# hallcity's instances: each names its own client id (hallcity serve --instance).",
        f"listener {port or cfg.broker.port} {listen}",
        "allow_anonymous false",
        f"password_file {base / 'passwd-hallcity'}",
        f"acl_file {base / 'acl-hallcity'}",
        "",
        "# The halls' bridges: the username is the client id, so a login can only replace its own bridge.",
        f"listener {bridge} {listen}",
        "allow_anonymous false",
        "use_username_as_clientid true",
        f"password_file {base / 'passwd-halls'}",
        f"acl_file {base / 'acl-halls'}",
    ]
    return CityBrokerFiles(
        conf="\n".join(conf) + "\n", passwd_hallcity="\n".join(hc_pw_lines) + "\n", acl_hallcity="\n".join(hc_acl),
        passwd_halls="\n".join(halls_pw) + "\n", acl_halls="\n".join(halls_acl), credentials=creds,
        hallcity_password_file=hc_file, hallcity_password=hc_pw)


def write(files: CityBrokerFiles, out_dir: Path, *, broker_gid: int | None = None) -> list[Path]:
    """Write the files under `out_dir` as the hall's broker-config does; return what was written.

    With `broker_gid` (the group Mosquitto runs as) the folder, the password files and the ACLs
    belong to that group (0750/0640); the credentials and hallcity's password file stay their
    owner's alone (0600).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    if broker_gid is not None:
        os.chown(out_dir, -1, broker_gid)
        os.chmod(out_dir, 0o750)
    written = [put_file(out_dir / "mosquitto.conf", files.conf, 0o644)]
    for name, text in (("passwd-hallcity", files.passwd_hallcity), ("acl-hallcity", files.acl_hallcity),
                       ("passwd-halls", files.passwd_halls), ("acl-halls", files.acl_halls)):
        written.append(put_file(out_dir / name, text, 0o640, broker_gid))
    for login, cred in files.credentials.items():
        text = json.dumps(cred, ensure_ascii=False, indent=2) + "\n"
        written.append(put_file(out_dir / "credentials" / f"{login}.json", text, 0o600))
    if files.hallcity_password_file is not None:
        written.append(put_file(files.hallcity_password_file, files.hallcity_password + "\n", 0o600))
    return written
