"""The terminal's screens measured, not just drawn: in zh_CN, English and large print, nothing is cut
or overprinted, every key is a finger wide, large print never shrinks a target, and offline the
home tiles agree with the banner. Geometry comes from the real QML items (offscreen, 1280x800)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor
from PySide6.QtQuick import QQuickItem, QQuickWindow

from devices.idcard.samples import sample_card
from kiosk.common.i18n import Catalogue
from kiosk.qt.drive import visible_items
from tests.kiosk.conftest import T0, Hall, Sims
from tests.kiosk.helpers import item, settled_image, take_card_off, text_of, touch

VARIANTS = {"zh": ("zh_CN", False), "en": ("en", False), "elderly": ("zh_CN", True)}
MIN_TARGET = 60  # px: 15 mm on these panels


def rect(it: QQuickItem) -> QRectF:
    """An item's rectangle in window coordinates."""
    return it.mapRectToScene(QRectF(0, 0, it.width(), it.height()))


def named(window: QQuickWindow, prefix: str) -> list[QQuickItem]:
    """Every visible item whose objectName starts with `prefix`."""
    return [i for i in visible_items(window.contentItem()) if i.objectName().startswith(prefix)]


def inside(inner: QQuickItem, outer: QQuickItem, slack: float = 0.5) -> bool:
    a, b = rect(inner), rect(outer)
    return (a.left() >= b.left() - slack and a.top() >= b.top() - slack
            and a.right() <= b.right() + slack and a.bottom() <= b.bottom() + slack)


def whole(text: QQuickItem) -> bool:
    """A Text item shows all of its text: not elided or cut, and no taller than its box."""
    return not text.property("truncated") and text.property("paintedHeight") <= text.height() + 1


def describe(text: QQuickItem) -> str:
    return (f"truncated={text.property('truncated')} painted={text.property('paintedWidth')}x{text.property('paintedHeight')}"
            f" box={text.width()}x{text.height()}")


def texts_under(it: QQuickItem) -> list[QQuickItem]:
    return [c for c in visible_items(it) if c.metaObject().className().startswith("QQuickText") and text_of(c)]


