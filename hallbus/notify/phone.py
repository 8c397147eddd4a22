"""A citizen's mobile number (手机号): what counts as one, and how it is shown (masked) anywhere but to the gateway."""

from __future__ import annotations

import re

MOBILE_RE = re.compile(r"1[3-9][0-9]{9}")  # ASCII digits only: \d takes any script's
MOBILE_LEN = 11


def is_mobile(text: str) -> bool:
    """A mainland mobile number: 11 digits, `1` then `3`..`9`."""
    return MOBILE_RE.fullmatch(text) is not None


def mask_mobile(number: str) -> str:
    """`138****5678`: the first 3 and last 4 digits, the rest hidden (anything shorter is hidden whole)."""
    if len(number) < MOBILE_LEN:
        return "*" * len(number)
    return number[:3] + "*" * (len(number) - 7) + number[-4:]
