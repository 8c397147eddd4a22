"""Every terminal screen drawn by the real QML in zh_CN, English and large print, with no QML warnings.

The PNGs go to a temporary folder; with `KIOSK_SCREENS=docs/screens` they become the docs' screenshots
(and `terminal-printed-ticket.png`, the ticket as the printer simulator drew it).
One clock per picture set: the kiosk reads the controller's clock (T0, the moment
scripts/role_screens.py uses too), so the header's date is the tickets' date.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from devices.idcard.samples import sample_card
from devices.printer.escpos import PaperState
from hallbus.schemas import set_clock
from kiosk.qt.shell import date_text
from tests.kiosk.conftest import T0, Hall, Sims
from tests.kiosk.helpers import item, settled_image, take_card_off, touch
from tests.kiosk.screenwalk import WALKED, check_screen


@pytest.fixture
def one_clock(hall: Hall) -> Any:
    """The kiosk reads the hall's clock while the pictures are taken (issue 16 item 15)."""
    set_clock(hall.clock)
    yield hall.clock
    set_clock(None)


VARIANTS = {"zh": ("zh_CN", False), "en": ("en", False), "elderly": ("zh_CN", True)}


@pytest.mark.slow
@pytest.mark.qt_log_level_fail("WARNING")
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_every_screen(variant: str, one_clock: Any, kiosk: Any, hall: Hall, sims: Sims, qtbot: Any, tmp_path: Path) -> None:
    out = Path(os.environ.get("KIOSK_SCREENS") or tmp_path / "screens")
    out.mkdir(parents=True, exist_ok=True)
    lang, elderly = VARIANTS[variant]
    card = sample_card("resident")
    hall.import_records([
        {"case_no": "ZW2026030200007", "item": "个体工商户设立登记", "item_code": "scjg-gtgsh-sl", "applicant_name": "张测试",
         "id_number": card.id_number, "status": "reviewing", "accepted_at": (T0 - dt.timedelta(days=1)).isoformat(),
         "promised_days": 5, "handler": "李明", "department": "县市场监督管理局", "pickup_window": "3号窗口", "result": "窗口领取或邮寄送达"},
        {"case_no": "ZW2026022600003", "item": "食品经营许可证核发", "item_code": "scjg-spjy-hf", "applicant_name": "张测试",
         "id_number": card.id_number, "status": "done", "accepted_at": (T0 - dt.timedelta(days=6)).isoformat(),
         "finished_at": (T0 - dt.timedelta(hours=3)).isoformat(), "promised_days": 10, "handler": "王芳",
         "department": "县市场监督管理局", "pickup_window": "3号窗口", "result": "窗口领取"},
    ])
    window = kiosk.window
    shell, state = kiosk.shell, kiosk.role.keep[0]
    shell.setLanguage(lang)
    if elderly:
        shell.toggleElderly()
    shots: list[Path] = []

    def shot(name: str) -> None:
        path = out / f"terminal-{name}-{variant}.png"
        image = settled_image(qtbot, window)
        assert image.save(str(path), "PNG")
        WALKED[(f"terminal-{name}", variant)] = check_screen(window, image)  # the screen walk's checks
        shots.append(path)

    qtbot.waitUntil(lambda: shell.date == date_text(lang, T0), timeout=3000)  # the header is of T0's day
    shot("home")
    touch(qtbot, window, "tile_ticket")
    item(qtbot, window, "service_A")
    shot("ticket-services")
    touch(qtbot, window, "service_B")
    qtbot.waitUntil(lambda: state.ticket.step == "card", timeout=3000)
    shot("ticket-card")
    sims.idcard.place(card)
    qtbot.waitUntil(lambda: state.ticket.step == "confirm", timeout=5000)
    shot("ticket-confirm")
    touch(qtbot, window, "confirm_ticket")
    qtbot.waitUntil(lambda: state.ticket.printed is True, timeout=10000)
    shot("ticket-printed")
    # the paper itself, as the printer simulator drew it (80 mm): the same in every variant
    assert sims.printer.wait_for_tickets(1)
    if variant == "zh":
        with Image.open(sims.printer.tickets[0]) as paper:
            paper.save(out / "terminal-printed-ticket.png", optimize=True)
    touch(qtbot, window, "ticket_done")
    take_card_off(sims.idcard)

    sims.printer.set_paper(PaperState.OUT)
    qtbot.waitUntil(lambda: kiosk.devices.owners["printer"].printer.check_health().state == "paper_out", timeout=5000)
    touch(qtbot, window, "tile_ticket")
    touch(qtbot, window, "service_A")
    touch(qtbot, window, "confirm_ticket")
    qtbot.waitUntil(lambda: state.ticket.printed is False, timeout=5000)
    shot("ticket-paper-out")
    touch(qtbot, window, "ticket_done")
    sims.printer.set_paper(PaperState.OK)

    touch(qtbot, window, "tile_cases")
    item(qtbot, window, "case_method_number")
    shot("cases-method")
    touch(qtbot, window, "case_method_number")
    for ch in "ZW2026030200007":
        touch(qtbot, window, f"key_{ch}")
    touch(qtbot, window, "field_verify")
    for ch in "12345":
        touch(qtbot, window, f"vkey_{ch}")
    touch(qtbot, window, "entry_submit")
    shot("cases-keypad-error")
    sims.idcard.place(sample_card("resident"))
    qtbot.waitUntil(lambda: state.cases.step == "list", timeout=5000)
    shot("cases-list")
    touch(qtbot, window, "home")
    take_card_off(sims.idcard)

    touch(qtbot, window, "tile_checkin")
    sims.scanner.scan("ZWFW:APPT:NOSUCHCODE")
    qtbot.waitUntil(lambda: state.checkin.error is not None, timeout=5000)
    shot("checkin-error")
    touch(qtbot, window, "home")

    touch(qtbot, window, "tile_guide")
    qtbot.waitUntil(lambda: len(state.guide.items) > 10 and not state.guide.loading, timeout=5000)
    shot("guide-all")
    for ch in "GTGSH":
        touch(qtbot, window, f"gkey_{ch}")
    qtbot.waitUntil(lambda: state.guide.query == "GTGSH" and not state.guide.loading, timeout=5000)
    shot("guide-search")
    touch(qtbot, window, f"guide_item_{state.guide.items[0]['item']}")
    qtbot.waitUntil(lambda: state.guide.item is not None, timeout=5000)
    shot("guide-item")
    touch(qtbot, window, "home")

    touch(qtbot, window, "tile_rate")
    item(qtbot, window, "entry_submit")
    shot("rate-case")
    sims.idcard.place(sample_card("resident"))
    qtbot.waitUntil(lambda: state.rate.step == "pick", timeout=5000)
    shot("rate-pick")
    state.rate.pick("ZW2026022600003")
    shot("rate-levels")
    touch(qtbot, window, "rate_level_1")
    touch(qtbot, window, "rate_reason_attitude")
    shot("rate-reasons")
    touch(qtbot, window, "rate_send")
    item(qtbot, window, "rate_thanks")
    shot("rate-thanks")
    take_card_off(sims.idcard)

    shell.idle.idle_s = 0.5
    qtbot.waitUntil(lambda: shell.idleLeft > 0, timeout=4000)
    shot("idle-countdown")
    shell.touched()
    shell.idle.idle_s = 600
    touch(qtbot, window, "home")

    hall.broker.stop()
    item(qtbot, window, "banner_offline", timeout=8000)
    shot("offline")
    hall.broker.start()

    for path in shots:
        with Image.open(path) as img:
            assert img.size == (1280, 800)
            colours = img.convert("RGB").getcolors(maxcolors=100000)
            assert colours is None or len(colours) > 50, f"{path.name} looks blank"
