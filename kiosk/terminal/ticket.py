"""取号: choose a service, swipe the card if it is real-name, confirm, print (also prints check-in and pickup tickets)."""

from __future__ import annotations

import logging
from typing import Any

from hallbus import schemas
from kiosk.common.i18n import Text, both
from kiosk.common.person import Person
from kiosk.terminal import views
from kiosk.terminal.flow import Flow
from kiosk.terminal.phone import PhoneEntry

log = logging.getLogger(__name__)


class TicketFlow(Flow):
    """Take a ticket for a service, then print it."""

    SECTION = "ticket"

    def clear(self) -> None:
        """Nothing chosen."""
        self.step = "choose"  # choose | card | confirm | phone | issuing | done
        self.service = ""
        self.result: dict[str, Any] | None = None
        self.error: Text | None = None
        self.printing = False
        self.printed: bool | None = None
        self.print_note: Text | None = None
        self.phone = PhoneEntry()  # 到号短信提醒, when the hall notifies

    # --- buttons ------------------------------------------------------------------------

    def choose(self, code: str) -> None:
        """A service tile was touched."""
        svc = self.terminal.cfg.service(code)
        if svc is None:
            return
        self.clear()
        self.service = code
        person = self.terminal.person
        if svc.real_name and person is None:
            self.step = "card"
        elif svc.real_name and person is not None and person.expired:
            self.step = "card"
            self.error = self._expired(person)
        else:
            self.step = "confirm"
        self.changed()

    def confirm(self) -> None:
        """Take the ticket for the chosen service."""
        if self.step != "confirm" or not self.service:
            return
        if self.terminal.cfg.notify.enabled:  # first the optional 到号短信提醒 step
            self.step = "phone"
            self.changed()
            return
        self.issue(self.service, "onsite")

    # --- 到号短信提醒 (kiosk.terminal.phone) -------------------------------------------------

    def phone_key(self, key: str) -> None:
        """A key of the phone step's keypad."""
        if self.step == "phone":
            self.phone.key(key)
            self.changed()

    def phone_submit(self) -> None:
        """Take the ticket with the typed number, or say why the number is no mobile number."""
        if self.step != "phone":
            return
        number = self.phone.check(self.terminal.cat)
        if number is None:
            self.changed()
        else:
            self.issue(self.service, "onsite", phone=number)

    def phone_skip(self) -> None:
        """Take the ticket without a number."""
        if self.step == "phone":
            self.phone = PhoneEntry()
            self.issue(self.service, "onsite")

    def card_read(self, person: Person) -> None:
        """The card a real-name service asked for: an expired one is refused with its date."""
        if self.step != "card":
            return
        if person.expired:
            self.error = self._expired(person)
        else:
            self.step = "confirm"
            self.error = None
        self.changed()

    def back(self) -> bool:
        """From the card or confirm step back to the services."""
        if self.step == "phone":
            self.step = "confirm"
            self.phone = PhoneEntry()
            self.changed()
            return True
        if self.step not in ("card", "confirm"):
            return False
        self.clear()
        self.changed()
        return True

    def _expired(self, person: Person) -> Text:
        return self.terminal.cat.text("err_card_expired", valid_to=person.valid_to)

    # --- issuing and printing -------------------------------------------------------------

    def start_confirmed(self, service: str) -> None:
        """Fresh, with `service` chosen and confirmed (the one-touch pickup ticket)."""
        self.clear()
        self.service = service
        self.step = "confirm"
        self.changed()

    def issue(self, service: str, channel: str, phone: str | None = None) -> None:
        """Ask the controller for a ticket; a real-name service without a valid card asks for the card.

        A card read whose holder is the hall's green-channel age asks for the green channel
        (绿色通道); should the controller refuse it, the ordinary ticket is taken, and the
        person is told nothing of the refusal.
        """
        t = self.terminal
        body: dict[str, Any] = {"service": service, "channel": channel, "node": t.node}
        if phone is not None:
            body["phone"] = phone
        svc = t.cfg.service(service)
        if t.person is not None and not t.person.expired:
            body["id_card"] = t.card_ref()
        elif svc is not None and svc.real_name:
            self.step = "card"
            self.changed()
            return
        self.service = service
        self.step = "issuing"
        self.error = None
        self.changed()

        def ok(reply: schemas.TicketReply) -> None:
            self.step = "done"
            self.result = views.ticket_view(t.cfg, t.cat, reply.ticket)
            self.phone = PhoneEntry()  # the number is the controller's now; the screen shows it masked
            taken = getattr(reply, "notify", None)
            if taken is not None:
                self.result["notifyPhone"] = taken.phone_masked
            self.changed()
            self.print()

        def failed(text: Text) -> None:
            self.step = "phone" if phone is not None else "confirm"
            self.error = text
            self.changed()

        green = self._green(body) if channel == "onsite" else None
        if green is None:
            t.call(schemas.TICKET_ISSUE, body, ok, failed)
            return

        def refused(code: str) -> bool:
            if code != "channel_refused":
                return False
            log.info("the controller refused the green channel: an ordinary ticket instead")
            t.call(schemas.TICKET_ISSUE, body, ok, failed)
            return True

        t.call(schemas.TICKET_ISSUE, green, ok, failed, on_refused=refused)

    def _green(self, body: dict[str, Any]) -> dict[str, Any] | None:
        """The request on the green channel when its card read shows the age for it (else None)."""
        t = self.terminal
        if t.person is None or "id_card" not in body:
            return None
        if not t.cfg.ticket_limits.green_by_age(t.person.birth, t.today().isoformat()):
            return None
        return dict(body, channel="green", id_card=schemas.to_builtins(t.person.green_ref()))

    def show_issued(self, result: dict[str, Any]) -> None:
        """A ticket issued elsewhere (appointment check-in), printed like any other."""
        self.clear()
        self.step = "done"
        self.service = result["service"]
        self.result = result
        self.print()

    def print(self) -> None:
        """Print the issued ticket; when it cannot be, the ticket stays on screen with a sentence why."""
        result = self.result
        if result is None:
            return
        t = self.terminal
        printer = t.printer
        if printer is None or not printer.ready():
            self.printed = False
            self.print_note = t.cat.text("print_no_printer" if printer is None else "print_paper_out")
            self.changed()
            return
        self.printing = True
        self.changed()
        payload = dict(result, hallName=t.cfg.hall.name)

        def ok(_r: Any) -> None:
            self.printing = False
            self.printed = True
            self.changed()

        def failed(err: BaseException) -> None:
            log.warning("ticket %s not printed: %s", result.get("number"), err)
            self.printing = False
            self.printed = False
            paper = printer.ready() is False
            self.print_note = t.cat.text("print_paper_out" if paper else "print_failed")
            self.changed()

        t.run(lambda: printer.print_ticket(payload), ok, failed)

    # --- view -----------------------------------------------------------------------------

    def print_view(self) -> dict[str, Any]:
        """Whether the ticket was printed, and the sentence about it (also shown after a check-in)."""
        return {
            "printed": "" if self.printed is None else ("yes" if self.printed else "no"),
            "printNote": self.print_note or both("", ""),
        }

    def view(self) -> dict[str, Any]:
        """The ticket screen."""
        svc = self.terminal.cfg.service(self.service) if self.service else None
        return {
            "step": self.step,
            "service": self.service,
            "serviceName": views.service_name(svc, self.service) if self.service else both("", ""),
            "realName": bool(svc and svc.real_name),
            "result": self.result or {},
            "error": self.error or both("", ""),
            "printing": self.printing,
            "phone": self.phone.view(),
            "notifyAhead": self.terminal.cfg.notify.ahead,
            **self.print_view(),
        }
