"""Text blocks of the four card kinds, code tables, check digits, masking and the JSON of SPEC 8."""

from __future__ import annotations

import dataclasses
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.idcard.card import CARD_TYPES, TYPE_OFFSET, CardData, encode_text, parse_text
from devices.idcard.codes import (
    NATION,
    SEX,
    check_digit,
    icao_check_digit,
    id_number_valid,
    mask_id,
    mask_name,
)
from devices.idcard.errors import CardDataError
from devices.idcard.samples import make_id_number, sample_card


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


def test_masking_and_json_keys(spec_keys: frozenset[str]) -> None:
    card = sample_card("resident")
    masked = card.masked()
    assert masked.name == card.name[0] + "*"
    assert masked.id_number == card.id_number[:6] + "*" * 8 + card.id_number[-4:]
    assert mask_id("11010519491231002X") == "110105********002X"
    assert mask_name("张三") == "张*"
    for kind in CARD_TYPES:
        c = sample_card(kind)
        data = c.to_json()
        assert set(data) == spec_keys
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
    assert (hmt.pass_number, hmt.sign_count, hmt.nation) == ("H12345678", 1, None)
    f17 = parse_text(encode_text(sample_card("foreign_2017")))
    assert (f17.nationality, f17.id_check_ok, f17.sign_count, f17.old_id_number) == (
        "USA",
        None,
        None,
        None,
    )
    assert f17.name_en and f17.name_en.startswith("SMITH")


# The text blocks as the vendor SDK header declares them (Johann356/readinfo, PCSCGetData.h:
# tagIDCardInfor / tagIDCardInfor2023), written out here on their own: field -> (offset, bytes).
# A wrong offset in devices/idcard/card.py makes the tests below fail.
HMT_PUBLISHED = {
    "name": (0, 30),
    "sex": (30, 2),
    "birthday": (36, 16),
    "addr": (52, 70),
    "IDSn": (122, 36),
    "signOrg": (158, 30),
    "startDate": (188, 16),
    "endDate": (204, 16),
    "passID": (220, 18),
    "issuesNum": (238, 4),
    "typeFlag": (248, 2),
}
Y_PUBLISHED = {
    "cnName": (0, 30),
    "Sex": (30, 2),
    "chgNum": (32, 4),  # 换证次数
    "birthday": (36, 16),
    "enName": (52, 70),  # English name, characters 1-35
    "IDSn": (122, 36),
    "rfuData1": (158, 30),
    "startDate": (188, 16),
    "endDate": (204, 16),
    "enNameEx": (220, 22),  # English name, characters 36-46
    "nation": (242, 6),
    "typeFlag": (248, 2),
    "assID": (250, 6),  # 既往版本外国人永久居留证件号码关联项
}
Y_NUMBER = make_id_number("911724", "19880520", "002")  # 9, Beijing, Spain (724), birth, seq


def _block(layout: dict[str, tuple[int, int]], values: dict[str, str]) -> bytes:
    block = bytearray(" ".encode("utf-16-le") * 128)
    for name, text in values.items():
        offset, size = layout[name]
        data = text.encode("utf-16-le")
        assert len(data) <= size, name
        block[offset : offset + len(data)] = data
    return bytes(block)


def _y_block(**values: str) -> bytes:
    base = {
        "cnName": "玛丽亚",
        "Sex": "2",
        "chgNum": "03",
        "birthday": "19880520",
        "enName": "GARCIA LOPEZ, MARIA",
        "IDSn": Y_NUMBER,
        "startDate": "20231201",
        "endDate": "20331201",
        "nation": "ESP",
        "typeFlag": "Y",
    }
    return _block(Y_PUBLISHED, {**base, **values})


def _icao_reference(text: str) -> str:
    # ICAO 9303 part 3, 4.9, written out on its own (independent of codes.icao_check_digit).
    weights = [7, 3, 1] * 5
    values = [int(c) if c.isdigit() else (0 if c == "<" else ord(c) - 55) for c in text]
    return str(sum(v * w for v, w in zip(values, weights, strict=False)) % 10)


