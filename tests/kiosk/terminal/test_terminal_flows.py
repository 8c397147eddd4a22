"""The terminal end to end: real QML, real broker, the real controller, simulated devices on ptys."""

from __future__ import annotations

import dataclasses
import datetime as dt
from contextlib import closing
from typing import Any

import pytest
from PySide6.QtCore import QPointF

from devices.idcard.card import CardData
from devices.idcard.samples import fake_wlt, make_id_number, sample_card
from devices.printer.escpos import PaperState
from hallbus.controller.store import open_readonly
from kiosk.common.i18n import Catalogue
from kiosk.qt.drive import find, next_frame
from tests.kiosk.conftest import T0, Hall, Sims
from tests.kiosk.helpers import item, text_of, touch


def test_card_then_ticket_is_printed_with_that_number(kiosk: Any, hall: Hall, sims: Sims, qtbot: Any) -> None:
    window = kiosk.window
    touch(qtbot, window, "tile_ticket")
    touch(qtbot, window, "service_B")  # 企业开办: real-name
    qtbot.waitUntil(lambda: kiosk.role.keep[0].ticket.step == "card", timeout=3000)

    card = sample_card("resident")
    sims.idcard.place(card)
    chip = item(qtbot, window, "person_name")
    qtbot.waitUntil(lambda: text_of(chip).startswith("张**"), timeout=5000)
    assert card.id_number not in text_of(chip)
    assert "110105********0022"[:6] in text_of(chip) and "*" in text_of(chip)
    assert text_of(item(qtbot, window, "confirm_person")) == text_of(chip)

    touch(qtbot, window, "confirm_ticket")
    number = item(qtbot, window, "ticket_number")
    qtbot.waitUntil(lambda: text_of(number).startswith("B"), timeout=5000)
    assert sims.printer.wait_for_tickets(1, timeout=10)
    assert text_of(number).encode() in bytes(sims.printer.received)
    qtbot.waitUntil(lambda: kiosk.role.keep[0].ticket.printed is True, timeout=5000)
    # the bus got the masked reference, never the number: the controller's ticket carries the masked name
    assert kiosk.role.keep[0].ticket.result["number"] == text_of(number)


def elder_card(seq: str = "031") -> CardData:
    """A resident card of someone born 1950-05-01: 75 on the controller's day (2026-03-03) and on any later one."""
    number = make_id_number("110105", "19500501", seq)
    return dataclasses.replace(sample_card("resident", seq=seq), name="王长者", birth="1950-05-01",
                               id_number=number, photo=fake_wlt(number))


def take_real_name_ticket(kiosk: Any, sims: Sims, qtbot: Any, card: CardData) -> str:
    """Touch 取号 and the real-name service B, read `card` on the reader, confirm; the number on screen."""
    window = kiosk.window
    touch(qtbot, window, "tile_ticket")
    touch(qtbot, window, "service_B")
    qtbot.waitUntil(lambda: kiosk.role.keep[0].ticket.step == "card", timeout=3000)
    sims.idcard.place(card)
    qtbot.waitUntil(lambda: kiosk.role.keep[0].ticket.step == "confirm", timeout=5000)
    touch(qtbot, window, "confirm_ticket")
    number = item(qtbot, window, "ticket_number")
    qtbot.waitUntil(lambda: text_of(number).startswith("B"), timeout=5000)
    assert sims.printer.wait_for_tickets(1, timeout=10)
    return text_of(number)


def issued_channels(hall: Hall) -> dict[str, str]:
    """Every ticket of the day in the controller's store: number -> channel."""
    with closing(open_readonly(hall.data_dir)) as db:
        return dict(db.execute("SELECT number, channel FROM tickets").fetchall())


def test_a_card_showing_70_or_over_takes_a_green_channel_ticket_and_says_so(
    kiosk: Any, hall: Hall, sims: Sims, qtbot: Any
) -> None:
    number = take_real_name_ticket(kiosk, sims, qtbot, elder_card())
    assert issued_channels(hall) == {number: "green"}, "the controller issued it on the green channel"
    note = text_of(item(qtbot, kiosk.window, "ticket_channel_note"))
    assert note == "绿色通道 · 优先办理"
    assert "绿色通道".encode("gb18030") in bytes(sims.printer.received), "the paper says so too"
    flow = kiosk.role.keep[0].ticket
    assert flow.result["channel"] == "green" and flow.error is None


