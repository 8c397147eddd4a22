"""Resident ID numbers (公民身份号码, GB 11643-1999): check digit and shape, never stored."""

from __future__ import annotations

import re

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_RESIDENT_RE = re.compile(r"^\d{17}[\dX]$")
_FOREIGN_2017_RE = re.compile(r"^[A-Z]{3}\d{12}$")  # 2017 foreigner permanent residence card


def check_digit(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character of the first 17 digits."""
    total = sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


def is_valid(id_number: str) -> bool:
    """Whether an ID number has a valid shape (and, for 18-character numbers, check digit)."""
    n = id_number.strip().upper()
    if _RESIDENT_RE.match(n):
        return check_digit(n[:17]) == n[17]
    return bool(_FOREIGN_2017_RE.match(n))


def complete(first17: str) -> str:
    """The full 18-character number for 17 digits (used by the sample generator)."""
    return first17 + check_digit(first17)
