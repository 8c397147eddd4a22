"""Staff secrets (password hashes, badge UIDs): a file only the controller reads.

`hall.toml` is copied to every node, because screens show the staff's names, titles,
photos and stars. What lets a person sign in at a window must not travel with it: a
counter's or a lobby terminal's disk would hand every password hash (to crack offline)
and every badge UID (to clone a badge, or to send `window.login` with it) to whoever
opens it. So `[privacy] staff_secrets_file` names a TOML file kept on the hall server
only (mode 0640, group hallkit), read by the controller alone:

    [[staff]]
    id = "s001"                      # a staff id of hall.toml
    badge_uid = "04a1b2c3010080"
    password_hash = "pbkdf2_sha256$100000$...$..."

Halls set up before the split keep working: `badge_uid` and `password_hash` in
hall.toml's `[[staff]]` are still read (the secrets file wins where both give one) and
the controller warns at every start. `split_config` moves them out
(`hallbus staff-secrets split`). Errors name the file, the line and the key.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import msgspec

from hallbus.config import (
    REPO_ROOT,
    ConfigError,
    HallConfig,
    StaffSection,
    Strict,
    decode_checked,
    locate,
    parse_config,
    read_config_text,
)

log = logging.getLogger(__name__)

SECRET_KEYS = ("badge_uid", "password_hash")
SAMPLES = REPO_ROOT / "assets"  # the sample hall's secrets are public demo data
_HASH_RE = re.compile(r"pbkdf2_sha256\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+")


class StaffSecret(Strict, kw_only=True):
    """One `[[staff]]` entry of the secrets file: how a staff member proves who they are."""

    id: str
    badge_uid: str | None = None
    password_hash: str | None = None


class StaffSecretsFile(Strict, kw_only=True):
    """The whole secrets file."""

    staff: list[StaffSecret] = msgspec.field(default_factory=list)


def badge_key(uid: str) -> str:
    """A badge UID as lookups know it (lower case, no separators)."""
    return uid.strip().lower().replace(":", "").replace(" ", "")


def _check(cfg: HallConfig, secrets: StaffSecretsFile) -> list[tuple[list[str | int], str]]:
    known = {s.id for s in cfg.staff}
    errs: list[tuple[list[str | int], str]] = []
    seen: set[str] = set()
    for i, sec in enumerate(secrets.staff):
        if sec.id not in known:
            errs.append((["staff", i, "id"], f"no staff {sec.id!r} in {cfg.path or 'hall.toml'}"))
        if sec.id in seen:
            errs.append((["staff", i, "id"], f"staff id {sec.id!r} is used twice"))
        seen.add(sec.id)
        if sec.password_hash is not None and not _HASH_RE.fullmatch(sec.password_hash):
            errs.append((["staff", i, "password_hash"],
                         "must look like pbkdf2_sha256$ITER$SALT$HASH (make one with `hallbus staff-secrets hash`)"))
    return errs


def read_staff_secrets(cfg: HallConfig, path: Path | str) -> StaffSecretsFile:
    """The secrets file at `path`, checked against the staff of `cfg`; ConfigError naming file, line and key."""
    p = Path(path)
    text = read_config_text(p, "file not found (the staff secrets file lives on the hall server, for the controller)")
    secrets = decode_checked(text, p, StaffSecretsFile, lambda s: _check(cfg, s))
    if p.stat().st_mode & 0o007 and not p.resolve().is_relative_to(SAMPLES):
        log.warning("%s: readable by every user of this machine: chmod 640 it, owner root, group hallkit", p)
    return secrets


def inline_secret_ids(cfg: HallConfig) -> list[str]:
    """Staff ids whose password hash or badge UID is written in hall.toml itself (copied to every node)."""
    return [s.id for s in cfg.staff if s.badge_uid or s.password_hash]


def inline_warning(cfg: HallConfig) -> str | None:
    """What the controller logs at start when hall.toml still carries staff secrets."""
    ids = inline_secret_ids(cfg)
    if not ids:
        return None
    return (
        f"{cfg.path or 'hall.toml'}: [[staff]] of {', '.join(ids[:5])}{' ...' if len(ids) > 5 else ''} "
        "carry badge_uid/password_hash, and hall.toml is copied to every node: move them to the "
        "controller-only [privacy] staff_secrets_file (`hallbus staff-secrets split`, docs/install.md)"
    )


def with_staff_secrets(cfg: HallConfig) -> HallConfig:
    """`cfg` with the secrets file's badge UIDs and password hashes on its staff (`cfg` itself when none is set)."""
    name = cfg.privacy.staff_secrets_file
    if not name:
        merged = cfg
    else:
        by_id = {s.id: s for s in read_staff_secrets(cfg, cfg.resolve(name)).staff}
        staff = [_merged(s, by_id.get(s.id)) for s in cfg.staff]
        merged = msgspec.structs.replace(cfg, staff=staff)
    _check_badges(merged, name)
    return merged


def _merged(member: StaffSection, secret: StaffSecret | None) -> StaffSection:
    if secret is None:
        return member
    return msgspec.structs.replace(
        member,
        badge_uid=secret.badge_uid or member.badge_uid,
        password_hash=secret.password_hash or member.password_hash,
    )


