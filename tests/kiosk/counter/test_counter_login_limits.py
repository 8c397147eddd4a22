"""The counter's login screen under the login limits: it says when to try again, and where the person sits."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import QRectF, Qt
from PySide6.QtTest import QTest

from tests.kiosk.helpers import item, next_frame, text_of, touch
from tests.kiosk.rolefixtures import RoleHall, login, state_of


@pytest.fixture
def hall_extra() -> str:
    return "[login]\nstaff_free_attempts = 5\nbackoff_s = 60\n"


def _try(qtbot: Any, counter: Any, staff: str, password: str) -> None:
    """Type staff id and password on a keyboard, press Enter, and wait for the controller's answer."""
    window, st = counter.window, state_of(counter)
    window.requestActivate()
    qtbot.waitUntil(window.isActive, timeout=3000)
    for name, text in (("staff", staff), ("password", password)):
        touch(qtbot, window, f"login_field_{name}")
        for _ in range(12):
            QTest.keyClick(window, Qt.Key.Key_Backspace)
        for ch in text:
            QTest.keyClick(window, ch)
    sent = st.sent
    QTest.keyClick(window, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: st.sent == sent + 1 and st.pending is None, timeout=5000)


def _inside(window: Any, band: Any) -> bool:
    rect = band.mapRectToScene(QRectF(0, 0, band.width(), band.height()))
    return bool(rect.top() >= 0 and rect.bottom() <= window.height() and rect.right() <= window.width())


def _whole_in_every_look(qtbot: Any, window: Any) -> None:
    """The login band is wholly on the screen in Chinese and English, standard and large print."""
    for switch in ("lang_switch", "elderly_switch", "lang_switch", "elderly_switch"):  # en, en large, zh large, zh
        touch(qtbot, window, switch)
        next_frame(qtbot, window)
        band = item(qtbot, window, "counter_login_error")
        qtbot.waitUntil(lambda band=band: band.height() > 0, timeout=3000)
        assert _inside(window, band), f"the login message runs off the screen after {switch}"


def test_the_login_screen_says_when_to_try_again(role_hall: RoleHall, start_kiosk: Any, qtbot: Any) -> None:
    counter = start_kiosk("counter", "counter-1")
    window, st = counter.window, state_of(counter)
    for i in range(5):
        _try(qtbot, counter, "s001", f"wrong{i}")
        # shown once there is something to say; its text follows the reply's state a binding pass later
        qtbot.waitUntil(lambda: "工号或密码不正确" in text_of(item(qtbot, window, "counter_login_error")), timeout=5000)
    _whole_in_every_look(qtbot, window)
    _try(qtbot, counter, "s001", "hall001")  # the right one, but within the wait
    # the band is found again: a change of language or print size may have made it anew,
    # and its text follows the reply's state a binding pass later
    band = item(qtbot, window, "counter_login_error")
    qtbot.waitUntil(lambda: "密码错误次数过多" in text_of(band), timeout=5000)
    shown = text_of(band)
    assert "密码错误次数过多" in shown and "09:01:00" in shown and "约1分钟后" in shown, shown
    assert not st.logged_in
    _whole_in_every_look(qtbot, window)
    band = item(qtbot, window, "counter_login_error")
    QTest.keyClick(window, "x")  # typing again does not wipe when to come back
    next_frame(qtbot, window)
    assert text_of(band) == shown
    role_hall.clock.advance(61)
    _try(qtbot, counter, "s001", "hall001")
    qtbot.waitUntil(lambda: st.logged_in, timeout=5000)


def test_a_person_signed_in_elsewhere_is_told_where(role_hall: RoleHall, start_kiosk: Any, qtbot: Any) -> None:
    login(role_hall.rpc("counter-2", "counter"), "2", "s001")
    counter = start_kiosk("counter", "counter-1")
    _try(qtbot, counter, "s001", "hall001")
    shown = text_of(item(qtbot, counter.window, "counter_login_error"))
    assert "李明" in shown and "已在2号窗口登录" in shown and "退出登录" in shown, shown
    _whole_in_every_look(qtbot, counter.window)
    assert not state_of(counter).logged_in
