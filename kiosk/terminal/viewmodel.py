"""The terminal's thin QObject view-model: `TerminalState` sections as QML properties, its flows' buttons as slots."""

from __future__ import annotations

from PySide6.QtCore import Property, QObject, Signal, Slot

from kiosk.qt.sections import SectionViewModel
from kiosk.terminal.state import TerminalState


class TerminalViewModel(SectionViewModel):
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

    def __init__(self, state: TerminalState, parent: QObject | None = None) -> None:
        super().__init__(state, parent)
        self.terminal = state

    def is_settled(self) -> bool:
        """Settled once the queue state is known."""
        return bool(self.terminal.queue)

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
        self.terminal.go(screen)

    @Slot()
    def back(self) -> None:
        """One step back."""
        self.terminal.back()

    @Slot()
    def reset(self) -> None:
        """Home, forgetting the last person."""
        self.terminal.reset()

    @Slot()
    def dismissMessage(self) -> None:  # noqa: N802
        """Close the message band."""
        self.terminal.dismiss_message()

    # --- take a ticket ---------------------------------------------------------------------

    @Slot(str)
    def chooseService(self, code: str) -> None:  # noqa: N802
        """A service was touched."""
        self.terminal.ticket.choose(code)

    @Slot()
    def confirmTicket(self) -> None:  # noqa: N802
        """Take the ticket."""
        self.terminal.ticket.confirm()

    @Slot(str)
    def phoneKey(self, key: str) -> None:  # noqa: N802
        """A key of the 到号短信提醒 keypad."""
        self.terminal.ticket.phone_key(key)

    @Slot()
    def phoneSubmit(self) -> None:  # noqa: N802
        """Take the ticket with the typed mobile number."""
        self.terminal.ticket.phone_submit()

    @Slot()
    def phoneSkip(self) -> None:  # noqa: N802
        """Take the ticket without a number."""
        self.terminal.ticket.phone_skip()

    # --- cases ----------------------------------------------------------------------------

    @Slot()
    def caseKeypad(self) -> None:  # noqa: N802
        """Type the case number."""
        self.terminal.cases.open_keypad()

    @Slot(str)
    def caseField(self, name: str) -> None:  # noqa: N802
        """Focus caseNo or verify."""
        self.terminal.cases.field(name)

    @Slot(str)
    def caseKey(self, key: str) -> None:  # noqa: N802
        """A keypad key."""
        self.terminal.cases.key(key)

    @Slot()
    def caseSubmit(self) -> None:  # noqa: N802
        """Look the case up."""
        self.terminal.cases.submit()

    @Slot(str)
    def pickupTicket(self, case_no: str) -> None:  # noqa: N802
        """A ticket for the pickup window of a case."""
        self.terminal.cases.pickup(case_no)

    # --- guide ----------------------------------------------------------------------------

    @Slot(str)
    def guideKey(self, key: str) -> None:  # noqa: N802
        """An initials keypad key."""
        self.terminal.guide.key(key)

    @Slot(str)
    def guideText(self, text: str) -> None:  # noqa: N802
        """Search by a word."""
        self.terminal.guide.text(text)

    @Slot(str)
    def guideCategory(self, category: str) -> None:  # noqa: N802
        """Filter by a category."""
        self.terminal.guide.choose_category(category)

    @Slot(str)
    def guideOpen(self, item: str) -> None:  # noqa: N802
        """Open one item."""
        self.terminal.guide.open(item)

    @Slot()
    def guidePrint(self) -> None:  # noqa: N802
        """Print the one-time notice."""
        self.terminal.guide.print_notice()

    # --- rate -----------------------------------------------------------------------------

    @Slot(str)
    def rateField(self, name: str) -> None:  # noqa: N802
        """Focus caseNo or verify."""
        self.terminal.rate.field(name)

    @Slot(str)
    def rateKey(self, key: str) -> None:  # noqa: N802
        """A keypad key."""
        self.terminal.rate.key(key)

    @Slot()
    def rateSubmitCase(self) -> None:  # noqa: N802
        """Find the typed case."""
        self.terminal.rate.submit()

    @Slot(str)
    def ratePick(self, case_no: str) -> None:  # noqa: N802
        """Choose a case to rate."""
        self.terminal.rate.pick(case_no)

    @Slot(int)
    def rateLevel(self, level: int) -> None:  # noqa: N802
        """One of five levels."""
        self.terminal.rate.choose_level(level)

    @Slot(str)
    def rateReason(self, code: str) -> None:  # noqa: N802
        """Toggle a reason."""
        self.terminal.rate.toggle_reason(code)

    @Slot(str)
    def rateComment(self, text: str) -> None:  # noqa: N802
        """The comment of a bad rating changed."""
        self.terminal.rate.set_comment(text)

    @Slot()
    def rateSend(self) -> None:  # noqa: N802
        """Send a bad rating with reasons."""
        self.terminal.rate.send()
