"""`/q`'s board: which services are open now, by their opening hours first and then by open windows;
its event stream encodes each change once per language, however many phones follow it."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from hallbus import schemas
from hallbus.brokerurl import parse_broker_url
from hallbus.client import BusClient
from hallbus.config import parse_config
from tests.hallbus.controller.helpers import test_config_text as config_text
from tests.web.conftest import WebHall
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


STREAMS = {"zh_CN": 24, "en": 12}  # open `/q` pages per language


async def _boards(web: str, issue: Any) -> tuple[dict[str, set[str]], int, dict[str, Any], dict[str, Any]]:
    """Open the streams, take their first board, have a ticket issued, wait for it on every stream.

    Returns the distinct boards each language's streams received after their first, the waiting
    count every stream ended on, and `/healthz` before and after the change.
    """
    async with httpx.AsyncClient(base_url=web, timeout=30, limits=httpx.Limits(max_connections=100)) as client:
        async with AsyncExitStack() as stack:
            lines = []
            for lang, n in STREAMS.items():
                for _ in range(n):
                    response = await stack.enter_async_context(
                        client.stream("GET", "/api/v1/board/events", params={"lang": lang})
                    )
                    lines.append((lang, response.aiter_lines()))

            async def next_board(lang_lines: Any) -> dict[str, Any]:
                async for line in lang_lines:
                    if line.startswith("data: "):
                        board: dict[str, Any] = json.loads(line[6:])
                        return board
                raise AssertionError("the board stream ended")

            firsts = await asyncio.gather(*(next_board(it) for _lang, it in lines))
            waiting = {b["total_waiting"] for b in firsts}
            assert len(waiting) == 1, firsts
            before = (await client.get("/healthz")).json()
            await asyncio.to_thread(issue)
            seen: dict[str, set[str]] = {lang: set() for lang in STREAMS}

            async def until_issued(lang: str, it: Any) -> int:
                while True:
                    board = await next_board(it)
                    seen[lang].add(json.dumps(board, sort_keys=True))
                    if board["total_waiting"] != firsts[0]["total_waiting"]:
                        return int(board["total_waiting"])

            ends = await asyncio.wait_for(asyncio.gather(*(until_issued(lang, it) for lang, it in lines)), 30)
            after = (await client.get("/healthz")).json()
    assert set(ends) == {firsts[0]["total_waiting"] + 1}, ends
    return seen, before["board_streams"], before["encoded"], after["encoded"]


def test_one_change_is_encoded_once_per_language_for_every_open_board(hall: WebHall) -> None:
    seen, streams, before, after = asyncio.run(_boards(hall.web, hall.issue))
    assert streams == sum(STREAMS.values())
    # One board event per language and change, shared by every stream in that language: the
    # encoder ran once for each distinct board the streams received, not once per stream.
    distinct = sum(len(boards) for boards in seen.values())
    assert 2 <= distinct < sum(STREAMS.values()) // 2, seen
    assert after["board"] - before["board"] == distinct, (before, after, seen)