def test_a_card_under_70_takes_an_ordinary_ticket(kiosk: Any, hall: Hall, sims: Sims, qtbot: Any) -> None:
    number = take_real_name_ticket(kiosk, sims, qtbot, sample_card("resident"))  # born 1990
    assert issued_channels(hall) == {number: "onsite"}
    assert find(kiosk.window, "ticket_channel_note") is None
    assert "绿色通道".encode("gb18030") not in bytes(sims.printer.received)


@pytest.mark.parametrize("controller_edit", [("green_min_age = 70", "green_min_age = 0")])
def test_a_green_channel_the_controller_refuses_becomes_an_ordinary_ticket_without_a_word(
    kiosk: Any, hall: Hall, sims: Sims, qtbot: Any
) -> None:
    """The controller's copy of hall.toml gives the green channel by staff only; the terminal's still says 70."""
    assert hall.config.ticket_limits.green_min_age == 0 and hall.node_config.ticket_limits.green_min_age == 70
    number = take_real_name_ticket(kiosk, sims, qtbot, elder_card())
    assert issued_channels(hall) == {number: "onsite"}, "one ticket, the ordinary one"
    flow, state = kiosk.role.keep[0].ticket, kiosk.role.keep[0]
    assert flow.error is None and state.message is None, "the citizen is told nothing of the refusal"
    assert find(kiosk.window, "ticket_channel_note") is None
    assert "绿色通道".encode("gb18030") not in bytes(sims.printer.received)


def test_paper_out_shows_the_ticket_on_screen_and_tells_staff(kiosk: Any, hall: Hall, sims: Sims, qtbot: Any) -> None:
    sims.printer.set_paper(PaperState.OUT)
    printer = kiosk.devices.owners["printer"]
    qtbot.waitUntil(lambda: printer.printer.check_health().state == "paper_out", timeout=5000)
    window = kiosk.window
    touch(qtbot, window, "tile_ticket")
    touch(qtbot, window, "service_A")  # not real-name
    touch(qtbot, window, "confirm_ticket")
    number = item(qtbot, window, "ticket_number")
    qtbot.waitUntil(lambda: text_of(number).startswith("A"), timeout=5000)
    qtbot.waitUntil(lambda: kiosk.role.keep[0].ticket.printed is False, timeout=5000)
    assert "缺纸" in kiosk.role.keep[0].ticket.print_note["zh_CN"]
    # the number is taken, the paper is not: no green 取号成功 over the red note, no "the number above"
    title = text_of(item(qtbot, window, "ticket_title"))
    assert title == Catalogue().get("zh_CN", "ticket_not_printed_title") and "成功" not in title
    note = kiosk.role.keep[0].ticket.print_note
    assert "上面" not in note["zh_CN"] and "above" not in note["en"]
    assert item(qtbot, window, "ticket_qr").property("text").startswith("https://")
    assert kiosk.board.get("printer").state == "paper_out"
    assert sims.printer.tickets == []


def _case(no: str, id_number: str, **kw: Any) -> dict[str, Any]:
    rec = {
        "case_no": no, "item": "个体工商户设立登记", "item_code": "scjg-gtgsh-sl", "applicant_name": "张测试",
        "id_number": id_number, "status": "reviewing", "accepted_at": T0.isoformat(), "promised_days": 10,
        "handler": "李明", "department": "县市场监督管理局", "pickup_window": "3号窗口", "result": "窗口领取",
    }
    rec.update(kw)
    return rec


