"""What a manager changes in the console reaches the terminal at once: the hall's notice (the controller's retained
`hall/notice`, as plain text, never markup; hall.toml's until then) and which windows serve a service (the windows'
retained state), which the ticket names."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import QObject
from PySide6.QtQml import QQmlExpression, qmlContext

from hallbus import schemas
from hallbus.brokerurl import parse_broker_url
from hallbus.client import BusClient
from hallbus.rpc import RpcClient
from kiosk.qt.shell import ShellViewModel
from kiosk.terminal import views
from tests.kiosk.conftest import Hall
from tests.kiosk.helpers import item, text_of, touch

MANAGER = ('id = "s001"\nname = "李明"', 'id = "s001"\nname = "李明"\nrole = "manager"')
MARKUP = "<b>x</b><script>alert(1)</script>"
PLAIN_TEXT = 0  # Qt.TextFormat.PlainText, as QML's Text.PlainText


def qml_value(obj: QObject, expression: str) -> Any:
    """An expression evaluated in a QML item's own scope (an enum property PySide cannot read directly)."""
    value, failed = QQmlExpression(qmlContext(obj), obj, expression).evaluate()
    assert not failed
    return value


class Console:
    """The manager console as the controller sees it: the `web` node, signed in as s001 (a manager)."""

    def __init__(self, hall: Hall) -> None:
        self.bus = BusClient(hall=hall.config.hall.id, node="web", role="web", broker=parse_broker_url(hall.broker.url))
        assert self.bus.start(wait=10)
        self.rpc = RpcClient(self.bus)
        assert self.bus.wait_subscribed(self.rpc.reply_topic, 10)
        self.token = secrets.token_urlsafe(32)
        self.rpc.call("admin.login", {"staff": "s001", "password": "hall001", "client": "10.0.0.2",
                                      "session_hash": hashlib.sha256(self.token.encode()).hexdigest()}, timeout=10)

    def set(self, key: str, value: Any) -> None:
        """Change a setting never changed before (version 0)."""
        self.rpc.call("admin.settings.set", {"session": self.token, "key": key, "value": value, "version": 0},
                      timeout=10)


@pytest.fixture
def console(hall: Hall) -> Iterator[Console]:
    c = Console(hall)
    yield c  # pytest runs the rest after the test, whatever its outcome
    c.bus.stop()


@pytest.mark.parametrize("controller_edit", [MANAGER])
def test_a_notice_a_manager_sets_is_on_the_terminal_at_once_as_text(
    kiosk: Any, hall: Hall, qtbot: Any, console: Console
) -> None:
    shell: ShellViewModel = kiosk.shell
    text = item(qtbot, kiosk.window, "notice_text")
    assert text_of(text) == hall.node_config.hall.notice, "hall.toml's until a manager changes it"
    assert qml_value(text, "textFormat") == PLAIN_TEXT
    console.set("hall.notice", MARKUP)
    qtbot.waitUntil(lambda: text_of(text) == MARKUP, timeout=5000)
    assert shell.notices.zh == MARKUP
    shell.setLanguage("en")  # no English notice set by the manager: hall.toml's English one
    qtbot.waitUntil(lambda: text_of(text) == hall.node_config.hall.notice_en, timeout=5000)
    console.set("hall.notice_en", "Closed at 16:00 today.")
    qtbot.waitUntil(lambda: text_of(text) == "Closed at 16:00 today.", timeout=5000)


@pytest.mark.parametrize("controller_edit", [MANAGER])
def test_a_ticket_names_the_windows_that_serve_it_now(kiosk: Any, qtbot: Any, console: Console) -> None:
    state = kiosk.role.keep[0]
    assert "9号窗口" in views.ticket_view(state.cfg, state.cat, _ticket("E"))["windows"]["zh_CN"]
    console.set("window.2.services", ["E"])
    qtbot.waitUntil(lambda: state.cfg.window("2").services == ["E"], timeout=5000)
    named = views.ticket_view(state.cfg, state.cat, _ticket("E"))["windows"]["zh_CN"]
    assert "2号窗口" in named and "9号窗口" in named
    assert "2号窗口" not in views.ticket_view(state.cfg, state.cat, _ticket("A"))["windows"]["zh_CN"]


def _ticket(service: str) -> schemas.Ticket:
    return schemas.Ticket(number=f"{service}001", service=service, windows_open=1)


@pytest.mark.parametrize("controller_edit", [MANAGER])
def test_a_service_closed_today_says_so_on_its_tile(kiosk: Any, qtbot: Any, console: Console) -> None:
    state = kiosk.role.keep[0]
    console.set("service.E.open", False)
    qtbot.waitUntil(lambda: state.queue["E"].closed_today, timeout=5000)
    tiles = {s["code"]: s for g in views.service_groups(state.cfg, state.cat, state.queue) for s in g["services"]}
    assert tiles["E"]["waitText"]["zh_CN"] == "今日暂停取号" and tiles["E"]["waitText"]["en"] == "No tickets today"
    assert tiles["A"]["waitText"]["zh_CN"] != "今日暂停取号"
    # on the screen: E's tile greyed, saying so; A's as it was
    touch(qtbot, kiosk.window, "tile_ticket")
    qtbot.waitUntil(lambda: item(qtbot, kiosk.window, "service_E").property("opacity") == 0.5, timeout=5000)
    assert text_of(item(qtbot, kiosk.window, "waiting_E")).endswith("今日暂停取号")
    assert item(qtbot, kiosk.window, "service_A").property("opacity") == 1
