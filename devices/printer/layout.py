"""What goes on the paper: the queue ticket (排队小票) and the materials notice (一次性告知单).

Inputs are plain dataclasses so the kiosk can build them from a `ticket.issue` reply; layouts
read the printer profile (58 or 80 mm) and call `EscPos` methods, nothing else.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from devices.printer.escpos import EscPos, display_width, wrap

DEFAULT_TICKET_NOTICE = "请留意叫号，过号请重新取号。扫码可查看排队进度。"


@dataclass(frozen=True, slots=True)
class Ticket:
    """A queue ticket as the hall controller issued it (`ticket.issue` data) plus the hall's name."""

    number: str
    service_name: str
    ahead: int
    est_wait_s: int
    issued_at: datetime
    track_url: str
    hall_name: str = "政务服务中心"
    notice: str = DEFAULT_TICKET_NOTICE
    wait_words: str = ""  # the wait as the hall says it everywhere (hallbus.wording.wait); else from est_wait_s
    windows: str = ""  # the windows that serve it, said honestly when none is open (hallbus.wording.windows_note)


@dataclass(frozen=True, slots=True)
class MaterialsNotice:
    """一次性告知单: a title, the lines to tell at once (materials, steps), an optional QR link."""

    title: str
    lines: Sequence[str]
    qr_url: str | None = None
    hall_name: str = ""
    issued_at: datetime | None = None
    footer: str = "请按清单备齐材料，最多跑一次。"
    extra: dict[str, str] = field(default_factory=dict)


def wait_text(est_wait_s: int) -> str:
    """Estimated wait in words: 约 N 分钟, or 即将叫号 when there is none."""
    if est_wait_s <= 0:
        return "即将叫号"
    return f"约 {math.ceil(est_wait_s / 60)} 分钟"


def _rule(p: EscPos) -> None:
    p.align("left").line("-" * p.profile.columns)


def _big_number_size(p: EscPos, number: str) -> int:
    """The largest magnification that fits on one line: up to 6x on 58 mm, 8x on 80 mm paper."""
    for scale in range(min(8, p.profile.width_dots // 64), 1, -1):
        if display_width(number) * 12 * scale <= p.profile.width_dots:
            return scale
    return 1


def layout_ticket(p: EscPos, ticket: Ticket) -> None:
    """Write a whole ticket, from ESC @ to the cut."""
    columns = p.profile.columns
    p.init().chinese(True)
    p.align("center").bold(True).size(2, 2)
    for line in wrap(ticket.hall_name, columns // 2):
        p.line(line)
    p.size(1, 1).bold(False).line("排队取号凭条 Queue ticket")
    _rule(p)
    scale = _big_number_size(p, ticket.number)
    p.align("center").bold(True).size(scale, scale).line(ticket.number).size(1, 1).bold(False)
    p.size(1, 2)
    for line in wrap(ticket.service_name, columns):
        p.line(line)
    p.size(1, 1)
    _rule(p)
    p.align("left")
    p.line(f"前面等候：{ticket.ahead} 人")
    p.line(f"预计等候：{ticket.wait_words or wait_text(ticket.est_wait_s)}")
    if ticket.windows:
        for line in wrap(f"办理窗口：{ticket.windows}", columns):
            p.line(line)
    p.line(f"取号时间：{ticket.issued_at.strftime('%Y-%m-%d %H:%M')}")
    p.feed(1)
    p.align("center").qr(ticket.track_url.encode("utf-8"))
    p.line("扫码查看排队进度")
    _rule(p)
    p.align("left")
    for line in wrap(ticket.notice, columns):
        p.line(line)
    p.feed(2).cut()


def layout_notice(p: EscPos, notice: MaterialsNotice) -> None:
    """Write a 一次性告知单: title, numbered-as-given lines, optional QR, footer, cut."""
    columns = p.profile.columns
    p.init().chinese(True).align("center")
    if notice.hall_name:
        p.line(notice.hall_name)
    p.bold(True).size(2, 2)
    for line in wrap(notice.title, columns // 2):
        p.line(line)
    p.size(1, 1).bold(False).line("一次性告知单")
    _rule(p)
    p.align("left")
    for item in notice.lines:
        for line in wrap(item, columns):
            p.line(line)
    for key, value in notice.extra.items():
        for line in wrap(f"{key}：{value}", columns):
            p.line(line)
    _rule(p)
    if notice.qr_url:
        p.align("center").qr(notice.qr_url.encode("utf-8")).line("扫码查看办事指南")
    p.align("left")
    if notice.footer:
        for line in wrap(notice.footer, columns):
            p.line(line)
    if notice.issued_at is not None:
        p.line(f"打印时间：{notice.issued_at.strftime('%Y-%m-%d %H:%M')}")
    p.feed(2).cut()
