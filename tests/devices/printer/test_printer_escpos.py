"""Exact bytes of the command set and layouts, recorded by `DummyTransport`."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.printer.escpos import (
    EscPos,
    PaperState,
    display_width,
    paper_status_byte,
    parse_paper_status,
    wrap,
)
from devices.printer.layout import MaterialsNotice, Ticket, layout_notice, layout_ticket, wait_text
from devices.printer.profile import profile_for
from devices.printer.transport import DummyTransport

TICKET = Ticket(
    number="B105",
    service_name="社保卡补办",
    ahead=12,
    est_wait_s=1500,
    issued_at=datetime(2024, 5, 6, 9, 30, tzinfo=timezone(timedelta(hours=8))),
    track_url="https://hall.example.cn/t/B105",
    hall_name="市民服务中心",
)


def commands(width: int = 58, native_qr: bool = True) -> tuple[EscPos, DummyTransport]:
    out = DummyTransport()
    return EscPos(out, profile_for(width, native_qr=native_qr)), out


def test_basic_commands_are_the_documented_bytes() -> None:
    p, out = commands()
    p.init().chinese(True).align("center").bold(True).size(2, 3).text("号").chinese(False).cut(50)
    assert bytes(out.output) == (
        b"\x1b@"
        + b"\x1c&"
        + b"\x1ba\x01"
        + b"\x1bE\x01"
        + b"\x1d!\x12"
        + "号".encode("gb18030")
        + b"\x1c."
        + b"\x1dVB\x32"
    )


def test_native_qr_is_model2_size_ecc_store_print() -> None:
    p, out = commands()
    p.qr(b"https://x.cn/1", module=5, error="Q")
    data = b"https://x.cn/1"
    assert bytes(out.output) == (
        b"\x1d(k\x04\x001A2\x00"
        + b"\x1d(k\x03\x001C\x05"
        + b"\x1d(k\x03\x001E2"
        + b"\x1d(k"
        + bytes([len(data) + 3, 0])
        + b"1P0"
        + data
        + b"\x1d(k\x03\x001Q0"
    )


def test_printer_without_qr_gets_a_raster_image_of_full_width() -> None:
    p, out = commands(80, native_qr=False)
    p.qr(b"https://x.cn/1")
    raw = bytes(out.output)
    assert b"\x1d(k" not in raw
    assert raw.startswith(b"\x1dv0\x00")
    width_bytes = raw[4] | raw[5] << 8
    rows = raw[6] | raw[7] << 8
    assert width_bytes * 8 == 576
    assert len(raw) >= 8 + width_bytes * rows


def test_paper_status_bits() -> None:
    assert parse_paper_status(0x12) == PaperState.OK
    assert parse_paper_status(0x1E) == PaperState.NEAR_END
    assert parse_paper_status(0x72) == PaperState.OUT
    assert parse_paper_status(0x7E) == PaperState.OUT
    for state in PaperState:
        assert parse_paper_status(paper_status_byte(state)) == state
    assert EscPos.paper_status_request() == b"\x10\x04\x04"


def test_ticket_layout_has_chinese_mode_large_number_qr_and_cut() -> None:
    p, out = commands(58)
    layout_ticket(p, TICKET)
    raw = bytes(out.output)
    assert raw.startswith(b"\x1b@\x1c&")
    assert "社保卡补办".encode("gb18030") in raw
    assert "市民服务中心".encode("gb18030") in raw
    assert b"\x1d!\x55B105\n" in raw  # 6x6: 4 chars x 12 dots x 6 = 288 of 384 dots
    assert "前面等候：12 人".encode("gb18030") in raw
    assert "约 25 分钟".encode("gb18030") in raw
    assert b"2024-05-06 09:30" in raw
    assert b"1P0https://hall.example.cn/t/B105" in raw
    assert raw.endswith("进度。\n".encode("gb18030") + b"\x1dVB\x18")  # cut right after the notice: no blank tail
    assert b"\x1dL\x18\x00\x1dWP\x01" in raw  # 24-dot margins: a 336-dot printing area on 384-dot paper
    assert b"\x1d!\x11" + "社保卡补办".encode("gb18030") in raw  # the service at 2x2, not squashed to 1x2
    assert b"Queue ticket" not in raw  # no monospace Latin beside the hanzi


def test_80mm_ticket_number_is_larger() -> None:
    p, out = commands(80)
    layout_ticket(p, TICKET)
    assert b"\x1d!\x77B105\n" in bytes(out.output)  # 8x8: 384 of 576 dots


def test_notice_layout() -> None:
    p, out = commands(58)
    notice = MaterialsNotice(
        "营业执照变更登记",
        ["1. 变更登记申请书 原件1份", "2. 股东会决议 原件1份"],
        qr_url="https://hall.example.cn/g/123",
    )
    layout_notice(p, notice)
    raw = bytes(out.output)
    assert "一次性告知单".encode("gb18030") in raw
    assert "股东会决议 原件1份".encode("gb18030") in raw
    assert b"1P0https://hall.example.cn/g/123" in raw


def test_wait_text() -> None:
    assert wait_text(0) == "即将叫号"
    assert wait_text(61) == "约 2 分钟"


@given(st.text(alphabet=st.sampled_from("政务服务ab c1，。"), max_size=80), st.integers(4, 48))
def test_wrap_never_exceeds_the_columns(text: str, columns: int) -> None:
    for line in wrap(text, columns):
        assert display_width(line) <= columns
    assert "".join(wrap(text, columns)).replace(" ", "") == text.replace(" ", "")


def test_bad_size_is_refused() -> None:
    p, _ = commands()
    with pytest.raises(ValueError):
        p.size(9, 1)
    with pytest.raises(ValueError):
        profile_for(76)
