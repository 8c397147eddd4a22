"""The person at the screen, as far as the kiosk may know them: masked name and number, and a hash.

A card read turns into a `Person` at once; the full ID number is used only to compute the
HMAC (SPEC 3.5) and is not kept. The date of birth is kept (never shown, never in `ref`):
a ticket asks for the green channel with it when the holder is old enough. Everything
here is forgotten on reset.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

import msgspec

from devices.idcard import CardData
from hallbus.privacy import id_hash, mask_id, mask_name
from hallbus.schemas import IdCardRef

_ID_BIRTH_RE = re.compile(r"^\d{6}(\d{4})(\d{2})(\d{2})\d{3}[\dX]$")  # GB 11643: region, YYYYMMDD, seq, check
_BUS_CARD_TYPE = {"resident": "resident", "hmt": "hmt", "foreign_2017": "foreign", "foreign_2023": "foreign"}


@dataclass(frozen=True)
class Person:
    """Who swiped a card: only masked forms, the card kind, its validity and the bus reference."""

    name_masked: str
    id_masked: str
    card_type: str  # resident | hmt | foreign (bus vocabulary)
    valid_to: str  # YYYY-MM-DD or 长期
    ref: IdCardRef
    expired: bool = False
    birth: str = ""  # YYYY-MM-DD, or "" when neither the card nor its number tells

    def green_ref(self) -> IdCardRef:
        """The card reference with the birth date: only for asking the green channel (its age rule)."""
        return msgspec.structs.replace(self.ref, birth=self.birth or None)

    def view(self) -> dict[str, Any]:
        """What a screen may show."""
        return {
            "present": True,
            "name": self.name_masked,
            "id": self.id_masked,
            "cardType": self.card_type,
            "validTo": self.valid_to,
            "expired": self.expired,
        }


NOBODY: dict[str, Any] = {"present": False, "name": "", "id": "", "cardType": "", "validTo": "", "expired": False}


def is_expired(valid_to: str, today: dt.date) -> bool:
    """True when the card's validity ended before `today` (长期 never ends; unreadable dates do not block)."""
    if not valid_to or valid_to == "长期":
        return False
    try:
        return dt.date.fromisoformat(valid_to) < today
    except ValueError:
        return False


def birth_of(card: CardData) -> str:
    """The holder's date of birth as YYYY-MM-DD: the card's own field, else the 18-character number's."""
    try:
        return dt.date.fromisoformat(card.birth).isoformat()
    except ValueError:
        pass
    m = _ID_BIRTH_RE.match(card.id_number.strip().upper())
    if m is None:
        return ""
    try:
        return dt.date(int(m[1]), int(m[2]), int(m[3])).isoformat()
    except ValueError:
        return ""


def person_from_card(card: CardData, hall_key: bytes, today: dt.date) -> Person:
    """Hash and mask a freshly read card; the caller drops `card` right after."""
    card_type = _BUS_CARD_TYPE.get(card.card_type, "resident")
    name = mask_name(card.name or (card.name_en or ""))
    masked_id = mask_id(card.id_number)
    ref = IdCardRef(
        id_hash=id_hash(hall_key, card.id_number),
        name_masked=name,
        id_masked=masked_id,
        card_type=card_type,  # type: ignore[arg-type]
    )
    return Person(
        name_masked=name,
        id_masked=masked_id,
        card_type=card_type,
        valid_to=card.valid_to,
        ref=ref,
        expired=is_expired(card.valid_to, today),
        birth=birth_of(card),
    )