def import_cases(hall: Hall, id_number: str) -> None:
    """One case still 审核中 and one finished, for the same person."""
    common = {"applicant_name": "张测试", "id_number": id_number, "promised_days": 5, "handler": "李明",
              "department": "县市场监督管理局", "pickup_window": "3号窗口", "item_code": "scjg-gtgsh-sl"}
    hall.import_records([
        {**common, "case_no": "ZW2026030200007", "item": "个体工商户设立登记", "status": "reviewing",
         "accepted_at": (T0 - dt.timedelta(days=1)).isoformat(), "result": "窗口领取或邮寄送达"},
        {**common, "case_no": "ZW2026022600003", "item": "食品经营许可证核发", "status": "done",
         "accepted_at": (T0 - dt.timedelta(days=6)).isoformat(), "finished_at": (T0 - dt.timedelta(hours=3)).isoformat(),
         "result": "窗口领取"},
    ])


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_nothing_is_cut_or_overprinted_and_keys_are_a_finger_wide(
    variant: str, kiosk: Any, hall: Hall, sims: Sims, qtbot: Any
) -> None:
    lang, elderly = VARIANTS[variant]
    card = sample_card("resident")
    import_cases(hall, card.id_number)
    window, shell, state = kiosk.window, kiosk.shell, kiosk.role.keep[0]
    shell.setLanguage(lang)
    if elderly:
        shell.toggleElderly()
    settled_image(qtbot, window)

    # home: five tiles laid out alike (one height for the titles, one for the subtitles), nothing cut
    tiles = named(window, "tile_title_")
    assert len(tiles) == 5
    rows: dict[int, set[int]] = {}
    for t in tiles:
        rows.setdefault(round(rect(t.parentItem()).top()), set()).add(round(rect(t).top()))
    assert all(len(tops) == 1 for tops in rows.values()), f"tile titles at different heights: {rows}"
    for t in tiles + named(window, "tile_sub_"):
        assert whole(t), f"{t.objectName()}: {text_of(t)!r} is cut"

    # the services: every line inside its card (English department names overprinted the next line)
    touch(qtbot, window, "tile_ticket")
    item(qtbot, window, "service_A")
    settled_image(qtbot, window)
    for col in named(window, "service_text_"):
        service = col.parentItem()
        assert inside(col, service), f"{col.objectName()} spills out of its card"
        for t in texts_under(col):
            assert whole(t), f"{text_of(t)!r} is cut: {describe(t)}"
    touch(qtbot, window, "home")

    # the printed-ticket card: the last line (取号时间) inside the card
    touch(qtbot, window, "tile_ticket")
    touch(qtbot, window, "service_B")
    qtbot.waitUntil(lambda: state.ticket.step == "card", timeout=3000)
    sims.idcard.place(card)
    qtbot.waitUntil(lambda: state.ticket.step == "confirm", timeout=5000)
    touch(qtbot, window, "confirm_ticket")
    qtbot.waitUntil(lambda: state.ticket.printed is True, timeout=10000)
    settled_image(qtbot, window)
    issued = item(qtbot, window, "ticket_issued")
    result_card = item(qtbot, window, "ticket_number").parentItem().parentItem()
    assert inside(issued, result_card), "取号时间 crosses the ticket card's border"
    touch(qtbot, window, "ticket_done")

    # the guide: every key a finger wide and high, its word inside it, the hint's example not cut
    touch(qtbot, window, "tile_guide")
    qtbot.waitUntil(lambda: len(state.guide.items) > 10 and not state.guide.loading, timeout=5000)
    settled_image(qtbot, window)
    keys = named(window, "gkey_")
    assert len(keys) == 28
    for key in keys:
        assert key.width() >= MIN_TARGET and key.height() >= MIN_TARGET, f"{key.objectName()}: {key.width()}x{key.height()}"
        label = texts_under(key)[0]
        assert label.property("paintedWidth") <= key.width() - 2, f"{text_of(label)!r} spills out of its key"
    assert whole(item(qtbot, window, "guide_query_text"))
    if lang == "en":
        assert "pinyin" not in text_of(item(qtbot, window, "guide_query_text")).lower()
    touch(qtbot, window, "guide_item_scjg-gtgsh-sl")
    qtbot.waitUntil(lambda: state.guide.item is not None, timeout=5000)
    settled_image(qtbot, window)
    item(qtbot, window, "guide_conditions")
    materials = item(qtbot, window, "guide_materials")
    lines = texts_under(materials)
    if lang == "en":  # the counts in English punctuation (the catalogue's own notes stay as written)
        assert any("(originals: 1, copies: 1)" in text_of(t) for t in lines), [text_of(t) for t in lines]
        assert not any("，copies" in text_of(t) or "(s)" in text_of(t) for t in lines)
    flick = materials.parentItem().parentItem().parentItem()
    if flick.property("contentHeight") > flick.height() + 1:  # the page goes on: it says so
        assert item(qtbot, window, "scroll_hint").isVisible()
    touch(qtbot, window, "home")
    take_card_off(sims.idcard)

    # the rating picker: only the finished case, wholly above the fold; the other named with why.
    # First the case-number keypad: every key a finger wide and high
    touch(qtbot, window, "tile_rate")
    item(qtbot, window, "entry_submit")
    settled_image(qtbot, window)
    keys = named(window, "key_")
    assert len(keys) == 38
    for key in keys:
        assert key.width() >= MIN_TARGET and key.height() >= MIN_TARGET, f"{key.objectName()}: {key.width()}x{key.height()}"
    sims.idcard.place(card)
    qtbot.waitUntil(lambda: state.rate.step == "pick", timeout=5000)
    settled_image(qtbot, window)
    rows = named(window, "rate_pick_ZW")
    assert [r.objectName() for r in rows] == ["rate_pick_ZW2026022600003"]
    assert inside(rows[0], item(qtbot, window, "rate_pick_list"))
    note = text_of(texts_under(item(qtbot, window, "rate_not_yet"))[0])
    assert "个体工商户设立登记" in note and ("审核中" in note or "Under review" in note)
    take_card_off(sims.idcard)

    # a failed check-in: the reason and a walk-in ticket here (the citizen is standing at the
    # ticket machine: no "到取号机"), all of it on the screen
    touch(qtbot, window, "home")
    touch(qtbot, window, "tile_checkin")
    qtbot.waitUntil(lambda: state.screen == "checkin", timeout=3000)
    sims.scanner.scan("ZWFW:APPT:NOSUCHCODE")
    qtbot.waitUntil(lambda: state.checkin.error is not None, timeout=8000)
    settled_image(qtbot, window)
    assert "取号机" not in state.checkin.error["zh_CN"]
    assert inside(item(qtbot, window, "checkin_wait"), item(qtbot, window, "screen_checkin"))
    touch(qtbot, window, "checkin_walk_in")
    qtbot.waitUntil(lambda: state.screen == "ticket" and state.ticket.step == "choose", timeout=3000)

    # the case list: says so when it goes on below the fold; in English, steps and the way to
    # collect translated, the Chinese name labelled as the official one
    touch(qtbot, window, "home")
    touch(qtbot, window, "tile_cases")
    sims.idcard.place(card)
    qtbot.waitUntil(lambda: state.cases.step == "list", timeout=5000)
    settled_image(qtbot, window)
    cases = item(qtbot, window, "cases_list")
    if cases.property("contentHeight") > cases.height() + 1:
        assert item(qtbot, window, "scroll_hint").isVisible(), "the case list is cut with no sign it scrolls"
    if lang == "en":
        collect = text_of(item(qtbot, window, "case_collect_ZW2026022600003"))
        assert collect.startswith("How to collect: Collect at the window"), collect
        assert "：" not in collect and "（" not in collect
        assert item(qtbot, window, "case_official_ZW2026022600003").isVisible()
    take_card_off(sims.idcard)


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_a_green_channel_ticket_keeps_its_words_and_time_inside_the_card(
    variant: str, kiosk: Any, hall: Hall, sims: Sims, qtbot: Any
) -> None:
    """The 绿色通道 line takes room from the number, not from the card: nothing cut, 取号时间 still inside."""
    from tests.kiosk.terminal.test_terminal_flows import elder_card, take_real_name_ticket

    lang, elderly = VARIANTS[variant]
    kiosk.shell.setLanguage(lang)
    if elderly:
        kiosk.shell.toggleElderly()
    take_real_name_ticket(kiosk, sims, qtbot, elder_card())
    qtbot.waitUntil(lambda: kiosk.role.keep[0].ticket.printed is True, timeout=10000)
    window = kiosk.window
    settled_image(qtbot, window)
    note = item(qtbot, window, "ticket_channel_note")
    card = item(qtbot, window, "ticket_number").parentItem().parentItem()
    assert whole(note) and inside(note, card), describe(note)
    assert ("绿色通道" if lang == "zh_CN" else "Green channel") in text_of(note)
    assert inside(item(qtbot, window, "ticket_issued"), card), "取号时间 crosses the ticket card's border"


