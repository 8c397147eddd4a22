"""A staff name, a service name and the hall's notice that hold markup are shown as the text they are, on every
kiosk screen (issue 19: XSS everywhere a name or a notice shows).

QML's `Text` reads its string as rich text when it looks like markup (`textFormat` AutoText,
the default): `<b>粗</b><script>alert(1)</script>王` would come out as a bold 粗 and a 王,
the rest swallowed, and an `<img>` or a link would load or act. Every `Text` of ours sets
`textFormat: Text.PlainText`. Checked two ways: each `Text` in the QML sources opens with
that line (the guard), and the real screens (window display, hall screen, counter,
terminal, tablet, offscreen) are walked item by item with the markup on them: every text
item is PlainText, and the ones showing the markup lay it out as plain text does (as wide as
the string in PlainText, not as the narrower rich rendering the old default gave).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hallbus.brokerurl import parse_broker_url
from hallbus.client import BusClient
from hallbus.config import HallConfig
from hallbus.controller.app import HallController
from hallbus.controller.clock import ManualClock
from hallbus.localbroker import LocalBroker
from hallbus.rpc import RpcClient
from tests.kiosk.conftest import KEY, NODE, T0, Sims, kiosk_config

QML = Path(__file__).resolve().parents[2] / "assets" / "qml"
NAME = "<b>粗</b><script>alert(1)</script>王"
NOTICE = '<h1>通知</h1><img src="http://example.invalid/x.png">请<a href="http://example.invalid">点这里</a>'
SERVICE = "<i>综合</i>受理"
PLAIN, RICH, AUTO = 0, 1, 2  # Text.PlainText, Text.RichText, Text.AutoText


def test_every_text_in_the_qml_sources_is_plain() -> None:
    """The guard: each `Text {` opens with `textFormat: Text.PlainText` (StyledText only where we build the markup)."""
    missing = []
    files = sorted(QML.rglob("*.qml"))
    assert len(files) > 20
    for path in files:
        src = path.read_text(encoding="utf-8")
        for m in re.finditer(r"(?<![\w.])Text\s*\{", src):
            rest = re.sub(r"^(\s|//[^\n]*\n)*", "", src[m.end():])
            if not rest.startswith(("textFormat: Text.PlainText", "textFormat: Text.StyledText")):
                missing.append(f"{path.relative_to(QML)}:{src.count(chr(10), 0, m.start()) + 1}")
    assert missing == [], f"Text without textFormat: Text.PlainText at {missing}"


def with_markup(text: str) -> str:
    """s003's name, service A's name and the notice each hold markup."""
    for old, new in (('name = "张伟"', f"name = '{NAME}'"),
                     (re.search(r'(?m)^notice = ".*"$', text), f"notice = '{NOTICE}'"),
                     (re.search(r'(?m)^notice_en = ".*"$', text), f"notice_en = '{NOTICE}'")):
        old_text = old if isinstance(old, str) else old.group(0) if old else ""
        assert old_text and old_text in text, old
        text = text.replace(old_text, new, 1)
    service = re.search(r'code = "A"\nname = "([^"]+)"', text)
    assert service, "service A's name"
    return text.replace(service.group(0), f"code = \"A\"\nname = '{SERVICE}'", 1)


@pytest.fixture
def marked_hall(broker: LocalBroker, sims: Sims, tmp_path: Path) -> Iterator[tuple[HallConfig, HallController]]:
    config = kiosk_config(tmp_path, sims.paths, edit=with_markup)
    assert config.staff_member("s003").name == NAME  # type: ignore[union-attr]
    ctl = HallController(config, data_dir=tmp_path / "data", broker=parse_broker_url(broker.url),
                         clock=ManualClock(T0), hall_key=KEY, tick_s=0.1)
    assert ctl.start(wait=5), "controller did not connect"
    try:
        yield config, ctl
    finally:
        ctl.stop()


def text_items(root: Any) -> list[Any]:
    """Every Text item under `root`, shown or not (Repeater and Loader items included; not the inputs)."""
    out, stack = [], [root]
    while stack:
        node = stack.pop()
        if node.metaObject().className().split("_QML")[0] == "QQuickText":
            out.append(node)
        stack.extend(node.childItems())
    return out


def qml(item: Any, expression: str) -> Any:
    """`expression` evaluated by QML in the item's scope (PySide cannot convert the TextFormat enum itself)."""
    from PySide6.QtQml import QQmlEngine, QQmlExpression

    expr = QQmlExpression(QQmlEngine.contextForObject(item), item, expression)
    value, undefined = expr.evaluate()
    assert not expr.hasError(), expr.error().toString()
    return None if undefined else value


