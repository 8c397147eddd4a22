"""Ticket ids: a ticket's day and number with 64 unguessable bits ("20260303-a012-1f2e3d4c5b6a7980").

The id is in the ticket's tracking link, so its random part must not be guessable even by
someone who knows the number and the day (SPEC 12: at least 64 bits); the day and number in
front let the store find the ticket by (day, number) without a key of its own. Ids of
older releases (32 bits) are still read, so their links keep working.
"""

from __future__ import annotations

import re
import secrets
import threading

_TICKET_ID = re.compile(r"(\d{4})(\d{2})(\d{2})-([a-z]\d{3})-(?:[0-9a-f]{16}|[0-9a-f]{8})", re.ASCII)
RANDOM_BYTES = 8

_random_pool = bytearray()
_random_lock = threading.Lock()


def new_ticket_id(day: str, number: str) -> str:
    """A ticket's id: its day and number, and 64 random bits ("20260303-a012-1f2e3d4c5b6a7980").

    The bits are unguessable (the id is in the tracking link); they come from the
    system's CSPRNG 4 KiB at a time, not one system call per ticket.
    """
    with _random_lock:
        if len(_random_pool) < RANDOM_BYTES:
            _random_pool.extend(secrets.token_bytes(4096))
        bits = _random_pool[-RANDOM_BYTES:]
        del _random_pool[-RANDOM_BYTES:]
    return f"{day.replace('-', '')}-{number.lower()}-{bits.hex()}"


def ticket_key(ticket_id: str) -> tuple[str, str] | None:
    """The (day, number) a ticket id names, or None for a string that is no ticket id."""
    m = _TICKET_ID.fullmatch(ticket_id)
    if m is None:
        return None
    return f"{m[1]}-{m[2]}-{m[3]}", m[4].upper()
