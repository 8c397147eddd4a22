# ruff: noqa: F811  (pytest fixtures imported from the controller tests are parameters here)
"""One ticket's place and wait, computed once by the controller, read the same on the terminal's
ticket screen, the printed ticket and the hall screen; with no window open, all three say so
(issue 16, item 2). Qt-free: the real controller on a manual clock, the real views and layout."""

from __future__ import annotations

from devices.printer.escpos import EscPos
from devices.printer.layout import layout_ticket
from devices.printer.profile import profile_for
from devices.printer.transport import DummyTransport
from hallbus import schemas
from hallbus.config import HallConfig
from hallbus.controller.controller import Controller
from kiosk.hall.state import HallScreenState
from kiosk.owners.printer import paper_ticket
from kiosk.terminal.views import ticket_view
from tests.hallbus.controller.conftest import clock, config, ctl, published  # noqa: F401
from tests.hallbus.controller.helpers import (
    RecordingPublisher,
    call,
    id_card,
    issue,
    login,
)
from tests.kiosk.statepayloads import CAT


def printed(view: dict[str, object]) -> str:
    """The text of the paper ticket the terminal would print for a ticket view."""
    out = DummyTransport()
    layout_ticket(EscPos(out, profile_for(80)), paper_ticket({**view, "issuedDate": "2026-03-03"}))
    return bytes(out.output).decode("gb18030", errors="replace")


def three_sides(
    ctl: Controller, config: HallConfig, published: RecordingPublisher, ticket: dict[str, object]
) -> tuple[dict[str, object], str, dict[str, object]]:
    """The terminal's view of a ticket, its printout, and the hall screen's row of its service."""
    view = ticket_view(config, CAT, schemas.convert(ticket, schemas.Ticket))
    hall = HallScreenState(config, CAT)
    topic = ctl.topics.queue_state
    hall.on_queue_state(schemas.convert(published.state(topic), schemas.QueueState))
    row = next(r for r in hall.view("queue")["services"] if r["code"] == ticket["service"])
    return view, printed(view), row


def test_no_open_window_is_said_on_the_screen_the_paper_and_the_hall(
    ctl: Controller, config: HallConfig, published: RecordingPublisher
) -> None:
    t = issue(ctl, "B", id_card=id_card("1"))  # 企业开办: windows 3 and 4, nobody logged in
    view, paper, row = three_sides(ctl, config, published, t)
    assert view["waitText"]["zh_CN"] == "暂无开放窗口"  # type: ignore[index]
    assert view["windows"]["zh_CN"].endswith("（暂未开放）")  # type: ignore[index]
    assert "暂无开放窗口" in paper and "（暂未开放）" in paper
    assert "即将叫号" not in paper and "无需等待" not in paper
    assert row["waitText"]["zh_CN"] == "暂无开放窗口"  # type: ignore[index]


def test_the_wait_the_hall_shows_is_the_wait_the_next_ticket_gets(
    ctl: Controller, config: HallConfig, published: RecordingPublisher
) -> None:
    login(ctl, "3", "s003")
    first = issue(ctl, "B", id_card=id_card("1"))
    view, paper, row = three_sides(ctl, config, published, first)
    assert view["waitText"]["zh_CN"] == "即将叫号" and "即将叫号" in paper  # type: ignore[index]
    assert "（暂未开放）" not in view["windows"]["zh_CN"]  # type: ignore[index]
    promised = row["waitText"]  # the hall's wait for B with one waiting: what a ticket taken now gets
    second = issue(ctl, "B", id_card=id_card("2"))
    view, paper, _ = three_sides(ctl, config, published, second)
    assert second["ahead"] == 1
    assert view["waitText"] == promised
    assert f"预计等候：{promised['zh_CN']}" in paper  # type: ignore[index]
    again = call(ctl, "ticket.status", {"number": second["number"]})["ticket"]
    assert again["est_wait_s"] == second["est_wait_s"]
