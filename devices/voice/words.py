"""A call in words and in clip names: 请 A 0 1 2 号 到 十二 号窗口办理. Pure functions."""

from __future__ import annotations

import re

DIGITS = "零一二三四五六七八九"
TICKET_RE = re.compile(r"^([A-Za-z]{0,2})(\d{1,4})$")


def cardinal_zh(n: int) -> str:
    """A window number read as a cardinal: 3 → 三, 12 → 十二, 20 → 二十, 105 → 一百零五."""
    if not 0 <= n <= 9999:
        raise ValueError(f"window number out of range: {n}")
    if n < 10:
        return DIGITS[n]
    if n < 20:
        return "十" + (DIGITS[n % 10] if n % 10 else "")
    parts: list[str] = []
    units = [(1000, "千"), (100, "百"), (10, "十"), (1, "")]
    zero = False
    for value, name in units:
        digit = (n // value) % 10
        if digit:
            if zero and parts:
                parts.append("零")
            parts.append(DIGITS[digit] + name)
            zero = False
        elif parts:
            zero = True
    return "".join(parts)


def call_text(ticket: str, window: str) -> str:
    """The call as displayed and announced: 请A012号到3号窗口办理."""
    return f"请{ticket}号到{window}号窗口办理"


def _char_clip(ch: str) -> str:
    if ch.isdigit():
        return f"digit_{ch}"
    if ch in DIGITS:
        return f"digit_{DIGITS.index(ch)}"
    return {"十": "shi", "百": "bai", "千": "qian"}[ch]


def call_clips(ticket: str, window: str) -> list[str]:
    """Clip names for one call: qing, letter(s), each digit, hao, dao, the window cardinal, hao_chuangkou_banli.

    Raises `ValueError` for a ticket or window that clips cannot say (use speech synthesis then).
    """
    match = TICKET_RE.match(ticket.strip())
    if not match or not window.strip().isdigit():
        raise ValueError(f"no clips for ticket {ticket!r} at window {window!r}")
    letters, digits = match.groups()
    clips = ["qing"]
    clips += [f"letter_{c.lower()}" for c in letters]
    clips += [f"digit_{d}" for d in digits]
    clips += ["hao", "dao"]
    clips += [_char_clip(ch) for ch in cardinal_zh(int(window))]
    clips.append("hao_chuangkou_banli")
    return clips


# Every clip a call can need, with what it says (for scripts/make_voice_clips.py and the docs).
CLIP_WORDS: dict[str, str] = {
    "qing": "请",
    "hao": "号",
    "dao": "到",
    "hao_chuangkou_banli": "号窗口办理",
    "shi": "十",
    "bai": "百",
    "qian": "千",
    **{f"digit_{i}": DIGITS[i] for i in range(10)},
    **{f"letter_{c}": c.upper() for c in "abcdefghijklmnopqrstuvwxyz"},
}
