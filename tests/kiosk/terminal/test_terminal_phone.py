"""到号短信提醒 at the terminal: the optional phone step in the real QML (offscreen), against the real controller.

The hall notifies (`[notify]` on) through a real HTTP gateway on loopback, so the number
typed on the keypad is followed to the gateway's POST when the ticket is called. With
notifications off (the sample hall) the step is never shown: test_terminal_screens takes
tickets from the confirm button straight to the printer.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from hallbus.brokerurl import parse_broker_url
from hallbus.client import BusClient
from hallbus.controller.app import HallController
from hallbus.controller.clock import ManualClock
from hallbus.controller.store import db_path
from hallbus.localbroker import LocalBroker
from hallbus.rpc import RpcClient
from tests.hallbus.helpers import with_notify
from tests.hallbus.notify.gateway import Gateway
from tests.kiosk.conftest import KEY, T0, Hall, Sims, kiosk_config
from tests.kiosk.helpers import item, settled_image, text_of, touch
from tests.kiosk.screenwalk import check_screen
from tests.kiosk.terminal.test_terminal_screens import VARIANTS, one_clock  # noqa: F401 (a fixture)


@pytest.fixture
def hall(broker: LocalBroker, sims: Sims, gateway: Gateway, tmp_path: Path) -> Iterator[Hall]:
    """The kiosk tests' hall, with `[notify]` on and posting to `gateway` (overrides tests/kiosk/conftest.py)."""
    config = kiosk_config(tmp_path, sims.paths, edit=lambda text: with_notify(text, gateway.url, ahead=3))
    clock = ManualClock(T0)
    ctl = HallController(config, data_dir=tmp_path / "data", broker=parse_broker_url(broker.url), clock=clock,
                         hall_key=KEY, tick_s=0.1)
    assert ctl.start(wait=5), "controller did not connect"
    try:
        yield Hall(config, tmp_path / "data", clock, ctl, broker, config)
    finally:
        ctl.stop()


def phones(hall: Hall) -> list[str]:
    with closing(sqlite3.connect(f"file:{db_path(hall.data_dir)}?mode=ro", uri=True)) as conn, conn:
        return [str(r[0]) for r in conn.execute("SELECT phone FROM notify_phones ORDER BY rowid")]


def type_digits(qtbot: Any, window: Any, digits: str) -> None:
    for d in digits:
        touch(qtbot, window, f"pkey_{d}")


@pytest.mark.qt_log_level_fail("WARNING")
@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.usefixtures("one_clock")  # the pictures' one moment (T0), as the other terminal screens
def test_a_citizen_types_a_number_and_the_gateway_gets_it_when_called(
    variant: str, kiosk: Any, hall: Hall, gateway: Gateway, sims: Sims, qtbot: Any, tmp_path: Path
) -> None:
    out = Path(os.environ.get("KIOSK_SCREENS") or tmp_path / "screens")
    out.mkdir(parents=True, exist_ok=True)
    window, shell, state = kiosk.window, kiosk.shell, kiosk.role.keep[0]
    lang, elderly = VARIANTS[variant]
    shell.setLanguage(lang)
    if elderly:
        shell.toggleElderly()

    def shot(name: str) -> None:
        image = settled_image(qtbot, window)
        found = {k: v for k, v in check_screen(window, image).items() if v and k != "measured"}  # the walk's checks
        assert not found, f"{name} ({variant}): {found}"
        assert image.save(str(out / f"terminal-{name}-{variant}.png"), "PNG")

    touch(qtbot, window, "tile_ticket")
    touch(qtbot, window, "service_A")
    touch(qtbot, window, "confirm_ticket")
    qtbot.waitUntil(lambda: state.ticket.step == "phone", timeout=3000)
    assert not item(qtbot, window, "phone_submit").property("active")  # nothing typed yet
    # back to the confirmation and forward again: nothing typed is kept
    state.back()
    qtbot.waitUntil(lambda: state.ticket.step == "confirm", timeout=3000)
    touch(qtbot, window, "confirm_ticket")
    qtbot.waitUntil(lambda: state.ticket.step == "phone", timeout=3000)

    type_digits(qtbot, window, "12812345678")  # eleven digits, but no mobile number
    qtbot.waitUntil(lambda: text_of(item(qtbot, window, "phone_digits")) == "128 1234 5678", timeout=3000)
    touch(qtbot, window, "phone_submit")
    error = item(qtbot, window, "phone_error")
    qtbot.waitUntil(lambda: text_of(error) != "", timeout=3000)
    assert ("手机号码不正确" if lang == "zh_CN" else "not a mobile number") in text_of(error)
    assert state.ticket.step == "phone" and phones(hall) == []
    shot("ticket-phone-error")

    touch(qtbot, window, "pkey_clear")
    type_digits(qtbot, window, "13812345678")
    qtbot.waitUntil(lambda: text_of(item(qtbot, window, "phone_digits")) == "138 1234 5678", timeout=3000)
    qtbot.waitUntil(lambda: text_of(error) == "", timeout=3000)
    shot("ticket-phone")
    touch(qtbot, window, "phone_submit")
    qtbot.waitUntil(lambda: state.ticket.printed is True, timeout=10000)
    hint = text_of(item(qtbot, window, "ticket_hint"))
    assert "138****5678" in hint and "13812345678" not in hint
    assert state.ticket.phone.digits == ""  # the terminal forgot it: the controller has it
    assert phones(hall) == ["13812345678"]
    shot("ticket-phone-done")

    # the counter calls it: the gateway gets the number the citizen typed
    bus = BusClient(hall=hall.config.hall.id, node="counter-1", role="counter", broker=parse_broker_url(hall.broker.url))
    assert bus.start(wait=5)
    try:
        counter = RpcClient(bus)
        counter.call("window.login", {"window": "1", "staff": "s001", "password": "hall001"})
        counter.call("window.call_next", {"window": "1"})
        post = gateway.wait_posts(1)[0]["body"]
        assert (post["kind"], post["ticket"], post["phone"]) == ("called", state.ticket.result["number"], "13812345678")
    finally:
        bus.stop()

    # the next citizen skips the step: no number taken
    touch(qtbot, window, "ticket_done")
    touch(qtbot, window, "tile_ticket")
    touch(qtbot, window, "service_A")
    touch(qtbot, window, "confirm_ticket")
    touch(qtbot, window, "phone_skip")
    qtbot.waitUntil(lambda: state.ticket.step == "done", timeout=5000)
    assert "****" not in text_of(item(qtbot, window, "ticket_hint"))
    assert phones(hall) == ["13812345678"]
