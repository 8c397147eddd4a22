"""Resident ID card reader (居民身份证阅读器): GA/T 467 SAM module over a serial line.

The kiosk uses `IdCardReader` (one card with `read_once`, or a background `watch`) and gets
`CardData` objects; everything below that (frames, commands, text blocks) is pure and testable.
"""

from devices.common.health import Health
from devices.idcard.card import CardData, PhotoDecoder, PlaceholderPhotoDecoder, parse_text
from devices.idcard.errors import IdCardError, NoCardError, PortError, ReaderNotAnswering
from devices.idcard.reader import IdCardReader, IdCardWatcher

__all__ = [
    "CardData",
    "Health",
    "IdCardError",
    "IdCardReader",
    "IdCardWatcher",
    "NoCardError",
    "PhotoDecoder",
    "PlaceholderPhotoDecoder",
    "PortError",
    "ReaderNotAnswering",
    "parse_text",
]
