"""QR input owners: a serial scan engine and/or a camera, both reporting code text and health."""

from __future__ import annotations

import logging
from collections.abc import Callable

from devices.qr.decode import QrCode
from devices.qr.health import Health
from kiosk.owners.health import HealthBoard

log = logging.getLogger(__name__)


class QrOwner:
    """Owns one QR source (`scanner` = serial scan engine, `camera` = camera watcher); `on_code(text)`."""

    def __init__(self, kind: str, source: str, board: HealthBoard) -> None:
        if kind not in ("scanner", "camera"):
            raise ValueError(kind)
        self.name = kind
        self.source = source
        self.board = board
        self.on_code: Callable[[str], None] = lambda _text: None
        self._driver: object | None = None

    def start(self) -> None:
        """Start reading codes in the background."""
        self.board.set(self.name, "absent", "starting")
        if self.name == "scanner":
            from devices.scanner.reader import ScannerReader

            reader = ScannerReader(self.source, self._code, self._health, hold_off_s=1.0)
            reader.start()
            self._driver = reader
        else:
            from devices.qr.watcher import QrWatcher

            watcher = QrWatcher(self.source, self._code, self._health, max_fps=5.0)
            watcher.start()
            self._driver = watcher

    def stop(self) -> None:
        """Stop reading."""
        driver, self._driver = self._driver, None
        if driver is not None:
            driver.stop()  # type: ignore[attr-defined]

    def _code(self, code: QrCode) -> None:
        self.on_code(code.text)

    def _health(self, health: Health) -> None:
        self.board.set(self.name, health.state, health.detail or None)
