"""预约签到: appointment QR or ID card, then a priority ticket (printed) or the controller's reason."""

from __future__ import annotations

from typing import Any

from hallbus import schemas
from kiosk.common.i18n import Text, both
from kiosk.terminal import views
from kiosk.terminal.flow import Flow, Terminal
from kiosk.terminal.ticket import TicketFlow


class CheckinFlow(Flow):
    """Check an appointment in; its ticket is printed by the ticket flow."""

    SECTION = "checkin"

    def __init__(self, terminal: Terminal, ticket: TicketFlow) -> None:
        self.ticket = ticket
        super().__init__(terminal)

    def clear(self) -> None:
        """Waiting for a QR code or a card."""
        self.step = "wait"  # wait | loading | done
        self.result: dict[str, Any] | None = None
        self.error: Text | None = None

    def on_card(self) -> None:
        """Check in by ID card."""
        if self.step in ("wait", "done"):
            self.check_in({"id_card": self.terminal.card_ref()})

    def on_qr(self, text: str) -> None:
        """Check in by the appointment's QR code."""
        if self.step != "loading":
            self.check_in({"code": text})

    def check_in(self, body: dict[str, Any]) -> None:
        """`appointment.checkin`, then print the ticket it gives."""
        self.clear()
        self.step = "loading"
        self.changed()
        t = self.terminal

        def ok(reply: schemas.CheckinReply) -> None:
            self.step = "done"
            self.result = views.ticket_view(t.cfg, t.cat, reply.ticket)
            self.changed()
            self.ticket.show_issued(self.result)
            self.result = self.ticket.result
            self.changed()

        def failed(text: Text) -> None:
            self.step = "wait"
            self.error = text
            self.changed()

        t.call(schemas.APPOINTMENT_CHECKIN, body, ok, failed)

    def view(self) -> dict[str, Any]:
        """The check-in screen (with the ticket's printing state)."""
        return {"step": self.step, "result": self.result or {}, "error": self.error or both("", ""),
                **self.ticket.print_view()}
