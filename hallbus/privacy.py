"""ID numbers on the bus (SPEC 3.5): an HMAC with the hall key, and masked forms for display.

Nothing in the hall stores, logs or publishes a full ID number.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path


def load_hall_key(path: Path | str, *, create: bool = False) -> bytes:
    """Read the hall key; with `create`, make a new random one (mode 0600) when missing."""
    return load_key_file(path, create=create, what="hall key")


def load_key_file(path: Path | str, *, create: bool, what: str) -> bytes:
    """Read a secret key (hex) from `path`; with `create`, make a new random one (mode 0600) when missing."""
    p = Path(path)
    if not p.exists():
        if not create:
            raise FileNotFoundError(f"{what} file {p} is missing; the controller creates it on first start")
        p.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it meanwhile: read theirs
        else:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(32) + "\n")
    text = p.read_text().strip()
    try:
        key = bytes.fromhex(text)
    except ValueError as err:
        raise ValueError(f"{what} file {p} must hold a hex string") from err
    if len(key) < 16:
        raise ValueError(f"{what} in {p} is too short (need at least 16 bytes)")
    return key


def normalise_id(id_number: str) -> str:
    """Upper-case and strip an ID number so the same card always hashes the same."""
    return id_number.strip().upper().replace(" ", "")


def id_hash(key: bytes, id_number: str) -> str:
    """HMAC-SHA256(hall key, ID number) as hex: the only form of an ID number on the bus."""
    return hmac.new(key, normalise_id(id_number).encode("ascii", "replace"), hashlib.sha256).hexdigest()


def verify_hash(key: bytes, case_no: str, last6: str) -> str:
    """HMAC of a case number with the last 6 characters of the applicant's ID (case look-up check)."""
    msg = f"{case_no.strip()}|{normalise_id(last6)[-6:]}".encode("ascii", "replace")
    return hmac.new(key, msg, hashlib.sha256).hexdigest()


def mask_name(name: str) -> str:
    """张三 -> 张*, 欧阳娜娜 -> 欧***; Latin names keep the first letter of the first word."""
    name = name.strip()
    if not name:
        return ""
    if name.isascii():
        first = name.split()[0]
        return first[0] + "*" * (len(first) - 1) if len(first) > 1 else first
    return name[0] + "*" * (len(name) - 1)


def mask_id(id_number: str) -> str:
    """110105199001010022 -> 110105********0022 (first 6 and last 4 kept)."""
    n = normalise_id(id_number)
    if len(n) <= 10:
        return n[:2] + "*" * max(0, len(n) - 2)
    return n[:6] + "*" * (len(n) - 10) + n[-4:]
