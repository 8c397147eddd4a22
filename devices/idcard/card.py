"""The text block of a card (256 bytes UCS-2LE, one layout per card kind) and `CardData`.

Byte 248 of the block tells the kind: space = resident ID card, `J` = Hong Kong/Macao/Taiwan
residence permit, `I` = 2017 foreigner permanent residence card, `Y` = 2023 foreigner card.
`encode_text` is the inverse of `parse_text`, so the simulator writes what the parser reads.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from devices.idcard.codes import (
    NATION,
    NATION_CODE,
    SEX,
    SEX_CODE,
    id_number_valid,
    link_of_old_number,
    mask_id,
    mask_name,
    old_foreign_number,
)
from devices.idcard.errors import CardDataError

CardType = Literal["resident", "hmt", "foreign_2017", "foreign_2023"]
CARD_TYPES: tuple[CardType, ...] = ("resident", "hmt", "foreign_2017", "foreign_2023")
TEXT_LEN = 256
TYPE_OFFSET = 248
LONG_TERM = "长期"

_TYPE_FLAG: dict[str, CardType] = {
    " ": "resident",
    "J": "hmt",
    "I": "foreign_2017",
    "Y": "foreign_2023",
}
_FLAG_OF: dict[CardType, str] = {kind: flag for flag, kind in _TYPE_FLAG.items()}

# (field, byte count) in block order. `_` fields are reserved; `card_type_flag` sits at byte 248.
LAYOUTS: dict[CardType, tuple[tuple[str, int], ...]] = {
    "resident": (
        ("name", 30),
        ("sex", 2),
        ("nation", 4),
        ("birth", 16),
        ("address", 70),
        ("id_number", 36),
        ("issuer", 30),
        ("valid_from", 16),
        ("valid_to", 16),
        ("_", 36),
    ),
    # 港澳台居民居住证: the resident layout plus the pass number and issue count (签发次数).
    "hmt": (
        ("name", 30),
        ("sex", 2),
        ("_", 4),
        ("birth", 16),
        ("address", 70),
        ("id_number", 36),
        ("issuer", 30),
        ("valid_from", 16),
        ("valid_to", 16),
        ("pass_number", 18),
        ("sign_count", 4),
        ("_", 6),
        ("card_type_flag", 2),
        ("_", 6),
    ),
    # 外国人永久居留身份证 (2017): English name first, nationality as an ISO 3166 alpha-3 code,
    # issuer as the 4-character code of the issuing authority.
    "foreign_2017": (
        ("name_en", 120),
        ("sex", 2),
        ("id_number", 30),
        ("nationality", 6),
        ("name", 30),
        ("valid_from", 16),
        ("valid_to", 16),
        ("birth", 16),
        ("version", 4),
        ("issuer", 8),
        ("card_type_flag", 2),
        ("_", 6),
    ),
    # 外国人永久居留身份证 (2023): the field list of the vendor SDK header Johann356/readinfo
    # `PCSCGetData.h` (struct tagIDCardInfor2023, "t_idforeigner2023"; its PCSCReader.cpp joins
    # enName + enNameEx). A second, independent vendor demo (C#) reads the same offsets: 换证次数
    # at 32, English name 52, number 122, dates 188/204, English name 36-46 at 220, nationality
    # 242, type 248, old-number link 250. No issuer and no card version; bytes 158-187 reserved.
    "foreign_2023": (
        ("name", 30),
        ("sex", 2),
        ("sign_count", 4),
        ("birth", 16),
        ("name_en", 70),
        ("id_number", 36),
        ("_", 30),
        ("valid_from", 16),
        ("valid_to", 16),
        ("name_en_2", 22),
        ("nationality", 6),
        ("card_type_flag", 2),
        ("old_id_link", 6),
    ),
}
for _kind, _layout in LAYOUTS.items():  # a layout that does not add up is a bug, caught at import
    assert sum(n for _, n in _layout) == TEXT_LEN, _kind


class PhotoDecoder(Protocol):
    """Turns the 1024-byte WLT blob into an image (e.g. PNG bytes); needs a licensed library."""

    def decode(self, wlt: bytes) -> bytes | None:
        """The decoded image, or None when this decoder cannot do it."""
        ...


class PlaceholderPhotoDecoder:
    """The decoder used when no licensed WLT library is installed: always None (show a placeholder)."""

    def decode(self, wlt: bytes) -> bytes | None:
        """Never decodes."""
        return None


@dataclass(frozen=True)
class CardData:
    """One card as read: text fields decoded, photo kept as opaque WLT bytes.

    `repr()` is masked so a full ID number never lands in a log by accident.
    """

    card_type: CardType
    name: str
    sex: str = ""
    birth: str = ""
    id_number: str = ""
    valid_from: str = ""
    valid_to: str = ""
    issuer: str = ""
    address: str = ""
    nation: str | None = None
    name_en: str | None = None
    nationality: str | None = None
    pass_number: str | None = None
    # 签发次数 (HMT) / 换证次数 (2023 foreigner card): how many cards were issued before this one.
    sign_count: int | None = None
    # 2023 foreigner card: the 15-character number of the holder's earlier card, if it has one.
    old_id_number: str | None = None
    photo: bytes = field(default=b"", repr=False)
    fingerprint: bytes = field(default=b"", repr=False)
    # None: this card kind has no GB 11643 check character to verify.
    id_check_ok: bool | None = None
    warnings: tuple[str, ...] = ()

    def __repr__(self) -> str:
        m = self.masked()
        return f"CardData(card_type={m.card_type!r}, name={m.name!r}, id_number={m.id_number!r}, id_check_ok={m.id_check_ok!r}, photo_bytes={len(m.photo)})"

    __str__ = __repr__

    def masked(self) -> CardData:
        """The same card with name and ID number masked (张*, 110105********002X)."""
        return dataclasses.replace(
            self,
            name=mask_name(self.name),
            name_en=mask_name(self.name_en) if self.name_en else self.name_en,
            id_number=mask_id(self.id_number),
            pass_number=mask_id(self.pass_number) if self.pass_number else self.pass_number,
            old_id_number=mask_id(self.old_id_number) if self.old_id_number else self.old_id_number,
        )

    def fingerprint_key(self) -> str:
        """A short hash that tells two cards apart without keeping the number in memory as text."""
        h = hashlib.sha256(f"{self.card_type}|{self.id_number}|{self.valid_from}".encode())
        return h.hexdigest()[:16]

    def to_json(self, show_full: bool = False) -> dict[str, Any]:
        """The JSON object of SPEC section 8 (masked unless `show_full`); counts are integers."""
        c = self if show_full else self.masked()
        return {
            "card_type": c.card_type,
            "name": c.name,
            "name_en": c.name_en,
            "sex": c.sex,
            "nation": c.nation,
            "nationality": c.nationality,
            "birth": c.birth,
            "address": c.address,
            "id_number": c.id_number,
            "issuer": c.issuer,
            "valid_from": c.valid_from,
            "valid_to": c.valid_to,
            "pass_number": c.pass_number,
            "sign_count": c.sign_count,
            "old_id_number": c.old_id_number,
            "photo_bytes": len(c.photo),
        }


def card_type_of(text: bytes) -> CardType:
    """The card kind from byte 248 of the text block."""
    if len(text) != TEXT_LEN:
        raise CardDataError(
            f"证件文字信息长度为 {len(text)} 字节，应为 256 字节。",
            f"The card text block has {len(text)} bytes, not 256.",
        )
    flag = chr(text[TYPE_OFFSET]) if text[TYPE_OFFSET + 1] == 0 else "?"
    kind = _TYPE_FLAG.get(flag)
    if kind is None:
        raise CardDataError(
            f"无法识别的证件类型标志 0x{text[TYPE_OFFSET]:02X}，请使用居民身份证、港澳台居住证或外国人永久居留身份证。",
            f"Unknown card type flag 0x{text[TYPE_OFFSET]:02X}; use a resident ID card, an HMT residence permit or a foreigner permanent residence card.",
        )
    return kind


def _decode(raw: bytes) -> str:
    try:
        text = raw.decode("utf-16-le")
    except UnicodeDecodeError as err:
        raise CardDataError("证件文字信息编码错误。", "The card text is not valid UCS-2.") from err
    return text.rstrip(" \x00")


def _date(value: str, label: str, warnings: list[str], *, allow_long_term: bool = False) -> str:
    if allow_long_term and value == LONG_TERM:
        return value
    if len(value) == 8 and value.isdigit():
        try:
            return datetime.date(int(value[:4]), int(value[4:6]), int(value[6:])).isoformat()
        except ValueError:
            pass
    warnings.append(f"{label} 日期格式异常（{value!r}） / {label} date is malformed")
    return value


def _count(value: str, warnings: list[str]) -> int | None:
    if not value:
        return None
    if value.isdigit():
        return int(value)
    warnings.append(f"签发/换证次数格式异常（{value!r}） / the issue count is not a number")
    return None


def _old_number(raw: dict[str, str], warnings: list[str]) -> str | None:
    link = raw.get("old_id_link", "")
    if not link:
        return None
    try:
        return old_foreign_number(raw.get("nationality", ""), raw.get("id_number", ""), link)
    except ValueError:
        warnings.append(
            f"既往证件号码关联项无法解读（{link!r}） / the earlier card number link is unreadable"
        )
        return None


def parse_text(text: bytes, photo: bytes = b"", fingerprint: bytes = b"") -> CardData:
    """Decode a 256-byte text block into `CardData` (bad check digits become a warning, not an error)."""
    kind = card_type_of(text)
    fields: dict[str, bytes] = {}
    pos = 0
    for name, size in LAYOUTS[kind]:
        if name != "_":
            fields[name] = text[pos : pos + size]
        pos += size
    if kind == "foreign_2023":
        # One 46-character English name cut after character 35: join the bytes, then trim the
        # padding, so a space that falls at the cut stays inside the name.
        fields["name_en"] += fields.pop("name_en_2")
    raw = {name: _decode(value) for name, value in fields.items()}
    warnings: list[str] = []

    sex_code = raw.get("sex", "")
    sex = SEX.get(sex_code, sex_code)
    nation: str | None = None
    if kind == "resident":
        code = raw.get("nation", "")
        nation = NATION.get(code)
        if nation is None:
            warnings.append(f"未知民族代码 {code!r} / unknown nation code")
            nation = code
    number = raw.get("id_number", "").upper()
    check: bool | None = None
    if kind != "foreign_2017":
        check = id_number_valid(number)
        if not check:
            warnings.append("证件号码校验位错误，请核对证件 / the ID number's check digit is wrong")
    return CardData(
        card_type=kind,
        name=raw.get("name", ""),
        sex=sex,
        nation=nation,
        birth=_date(raw.get("birth", ""), "出生", warnings),
        address=raw.get("address", ""),
        id_number=number,
        issuer=raw.get("issuer", ""),
        valid_from=_date(raw.get("valid_from", ""), "有效期起", warnings),
        valid_to=_date(raw.get("valid_to", ""), "有效期止", warnings, allow_long_term=True),
        name_en=raw.get("name_en"),
        nationality=raw.get("nationality"),
        pass_number=raw.get("pass_number"),
        sign_count=_count(raw.get("sign_count", ""), warnings),
        old_id_number=_old_number(raw, warnings),
        photo=photo,
        fingerprint=fingerprint,
        id_check_ok=check,
        warnings=tuple(warnings),
    )


def _undate(value: str) -> str:
    return value if value == LONG_TERM else value.replace("-", "")


def encode_text(card: CardData) -> bytes:
    """Build the 256-byte UCS-2LE block for `card` (the simulator's side of `parse_text`)."""
    values: dict[str, str] = {
        "name": card.name,
        "sex": SEX_CODE.get(card.sex, card.sex),
        "nation": NATION_CODE.get(card.nation or "", card.nation or ""),
        "birth": _undate(card.birth),
        "address": card.address,
        "id_number": card.id_number,
        "issuer": card.issuer,
        "valid_from": _undate(card.valid_from),
        "valid_to": _undate(card.valid_to),
        "pass_number": card.pass_number or "",
        "sign_count": "" if card.sign_count is None else f"{card.sign_count:02d}",
        "nationality": card.nationality or "",
        "name_en": card.name_en or "",
        "card_type_flag": _FLAG_OF[card.card_type],
    }
    if card.card_type == "foreign_2023":
        full = card.name_en or ""
        values["name_en"], values["name_en_2"] = full[:35], full[35:]
        if card.old_id_number:
            values["old_id_link"] = link_of_old_number(
                card.nationality or "", card.id_number, card.old_id_number
            )
    out = bytearray()
    for name, size in LAYOUTS[card.card_type]:
        chunk = values.get(name, "").encode("utf-16-le")
        if len(chunk) > size:
            raise ValueError(f"{name} does not fit in {size} bytes")
        out += chunk + " ".encode("utf-16-le") * ((size - len(chunk)) // 2)
    return bytes(out)
