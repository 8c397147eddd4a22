"""Typing on an on-screen keypad: one field's text, with the keys a keypad has."""

from __future__ import annotations


def press(text: str, key: str, *, max_len: int, allowed: str) -> str:
    """`text` after pressing `key`: a character, `back` or `clear`; other keys and overflow are ignored."""
    if key == "back":
        return text[:-1]
    if key == "clear":
        return ""
    key = key.upper()
    if len(key) == 1 and key in allowed and len(text) < max_len:
        return text + key
    return text
