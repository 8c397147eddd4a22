"""The terminal end to end: real QML, real broker, the real controller, simulated devices on ptys."""

from __future__ import annotations

from typing import Any

from devices.idcard.samples import sample_card
from devices.printer.escpos import PaperState
from tests.kiosk.conftest import Hall, Sims
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
    assert item(qtbot, window, "ticket_qr").property("text").startswith("https://")
    assert kiosk.board.get("printer").state == "paper_out"
    assert sims.printer.tickets == []
