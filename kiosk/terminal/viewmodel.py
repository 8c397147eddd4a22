"""The terminal's thin QObject view-model: `TerminalState` sections as QML properties, its methods as slots."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Property, QObject, Signal, Slot

from kiosk.qt.compat import emit
from kiosk.terminal.state import TerminalState


def qml_value(value: Any) -> Any:
    """Plain data for QML with every None replaced by "": PySide's QVariant conversion of None
    inside maps and lists has been seen to corrupt None's reference count (a crash at exit)."""
    if value is None:
        return ""
    if isinstance(value, dict):
        return {k: qml_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [qml_value(v) for v in value]
    return value


class TerminalViewModel(QObject):
    """One notify signal per section; the state says which sections changed."""

    screenChanged = Signal()
    personChanged = Signal()
    messageChanged = Signal()
    servicesChanged = Signal()
    ticketChanged = Signal()
    casesChanged = Signal()
    checkinChanged = Signal()
    guideChanged = Signal()
    rateChanged = Signal()
    settled = Signal()

    def __init__(self, state: TerminalState, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self._cache: dict[str, Any] = {}
        self._settled = False
        state.add_listener(self._on_change)

    def _on_change(self, sections: set[str]) -> None:
        for section in sections:
            self._cache.pop(section, None)
            emit(getattr(self, f"{section}Changed"))
        if "services" in sections and not self._settled and self.state.queue:
            self._settled = True
            emit(self.settled)

    def _get(self, section: str) -> Any:
        if section not in self._cache:
            self._cache[section] = qml_value(self.state.view(section))
        return self._cache[section]

    screen = Property(str, lambda self: self._get("screen"), notify=screenChanged)
    person = Property("QVariantMap", lambda self: self._get("person"), notify=personChanged)
    message = Property("QVariantMap", lambda self: self._get("message"), notify=messageChanged)
    services = Property("QVariantList", lambda self: self._get("services"), notify=servicesChanged)
    ticket = Property("QVariantMap", lambda self: self._get("ticket"), notify=ticketChanged)
    cases = Property("QVariantMap", lambda self: self._get("cases"), notify=casesChanged)
    checkin = Property("QVariantMap", lambda self: self._get("checkin"), notify=checkinChanged)
    guide = Property("QVariantMap", lambda self: self._get("guide"), notify=guideChanged)
    rate = Property("QVariantMap", lambda self: self._get("rate"), notify=rateChanged)

    # --- navigation -----------------------------------------------------------------------

    @Slot(str)
    def go(self, screen: str) -> None:
        """Open a screen from home."""
        self.state.go(screen)

    @Slot()
    def back(self) -> None:
        """One step back."""
        self.state.back()

    @Slot()
    def reset(self) -> None:
        """Home, forgetting the last person."""
        self.state.reset()

    @Slot()
    def dismissMessage(self) -> None:  # noqa: N802
        """Close the message band."""
        self.state.dismiss_message()

    # --- take a ticket ---------------------------------------------------------------------

    @Slot(str)
    def chooseService(self, code: str) -> None:  # noqa: N802
        """A service was touched."""
        self.state.choose_service(code)

    @Slot()
    def confirmTicket(self) -> None:  # noqa: N802
        """Take the ticket."""
        self.state.confirm_ticket()

    # --- cases ----------------------------------------------------------------------------

    @Slot()
    def caseKeypad(self) -> None:  # noqa: N802
        """Type the case number."""
        self.state.case_keypad()

    @Slot(str)
    def caseField(self, name: str) -> None:  # noqa: N802
        """Focus caseNo or verify."""
        self.state.case_field(name)

    @Slot(str)
    def caseKey(self, key: str) -> None:  # noqa: N802
        """A keypad key."""
        self.state.case_key(key)

    @Slot()
    def caseSubmit(self) -> None:  # noqa: N802
        """Look the case up."""
        self.state.case_submit()

    @Slot(str)
    def pickupTicket(self, case_no: str) -> None:  # noqa: N802
        """A ticket for the pickup window of a case."""
        self.state.pickup_ticket(case_no)

    # --- guide ----------------------------------------------------------------------------

    @Slot(str)
    def guideKey(self, key: str) -> None:  # noqa: N802
        """An initials keypad key."""
        self.state.guide_key(key)

    @Slot(str)
    def guideText(self, text: str) -> None:  # noqa: N802
        """Search by a word."""
        self.state.guide_text(text)

    @Slot(str)
    def guideCategory(self, category: str) -> None:  # noqa: N802
        """Filter by a category."""
        self.state.guide_category(category)

    @Slot(str)
    def guideOpen(self, item: str) -> None:  # noqa: N802
        """Open one item."""
        self.state.guide_open(item)

    @Slot()
    def guidePrint(self) -> None:  # noqa: N802
        """Print the one-time notice."""
        self.state.guide_print()

    # --- rate -----------------------------------------------------------------------------

    @Slot(str)
    def rateField(self, name: str) -> None:  # noqa: N802
        """Focus caseNo or verify."""
        self.state.rate_field(name)

    @Slot(str)
    def rateKey(self, key: str) -> None:  # noqa: N802
        """A keypad key."""
        self.state.rate_key(key)

    @Slot()
    def rateSubmitCase(self) -> None:  # noqa: N802
        """Find the typed case."""
        self.state.rate_submit_case()

    @Slot(str)
    def ratePick(self, case_no: str) -> None:  # noqa: N802
        """Choose a case to rate."""
        self.state.rate_pick(case_no)

    @Slot(int)
    def rateLevel(self, level: int) -> None:  # noqa: N802
        """One of five levels."""
        self.state.rate_level(level)

    @Slot(str)
    def rateReason(self, code: str) -> None:  # noqa: N802
        """Toggle a reason."""
        self.state.rate_reason(code)

    @Slot()
    def rateSend(self) -> None:  # noqa: N802
        """Send a bad rating with reasons."""
        self.state.rate_send()
