"""The window display's Qt-free state: flashing on calls, not on a restart; choosing the layout."""

from __future__ import annotations

from kiosk.window.state import WindowDisplayState, choose_layout
from tests.kiosk.statepayloads import CAT, CFG, call, wstate


def test_window_display_flashes_on_calls_not_on_a_restart() -> None:
    d = WindowDisplayState(CFG, CAT, window="1")
    d.on_window_state(wstate("1", "A001"))  # started while A001 is served: shown, not flashed
    assert (d.number, d.flash_seq) == ("A001", 0)
    d.on_call(call("A002", "2"))  # another window's call
    assert d.flash_seq == 0
    d.on_call(call("A002", "1"))
    d.on_window_state(wstate("1", "A002"))  # the same call, now in the retained state: one flash
    assert (d.number, d.flash_seq) == ("A002", 1)
    d.on_call(call("A002", "1", attempt=2))  # 重呼
    assert d.flash_seq == 2
    d.on_window_state(
        wstate("1", "A003", called_at="2026-03-03T09:05:00.000+08:00")
    )  # missed event
    assert (d.number, d.flash_seq) == ("A003", 3)
    d.on_window_state(wstate("1", None, status="paused", pause_reason="会议"))
    assert d.number == "" and d.view("window")["statusText"]["zh_CN"] == "暂停服务"
    assert choose_layout("strip", None) == "strip" and choose_layout("", (1920, 360)) == "strip"
    assert choose_layout("", (1366, 768)) == "full" and choose_layout("", None) == ""
