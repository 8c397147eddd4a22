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
    priority_note: str = ""  # a priority ticket says so under the service (绿色通道), bold; empty: an ordinary one


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


MARGIN_DOTS = 24  # 3 mm of blank paper each side: nothing printed against the edge
TAIL_DOTS = 24  # past the cutter after the last line: the cut follows the text, no blank tail


def _rule(p: EscPos) -> None:
    p.align("left").line("-" * p.columns)


def _big_number_size(p: EscPos, number: str) -> int:
    """The largest magnification that fits on one line: up to 5x on 58 mm, 8x on 80 mm paper."""
    for scale in range(min(8, p.profile.width_dots // 64), 1, -1):
        if display_width(number) * 12 * scale <= p.columns * 12:
            return scale
    return 1


def layout_ticket(p: EscPos, ticket: Ticket) -> None:
    """Write a whole ticket, from ESC @ to the cut: hall, number, service, queue, time, QR, notice."""
    p.init().chinese(True).margins(MARGIN_DOTS)
    columns = p.columns
    p.align("center").bold(True).size(2, 2)
    for line in wrap(ticket.hall_name, columns // 2):
        p.line(line)
    # one script per line: font A draws Latin in monospace cells, beside hanzi it looks broken
    p.size(1, 1).bold(False).line("排队取号凭条")
    _rule(p)
    scale = _big_number_size(p, ticket.number)
    p.align("center").bold(True).size(scale, scale).line(ticket.number)
    # the service at double width and height, as it reads on the screen: not squashed to half width
    p.size(2, 2)
    for line in wrap(ticket.service_name, columns // 2):
        p.line(line)
    p.size(1, 1).bold(False)
    if ticket.priority_note:
        p.bold(True)
        for line in wrap(ticket.priority_note, columns):
            p.line(line)
        p.bold(False)
    _rule(p)
    p.align("left")
    p.line(f"前面等候：{ticket.ahead} 人")
    p.line(f"预计等候：{ticket.wait_words or wait_text(ticket.est_wait_s)}")
    if ticket.windows:
        for line in wrap(f"办理窗口：{ticket.windows}", columns):
            p.line(line)
    p.line(f"取号时间：{ticket.issued_at.strftime('%Y-%m-%d %H:%M')}")
    p.align("center").qr(ticket.track_url.encode("utf-8"))
    p.line("扫码查看排队进度")
    _rule(p)
    p.align("left")
    for line in wrap(ticket.notice, columns):
        p.line(line)
    p.cut(TAIL_DOTS)


def layout_notice(p: EscPos, notice: MaterialsNotice) -> None:
    """Write a 一次性告知单: title, numbered-as-given lines, optional QR, footer, cut."""
    p.init().chinese(True).margins(MARGIN_DOTS).align("center")
    columns = p.columns
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
    p.cut(TAIL_DOTS)
