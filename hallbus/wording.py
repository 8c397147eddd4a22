"""The words every screen uses for the same facts: a window's state, a ticket's wait.

One place, without Qt, so the hall screen, the window display, the counter, the tablet, the
terminal, the printed ticket and the phone pages to come say the same thing about the same
window and the same ticket. Each entry is `{"zh_CN": ..., "en": ...}` (the shape of a
kiosk `Text`).

Window states (`WindowState.status`, plus `unknown` before the first state arrives):

- `closed`: nobody is logged in; the window is not open today (未开放), which a citizen must be
  able to tell from
- `paused`: staff are logged in but away for a while (暂停服务);
- `idle`: open and free, waiting to call the next number (空闲);
- `serving`: handling a ticket now (办理中).

A ticket's wait (`Ticket.ahead`, `Ticket.est_wait_s`, `Ticket.windows_open`, all computed by
the controller alone) reads the same on the terminal, the printed ticket and the hall screen:
with no window of the service open, no estimate is promised.
"""

from __future__ import annotations

import math
import re

Words = dict[str, str]

WINDOW_STATES: tuple[str, ...] = ("closed", "paused", "idle", "serving", "unknown")

_STATE: dict[str, tuple[str, str]] = {
    "closed": ("未开放", "Not open"),
    "paused": ("暂停服务", "Paused"),
    "idle": ("空闲", "Open"),
    "serving": ("办理中", "Serving"),
    "unknown": ("正在获取状态", "Getting the state…"),
}

# What a citizen in front of the window should do, by state (the window display's second line).
_HINT: dict[str, tuple[str, str]] = {
    "closed": ("本窗口今日未开放，请到其他窗口办理", "This window is not open today; please use another window"),
    "paused": ("工作人员暂时离开，请稍候", "Staff will be back shortly; please wait"),
    "idle": ("请等候叫号", "Please wait to be called"),
    "serving": ("", ""),
    "unknown": ("请稍候", "Please wait"),
}


def _words(pair: tuple[str, str]) -> Words:
    return {"zh_CN": pair[0], "en": pair[1]}


def window_state(status: str | None) -> Words:
    """The state word of a window (`closed`, `paused`, `idle`, `serving`; anything else is unknown)."""
    return _words(_STATE.get(status or "unknown", _STATE["unknown"]))


def window_hint(status: str | None) -> Words:
    """What a citizen should do in front of a window in this state ('' while it serves)."""
    return _words(_HINT.get(status or "unknown", _HINT["unknown"]))


def wait_minutes(est_wait_s: int | float | None) -> int:
    """An estimated wait in whole minutes, rounded up."""
    return math.ceil(max(0, int(est_wait_s or 0)) / 60)


# The words of a wait, `{m}`/`{h}` filled in; the phone page's script says a live wait with these
# same words (web/public.py hands them to web/static/ticket.js, which applies `wait`'s rule).
WAIT_WORDS: dict[str, tuple[str, str]] = {
    "none_open": ("暂无开放窗口", "No window open"),
    "next": ("即将叫号", "You are next"),
    "min": ("约{m}分钟", "about {m} min"),
    "hm": ("约{h}小时{m}分钟", "about {h} h {m} min"),
}


def _filled(key: str, **values: int) -> Words:
    zh, en = WAIT_WORDS[key]
    return {"zh_CN": zh.format(**values), "en": en.format(**values)}


def wait(est_wait_s: int | float | None, windows_open: int | None) -> Words:
    """A wait in plain words: none of the service's windows open, next, about N minutes, about H hours M minutes.

    `windows_open` is the controller's count of open windows able to call this ticket or
    service (None or negative: not known, as from an older controller, and then the estimate
    is shown as it is).
    """
    if windows_open is not None and windows_open == 0:
        return _filled("none_open")
    minutes = wait_minutes(est_wait_s)
    if minutes <= 0:
        return _filled("next")
    if minutes < 60:
        return _filled("min", m=minutes)
    return _filled("hm", h=minutes // 60, m=minutes % 60)


def service_wait(
    waiting: int, est_wait_s: int | float | None, windows_open: int | None, closed_today: bool = False
) -> Words:
    """The wait for a ticket taken now (`ServiceQueue`): as `wait`, and 无需等待 when nobody waits; a service a
    manager closed for today (`closed_today`) takes no ticket, whatever its queue."""
    if closed_today:
        return _words(("今日暂停取号", "No tickets today"))
    if waiting <= 0 and windows_open != 0:
        return _words(("无需等待", "No wait"))
    return wait(est_wait_s, windows_open)


def windows_note(names: Words, windows_open: int | None) -> Words:
    """The windows that serve a ticket, said honestly when none of them is open."""
    if windows_open is not None and windows_open == 0:
        return {
            "zh_CN": f"{names['zh_CN']}（暂未开放）" if names["zh_CN"] else "暂未开放",
            "en": f"{names['en']} (not open yet)" if names["en"] else "not open yet",
        }
    return dict(names)


# The ranks of the civil service (公务员职级) and the posts a hall names most, in the English the
# State Council's own translations use. A title not listed stays as the hall wrote it: the
# official Chinese name, shown as it is rather than guessed at.
_RANK = re.compile(r"^([一二三四])级(巡视员|调研员|主任科员|科员)$")
_RANK_EN = {"巡视员": "Inspector", "调研员": "Consultant", "主任科员": "Principal Staff Member", "科员": "Staff Member"}
_LEVEL = {"一": 1, "二": 2, "三": 3, "四": 4}
_TITLE_EN = {
    "科员": "Staff Member",
    "办事员": "Clerk",
    "工作人员": "Staff",
    "科长": "Section Chief",
    "副科长": "Deputy Section Chief",
    "主任": "Director",
    "副主任": "Deputy Director",
    "首席代表": "Chief Representative",
    "窗口负责人": "Window Supervisor",
}


def staff_title(title: str) -> Words:
    """A staff member's title (`[[staff]] title`) in both languages; an unknown one as written."""
    en = _TITLE_EN.get(title)
    rank = _RANK.match(title)
    if rank is not None:
        en = f"{_RANK_EN[rank.group(2)]}, Level {_LEVEL[rank.group(1)]}"
    return {"zh_CN": title, "en": en or title}
