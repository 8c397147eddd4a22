"""PC/SC card readers (pyscard): staff badges by UID, social security cards by masked bank number.

The kiosk uses `PcscMonitor` (reader and card events in a thread) and `read_card(reader)`;
tests and the demo use `PrivatePcscd` and `VpcdCard` to run everything on virtual hardware.
"""

from devices.common.health import Health
from devices.pcsc.errors import (
    CardRemovedError,
    NoCardError,
    NoReaderError,
    PcscdNotRunning,
    PcscError,
    ReaderGoneError,
)
from devices.pcsc.reader import (
    CardInfo,
    PcscEvent,
    PcscMonitor,
    list_readers,
    read_all,
    read_card,
)

__all__ = [
    "CardInfo",
    "CardRemovedError",
    "Health",
    "NoCardError",
    "NoReaderError",
    "PcscError",
    "PcscEvent",
    "PcscMonitor",
    "PcscdNotRunning",
    "ReaderGoneError",
    "list_readers",
    "read_all",
    "read_card",
]
