"""The counter end to end: real QML, the real broker and controller, and the other roles watching."""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtTest import QTest

from hallbus import schemas
from tests.kiosk.helpers import find, item, settled_image, text_of, touch
from tests.kiosk.rolefixtures import RoleHall, issue, state_of
from tests.kiosk.screenwalk import contrast_in, pixels
from tests.kiosk.statepayloads import CAT


def _type(window: Any, text: str) -> None:
    for ch in text:
        QTest.keyClick(window, ch)


def _activate(qtbot: Any, window: Any) -> None:
    """Keys go to the active window (several kiosks share this test process)."""
    window.requestActivate()
    qtbot.waitUntil(window.isActive, timeout=3000)


def _login_by_keyboard(qtbot: Any, counter: Any, staff: str, password: str) -> None:
    window = counter.window
    _activate(qtbot, window)
    touch(qtbot, window, "login_field_staff")
    for ch in staff:
        touch(qtbot, window, f"login_key_{ch}")  # the on-screen keyboard
    touch(qtbot, window, "login_field_password")
    _type(window, password)  # a physical keyboard
    QTest.keyClick(window, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: state_of(counter).logged_in, timeout=5000)


def _enabled(counter: Any, action: str) -> bool:
    return bool(state_of(counter).enabled(action))


def test_full_service_cycle_to_a_bad_rating_with_a_followup(
    role_hall: RoleHall, start_kiosk: Any, qtbot: Any
) -> None:
    terminal = role_hall.rpc("terminal-1", "terminal")
    counter = start_kiosk("counter", "counter-3", size=(1920, 1080))
    display = start_kiosk("window", "window-3", size=(1366, 768))
    tablet = start_kiosk("tablet", "tablet-3", size=(1280, 800))

    _login_by_keyboard(qtbot, counter, "s003", "hall003")
    staff = item(qtbot, counter.window, "counter_staff")
    assert "张伟" in text_of(staff) and "s003" in text_of(staff)
    qtbot.waitUntil(
        lambda: state_of(tablet).state is not None and state_of(tablet).state.staff is not None,
        timeout=5000,
    )
    assert text_of(item(qtbot, tablet.window, "tablet_staff_name")) == "张伟"

    number = issue(
        terminal,
        "B",
        id_card={"id_hash": "ab" * 32, "name_masked": "张*", "card_type": "resident", "birth": "1950-05-01"},
        channel="green",  # 绿色通道: the card read shows 70 and over
    )
    qtbot.waitUntil(lambda: _enabled(counter, "call_next"), timeout=5000)
    assert not _enabled(counter, "finish") and not _enabled(counter, "recall")
    _activate(qtbot, counter.window)
    QTest.keyClick(counter.window, Qt.Key.Key_F1)  # 叫号 by F-key

    shown = item(qtbot, counter.window, "counter_ticket_number")
    qtbot.waitUntil(lambda: text_of(shown) == number, timeout=5000)
    assert "张*" in text_of(item(qtbot, counter.window, "counter_ticket_name"))
    assert find(counter.window, "counter_ticket_channel") is not None  # priority marked
    assert _enabled(counter, "finish") and not _enabled(counter, "call_next")

    big = item(qtbot, display.window, "display_ticket")
    qtbot.waitUntil(lambda: text_of(big) == number, timeout=5000)
    qtbot.waitUntil(
        lambda: bool(item_of_role(display).property("flashing")), timeout=3000
    )  # a new call flashes

    touch(qtbot, counter.window, "action_finish")  # 办结
    qtbot.waitUntil(lambda: state_of(counter).ticket is None, timeout=5000)
    item(qtbot, tablet.window, "tablet_faces")
    for level in (5, 4, 3, 2, 1):  # five faces, none chosen or highlighted
        face = item(qtbot, tablet.window, f"face_{level}")
        assert face.property("color") == item(qtbot, tablet.window, "face_5").property("color")
        assert find(tablet.window, f"rating_face_{level}") is not None  # the faces the terminal draws too
    assert state_of(tablet).level == 0

    touch(qtbot, tablet.window, "face_1")  # 非常不满意
    item(qtbot, tablet.window, "tablet_reasons")
    touch(qtbot, tablet.window, "tablet_send")  # no reason yet: asked for one, nothing sent
    qtbot.waitUntil(lambda: text_of(item(qtbot, tablet.window, "tablet_error")) != "", timeout=3000)
    assert state_of(tablet).submitted == 0
    touch(qtbot, tablet.window, "reason_attitude")
    touch(qtbot, tablet.window, "reason_asked_again")
    touch(qtbot, tablet.window, "tablet_send")
    item(qtbot, tablet.window, "tablet_thanks")

    outbox = tablet.role.keep[1]
    qtbot.waitUntil(lambda: not outbox.pending(), timeout=5000)
    rows = role_hall.query("SELECT level, reasons, window, ticket, staff FROM rec_ratings")
    assert rows == [(1, json.dumps(["attitude", "asked_again"]), "3", number, "s003")]
    followups = role_hall.query("SELECT state, level, window, staff FROM rec_followups")
    assert followups == [("open", 1, "3", "s003")]
    touch(qtbot, tablet.window, "tablet_thanks")  # a second tap after submitting does nothing
    assert state_of(tablet).submitted == 1


