"""`hallbus staff-secrets`: hash a password, check the secrets file, split an old hall.toml.

- `hash`: a password (from stdin, or asked for) as a `password_hash` line;
- `check`: the secrets file named by `[privacy] staff_secrets_file` read as the controller
  reads it; exit 2 on an error (file:line: key), 1 when hall.toml itself still carries
  a password hash or a badge UID (it is copied to every node), else 0;
- `split --out DIR`: from a hall.toml with secrets in it, `DIR/hall.toml` for every node
  and `DIR/staff-secrets.toml` (mode 0600) for the controller;
- `create-manager --staff ID [--name NAME]`: the console's first manager (docs/admin.md): the
  staff member (added to hall.toml when new) gets `role = "manager"` and the password typed
  twice (or one line on stdin) as its hash in the secrets file. There is no default password.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from pathlib import Path

from hallbus.cli_common import Context
from hallbus.config import ConfigError
from hallbus.passwords import hash_password
from hallbus.staff_secrets import (
    inline_secret_ids,
    inline_warning,
    split_config,
    with_manager,
    with_staff_secrets,
)

DEFAULT_SECRETS_PATH = "/etc/hallkit/staff-secrets.toml"


def add_arguments(parser: argparse.ArgumentParser, _name: str) -> None:
    """`hallbus staff-secrets hash | check | split --out DIR`."""
    parser.add_argument("action", choices=("hash", "check", "split", "create-manager"))
    parser.add_argument("--staff", default=None, help="create-manager: the staff id")
    parser.add_argument("--name", default="", help="create-manager: the name, when the staff id is new")
    parser.add_argument("--out", type=Path, default=None, help="split: folder for hall.toml and staff-secrets.toml")
    parser.add_argument(
        "--secrets-path", default=DEFAULT_SECRETS_PATH,
        help=f"split: where the controller will find the secrets file (default {DEFAULT_SECRETS_PATH})",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Do the chosen action."""
    try:
        if args.action == "hash":
            return _hash()
        if args.action == "check":
            return _check(ctx)
        if args.action == "create-manager":
            return _create_manager(args, ctx)
        return _split(args, ctx)
    except ConfigError as err:
        print(f"hallbus staff-secrets: config error: {err}", file=sys.stderr)
        return 2


def _hash() -> int:
    password = getpass.getpass("password: ") if sys.stdin.isatty() else sys.stdin.readline().rstrip("\n")
    if not password:
        print("hallbus staff-secrets: an empty password cannot be used", file=sys.stderr)
        return 2
    print(f'password_hash = "{hash_password(password)}"')
    return 0


def _check(ctx: Context) -> int:
    cfg = ctx.config
    merged = with_staff_secrets(cfg)
    figures = {
        "staff": len(merged.staff),
        "with_password": sum(1 for s in merged.staff if s.password_hash),
        "with_badge": sum(1 for s in merged.staff if s.badge_uid),
        "secrets_file": str(cfg.resolve(cfg.privacy.staff_secrets_file)) if cfg.privacy.staff_secrets_file else None,
        "secrets_in_hall_toml": inline_secret_ids(cfg),
    }
    if ctx.json:
        print(json.dumps(figures))
    else:
        print(f"{figures['staff']} staff: {figures['with_password']} with a password, "
              f"{figures['with_badge']} with a badge (secrets file: {figures['secrets_file'] or 'none'})")
    warning = inline_warning(cfg)
    if warning:
        print(f"hallbus staff-secrets: {warning}", file=sys.stderr)
        return 1
    return 0


def _split(args: argparse.Namespace, ctx: Context) -> int:
    if args.out is None:
        print("hallbus staff-secrets split: --out DIR is required", file=sys.stderr)
        return 2
    nodes, secrets = split_config(ctx.config, args.secrets_path)
    args.out.mkdir(parents=True, exist_ok=True)
    node_file, secrets_file = args.out / "hall.toml", args.out / "staff-secrets.toml"
    node_file.write_text(nodes, encoding="utf-8")
    fd = os.open(secrets_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        os.fchmod(f.fileno(), 0o600)  # also when it was there already, wider
        f.write(secrets)
    if ctx.json:
        print(json.dumps({"hall_toml": str(node_file), "staff_secrets": str(secrets_file)}))
    else:
        print(f"wrote {node_file} (for every node) and {secrets_file} (controller only: install it at "
              f"{args.secrets_path}, root:hallkit, mode 0640)", file=sys.stderr)
    return 0


MIN_PASSWORD = 10  # a console password guards every setting of the hall


def _new_password() -> str | None:
    """Typed twice at a terminal, or one line on stdin (scripts); None when unusable (said on stderr)."""
    if sys.stdin.isatty():
        password = getpass.getpass("new password: ")
        if getpass.getpass("again: ") != password:
            print("hallbus staff-secrets: the two passwords differ; nothing was changed", file=sys.stderr)
            return None
    else:
        password = sys.stdin.readline().rstrip("\n")
    if len(password) < MIN_PASSWORD:
        print(f"hallbus staff-secrets: a manager's password needs at least {MIN_PASSWORD} characters; "
              "nothing was changed", file=sys.stderr)
        return None
    return password


def _replace_file(path: Path, text: str, mode: int) -> None:
    """Write `text` to `path` at once (a new file beside it, renamed over it), keeping an old file's mode and group."""
    old = path.stat() if path.exists() else None
    tmp = path.with_name(f".{path.name}.new")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.chmod(tmp, old.st_mode & 0o777 if old else mode)
    if old is not None:
        try:
            os.chown(tmp, old.st_uid, old.st_gid)
        except PermissionError:
            pass  # not root: the file stays ours, its mode kept
    os.replace(tmp, path)


def _create_manager(args: argparse.Namespace, ctx: Context) -> int:
    cfg = ctx.config
    if not args.staff:
        print("hallbus staff-secrets create-manager: --staff ID is required", file=sys.stderr)
        return 2
    if not cfg.path:
        print("hallbus staff-secrets create-manager: the config must be a file (--config)", file=sys.stderr)
        return 2
    hall_toml = Path(cfg.path)
    text = hall_toml.read_text(encoding="utf-8")
    password = _new_password()
    if password is None:
        return 2
    new_text, secrets = with_manager(cfg, text, args.staff, args.name, hash_password(password))
    secrets_file = cfg.resolve(cfg.privacy.staff_secrets_file or "")
    _replace_file(secrets_file, secrets, 0o600)
    if new_text != text:
        _replace_file(hall_toml, new_text, 0o644)
    if ctx.json:
        print(json.dumps({"staff": args.staff, "role": "manager", "hall_toml": str(hall_toml),
                          "staff_secrets": str(secrets_file)}))
    else:
        print(f"{args.staff} is a manager of the console now ({hall_toml}, {secrets_file}). Restart the controller "
              "(systemctl restart hallbus) for it to count, and copy hall.toml to the nodes if it changed.",
              file=sys.stderr)
    return 0
