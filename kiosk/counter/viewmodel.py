"""The counter's thin QObject view-model: `CounterState` sections as QML properties, its methods as slots."""

from __future__ import annotations

from PySide6.QtCore import Property, QObject, Signal, Slot

from kiosk.counter.state import CounterState
from kiosk.qt.sections import SectionViewModel


class CounterViewModel(SectionViewModel):
    """One notify signal per section of the state."""

    loginChanged = Signal()
    windowChanged = Signal()
    ticketChanged = Signal()
    actionsChanged = Signal()
    queueChanged = Signal()
    figuresChanged = Signal()
    dialogChanged = Signal()
    messageChanged = Signal()
    linkChanged = Signal()

    def __init__(self, state: CounterState, parent: QObject | None = None) -> None:
        super().__init__(state, parent)
        self.counter = state

    def is_settled(self) -> bool:
        """Settled once the window's state is known."""
        return self.counter.state is not None

    login = Property("QVariantMap", lambda self: self._get("login"), notify=loginChanged)
    window = Property("QVariantMap", lambda self: self._get("window"), notify=windowChanged)
    ticket = Property("QVariantMap", lambda self: self._get("ticket"), notify=ticketChanged)
    actions = Property("QVariantList", lambda self: self._get("actions"), notify=actionsChanged)
    queue = Property("QVariantList", lambda self: self._get("queue"), notify=queueChanged)
    figures = Property("QVariantMap", lambda self: self._get("figures"), notify=figuresChanged)
    dialog = Property("QVariantMap", lambda self: self._get("dialog"), notify=dialogChanged)
    message = Property("QVariantMap", lambda self: self._get("message"), notify=messageChanged)
    link = Property("QVariantMap", lambda self: self._get("link"), notify=linkChanged)

    @Slot(str)
    def loginField(self, name: str) -> None:  # noqa: N802 (Qt naming)
        """Focus staff id or password."""
        self.counter.login_field(name)

    @Slot(str)
    def loginKey(self, key: str) -> None:  # noqa: N802
        """An on-screen key, or text typed on a keyboard."""
        self.counter.login_key(key)

    @Slot()
    def submitLogin(self) -> None:  # noqa: N802
        """Log in with staff id and password."""
        self.counter.submit_login()

    @Slot()
    def logout(self) -> None:
        """Leave the window."""
        self.counter.logout()

    @Slot(str)
    def act(self, action: str) -> None:
        """A counter button or its F-key."""
        self.counter.act(action)

    @Slot()
    def closeDialog(self) -> None:  # noqa: N802
        """Cancel the dialog."""
        self.counter.close_dialog()

    @Slot(str)
    def callBack(self, number: str) -> None:  # noqa: N802
        """Call back a held ticket."""
        self.counter.call_back(number)

    @Slot(str)
    def transferKind(self, kind: str) -> None:  # noqa: N802
        """Service or window."""
        self.counter.transfer_kind(kind)

    @Slot(str)
    def transferTarget(self, target: str) -> None:  # noqa: N802
        """The service code or window id."""
        self.counter.transfer_target(target)

    @Slot(str)
    def transferPosition(self, position: str) -> None:  # noqa: N802
        """Front or end."""
        self.counter.transfer_position(position)

    @Slot()
    def transferConfirm(self) -> None:  # noqa: N802
        """Send the transfer."""
        self.counter.transfer_confirm()

    @Slot(str)
    def pauseReason(self, code: str) -> None:  # noqa: N802
        """Choose a pause reason."""
        self.counter.pause_reason(code)

    @Slot()
    def pauseConfirm(self) -> None:  # noqa: N802
        """Pause with the reason."""
        self.counter.pause_confirm()

    @Slot()
    def dismissMessage(self) -> None:  # noqa: N802
        """Close the message band."""
        self.counter.dismiss_message()
