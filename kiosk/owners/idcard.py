"""The ID card reader's owner: a background watcher whose cards, read errors and health it passes on."""

from __future__ import annotations

import logging
from collections.abc import Callable

from devices.idcard import CardData, Health, IdCardError, IdCardReader, IdCardWatcher
from kiosk.owners.health import HealthBoard

log = logging.getLogger(__name__)


class IdCardOwner:
    """Owns one reader on `port_url`; `start()` watches for cards until `stop()`."""

    name = "idcard"

    # A card waits on the reader up to one poll before its ~112 ms read starts: at 0.25 s the case
    # list took up to ~380 ms (bench/felt.py); 0.05 s keeps it under 250 ms for ~0.3 % of a core.
    def __init__(self, port_url: str, board: HealthBoard, *, poll_interval: float = 0.05) -> None:
        self.port_url = port_url
        self.board = board
        self.reader = IdCardReader(port_url, poll_interval=poll_interval, timeout=1.5)
        self._watcher: IdCardWatcher | None = None
        self.on_card: Callable[[CardData], None] = lambda _card: None
        self.on_removed: Callable[[], None] = lambda: None
        self.on_read_error: Callable[[str], None] = lambda _code: None

    def start(self) -> None:
        """Start watching (the reader may still be absent: health says so and it keeps trying)."""
        self.board.set("idcard", "absent", "starting")
        watcher = IdCardWatcher(self.reader, self._card, self._health, self._removed)
        watcher.on_read_error = self._read_error
        watcher.start()
        self._watcher = watcher

    def stop(self) -> None:
        """Stop watching and close the port."""
        if self._watcher is not None:
            self._watcher.stop()
            self._watcher = None

    # driver thread
    def _card(self, card: CardData) -> None:
        self.on_card(card)

    def _removed(self) -> None:
        self.on_removed()

    def _read_error(self, err: IdCardError) -> None:
        self.on_read_error(getattr(err, "code", "read_failed"))

    def _health(self, health: Health) -> None:
        self.board.set("idcard", health.state, health.detail or None)