def text_format(item: Any) -> int:
    return int(qml(item, "textFormat"))


def widths(item: Any) -> dict[int, float]:
    """The item's laid-out width with its text read as plain, rich and (the old default) auto, its format put back."""
    got = {}
    for fmt in (RICH, AUTO, PLAIN):
        got[fmt] = float(qml(item, f"(textFormat = {fmt}, implicitWidth)"))
    assert text_format(item) == PLAIN
    return got


def test_markup_in_names_services_and_the_notice_shows_as_text_on_every_screen(
    marked_hall: tuple[HallConfig, HallController], broker: LocalBroker, qtbot: Any, tmp_path: Path
) -> None:
    from kiosk.app import Kiosk, Options

    config, _ctl = marked_hall
    bus = BusClient(hall=config.hall.id, node="counter-3", role="counter", broker=parse_broker_url(broker.url))
    assert bus.start(wait=5)
    try:  # s003 opens window 3 and calls a ticket of service A: the name and the service are on the screens
        rpc = RpcClient(bus)
        rpc.call("window.login", {"window": "3", "staff": "s003", "password": "hall003"}, timeout=10)
        term = BusClient(hall=config.hall.id, node="terminal-2", role="terminal", broker=parse_broker_url(broker.url))
        assert term.start(wait=5)
        RpcClient(term).call("ticket.issue", {"service": "A"}, timeout=10)
        RpcClient(term).call("ticket.issue", {"service": "A"}, timeout=10)
        term.stop()
        rpc.call("window.call_next", {"window": "3"}, timeout=10)
    finally:
        bus.stop()
    kiosks: list[Any] = []
    try:
        for role, node, window in (("window", "window-3", "3"), ("hall", "hall-1", None), ("tablet", "tablet-3", "3"),
                                   ("counter", "counter-3", "3"), ("terminal", NODE, None)):
            k = Kiosk(Options(role=role, node=node, broker=broker.url, data=tmp_path / f"kiosk-{node}",
                              size=(1366, 768), window=window), config)
            w = k.start()
            kiosks.append(k)
            qtbot.waitExposed(w)
            qtbot.waitUntil(lambda k=k: k.shell.connected, timeout=5000)
        shown: dict[str, list[str]] = {}

        def markup_shown() -> bool:
            for k in kiosks:
                texts = [str(i.property("text")) for i in text_items(k.window.contentItem())]
                shown[k.options.role] = [t for t in texts if any(x in t for x in (NAME, SERVICE, "<h1>通知"))]
            return all(shown.get(r) for r in ("window", "tablet", "terminal", "hall", "counter"))

        qtbot.waitUntil(markup_shown, timeout=10000)
        for k in kiosks:
            items = text_items(k.window.contentItem())
            assert len(items) > 5
            not_plain = [(i.objectName(), str(i.property("text"))[:30]) for i in items if text_format(i) != PLAIN]
            assert not_plain == [], (k.options.role, not_plain)
            marked = [i for i in items if any(x in str(i.property("text")) for x in (NAME, SERVICE, "<h1>通知"))]
            assert marked, k.options.role
            for item in marked:  # laid out as the whole string; rich text (the old default too) would hide the tags
                w = widths(item)
                assert w[PLAIN] > max(w[RICH], w[AUTO]), (k.options.role, str(item.property("text")), w)
    finally:
        for k in reversed(kiosks):
            k.stop()