def item_of_role(kiosk: Any) -> Any:
    """The role's root QML item (the page the shell created)."""
    page = next(i for i in kiosk.window.contentItem().childItems() if i.objectName() == "role_page")
    return page.childItems()[0]


def test_hold_call_back_and_transfer_from_the_counter(
    role_hall: RoleHall, start_kiosk: Any, qtbot: Any
) -> None:
    terminal = role_hall.rpc("terminal-1", "terminal")
    counter = start_kiosk("counter", "counter-1", size=(1920, 1080))
    window = counter.window
    _login_by_keyboard(qtbot, counter, "s001", "hall001")
    a1, a2, a3 = (issue(terminal, "A") for _ in range(3))
    st = state_of(counter)

    qtbot.waitUntil(lambda: _enabled(counter, "call_next"), timeout=5000)
    touch(qtbot, window, "action_call_next")
    qtbot.waitUntil(lambda: st.ticket is not None and st.ticket.number == a1, timeout=5000)
    touch(qtbot, window, "action_hold")  # 挂起: the person fetches a document
    qtbot.waitUntil(
        lambda: st.state is not None and [t.number for t in st.state.held] == [a1], timeout=5000
    )
    assert a1 in text_of(item(qtbot, window, "counter_held"))
    assert _enabled(counter, "call_back")

    QTest.keyClick(window, Qt.Key.Key_F1)
    qtbot.waitUntil(lambda: st.ticket is not None and st.ticket.number == a2, timeout=5000)
    assert not _enabled(counter, "call_back")  # busy with a2
    QTest.keyClick(window, Qt.Key.Key_F7)  # 办结
    qtbot.waitUntil(lambda: st.ticket is None, timeout=5000)

    touch(qtbot, window, "action_call_back")  # 回呼: pick from the held list
    touch(qtbot, window, f"callback_{a1}")
    qtbot.waitUntil(lambda: st.ticket is not None and st.ticket.number == a1, timeout=5000)
    assert st.state is not None and st.state.held == []

    touch(qtbot, window, "action_transfer")  # 转移 to window 3, at the front
    touch(qtbot, window, "transfer_kind_window")
    touch(qtbot, window, "transfer_to_3")
    touch(qtbot, window, "transfer_pos_front")
    touch(qtbot, window, "dialog_confirm")
    qtbot.waitUntil(lambda: st.ticket is None, timeout=5000)
    moved = terminal.call_typed(schemas.TICKET_STATUS, {"number": a1}).ticket
    assert (moved.status, moved.window) == ("waiting", "3")

    # pause with a reason, then resume; the button's word follows the state
    touch(qtbot, window, "action_pause")
    touch(qtbot, window, "pause_meeting")
    touch(qtbot, window, "dialog_confirm")
    qtbot.waitUntil(lambda: st.state is not None and st.state.status == "paused", timeout=5000)
    assert st.state.pause_reason == "会议"
    assert not _enabled(counter, "call_next")
    assert "恢复" in [text_of(c) for c in _texts_under(item(qtbot, window, "action_pause"))]
    QTest.keyClick(window, Qt.Key.Key_F8)
    qtbot.waitUntil(lambda: st.state is not None and st.state.status == "idle", timeout=5000)
    qtbot.waitUntil(lambda: _enabled(counter, "call_next"), timeout=5000)  # a3 still waits
    assert a3


def _texts_under(node: Any) -> list[Any]:
    out, stack = [], [node]
    while stack:
        n = stack.pop()
        if n.property("text") is not None:
            out.append(n)
        stack.extend(n.childItems())
    return out


