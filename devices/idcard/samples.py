"""Made-up sample cards for the simulator, tests and the demo (valid GB 11643 check characters)."""

from __future__ import annotations

import hashlib

from devices.idcard.card import CardData, CardType
from devices.idcard.codes import check_digit, icao_check_digit, old_foreign_number


def make_id_number(region: str = "110105", birth: str = "19900101", seq: str = "002") -> str:
    """An 18-character number with a correct check character (region, birth YYYYMMDD, 3-digit sequence)."""
    first17 = f"{region}{birth}{seq}"
    return first17 + check_digit(first17)


def fake_wlt(seed: str, size: int = 1024) -> bytes:
    """Opaque stand-in for a WLT photo: deterministic bytes starting like a real one."""
    out = bytearray(b"WLf\x00~2\x00")
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(f"{seed}:{counter}".encode()).digest()
        counter += 1
    return bytes(out[:size])


def sample_card(kind: CardType = "resident", *, seq: str = "002") -> CardData:
    """A complete made-up card of `kind`; `seq` varies the number so tests can tell cards apart."""
    if kind == "resident":
        number = make_id_number("110105", "19900101", seq)
        return CardData(
            card_type="resident",
            name="张测试",
            sex="男",
            nation="汉",
            birth="1990-01-01",
            address="北京市朝阳区测试路1号院2号楼3单元401室",
            id_number=number,
            issuer="北京市公安局朝阳分局",
            valid_from="2015-06-01",
            valid_to="2035-06-01",
            photo=fake_wlt(number),
        )
    if kind == "hmt":
        number = make_id_number("810000", "19850315", seq)
        return CardData(
            card_type="hmt",
            name="陈示例",
            sex="女",
            birth="1985-03-15",
            address="广东省深圳市福田区示例大道88号",
            id_number=number,
            issuer="深圳市公安局",
            valid_from="2019-01-01",
            valid_to="2024-01-01",
            pass_number="H12345678",
            sign_count=1,
            photo=fake_wlt(number),
        )
    if kind == "foreign_2017":
        # nationality, receiving authority 1100, birth YYMMDD, sequence, ICAO 9303 check digit
        first14 = f"USA1100751201{seq[-1]}"
        number = first14 + icao_check_digit(first14)
        return CardData(
            card_type="foreign_2017",
            name="史密斯",
            name_en="SMITH, JOHN EXAMPLE",
            sex="男",
            nationality="USA",
            birth="1975-12-01",
            id_number=number,
            issuer="1500",
            valid_from="2017-06-15",
            valid_to="2027-06-15",
            photo=fake_wlt(number),
        )
    # 9, receiving province 11, country 724 (Spain), birth, sequence, GB 11643 check character
    number = make_id_number("911724", "19880520", seq)
    return CardData(
        card_type="foreign_2023",
        name="玛丽亚",
        sex="女",
        sign_count=1,
        # 45 characters: the card keeps 1-35 in one field and 36-46 in another
        name_en="GARCIA LOPEZ, MARIA DEL CARMEN ISABEL EXAMPLE",
        nationality="ESP",
        birth="1988-05-20",
        id_number=number,
        valid_from="2023-12-01",
        valid_to="2033-12-01",
        old_id_number=old_foreign_number("ESP", number, "001"),
        photo=fake_wlt(number),
    )
