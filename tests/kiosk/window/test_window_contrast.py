"""The window display in every state, measured on the rendered picture: the number at 7:1 or more
against its box, every text at 4.5:1 (issue 16, item 7), in the full and the strip layout, the
flash included; the same 下一位 list as the counter (item 13); the shared state words (item 3);
and a broker loss told in a band readable across the hall (item 4)."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtQuick import QQuickItem

from tests.kiosk.contrast import text_contrast
from tests.kiosk.helpers import find, item, next_frame, text_of
from tests.kiosk.rolefixtures import RoleHall, issue, login, state_of
from tests.kiosk.window.test_window_display import page

NUMBER, TEXT = 7.0, 4.5


@pytest.fixture
def hall_extra() -> str:
    """Window 1 also has an LED strip."""
    return '\n[[nodes]]\nid = "strip-1"\nrole = "window"\nwindow = "1"\nlayout = "strip"\n'


def contrast(qtbot: Any, kiosk: Any, name: str) -> float:
    """The contrast of the visible item `name` in the window's picture now."""
    target: QQuickItem = item(qtbot, kiosk.window, name)
    next_frame(qtbot, kiosk.window)
    return text_contrast(kiosk.window.grabWindow(), target)


def test_every_state_of_the_window_display_is_legible(
    role_hall: RoleHall, start_kiosk: Any, qtbot: Any
) -> None:
    full = start_kiosk("window", "window-1", size=(1920, 1080))
    strip = start_kiosk("window", "strip-1", size=(1920, 360))
    status = item(qtbot, full.window, "display_status")
    # nobody logged in: 未开放, not the words of a pause
    qtbot.waitUntil(lambda: text_of(status) == "未开放", timeout=5000)
    qtbot.waitUntil(lambda: text_of(item(qtbot, strip.window, "strip_ticket")) == "未开放", timeout=5000)
    assert contrast(qtbot, full, "display_status") >= TEXT
    assert contrast(qtbot, full, "display_hint") >= TEXT

    c1 = role_hall.rpc("counter-1", "counter")
    login(c1, "1", "s001")
    terminal = role_hall.rpc("terminal-1", "terminal")
    numbers = [issue(terminal, "A") for _ in range(7)]
    qtbot.waitUntil(lambda: text_of(status) == "空闲", timeout=5000)
    assert contrast(qtbot, full, "display_hint") >= TEXT

    # 下一位: the whole list the counter shows, in both layouts
    c1.call("window.call_next", {"window": "1"})
    ticket = item(qtbot, full.window, "display_ticket")
    qtbot.waitUntil(lambda: text_of(ticket) == numbers[0], timeout=5000)
    expected = state_of(full).state.next_numbers
    assert len(expected) == 5
    qtbot.waitUntil(lambda: text_of(item(qtbot, full.window, "display_next")).split() == expected, timeout=5000)
    assert text_of(item(qtbot, strip.window, "strip_next")).split()[1:] == expected

    # the flash: both of its phases, in both layouts, keep the number at 7:1
    seen: dict[str, list[float]] = {"full": [], "strip": []}
    while page(full).property("flashing") or page(strip).property("flashing"):
        seen["full"].append(contrast(qtbot, full, "display_ticket"))
        seen["strip"].append(contrast(qtbot, strip, "strip_ticket"))
    assert seen["full"] and seen["strip"]
    assert min(seen["full"]) >= NUMBER, seen
    assert min(seen["strip"]) >= NUMBER, seen
    for on in (True, False):  # each phase for certain, not only those the frames above caught
        page(full).setProperty("flashOn", on)
        page(strip).setProperty("flashOn", on)
        assert contrast(qtbot, full, "display_ticket") >= NUMBER
        assert contrast(qtbot, strip, "strip_ticket") >= NUMBER
    page(full).setProperty("flashOn", False)
    page(strip).setProperty("flashOn", False)

    # finished while the next call still flashes: the status words stay light on the dark box
    c1.call("window.finish", {"window": "1"})
    c1.call("window.call_next", {"window": "1"})
    qtbot.waitUntil(lambda: text_of(ticket) == numbers[1], timeout=5000)
    c1.call("window.finish", {"window": "1"})
    qtbot.waitUntil(lambda: find(full.window, "display_status") is not None, timeout=5000)
    assert page(full).property("flashing")
    assert contrast(qtbot, full, "display_status") >= TEXT
    assert contrast(qtbot, full, "display_hint") >= TEXT
    assert contrast(qtbot, strip, "strip_ticket") >= TEXT

    # paused: its own words, with the reason
    c1.call("window.pause", {"window": "1", "reason": "临时离开"})
    qtbot.waitUntil(lambda: text_of(status) == "暂停服务", timeout=5000)
    assert contrast(qtbot, full, "display_status") >= TEXT
    assert contrast(qtbot, full, "display_pause_reason") >= TEXT
    qtbot.waitUntil(lambda: text_of(item(qtbot, strip.window, "strip_ticket")) == "暂停服务", timeout=5000)
    assert contrast(qtbot, strip, "strip_ticket") >= TEXT

    # broker gone: a band across the screen, not a corner mark
    role_hall.broker.stop()
    for kiosk, least in ((full, 0.9), (strip, 0.25)):
        band = item(qtbot, kiosk.window, "display_offline", timeout=10000)
        assert band.width() >= kiosk.window.width() * least
        assert band.height() >= kiosk.window.height() * 0.12
        label = band.childItems()[0]
        assert label.property("contentHeight") >= 40  # readable from across the hall
        assert text_contrast(kiosk.window.grabWindow(), label) >= TEXT
    assert text_of(item(qtbot, strip.window, "strip_ticket")) == "暂停服务"  # the last state stays
    role_hall.broker.start()
