"""`/q`'s board: which services are open now, by their opening hours first and then by open windows."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from hallbus import schemas
from hallbus.brokerurl import parse_broker_url
from hallbus.client import BusClient
from hallbus.config import parse_config
from tests.hallbus.controller.helpers import test_config_text as config_text
from web.board import Board
from web.presence import ControllerPresence


def test_a_service_is_open_by_its_hours_and_then_by_its_windows(tmp_path: Path) -> None:
    text = config_text(tmp_path, all_day=False)  # the sample's hours: G 08:30-12:00 and 13:30-17:00
    config = parse_config(text, tmp_path / "hall.toml")
    bus = BusClient(hall=config.hall.id, node="web", role="web", broker=parse_broker_url("mqtt://127.0.0.1:1"))
    board = Board(bus, config, on_queue=lambda: None, presence=ControllerPresence(bus))
    board.queue = schemas.QueueState(services=[
        schemas.ServiceQueue(code="A", name="综合受理", waiting=3, est_wait_s=600, windows_open=1),
        schemas.ServiceQueue(code="G", name="户籍证照", waiting=0, est_wait_s=0, windows_open=0),
        schemas.ServiceQueue(code="B", name="企业开办", waiting=1, est_wait_s=300, windows_open=1, closed_today=True),
    ], total_waiting=4)
    tz = ZoneInfo(config.hall.timezone)

    def at(hh: int, mm: int, lang: str = "zh_CN") -> dict[str, dict[str, object]]:
        view = board.view(lang, now=dt.datetime(2026, 3, 3, hh, mm, tzinfo=tz))
        return {str(s["code"]): s for s in view["services"]}

    morning = at(9, 0)
    assert morning["B"]["open"] is False and morning["B"]["wait"] == "今日暂停取号"  # a manager closed it for today
    assert morning["A"]["open"] is True and morning["A"]["wait"] != ""
    assert morning["G"]["open"] is False and morning["G"]["wait"] == "暂无开放窗口"  # in its hours, no window
    lunch = at(12, 30)
    assert lunch["A"]["open"] is False and lunch["A"]["wait"] == "不在办理时间（08:30-12:00、13:30-17:30）"
    late = at(17, 15, "en")
    assert late["A"]["open"] is True  # A's default hours run to 17:30
    assert late["G"]["wait"] == "Closed now (open 08:30-12:00, 13:30-17:00)"
    assert board.view("zh_CN")["away"] is True  # this bus never connected: nothing can be asked