def test_cases_by_card_show_progress_and_take_a_pickup_ticket_in_one_touch(kiosk: Any, hall: Hall, sims: Sims, qtbot: Any) -> None:
    card = sample_card("resident")
    hall.import_records([
        _case("ZW2026030300001", card.id_number),
        _case("ZW2026030300002", card.id_number, status="done", finished_at=(T0 + dt.timedelta(hours=2)).isoformat()),
        _case("ZW2026030300003", sample_card("resident", seq="003").id_number),
    ])
    window = kiosk.window
    touch(qtbot, window, "tile_cases")
    item(qtbot, window, "case_method_card")
    sims.idcard.place(card)
    count = item(qtbot, window, "cases_count")
    qtbot.waitUntil(lambda: text_of(count) == "查询到 2 件办件", timeout=5000)
    deadline = item(qtbot, window, "case_deadline_ZW2026030300001")
    assert "10 个工作日" in text_of(deadline)
    assert "已办结" in text_of(item(qtbot, window, "case_deadline_ZW2026030300002"))
    assert "张**" in kiosk.role.keep[0].cases.items[0]["applicant"]

    # The second case is below the fold: scroll to the end, as a finger would. A list knows its
    # full height only once it has laid out the rows it scrolls to (and a row places its button
    # a frame later), so scroll, draw a frame, and go on until the button sits inside the list's
    # visible part at the same place two frames running: a tap computed before that lands
    # wherever the button was on its way.
    cases_list = item(qtbot, window, "cases_list")
    seen: list[QPointF] = []

    def pickup_settled_in_view() -> bool:
        cases_list.setProperty("contentY", max(0.0, cases_list.property("contentHeight") - cases_list.height()))
        next_frame(window)
        pickup = find(window, "pickup_ZW2026030300002")
        if pickup is None:
            return False
        centre = pickup.mapToScene(QPointF(pickup.width() / 2, pickup.height() / 2))
        inside = pickup.mapToScene(QPointF(0, pickup.height())).y() <= cases_list.mapToScene(
            QPointF(0, cases_list.height())).y()
        settled = bool(seen) and seen[-1] == centre
        seen.append(centre)
        return inside and settled

    qtbot.waitUntil(pickup_settled_in_view, timeout=5000)
    touch(qtbot, window, "pickup_ZW2026030300002")  # done: collect at 3号窗口, whose first service is B
    number = item(qtbot, window, "ticket_number")
    qtbot.waitUntil(lambda: text_of(number).startswith("B"), timeout=5000)
    assert sims.printer.wait_for_tickets(1, timeout=10)


def test_cases_by_number_and_last_six_on_the_keypad(kiosk: Any, hall: Hall, qtbot: Any) -> None:
    other = sample_card("resident", seq="007")
    hall.import_records([_case("ZW2026030300009", other.id_number, status="correction_needed")])
    window = kiosk.window
    touch(qtbot, window, "tile_cases")
    touch(qtbot, window, "case_method_number")
    for ch in "ZW2026030300009":
        touch(qtbot, window, f"key_{ch}")
    touch(qtbot, window, "field_verify")
    for ch in "123456":  # wrong
        touch(qtbot, window, f"vkey_{ch}")
    touch(qtbot, window, "entry_submit")
    state = kiosk.role.keep[0]
    qtbot.waitUntil(lambda: state.cases.step == "keypad" and state.cases.error is not None, timeout=5000)
    for _ in range(6):
        touch(qtbot, window, "vkey_back")
    for ch in other.id_number[-6:]:
        touch(qtbot, window, f"vkey_{ch}")
    touch(qtbot, window, "entry_submit")
    chip = item(qtbot, window, "case_status_ZW2026030300009")
    assert "补正" in text_of(chip.childItems()[0])


def test_checkin_by_appointment_qr_gives_a_priority_ticket(kiosk: Any, hall: Hall, sims: Sims, qtbot: Any) -> None:
    person = sample_card("resident", seq="011")
    hall.import_records([{
        "kind": "appointment", "code": "YY202603030001", "service": "C", "item": "灵活就业人员参保登记",
        "applicant_name": "李预约", "id_number": person.id_number,
        "slot_start": (T0 + dt.timedelta(minutes=10)).isoformat(), "slot_end": (T0 + dt.timedelta(minutes=40)).isoformat(),
        "status": "booked",
    }])
    window = kiosk.window
    touch(qtbot, window, "tile_checkin")
    sims.scanner.scan("not an appointment")
    error = item(qtbot, window, "checkin_error")
    qtbot.waitUntil(lambda: "预约" in str(error.property("text")), timeout=5000)
    sims.scanner.scan("ZWFW:APPT:YY202603030001")
    number = item(qtbot, window, "ticket_number")
    qtbot.waitUntil(lambda: text_of(number).startswith("C"), timeout=5000)
    assert kiosk.role.keep[0].checkin.result["channel"] == "appointment"