def test_published_layouts_cover_the_block() -> None:
    for layout in (HMT_PUBLISHED, Y_PUBLISHED):
        spans = sorted(layout.values())
        assert all(a + n <= b for (a, n), (b, _) in zip(spans, spans[1:], strict=False))
    assert sum(n for _, n in Y_PUBLISHED.values()) == 256
    assert Y_PUBLISHED["typeFlag"][0] == TYPE_OFFSET


def test_icao_check_digit_matches_the_specimen_passport() -> None:
    # The ICAO 9303 specimen MRZ: L898902C3 <6>, 740812 <2>, 120415 <9>.
    assert [icao_check_digit(t) for t in ("L898902C3", "740812", "120415")] == ["6", "2", "9"]
    assert icao_check_digit("ESP1100880520") == _icao_reference("ESP1100880520")


def test_2023_card_reads_from_the_published_layout() -> None:
    card = parse_text(_y_block(enNameEx="", assID=""))
    assert card.card_type == "foreign_2023"
    assert (card.name, card.sex, card.birth) == ("玛丽亚", "女", "1988-05-20")
    assert (card.valid_from, card.valid_to) == ("2023-12-01", "2033-12-01")
    assert card.nationality == "ESP"
    assert card.name_en == "GARCIA LOPEZ, MARIA"
    assert card.id_number == Y_NUMBER and card.id_check_ok is True
    assert card.sign_count == 3
    assert card.old_id_number is None
    assert card.issuer == "" and card.warnings == ()


def test_2023_english_name_is_joined_across_its_two_fields() -> None:
    # Character 35 is a space: it belongs to the name and must survive the join.
    first = "ABERNATHY-WOLFESCHLEGEL, JOHANNES "
    first += "X" * (34 - len(first)) + " "
    assert len(first) == 35
    card = parse_text(_y_block(enName=first, enNameEx="MAXIMILIAN"))
    assert card.name_en == first + "MAXIMILIAN"
    assert card.valid_from == "2023-12-01" and card.nationality == "ESP"
    full = parse_text(_y_block(enName="A" * 35, enNameEx="B" * 11))
    assert full.name_en == "A" * 35 + "B" * 11


def test_2023_old_card_number_comes_from_the_link() -> None:
    card = parse_text(_y_block(assID="001"))
    first14 = "ESP" + "11" + "00" + "880520" + "1"
    assert card.old_id_number == first14 + _icao_reference(first14)
    assert card.masked().old_id_number == mask_id(card.old_id_number)
    assert card.to_json(show_full=True)["old_id_number"] == card.old_id_number
    assert card.old_id_number not in json.dumps(card.to_json())


def test_2023_first_card_has_count_zero_and_a_bad_count_is_a_warning() -> None:
    assert parse_text(_y_block(chgNum="00")).sign_count == 0
    odd = parse_text(_y_block(chgNum="0?"))
    assert odd.sign_count is None and odd.warnings


def test_the_simulator_writes_the_published_layout() -> None:
    card = sample_card("foreign_2023")
    assert card.name_en is not None and card.old_id_number is not None
    expected = _y_block(
        chgNum="01",
        enName=card.name_en[:35],
        enNameEx=card.name_en[35:],
        IDSn=card.id_number,
        assID=card.old_id_number[5:7] + card.old_id_number[13],
    )
    assert encode_text(card) == expected
    hmt = sample_card("hmt")
    assert encode_text(hmt) == _block(
        HMT_PUBLISHED,
        {
            "name": hmt.name,
            "sex": "2",
            "birthday": "19850315",
            "addr": hmt.address,
            "IDSn": hmt.id_number,
            "signOrg": hmt.issuer,
            "startDate": "20190101",
            "endDate": "20240101",
            "passID": "H12345678",
            "issuesNum": "01",
            "typeFlag": "J",
        },
    )


def test_a_name_or_old_number_that_does_not_fit_is_refused() -> None:
    card = sample_card("foreign_2023")
    with pytest.raises(ValueError):
        encode_text(dataclasses.replace(card, name_en="X" * 47))
    with pytest.raises(ValueError):
        encode_text(dataclasses.replace(card, old_id_number="USA110088052019"))


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
