"""The person at the screen, as far as the kiosk may know them: masked name and number, and a hash.

A card read turns into a `Person` at once; the full ID number is used only to compute the
HMAC (SPEC 3.5) and is not kept. Everything here is forgotten on reset.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from devices.idcard import CardData
from hallbus.privacy import id_hash, mask_id, mask_name
from hallbus.schemas import IdCardRef

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
    )