def test_guide_search_by_pinyin_initials_and_print_the_notice(kiosk: Any, sims: Sims, qtbot: Any) -> None:
    window = kiosk.window
    touch(qtbot, window, "tile_guide")
    state = kiosk.role.keep[0]
    qtbot.waitUntil(lambda: len(state.guide.items) >= 20 and not state.guide.loading, timeout=5000)
    for ch in "GTGSH":
        touch(qtbot, window, f"gkey_{ch}")
    qtbot.waitUntil(lambda: not state.guide.loading and state.guide.query == "GTGSH", timeout=5000)
    names = [i["name"] for i in state.guide.items]
    assert names and all("个体工商户" in n for n in names), names
    touch(qtbot, window, f"guide_item_{state.guide.items[0]['item']}")
    title = item(qtbot, window, "guide_title")
    qtbot.waitUntil(lambda: "个体工商户" in text_of(title), timeout=5000)
    assert state.guide.item["materials"]
    touch(qtbot, window, "guide_print")
    assert sims.printer.wait_for_tickets(1, timeout=10)
    qtbot.waitUntil(lambda: state.guide.printed is True, timeout=5000)


@pytest.mark.slow
def test_idle_countdown_then_everything_about_the_person_is_gone(kiosk: Any, hall: Hall, sims: Sims, qtbot: Any) -> None:
    kiosk.shell.idle.idle_s, kiosk.shell.idle.countdown_s = 1.0, 1.5
    window = kiosk.window
    state = kiosk.role.keep[0]
    touch(qtbot, window, "tile_ticket")
    sims.idcard.place(sample_card("resident"))
    qtbot.waitUntil(lambda: state.person is not None, timeout=5000)
    touch(qtbot, window, "service_A")
    touch(qtbot, window, "confirm_ticket")
    qtbot.waitUntil(lambda: state.ticket.step == "done", timeout=5000)
    kiosk.shell.setLanguage("en")
    kiosk.shell.touched()
    overlay = item(qtbot, window, "idle_overlay", timeout=4000)
    assert overlay.isVisible()
    qtbot.waitUntil(lambda: state.screen == "home" and kiosk.shell.idleLeft == 0, timeout=5000)
    assert state.is_empty()
    vm = kiosk.role.properties["vm"]
    assert vm.property("person")["present"] is False
    assert vm.property("ticket")["result"] == {}
    assert vm.property("cases")["items"] == []
    assert kiosk.shell.language == "zh_CN"
    assert item(qtbot, window, "tile_ticket").isVisible()


def test_broker_gone_shows_the_banner_keeps_state_and_refuses_clearly(kiosk: Any, hall: Hall, qtbot: Any) -> None:
    window = kiosk.window
    touch(qtbot, window, "tile_ticket")
    waiting = item(qtbot, window, "waiting_A")
    before = text_of(waiting)
    hall.broker.stop()
    banner = item(qtbot, window, "banner_offline", timeout=8000)
    assert banner.isVisible()
    assert text_of(waiting) == before  # the last state stays on screen
    touch(qtbot, window, "service_A")
    touch(qtbot, window, "confirm_ticket")
    state = kiosk.role.keep[0]
    qtbot.waitUntil(lambda: state.ticket.error is not None, timeout=5000)
    assert "连接不上大厅服务器" in state.ticket.error["zh_CN"]
    hall.broker.start()
    qtbot.waitUntil(lambda: not banner.isVisible(), timeout=10000)


def test_language_and_large_print_switches(kiosk: Any, qtbot: Any) -> None:
    window = kiosk.window
    tile = item(qtbot, window, "tile_ticket")
    size_before = tile.height()
    touch(qtbot, window, "lang_switch")
    qtbot.waitUntil(lambda: kiosk.shell.language == "en", timeout=2000)
    assert text_of(item(qtbot, window, "lang_switch").childItems()[0].childItems()[0]) == "中文"
    assert any(text_of(i) == "Take a ticket" for i in _texts(window))
    touch(qtbot, window, "elderly_switch")
    qtbot.waitUntil(lambda: kiosk.shell.elderly, timeout=2000)
    theme_big = [i for i in _texts(window) if text_of(i) == "Take a ticket"][0].property("font").pixelSize()
    touch(qtbot, window, "elderly_switch")
    qtbot.waitUntil(lambda: not kiosk.shell.elderly, timeout=2000)
    theme_std = [i for i in _texts(window) if text_of(i) == "Take a ticket"][0].property("font").pixelSize()
    assert theme_big > theme_std
    assert size_before > 0


def _texts(window: Any) -> list[Any]:
    from kiosk.qt.drive import visible_items

    # Ask only items that have a `text` property: PySide 6.12's property() loses a None otherwise.
    return [i for i in visible_items(window.contentItem()) if i.metaObject().indexOfProperty("text") >= 0]
