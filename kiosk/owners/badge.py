"""The staff badge reader of a counter: PC/SC card events in, badge UIDs out, health to the board.

Config `pcsc = "sim"` or `"any"` watches every PC/SC reader of the node's pcscd (the demo and the
tests point `PCSCLITE_CSOCK_NAME` at a private pcscd with the vpcd driver); any other value is a
part of the reader name to watch, e.g. `pcsc = "ACR1281"`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from kiosk.owners.health import HealthBoard

log = logging.getLogger(__name__)


class BadgeOwner:
    """Owns the PC/SC monitor; `on_badge(uid)` is called (on the monitor thread) when a badge is laid on."""

    def __init__(self, spec: str, board: HealthBoard) -> None:
        self.reader_filter = "" if spec in ("sim", "any", "") else spec
        self.board = board
        self.on_badge: Callable[[str], None] = lambda uid: None
        self.on_unreadable: Callable[[str], None] = lambda detail: None
        self._monitor: object | None = None

    def start(self) -> None:
        """Start watching readers (pyscard is imported only here: a node without a reader never loads it)."""
        from devices.pcsc import PcscMonitor

        self._monitor = PcscMonitor(self._event, self._health, read_cards=True).start()

    def stop(self) -> None:
        """Stop watching."""
        monitor, self._monitor = self._monitor, None
        if monitor is not None:
            monitor.stop()  # type: ignore[attr-defined]

    def _event(self, event: object) -> None:
        kind = getattr(event, "kind", "")
        reader = str(getattr(event, "reader", ""))
        if kind != "card_inserted" or (self.reader_filter and self.reader_filter not in reader):
            return
        card = getattr(event, "card", None)
        uid = getattr(card, "uid", None) if card is not None else None
        if uid:
            log.info("staff badge on %s", reader)
            self.on_badge(str(uid).lower())
        else:
            error = getattr(event, "error", None)
            self.on_unreadable(str(error) if error else "no uid")

    def _health(self, health: object) -> None:
        self.board.set(
            "pcsc",
            str(getattr(health, "state", "error")),
            str(getattr(health, "detail", "")) or None,
        )
