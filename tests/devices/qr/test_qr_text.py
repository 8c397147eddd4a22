"""Payload bytes to text: UTF-8 first, then GB18030."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from devices.qr.text import normalise, payload_text


def test_utf8_payload_comes_out_as_is() -> None:
    assert payload_text("请到3号窗口".encode()) == "请到3号窗口"


def test_gbk_payload_without_eci_comes_out_right() -> None:
    text = "办件回执 案号:2024-粤-000123 张三"
    assert payload_text(text.encode("gbk")) == text


def test_bytes_neither_utf8_nor_gb18030_fall_back_to_latin1() -> None:
    assert payload_text(b"\x80\xff") == "\x80\xff"


def test_utf8_bom_is_dropped() -> None:
    assert payload_text(b"\xef\xbb\xbfabc") == "abc"


@given(st.text())
def test_any_text_survives_utf8(text: str) -> None:
    text = text.lstrip("\ufeff")
    assert payload_text(text.encode("utf-8")) == text


@given(st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5), min_size=2))
def test_hanzi_in_gb18030_come_back(text: str) -> None:
    data = text.encode("gb18030")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        assert payload_text(data) == text


def test_normalise_like_zxing_harness() -> None:
    assert normalise(" a\r\nb \n") == "a\nb"
