"""Text blocks of the four card kinds, code tables, check digits, masking and the JSON of SPEC 8."""

from __future__ import annotations

import dataclasses
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.idcard.card import CARD_TYPES, TYPE_OFFSET, CardData, encode_text, parse_text
from devices.idcard.codes import NATION, SEX, check_digit, id_number_valid, mask_id, mask_name
from devices.idcard.errors import CardDataError
from devices.idcard.samples import make_id_number, sample_card

SPEC_KEYS = {
    "card_type",
    "name",
    "name_en",
    "sex",
    "nation",
    "nationality",
    "birth",
    "address",
    "id_number",
    "issuer",
    "valid_from",
    "valid_to",
    "pass_number",
    "sign_count",
    "photo_bytes",
}


def _reference_check(first17: str) -> str:
    # ISO 7064 MOD 11-2 written the long way (recursive form), independent of codes.check_digit.
    p = 0
    for ch in first17:
        p = ((p + int(ch)) * 2) % 11
    return "0123456789X"[(12 - p) % 11]


@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_check_digit_matches_iso7064_reference(first17: str) -> None:
    assert check_digit(first17) == _reference_check(first17)
    assert id_number_valid(first17 + _reference_check(first17))


def test_the_standards_own_example_number() -> None:
    assert id_number_valid("11010519491231002X")  # GB 11643-1999 example
    assert not id_number_valid("110105194912310021")


@pytest.mark.parametrize("kind", CARD_TYPES)
def test_round_trip_every_card_kind(kind: str) -> None:
    card = sample_card(kind)  # type: ignore[arg-type]
    block = encode_text(card)
    assert len(block) == 256
    parsed = parse_text(block, card.photo)
    assert parsed.card_type == kind
    assert parsed.warnings == ()
    assert dataclasses.replace(parsed, id_check_ok=None) == dataclasses.replace(
        card, id_check_ok=None
    )


def test_type_flag_sits_at_byte_248() -> None:
    flags = {
        kind: encode_text(sample_card(kind))[TYPE_OFFSET : TYPE_OFFSET + 2] for kind in CARD_TYPES
    }
    assert flags == {
        "resident": b" \x00",
        "hmt": b"J\x00",
        "foreign_2017": b"I\x00",
        "foreign_2023": b"Y\x00",
    }


def test_resident_field_offsets_follow_the_spec() -> None:
    card = sample_card("resident")
    block = encode_text(card)
    assert block[0:30].decode("utf-16-le").rstrip() == card.name
    assert block[30:32].decode("utf-16-le") == "1"
    assert block[32:36].decode("utf-16-le") == "01"
    assert block[36:52].decode("utf-16-le") == "19900101"
    assert block[122:158].decode("utf-16-le") == card.id_number
    assert block[204:220].decode("utf-16-le") == "20350601"


def test_bad_check_digit_is_flagged_not_accepted() -> None:
    good = sample_card("resident")
    wrong = good.id_number[:17] + ("0" if good.id_number[17] != "0" else "1")
    parsed = parse_text(encode_text(dataclasses.replace(good, id_number=wrong)))
    assert parsed.id_check_ok is False
    assert any("check digit" in w for w in parsed.warnings)
    assert parsed.id_number == wrong


def test_all_56_nations_and_sex_codes_decode() -> None:
    assert len([c for c in NATION if int(c) <= 56]) == 56
    for code, nation in NATION.items():
        card = dataclasses.replace(sample_card("resident"), nation=nation)
        assert parse_text(encode_text(card)).nation == nation, code
    for sex in ("男", "女"):
        assert (
            parse_text(encode_text(dataclasses.replace(sample_card("resident"), sex=sex))).sex
            == sex
        )
    assert set(SEX.values()) >= {"男", "女"}


def test_unknown_nation_code_is_a_warning() -> None:
    block = bytearray(encode_text(sample_card("resident")))
    block[32:36] = "77".encode("utf-16-le")
    parsed = parse_text(bytes(block))
    assert parsed.nation == "77"
    assert parsed.warnings


def test_long_term_validity_and_malformed_dates() -> None:
    card = dataclasses.replace(sample_card("resident"), valid_to="长期")
    assert parse_text(encode_text(card)).valid_to == "长期"
    block = bytearray(encode_text(card))
    block[36:52] = "19901301".encode("utf-16-le")  # month 13
    parsed = parse_text(bytes(block))
    assert parsed.birth == "19901301" and parsed.warnings


def test_unknown_type_flag_and_wrong_size_are_errors() -> None:
    block = bytearray(encode_text(sample_card("resident")))
    block[TYPE_OFFSET] = ord("Q")
    with pytest.raises(CardDataError):
        parse_text(bytes(block))
    with pytest.raises(CardDataError):
        parse_text(bytes(100))


def test_masking_and_json_keys() -> None:
    card = sample_card("resident")
    masked = card.masked()
    assert masked.name == card.name[0] + "*"
    assert masked.id_number == card.id_number[:6] + "*" * 8 + card.id_number[-4:]
    assert mask_id("11010519491231002X") == "110105********002X"
    assert mask_name("张三") == "张*"
    for kind in CARD_TYPES:
        c = sample_card(kind)
        data = c.to_json()
        assert set(data) == SPEC_KEYS
        assert data["photo_bytes"] == len(c.photo)
        assert c.id_number not in json.dumps(data, ensure_ascii=False)
        assert c.to_json(show_full=True)["id_number"] == c.id_number


def test_repr_never_shows_the_full_number() -> None:
    card = sample_card("hmt")
    assert card.id_number not in repr(card)
    assert card.id_number not in str(card)
    assert card.name not in repr(card)


def test_hmt_and_foreign_fields() -> None:
    hmt = parse_text(encode_text(sample_card("hmt")))
    assert (hmt.pass_number, hmt.sign_count, hmt.nation) == ("H12345678", "01", None)
    f17 = parse_text(encode_text(sample_card("foreign_2017")))
    assert (f17.nationality, f17.id_check_ok) == ("USA", None)
    assert f17.name_en and f17.name_en.startswith("SMITH")
    f23 = parse_text(encode_text(sample_card("foreign_2023")))
    assert (
        f23.name_en == sample_card("foreign_2023").name_en
    )  # split over two fields and joined back
    assert f23.id_check_ok is True


@given(st.integers(1900, 2099), st.integers(1, 12), st.integers(1, 28), st.integers(0, 999))
def test_generated_resident_cards_round_trip(y: int, m: int, d: int, seq: int) -> None:
    birth = f"{y:04d}{m:02d}{d:02d}"
    number = make_id_number("320102", birth, f"{seq:03d}")
    card = CardData(
        card_type="resident",
        name="李样本",
        sex="女",
        nation="回",
        birth=f"{birth[:4]}-{birth[4:6]}-{birth[6:]}",
        id_number=number,
        valid_to="长期",
        valid_from="2020-01-01",
    )
    parsed = parse_text(encode_text(card))
    assert parsed.id_number == number and parsed.id_check_ok
    assert parsed.birth == card.birth