def test_large_print_makes_rating_targets_larger_never_smaller(kiosk: Any, hall: Hall, qtbot: Any) -> None:
    card = sample_card("resident")
    import_cases(hall, card.id_number)
    window, shell, state = kiosk.window, kiosk.shell, kiosk.role.keep[0]
    touch(qtbot, window, "tile_rate")
    item(qtbot, window, "entry_submit")
    state.rate.lookup({"case_no": "ZW2026022600003", "verify": card.id_number[-6:]})
    qtbot.waitUntil(lambda: state.rate.step == "level", timeout=5000)

    def sizes(prefix: str) -> list[tuple[float, float]]:
        settled_image(qtbot, window)
        return [(i.width(), i.height()) for i in named(window, prefix)]

    faces = sizes("rate_level_")
    state.rate.choose_level(1)
    reasons = sizes("rate_reason_")
    state.rate.back()
    shell.toggleElderly()
    assert state.rate.step == "pick" or state.rate.step == "case"
    state.rate.lookup({"case_no": "ZW2026022600003", "verify": card.id_number[-6:]})
    qtbot.waitUntil(lambda: state.rate.step == "level", timeout=5000)
    big_faces = sizes("rate_level_")
    state.rate.choose_level(1)
    big_reasons = sizes("rate_reason_")
    assert len(faces) == len(big_faces) == 5 and len(reasons) == len(big_reasons) > 0
    for (w, h), (bw, bh) in zip(faces + reasons, big_faces + big_reasons, strict=True):
        assert bw >= w - 1 and bh >= h - 1, f"large print shrank a target: {w}x{h} -> {bw}x{bh}"
        assert bw >= MIN_TARGET and bh >= MIN_TARGET


def test_offline_the_tiles_look_unavailable_and_agree_with_the_banner(kiosk: Any, hall: Hall, qtbot: Any) -> None:
    window = kiosk.window
    cat = Catalogue()
    tile = item(qtbot, window, "tile_ticket")
    assert QColor(tile.property("color")).hsvSaturationF() > 0.5  # online: full colour
    hall.broker.stop()
    try:
        item(qtbot, window, "banner_offline", timeout=8000)
        settled_image(qtbot, window)
        assert text_of(item(qtbot, window, "home_hint")) == cat.get("zh_CN", "home_hint_offline")
        for key in ("ticket", "cases", "checkin", "guide", "rate"):
            tile = item(qtbot, window, f"tile_{key}")
            assert QColor(tile.property("color")).hsvSaturationF() < 0.15, f"tile_{key} still in full colour"
            assert text_of(item(qtbot, window, f"tile_sub_{key}")) == cat.get("zh_CN", "tile_unavailable")
        touch(qtbot, window, "tile_ticket")
        settled_image(qtbot, window)
        assert kiosk.role.keep[0].screen == "home"  # nothing opens that could not work
    finally:
        hall.broker.start()
