"""办件查询: a person's cases by card, receipt QR, or case number + last 6 of the ID number."""

from __future__ import annotations

from typing import Any

from hallbus import schemas
from kiosk.common.i18n import Text, both
from kiosk.terminal import views
from kiosk.terminal.flow import CaseEntry, Terminal, TypedCaseFlow
from kiosk.terminal.ticket import TicketFlow


class CasesFlow(TypedCaseFlow):
    """Look cases up and show them; a finished case offers a ticket to its pickup window."""

    SECTION = "cases"

    def __init__(self, terminal: Terminal, ticket: TicketFlow) -> None:
        self.ticket = ticket
        super().__init__(terminal)

    def clear(self) -> None:
        """Back to the choice of method."""
        self.step = "method"  # method | keypad | loading | list
        self.entry = CaseEntry()
        self.items: list[dict[str, Any]] = []
        self.error: Text | None = None
        self.via = ""

    def start(self) -> None:
        """A person already known by card sees their cases at once."""
        if self.terminal.person is not None:
            self.query({"id_card": self.terminal.card_ref()}, via="card")

    def on_card(self) -> None:
        """A card works on the method screen, the keypad and the list alike."""
        if self.step in ("method", "keypad", "list"):
            self.query({"id_card": self.terminal.card_ref()}, via="card")

    def on_qr(self, text: str) -> None:
        """The QR code on a receipt."""
        if self.step != "loading":
            self.query({"qr": text}, via="qr")

    def back(self) -> bool:
        """From the keypad or the list back to the choice of method."""
        if self.step not in ("keypad", "list"):
            return False
        self.clear()
        self.changed()
        return True

    # --- the keypad -----------------------------------------------------------------------

    def open_keypad(self) -> None:
        """Type the case number and the last 6 of the ID number."""
        self.clear()
        self.step = "keypad"
        self.changed()

    def look_up_typed(self, body: dict[str, Any]) -> None:
        """Look up the typed case number."""
        self.query(body, via="number")

    # --- lookup and pickup ----------------------------------------------------------------

    def query(self, body: dict[str, Any], via: str) -> None:
        """`case.query`; typed numbers stay on the keypad when nothing is found."""
        entry = self.entry if via == "number" else CaseEntry()
        self.clear()
        self.entry = entry
        self.step = "loading"
        self.via = via
        self.changed()
        t = self.terminal

        def ok(reply: schemas.CaseQueryReply) -> None:
            self.items = [views.case_view(t.cfg, t.cat, c) for c in reply.cases]
            self.step = "list"
            self.error = None if self.items else t.cat.text(f"cases_none_{via}")
            self.changed()

        def failed(text: Text) -> None:
            self.step = "keypad" if via == "number" else "method"
            self.error = text
            self.changed()

        t.call(schemas.CASE_QUERY, body, ok, failed)

    def pickup(self, case_no: str) -> None:
        """One touch: a ticket for the window where this case's result is collected."""
        case = next((c for c in self.items if c["caseNo"] == case_no), None)
        window = views.find_window(self.terminal.cfg, case["pickupWindow"]) if case else None
        if window is None or not window.services:
            return
        self.terminal.show("ticket")
        self.ticket.start_confirmed(window.services[0])
        self.ticket.issue(window.services[0], "onsite")

    def view(self) -> dict[str, Any]:
        """The case screen."""
        return {
            "step": self.step,
            **self.entry.view(),
            "items": list(self.items),
            "error": self.error or both("", ""),
            "via": self.via,
        }
