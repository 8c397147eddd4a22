"""BER-TLV as used by EMV/PBOC cards: parse, search, and build (for the card emulator)."""

from __future__ import annotations

from collections.abc import Iterator


def _read_tag(data: bytes, i: int) -> tuple[int, int]:
    tag = data[i]
    i += 1
    if tag & 0x1F == 0x1F:
        while True:
            if i >= len(data):
                raise ValueError("truncated tag")
            tag = (tag << 8) | data[i]
            i += 1
            if not data[i - 1] & 0x80:
                break
    return tag, i


def _read_len(data: bytes, i: int) -> tuple[int, int]:
    if i >= len(data):
        raise ValueError("truncated length")
    first = data[i]
    i += 1
    if first < 0x80:
        return first, i
    n = first & 0x7F
    if n == 0 or n > 3 or i + n > len(data):
        raise ValueError("bad length")
    return int.from_bytes(data[i : i + n], "big"), i + n


def iter_tlv(data: bytes) -> Iterator[tuple[int, bytes]]:
    """Top-level (tag, value) pairs; stops quietly at padding (00/FF) or malformed data."""
    i = 0
    while i < len(data):
        if data[i] in (0x00, 0xFF):
            i += 1
            continue
        try:
            tag, i = _read_tag(data, i)
            length, i = _read_len(data, i)
        except ValueError:
            return
        if i + length > len(data):
            return
        yield tag, data[i : i + length]
        i += length


def is_constructed(tag: int) -> bool:
    """True for a constructed tag (its value holds more TLVs)."""
    first = tag
    while first > 0xFF:
        first >>= 8
    return bool(first & 0x20)


def find_all(data: bytes, tag: int, depth: int = 0) -> Iterator[bytes]:
    """Every value of `tag`, searching into constructed tags (depth-limited)."""
    if depth > 8:
        return
    for t, value in iter_tlv(data):
        if t == tag:
            yield value
        if is_constructed(t):
            yield from find_all(value, tag, depth + 1)


def find(data: bytes, tag: int) -> bytes | None:
    """The first value of `tag`, or None."""
    return next(find_all(data, tag), None)


def encode(tag: int, value: bytes) -> bytes:
    """One TLV (emulator side)."""
    tag_bytes = tag.to_bytes((tag.bit_length() + 7) // 8 or 1, "big")
    n = len(value)
    if n < 0x80:
        length = bytes([n])
    elif n < 0x100:
        length = bytes([0x81, n])
    else:
        length = bytes([0x82]) + n.to_bytes(2, "big")
    return tag_bytes + length + value


def parse_dol(dol: bytes) -> list[tuple[int, int]]:
    """A data object list (e.g. PDOL): (tag, length) pairs."""
    out: list[tuple[int, int]] = []
    i = 0
    try:
        while i < len(dol):
            tag, i = _read_tag(dol, i)
            length, i = _read_len(dol, i)
            out.append((tag, length))
    except ValueError:
        pass
    return out
