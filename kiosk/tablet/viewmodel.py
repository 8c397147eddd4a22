"""The tablet's thin QObject view-model: `TabletState` sections as QML properties, its methods as slots."""

from __future__ import annotations

from PySide6.QtCore import Property, QObject, QTimer, Signal, Slot

from kiosk.qt.sections import SectionViewModel
from kiosk.tablet.state import TabletState


class TabletViewModel(SectionViewModel):
    """Ticks once a second only while a rating is open (an idle tablet wakes no timer)."""

    screenChanged = Signal()
    idleChanged = Signal()
    ratingChanged = Signal()
    linkChanged = Signal()

    def __init__(self, state: TabletState, parent: QObject | None = None) -> None:
        super().__init__(state, parent)
        self.tablet = state
        self._ticker = QTimer(self)
        self._ticker.setInterval(1000)
        self._ticker.timeout.connect(state.tick)

    def flushed(self, sections: set[str]) -> None:
        """Run the ticker only while a rating is open."""
        if self.tablet.active and not self._ticker.isActive():
            self._ticker.start()
        elif not self.tablet.active and self._ticker.isActive():
            self._ticker.stop()

    def is_settled(self) -> bool:
        """Settled once the window's state is known."""
        return self.tablet.state is not None

    def stop(self) -> None:
        """Stop the ticker."""
        self._ticker.stop()

    screen = Property(str, lambda self: self._get("screen"), notify=screenChanged)
    idle = Property("QVariantMap", lambda self: self._get("idle"), notify=idleChanged)
    rating = Property("QVariantMap", lambda self: self._get("rating"), notify=ratingChanged)
    link = Property("QVariantMap", lambda self: self._get("link"), notify=linkChanged)

    @Slot(int)
    def chooseLevel(self, level: int) -> None:  # noqa: N802 (Qt naming)
        """A face was tapped."""
        self.tablet.choose_level(level)

    @Slot(str)
    def toggleReason(self, code: str) -> None:  # noqa: N802
        """A reason toggle was tapped."""
        self.tablet.toggle_reason(code)

    @Slot(str)
    def setComment(self, text: str) -> None:  # noqa: N802
        """The comment field changed."""
        self.tablet.set_comment(text)

    @Slot()
    def back(self) -> None:
        """Reasons back to faces."""
        self.tablet.back()

    @Slot()
    def send(self) -> None:
        """Send the bad rating."""
        self.tablet.send()

    @Slot()
    def touch(self) -> None:
        """Any touch keeps the rating open."""
        self.tablet.touch()
