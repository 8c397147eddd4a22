"""The ticket printer's owner: prints tickets and notices (blocking: call it off the GUI thread) and reports paper health."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from devices.printer.layout import MaterialsNotice, Ticket
from devices.printer.printer import PrinterHealth, TicketPrinter
from kiosk.owners.health import HealthBoard

log = logging.getLogger(__name__)


class PrinterOwner:
    """Owns one ESC/POS printer; polls its paper sensor; the terminal's `Printer` port."""

    name = "printer"

    def __init__(self, port_url: str, board: HealthBoard, *, width: int = 80, poll_s: float = 5.0) -> None:
        self.port_url = port_url
        self.board = board
        self.poll_s = poll_s
        self.printer = TicketPrinter(port_url, width=width)
        self.printed = 0

    def start(self) -> None:
        """Poll the paper sensor in the background; health goes to the board."""
        self.board.set("printer", "error", "starting")
        self.printer.start_polling(self._health, self.poll_s)

    def stop(self) -> None:
        """Stop polling and close the link."""
        self.printer.close()

    def _health(self, health: PrinterHealth) -> None:
        self.board.set("printer", health.state, health.detail or None)

    def ready(self) -> bool:
        """False when the last known state is paper out (no point trying; the ticket goes on screen)."""
        return self.printer.health.state != "paper_out"

    def print_ticket(self, ticket: dict[str, Any]) -> None:
        """Print a ticket view (see kiosk.terminal.views.ticket_view); raises PrinterError/PaperOut."""
        try:
            self.printer.print_ticket(paper_ticket(ticket))
        finally:
            self._health(self.printer.health)
        self.printed += 1

    def print_notice(self, item: dict[str, Any]) -> None:
        """Print the one-time notice (一次性告知单) of a guide item view."""
        lines: list[str] = []
        if item.get("department"):
            lines.append(f"办理部门：{item['department']}")
        if item.get("window"):
            lines.append(f"办理窗口：{item['window']}")
        lines.append("申请材料：")
        for i, m in enumerate(item.get("materials") or [], start=1):
            counts = []
            if m.get("originals"):
                counts.append(f"原件{m['originals']}份")
            if m.get("copies"):
                counts.append(f"复印件{m['copies']}份")
            lines.append(f"{i}. {m.get('name', '')}" + (f"（{'，'.join(counts)}）" if counts else ""))
        if isinstance(item.get("promisedDays"), int) and item["promisedDays"] >= 0:
            lines.append(f"承诺时限：{item['promisedDays']}个工作日")
        if item.get("fees"):
            lines.append(f"收费：{item['fees']}")
        try:
            self.printer.print_notice(
                MaterialsNotice(
                    title=str(item.get("name", "")),
                    lines=lines,
                    hall_name=str(item.get("hallName") or ""),
                    issued_at=dt.datetime.now(),
                )
            )
        finally:
            self._health(self.printer.health)


def paper_ticket(ticket: dict[str, Any]) -> Ticket:
    """The printed ticket of a ticket view: its wait and windows in the very words of the screen."""
    issued = dt.datetime.now()
    try:
        issued = dt.datetime.fromisoformat(f"{ticket.get('issuedDate')}T{ticket.get('issuedAt')}")
    except ValueError:
        pass
    return Ticket(
        number=str(ticket.get("number", "")),
        service_name=_zh(ticket.get("serviceName")),
        ahead=int(ticket.get("ahead") or 0),
        est_wait_s=int(ticket.get("estWaitS") or 0),
        issued_at=issued,
        track_url=str(ticket.get("trackUrl") or ""),
        hall_name=str(ticket.get("hallName") or "政务服务中心"),
        wait_words=_zh(ticket.get("waitText")),
        windows=_zh(ticket.get("windows")),
        priority_note=_zh(ticket.get("channelNote")),
    )


def _zh(text: Any) -> str:
    """The zh_CN side of a view's Text (the paper is printed in Chinese), or the string itself."""
    if isinstance(text, dict):
        return str(text.get("zh_CN", ""))
    return str(text or "")