def _check_badges(cfg: HallConfig, secrets_file: str | None) -> None:
    """One badge, one person: a UID given twice would sign in whoever comes first in the file."""
    owner: dict[str, str] = {}
    for s in cfg.staff:
        if not s.badge_uid:
            continue
        key = badge_key(s.badge_uid)
        if key in owner:
            where = cfg.resolve(secrets_file) if secrets_file else cfg.path
            raise ConfigError(where, "badge_uid", f"badge {s.badge_uid!r} is given to {owner[key]} and to {s.id}")
        owner[key] = s.id


# --- moving secrets out of an old hall.toml --------------------------------------------------


def _toml_str(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a TOML basic string


def secrets_text(cfg: HallConfig) -> str:
    """The secrets file for the staff of `cfg` (secrets already merged)."""
    out = [
        "# Staff secrets of the hall: read by the hall controller only. Keep this file on the",
        "# hall server (root:hallkit, mode 0640); never copy it to a node.",
    ]
    for s in cfg.staff:
        if not (s.badge_uid or s.password_hash):
            continue
        out += ["", "[[staff]]", f"id = {_toml_str(s.id)}"]
        out += [f"{k} = {_toml_str(v)}" for k in SECRET_KEYS if (v := getattr(s, k))]
    return "\n".join(out) + "\n"


def node_text(text: str, cfg: HallConfig, secrets_path: str) -> str:
    """hall.toml `text` without staff secrets, its `[privacy] staff_secrets_file` set to `secrets_path`."""
    lines = text.splitlines()
    drop: set[int] = set()
    for i, s in enumerate(cfg.staff):
        for key in SECRET_KEYS:
            if getattr(s, key) is None:
                continue
            line = locate(text, ["staff", i, key])
            if line is None or not re.match(rf"\s*{key}\s*=", lines[line - 1]):
                raise ConfigError(cfg.path, f"staff[{i}].{key}", "write it as its own `key = \"...\"` line to split it")
            drop.add(line - 1)
    entry = f"staff_secrets_file = {_toml_str(secrets_path)}   # controller only: staff password hashes, badge UIDs"
    at = locate(text, ["privacy", "staff_secrets_file"]) if cfg.privacy.staff_secrets_file else None
    header = locate(text, ["privacy"])
    if at is not None:
        lines[at - 1] = entry
    elif header is not None and lines[header - 1].strip().startswith("[privacy]"):
        lines.insert(header, entry)
        drop = {d + 1 if d >= header else d for d in drop}
    else:
        lines += ["", "[privacy]", entry]
    return "\n".join(line for n, line in enumerate(lines) if n not in drop) + "\n"


def split_config(cfg: HallConfig, secrets_path: str) -> tuple[str, str]:
    """(hall.toml for every node, the controller's secrets file) from a validated config read from `cfg.path`."""
    text = Path(cfg.path).read_text(encoding="utf-8")
    merged = with_staff_secrets(cfg)
    nodes = node_text(text, cfg, secrets_path)
    left = inline_secret_ids(parse_config(nodes, cfg.path))
    if left:
        raise ConfigError(cfg.path, "staff", f"secrets of {', '.join(left)} could not be taken out; edit them by hand")
    return nodes, secrets_text(merged)


# --- the first manager of the console (`hallbus staff-secrets create-manager`) ------------------


def _set_role_line(text: str, cfg: HallConfig, index: int) -> list[str]:
    """`text`'s lines with staff[index]'s `role` made "manager" (its own line, replaced or added after `id`)."""
    lines = text.splitlines()
    at = locate(text, ["staff", index, "role"])
    if at is not None and re.match(r"\s*role\s*=", lines[at - 1]):
        lines[at - 1] = 'role = "manager"'
        return lines
    at = locate(text, ["staff", index, "id"])
    if at is None or not re.match(r"\s*id\s*=", lines[at - 1]):
        raise ConfigError(cfg.path, f"staff[{index}].id", "write it as its own `id = \"...\"` line to give it a role")
    lines.insert(at, 'role = "manager"')
    return lines


def with_manager(cfg: HallConfig, text: str, staff_id: str, name: str, password_hash: str) -> tuple[str, str]:
    """(hall.toml `text` with `staff_id` a manager, added when new; the secrets file with its password hash).

    The hall must have `[privacy] staff_secrets_file` (the hash goes there, never into hall.toml).
    Both results are checked as the controller will read them; ConfigError names what is wrong.
    """
    if not cfg.privacy.staff_secrets_file:
        raise ConfigError(cfg.path, "privacy.staff_secrets_file",
                          "set it first (the password hash goes there; `hallbus staff-secrets split`)")
    index = next((i for i, s in enumerate(cfg.staff) if s.id == staff_id), None)
    if index is None:
        if not name.strip():
            raise ConfigError(cfg.path, "staff", f"there is no staff {staff_id!r} yet: give --name to add them")
        lines = [*text.rstrip("\n").splitlines(), "", "[[staff]]", f"id = {_toml_str(staff_id)}",
                 f"name = {_toml_str(name.strip())}", 'role = "manager"']
    elif cfg.staff[index].role != "manager":
        lines = _set_role_line(text, cfg, index)
    else:
        lines = text.rstrip("\n").splitlines()
    new_text = "\n".join(lines) + "\n"
    new_cfg = parse_config(new_text, cfg.path)
    secrets_path = cfg.resolve(cfg.privacy.staff_secrets_file)
    merged = with_staff_secrets(new_cfg) if secrets_path.exists() else new_cfg
    staff = [msgspec.structs.replace(s, password_hash=password_hash) if s.id == staff_id else s for s in merged.staff]
    return new_text, secrets_text(msgspec.structs.replace(merged, staff=staff))
