"""One vocabulary for a window's state on every role (issue 16, item 3): a window with nobody
logged in is 未开放 on the hall screen, the window display, the tablet and the counter, and
never the words of a pause, which all four say alike."""

from __future__ import annotations

from hallbus import schemas, wording
from kiosk.counter.state import CounterState
from kiosk.hall.state import HallScreenState
from kiosk.tablet.state import TabletState
from kiosk.window.state import WindowDisplayState
from tests.kiosk.counter.test_counter_state import NoPort
from tests.kiosk.statepayloads import CAT, CFG, wstate
from tests.kiosk.tablet.test_tablet_state import Sink


def words_everywhere(state: schemas.WindowState) -> dict[str, str]:
    """The state word each role shows for window 1 in `state` (zh_CN)."""
    hall = HallScreenState(CFG, CAT)
    display = WindowDisplayState(CFG, CAT, window="1")
    tablet = TabletState(CFG, CAT, Sink(), window="1")
    counter = CounterState(CFG, CAT, NoPort(), window="1")
    for role in (hall, display, tablet, counter):
        role.on_window_state(state)
    return {
        "hall": next(t for t in hall.view("windows") if t["id"] == "1")["statusText"]["zh_CN"],
        "window": display.view("window")["statusText"]["zh_CN"],
        "tablet": tablet.view("idle")["statusText"]["zh_CN"],
        "counter": counter.view("window")["statusText"]["zh_CN"],
    }


def test_every_role_says_the_same_word_for_each_window_state() -> None:
    closed = words_everywhere(schemas.WindowState(window="1", name="1号窗口", status="closed"))
    paused = words_everywhere(wstate("1", status="paused", pause_reason="午休"))
    idle = words_everywhere(wstate("1"))
    serving = words_everywhere(wstate("1", "A001"))
    for seen, word in ((closed, "未开放"), (paused, "暂停服务"), (idle, "空闲"), (serving, "办理中")):
        assert set(seen.values()) == {word}, seen
    assert wording.window_hint("closed")["zh_CN"] != wording.window_hint("paused")["zh_CN"]
    for status in wording.WINDOW_STATES:  # every word in both languages
        assert wording.window_state(status)["zh_CN"] and wording.window_state(status)["en"]


def test_staff_titles_read_in_english_on_every_role_and_unknown_ones_stay_official() -> None:
    """Issue 16, item 9: the tablet, the window display and the counter give a staff member's
    title in English where the civil-service rank is known, the hall's own Chinese otherwise."""
    assert wording.staff_title("二级主任科员") == {"zh_CN": "二级主任科员", "en": "Principal Staff Member, Level 2"}
    assert wording.staff_title("一级科员")["en"] == "Staff Member, Level 1"
    assert wording.staff_title("科员")["en"] == "Staff Member"
    assert wording.staff_title("综合受理岗") == {"zh_CN": "综合受理岗", "en": "综合受理岗"}  # not guessed at
    state = wstate("1", staff=schemas.StaffCard(id="s002", name="王芳", title="二级主任科员"))
    display = WindowDisplayState(CFG, CAT, window="1")
    tablet = TabletState(CFG, CAT, Sink(), window="1")
    counter = CounterState(CFG, CAT, NoPort(), window="1")
    for role in (display, tablet, counter):
        role.on_window_state(state)
    for title in (display.view("window")["staffTitle"], tablet.view("idle")["staffTitle"],
                  counter.view("window")["staffTitle"]):
        assert title == {"zh_CN": "二级主任科员", "en": "Principal Staff Member, Level 2"}