def test_a_double_click_sends_once_and_an_outage_disables_the_buttons(
    role_hall: RoleHall, start_kiosk: Any, qtbot: Any
) -> None:
    terminal = role_hall.rpc("terminal-1", "terminal")
    counter = start_kiosk("counter", "counter-2", size=(1366, 768))
    window = counter.window
    st = state_of(counter)
    _login_by_keyboard(qtbot, counter, "s002", "hall002")
    first, second = issue(terminal, "A"), issue(terminal, "A")
    qtbot.waitUntil(lambda: _enabled(counter, "call_next"), timeout=5000)

    sent = st.sent
    button = item(qtbot, window, "action_call_next")
    centre = button.mapToScene(QPointF(button.width() / 2, button.height() / 2)).toPoint()
    for _ in range(2):  # a double click: the second lands while the first request is in flight
        QTest.mouseClick(window, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, centre)
    _activate(qtbot, window)
    QTest.keyClick(window, Qt.Key.Key_F1)
    qtbot.waitUntil(lambda: st.ticket is not None, timeout=5000)
    assert st.sent == sent + 1
    assert st.ticket is not None and st.ticket.number == first
    calls = role_hall.query("SELECT number FROM calls")
    assert calls == [(first,)]

    role_hall.broker.stop()  # the hall server's broker goes away
    qtbot.waitUntil(lambda: not st.connected, timeout=10000)
    item(qtbot, window, "banner_offline", timeout=6000)  # the shell's banner, after its grace period
    # staff read their own words (what happened, what to do), not the citizens' offline text
    banner = text_of(item(qtbot, window, "banner_offline_text"))
    assert CAT.get("zh_CN", "counter_offline") in banner and CAT.get("zh_CN", "banner_offline") not in banner
    assert text_of(item(qtbot, window, "counter_message")) == CAT.get("zh_CN", "counter_offline_todo")
    assert not any(
        _enabled(counter, a)
        for a in ("recall", "finish", "hold", "no_show", "transfer", "call_next")
    )
    assert not item(qtbot, window, "action_finish").property("active")
    touch(qtbot, window, "action_finish")  # refused without sending
    QTest.keyClick(window, Qt.Key.Key_F7)
    assert st.sent == sent + 1
    assert st.ticket is not None and st.ticket.number == first  # the last state stays

    role_hall.broker.start()
    qtbot.waitUntil(lambda: st.connected and _enabled(counter, "finish"), timeout=10000)
    assert st.sent == sent + 1  # nothing was queued to go out twice
    assert role_hall.query("SELECT number FROM calls") == [(first,)]
    touch(qtbot, window, "action_finish")
    qtbot.waitUntil(lambda: st.ticket is None, timeout=5000)
    assert role_hall.query("SELECT status FROM tickets WHERE number = ?", first) == [("done",)]
    assert second


def _look(picture: Any, button: Any) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(background, ink) of a button as drawn: its commonest colour and the strongest colour on it."""
    rect = button.mapRectToScene(QRectF(0, 0, button.width(), button.height()))
    _ratio, ink, bg = contrast_in(picture, rect.adjusted(6, 6, -6, -6))  # inside the rounded border
    return bg, ink


def test_every_disabled_button_looks_disabled_and_alike(
    role_hall: RoleHall, start_kiosk: Any, qtbot: Any
) -> None:
    """Issue 16 item 13: a disabled plain button kept dark words and looked pressable."""
    counter = start_kiosk("counter", "counter-2", size=(1920, 1080))
    _login_by_keyboard(qtbot, counter, "s002", "hall002")
    issue(role_hall.rpc("terminal-1", "terminal"), "A")
    qtbot.waitUntil(lambda: _enabled(counter, "call_next"), timeout=5000)
    picture = pixels(settled_image(qtbot, counter.window))
    looks: dict[bool, dict[str, Any]] = {True: {}, False: {}}
    for a in state_of(counter).view("actions"):
        looks[bool(a["enabled"])][a["id"]] = _look(picture, item(qtbot, counter.window, f"action_{a['id']}"))
    disabled, enabled = looks[False], looks[True]
    assert {"recall", "finish", "no_show", "hold", "transfer"} <= set(disabled)  # a primary one among them
    assert len(set(disabled.values())) == 1, f"disabled buttons drawn differently: {disabled}"
    off = next(iter(disabled.values()))
    for name, look in enabled.items():
        assert look != off, f"{name} is enabled but drawn like a disabled button"
