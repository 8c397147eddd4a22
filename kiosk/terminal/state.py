"""Everything the self-service terminal (自助一体机) knows, without Qt.

`TerminalState` holds the screen being shown, the person who swiped a card (masked, hashed) and
one small record per flow: take a ticket, case status, appointment check-in, service guide and
rating. Views read `view(section)` dicts; buttons call methods; slow work goes through a `Port`
and comes back on the same thread. `reset()` forgets the last person entirely: any answer that
arrives afterwards for an older session is dropped (the session `epoch` changed).
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from devices.idcard import CardData
from hallbus.config import HallConfig
from hallbus.rpc import RpcFault
from hallbus.schemas import QueueState, ServiceQueue, to_builtins
from kiosk.common import keypad
from kiosk.common.i18n import Catalogue, Text, both
from kiosk.common.person import NOBODY, Person, person_from_card
from kiosk.common.port import Port
from kiosk.common.rating import LEVELS, REASONS, level_key, needs_reasons, reason_key
from kiosk.terminal import views

log = logging.getLogger(__name__)

SCREENS = ("home", "ticket", "cases", "checkin", "guide", "rate")
SECTIONS = ("screen", "person", "message", "services", "ticket", "cases", "checkin", "guide", "rate")
CASE_NO_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-"
VERIFY_CHARS = "0123456789X"
# Controller error codes we explain in our own words (with what to do next); others keep theirs.
KNOWN_FAULTS = {
    "unavailable": "err_controller_unreachable",
    "timeout": "err_controller_unreachable",
}


class Printer(Protocol):
    """What the terminal needs of its ticket printer (see kiosk.owners.printer)."""

    def ready(self) -> bool:
        """False when the printer is known to be out of paper or broken."""
        ...

    def print_ticket(self, ticket: dict[str, Any]) -> None:
        """Print one ticket; raise with a message when it could not be printed."""
        ...

    def print_notice(self, item: dict[str, Any]) -> None:
        """Print the one-time notice (一次性告知单) of a guide item."""
        ...


class RatingSink(Protocol):
    """Where ratings go: a durable outbox (they must never be lost)."""

    def put(self, method: str, body: dict[str, Any], request_id: str | None = None) -> str:
        """Store a request durably for delivery; returns its request id."""
        ...


@dataclass
class TicketFlow:
    """取号: choose a service, swipe the card if it is real-name, confirm, print."""

    step: str = "choose"  # choose | card | confirm | issuing | done
    service: str = ""
    result: dict[str, Any] | None = None
    error: Text | None = None
    printing: bool = False
    printed: bool | None = None
    print_note: Text | None = None


@dataclass
class CaseFlow:
    """办件查询: by card, receipt QR, or case number + last 6 of the ID number."""

    step: str = "method"  # method | keypad | loading | list
    case_no: str = ""
    verify: str = ""
    focus: str = "caseNo"
    items: list[dict[str, Any]] = field(default_factory=list)
    error: Text | None = None
    via: str = ""


@dataclass
class CheckinFlow:
    """预约签到: appointment QR or ID card, then a priority ticket or a reason."""

    step: str = "wait"  # wait | loading | done
    result: dict[str, Any] | None = None
    error: Text | None = None


@dataclass
class GuideFlow:
    """办事指南: search by text or pinyin initials, categories, one item in full."""

    query: str = ""
    category: str = ""
    items: list[dict[str, Any]] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    item: dict[str, Any] | None = None
    loading: bool = False
    error: Text | None = None
    printed: bool | None = None
    print_note: Text | None = None


@dataclass
class RateFlow:
    """服务评价: find the case (number + verify, or card), five levels, reasons for a bad one, thanks."""

    step: str = "case"  # case | pick | level | reasons | thanks
    case_no: str = ""
    verify: str = ""
    focus: str = "caseNo"
    cases: list[dict[str, Any]] = field(default_factory=list)
    chosen: dict[str, Any] | None = None
    level: int = 0
    reasons: list[str] = field(default_factory=list)
    error: Text | None = None


class TerminalState:
    """The terminal's screens and the last person's session; Qt-free."""

    def __init__(
        self,
        cfg: HallConfig,
        catalogue: Catalogue,
        port: Port,
        *,
        node: str,
        hall_key: bytes | None,
        printer: Printer | None = None,
        ratings: RatingSink | None = None,
        today: Callable[[], dt.date] = dt.date.today,
    ) -> None:
        self.cfg = cfg
        self.cat = catalogue
        self.port = port
        self.node = node
        self.hall_key = hall_key
        self.printer = printer
        self.ratings = ratings
        self.today = today
        self.queue: dict[str, ServiceQueue] = {}
        self.connected = False
        self._listeners: list[Callable[[set[str]], None]] = []
        self.epoch = 0
        self._clear()

    def _clear(self) -> None:
        self.screen = "home"
        self.person: Person | None = None
        self.message: dict[str, Any] | None = None
        self.ticket = TicketFlow()
        self.cases = CaseFlow()
        self.checkin = CheckinFlow()
        self.guide = GuideFlow()
        self.rate = RateFlow()

    # --- observing ----------------------------------------------------------------------

    def add_listener(self, listener: Callable[[set[str]], None]) -> None:
        """Call `listener(sections)` after every change."""
        self._listeners.append(listener)

    def _changed(self, *sections: str) -> None:
        changed = set(sections)
        for listener in list(self._listeners):
            listener(changed)

    def view(self, section: str) -> Any:
        """What the screen shows of one section (plain data for QML)."""
        return getattr(self, f"_view_{section}")()

    def has_session(self) -> bool:
        """True while there is anything about a person to forget (the idle timer counts then)."""
        return self.screen != "home" or self.person is not None or self.message is not None

    def is_empty(self) -> bool:
        """True when nothing about the last person remains (checked by tests after reset)."""
        fresh = TerminalState.__new__(TerminalState)
        TerminalState._clear(fresh)
        return (
            self.screen == "home"
            and self.person is None
            and self.message is None
            and self.ticket == fresh.ticket
            and self.cases == fresh.cases
            and self.checkin == fresh.checkin
            and self.guide == fresh.guide
            and self.rate == fresh.rate
        )

    # --- session ------------------------------------------------------------------------

    def reset(self) -> None:
        """Back home and forget everything about the last person; late answers are dropped."""
        self.epoch += 1
        self._clear()
        self._changed(*SECTIONS)

    def go(self, screen: str) -> None:
        """Open a screen from home (each flow starts fresh)."""
        if screen not in SCREENS:
            raise ValueError(f"unknown screen {screen!r}")
        self.message = None
        self.screen = screen
        if screen == "ticket":
            self.ticket = TicketFlow()
        elif screen == "cases":
            self.cases = CaseFlow()
            if self.person is not None:
                self._query_cases({"id_card": self._ref()}, via="card")
        elif screen == "checkin":
            self.checkin = CheckinFlow()
        elif screen == "guide":
            self.guide = GuideFlow()
            self._guide_search(initial=True)
        elif screen == "rate":
            self.rate = RateFlow()
            if self.person is not None:
                self._rate_lookup({"id_card": self._ref()})
        self._changed("screen", "message", screen)

    def dismiss_message(self) -> None:
        """Close the message band."""
        self.message = None
        self._changed("message")

    def _say(self, key: str, level: str = "info", **params: Any) -> None:
        self.message = {"text": self.cat.text(key, **params), "level": level}
        self._changed("message")

    def _guard(self, fn: Callable[..., None]) -> Callable[..., None]:
        """Wrap a callback so it is dropped when the session was reset in the meantime."""
        epoch = self.epoch

        def wrapped(*args: Any) -> None:
            if self.epoch != epoch:
                log.debug("dropped a late answer for an earlier session")
                return
            fn(*args)

        return wrapped

    def _fault_text(self, err: BaseException) -> Text:
        if isinstance(err, RpcFault):
            key = KNOWN_FAULTS.get(err.code)
            if key:
                return self.cat.text(key)
            return both(err.message, err.message_en)
        log.error("unexpected error: %r", err)
        return self.cat.text("err_unexpected")

    def _call(self, method: str, body: dict[str, Any], on_ok: Callable[[Any], None], on_err: Callable[[Text, str], None]) -> None:
        def failed(err: BaseException) -> None:
            on_err(self._fault_text(err), getattr(err, "code", "error"))

        self.port.call(method, body, self._guard(on_ok), self._guard(failed))

    def _ref(self) -> dict[str, Any] | None:
        return to_builtins(self.person.ref) if self.person else None

    # --- bus ----------------------------------------------------------------------------

    def on_queue_state(self, state: QueueState) -> None:
        """Retained `queue/state` arrived: waiting counts and estimated waits per service."""
        self.queue = {s.code: s for s in state.services}
        self._changed("services")

    def on_connection(self, up: bool) -> None:
        """The broker connection went up or down."""
        self.connected = up

    # --- devices ------------------------------------------------------------------------

    def on_card(self, card: CardData) -> None:
        """A card was read: remember the person (masked, hashed), then act on the open screen."""
        if self.hall_key is None:
            self._say("err_no_hall_key", "error")
            return
        self.person = person_from_card(card, self.hall_key, self.today())
        del card
        self.message = None
        self._changed("person", "message")
        if self.person.expired:
            self._say("err_card_expired", "error", valid_to=self.person.valid_to)
            if self.screen == "ticket" and self.ticket.step == "card":
                self.ticket.error = self.cat.text("err_card_expired", valid_to=self.person.valid_to)
                self._changed("ticket")
            return
        if self.screen == "ticket" and self.ticket.step == "card":
            self.ticket.step = "confirm"
            self.ticket.error = None
            self._changed("ticket")
        elif self.screen == "cases" and self.cases.step in ("method", "keypad", "list"):
            self._query_cases({"id_card": self._ref()}, via="card")
        elif self.screen == "checkin" and self.checkin.step in ("wait", "done"):
            self._checkin({"id_card": self._ref()})
        elif self.screen == "rate" and self.rate.step in ("case", "pick"):
            self._rate_lookup({"id_card": self._ref()})
        elif self.screen == "home":
            self._say("card_welcome", name=self.person.name_masked)

    def on_card_unreadable(self, _code: str = "") -> None:
        """The reader saw a card but could not read it."""
        self._say("err_card_unreadable", "error")

    def on_card_removed(self) -> None:
        """The card left the reader (the person stays known until reset)."""

    def on_qr(self, text: str) -> None:
        """A QR code was scanned: a receipt on the case screen, an appointment on check-in."""
        text = text.strip()
        if not text:
            return
        if self.screen == "cases" and self.cases.step != "loading":
            self._query_cases({"qr": text}, via="qr")
        elif self.screen == "checkin" and self.checkin.step != "loading":
            self._checkin({"code": text})
        elif self.screen == "home":
            self._say("qr_where")

    # --- take a ticket ------------------------------------------------------------------

    def choose_service(self, code: str) -> None:
        """A service tile was touched."""
        svc = self.cfg.service(code)
        if svc is None:
            return
        self.ticket = TicketFlow(service=code)
        if svc.real_name and self.person is None:
            self.ticket.step = "card"
        elif svc.real_name and self.person is not None and self.person.expired:
            self.ticket.step = "card"
            self.ticket.error = self.cat.text("err_card_expired", valid_to=self.person.valid_to)
        else:
            self.ticket.step = "confirm"
        self._changed("ticket")

    def back(self) -> None:
        """One step back within the open flow, or home."""
        if self.screen == "ticket" and self.ticket.step in ("card", "confirm"):
            self.ticket = TicketFlow()
            self._changed("ticket")
        elif self.screen == "cases" and self.cases.step in ("keypad", "list"):
            self.cases = CaseFlow()
            self._changed("cases")
        elif self.screen == "guide" and self.guide.item is not None:
            self.guide.item = None
            self.guide.printed = None
            self.guide.print_note = None
            self._changed("guide")
        elif self.screen == "rate" and self.rate.step in ("level", "reasons"):
            self.rate.step = "pick" if self.rate.cases else "case"
            self.rate.level = 0
            self.rate.reasons = []
            self._changed("rate")
        else:
            self.screen = "home"
            self.message = None
            self._changed("screen", "message")

    def confirm_ticket(self) -> None:
        """Take the ticket for the chosen service."""
        if self.ticket.step != "confirm" or not self.ticket.service:
            return
        self._issue(self.ticket.service, "onsite")

    def _issue(self, service: str, channel: str) -> None:
        body: dict[str, Any] = {"service": service, "channel": channel, "node": self.node}
        svc = self.cfg.service(service)
        if self.person is not None and not self.person.expired:
            body["id_card"] = self._ref()
        elif svc is not None and svc.real_name:
            self.ticket.step = "card"
            self._changed("ticket")
            return
        self.ticket.service = service
        self.ticket.step = "issuing"
        self.ticket.error = None
        self._changed("ticket")

        def ok(data: dict[str, Any]) -> None:
            self._ticket_issued(data.get("ticket") or data)

        def failed(text: Text, _code: str) -> None:
            self.ticket.step = "confirm"
            self.ticket.error = text
            self._changed("ticket")

        self._call("ticket.issue", body, ok, failed)

    def _ticket_issued(self, ticket: dict[str, Any]) -> None:
        self.ticket.step = "done"
        self.ticket.result = views.ticket_view(self.cfg, self.cat, ticket)
        self._changed("ticket")
        self._print_ticket()

    def _print_ticket(self) -> None:
        result = self.ticket.result
        if result is None:
            return
        if self.printer is None:
            self.ticket.printed = False
            self.ticket.print_note = self.cat.text("print_no_printer")
            self._changed("ticket")
            return
        if not self.printer.ready():
            self.ticket.printed = False
            self.ticket.print_note = self.cat.text("print_paper_out")
            self._changed("ticket")
            return
        self.ticket.printing = True
        self._changed("ticket")
        printer = self.printer
        payload = dict(result, hallName=self.cfg.hall.name)

        def ok(_r: Any) -> None:
            self.ticket.printing = False
            self.ticket.printed = True
            self._changed("ticket")

        def failed(err: BaseException) -> None:
            log.warning("ticket %s not printed: %s", result.get("number"), err)
            self.ticket.printing = False
            self.ticket.printed = False
            paper = printer.ready() is False
            self.ticket.print_note = self.cat.text("print_paper_out" if paper else "print_failed")
            self._changed("ticket")

        self.port.run(lambda: printer.print_ticket(payload), self._guard(ok), self._guard(failed))

    # --- case status --------------------------------------------------------------------

    def case_keypad(self) -> None:
        """Type the case number and the last 6 of the ID number."""
        self.cases = CaseFlow(step="keypad")
        self._changed("cases")

    def case_field(self, name: str) -> None:
        """Move the keypad to `caseNo` or `verify`."""
        if name in ("caseNo", "verify"):
            self.cases.focus = name
            self._changed("cases")

    def case_key(self, key: str) -> None:
        """A key of the on-screen keypad."""
        flow = self.cases
        if flow.focus == "caseNo":
            flow.case_no = keypad.press(flow.case_no, key, max_len=32, allowed=CASE_NO_CHARS)
        else:
            flow.verify = keypad.press(flow.verify, key, max_len=6, allowed=VERIFY_CHARS)
        flow.error = None
        self._changed("cases")

    def case_submit(self) -> None:
        """Look up the typed case number."""
        flow = self.cases
        if not flow.case_no:
            flow.error = self.cat.text("err_case_no_missing")
        elif len(flow.verify) != 6:
            flow.error = self.cat.text("err_verify_missing")
        else:
            self._query_cases({"case_no": flow.case_no, "verify": flow.verify}, via="number")
            return
        self._changed("cases")

    def _query_cases(self, body: dict[str, Any], via: str) -> None:
        keep = (self.cases.case_no, self.cases.verify, self.cases.focus) if via == "number" else ("", "", "caseNo")
        self.cases = CaseFlow(step="loading", via=via, case_no=keep[0], verify=keep[1], focus=keep[2])
        self._changed("cases")

        def ok(data: dict[str, Any]) -> None:
            items = [views.case_view(self.cfg, self.cat, c) for c in data.get("cases") or []]
            self.cases.items = items
            self.cases.step = "list"
            self.cases.error = None if items else self.cat.text(f"cases_none_{via}")
            self._changed("cases")

        def failed(text: Text, _code: str) -> None:
            self.cases.step = "keypad" if via == "number" else "method"
            self.cases.error = text
            self._changed("cases")

        self._call("case.query", body, ok, failed)

    def pickup_ticket(self, case_no: str) -> None:
        """One touch: a ticket for the window where this case's result is collected."""
        case = next((c for c in self.cases.items if c["caseNo"] == case_no), None)
        window = views.find_window(self.cfg, case["pickupWindow"]) if case else None
        if window is None or not window.services:
            return
        self.screen = "ticket"
        self.ticket = TicketFlow(service=window.services[0], step="confirm")
        self._changed("screen", "ticket")
        self._issue(window.services[0], "onsite")

    # --- appointment check-in -----------------------------------------------------------

    def _checkin(self, body: dict[str, Any]) -> None:
        self.checkin = CheckinFlow(step="loading")
        self._changed("checkin")

        def ok(data: dict[str, Any]) -> None:
            self.checkin.step = "done"
            self.checkin.result = views.ticket_view(self.cfg, self.cat, data.get("ticket") or data)
            self._changed("checkin")
            # The checked-in ticket is printed like any other.
            self.ticket = TicketFlow(step="done", service=self.checkin.result["service"], result=self.checkin.result)
            self._print_ticket()
            self.checkin.result = self.ticket.result
            self._changed("checkin")

        def failed(text: Text, _code: str) -> None:
            self.checkin.step = "wait"
            self.checkin.error = text
            self._changed("checkin")

        self._call("appointment.checkin", body, ok, failed)

    # --- service guide ------------------------------------------------------------------

    def guide_key(self, key: str) -> None:
        """A key of the initials keypad (letters, back, clear)."""
        self.guide.query = keypad.press(self.guide.query, key, max_len=12, allowed="ABCDEFGHIJKLMNOPQRSTUVWXYZ")
        self._guide_search()

    def guide_text(self, text: str) -> None:
        """Search by a word (a suggested term or typed text)."""
        self.guide.query = text.strip()[:20]
        self._guide_search()

    def guide_category(self, category: str) -> None:
        """Show one category ('' for all)."""
        self.guide.category = "" if category == self.guide.category else category
        self._guide_search()

    def _guide_search(self, initial: bool = False) -> None:
        flow = self.guide
        flow.loading = True
        flow.error = None
        self._changed("guide")
        body: dict[str, Any] = {"q": flow.query}
        if flow.category:
            body["category"] = flow.category
        asked = (flow.query, flow.category)

        def ok(data: dict[str, Any]) -> None:
            if (self.guide.query, self.guide.category) != asked:
                return  # a newer search is under way
            items = [views.guide_summary(i) for i in data.get("items") or []]
            self.guide.items = items
            self.guide.loading = False
            if initial:
                seen: dict[str, None] = {}
                for i in items:
                    if i["category"]:
                        seen.setdefault(i["category"], None)
                self.guide.categories = list(seen)
            self.guide.error = None if items else self.cat.text("guide_none")
            self._changed("guide")

        def failed(text: Text, _code: str) -> None:
            self.guide.loading = False
            self.guide.error = text
            self._changed("guide")

        self._call("guide.list", body, ok, failed)

    def guide_open(self, item: str) -> None:
        """Show one guide item in full."""
        self.guide.loading = True
        self._changed("guide")

        def ok(data: dict[str, Any]) -> None:
            self.guide.loading = False
            self.guide.item = views.guide_detail(data.get("item") or data)
            self.guide.printed = None
            self.guide.print_note = None
            self._changed("guide")

        def failed(text: Text, _code: str) -> None:
            self.guide.loading = False
            self.guide.error = text
            self._changed("guide")

        self._call("guide.get", {"item": item}, ok, failed)

    def guide_print(self) -> None:
        """Print the one-time notice (一次性告知单) of the open item."""
        item = self.guide.item
        if item is None:
            return
        if self.printer is None or not self.printer.ready():
            self.guide.printed = False
            self.guide.print_note = self.cat.text("print_notice_unavailable")
            self._changed("guide")
            return
        printer = self.printer
        payload = dict(item, hallName=self.cfg.hall.name)

        def ok(_r: Any) -> None:
            self.guide.printed = True
            self.guide.print_note = self.cat.text("print_notice_done")
            self._changed("guide")

        def failed(err: BaseException) -> None:
            log.warning("notice not printed: %s", err)
            self.guide.printed = False
            self.guide.print_note = self.cat.text("print_notice_unavailable")
            self._changed("guide")

        self.guide.printed = None
        self.guide.print_note = self.cat.text("printing")
        self._changed("guide")
        self.port.run(lambda: printer.print_notice(payload), self._guard(ok), self._guard(failed))

    # --- rate a finished matter -----------------------------------------------------------

    def rate_field(self, name: str) -> None:
        """Move the keypad to `caseNo` or `verify`."""
        if name in ("caseNo", "verify"):
            self.rate.focus = name
            self._changed("rate")

    def rate_key(self, key: str) -> None:
        """A key of the on-screen keypad on the rating screen."""
        flow = self.rate
        if flow.focus == "caseNo":
            flow.case_no = keypad.press(flow.case_no, key, max_len=32, allowed=CASE_NO_CHARS)
        else:
            flow.verify = keypad.press(flow.verify, key, max_len=6, allowed=VERIFY_CHARS)
        flow.error = None
        self._changed("rate")

    def rate_submit_case(self) -> None:
        """Find the typed case (number + last 6 of the ID number) before rating it."""
        flow = self.rate
        if not flow.case_no:
            flow.error = self.cat.text("err_case_no_missing")
        elif len(flow.verify) != 6:
            flow.error = self.cat.text("err_verify_missing")
        else:
            self._rate_lookup({"case_no": flow.case_no, "verify": flow.verify})
            return
        self._changed("rate")

    def _rate_lookup(self, body: dict[str, Any]) -> None:
        self.rate.error = None
        self._changed("rate")

        def ok(data: dict[str, Any]) -> None:
            cases = [views.case_view(self.cfg, self.cat, c) for c in data.get("cases") or []]
            self.rate.cases = cases
            if not cases:
                self.rate.step = "case"
                self.rate.error = self.cat.text("rate_case_not_found")
            elif len(cases) == 1 and "case_no" in body:
                self.rate.chosen = cases[0]
                self.rate.step = "level"
            else:
                self.rate.step = "pick"
            self._changed("rate")

        def failed(text: Text, _code: str) -> None:
            self.rate.step = "case"
            self.rate.error = text
            self._changed("rate")

        self._call("case.query", body, ok, failed)

    def rate_pick(self, case_no: str) -> None:
        """Choose which of the person's cases to rate."""
        chosen = next((c for c in self.rate.cases if c["caseNo"] == case_no), None)
        if chosen is not None:
            self.rate.chosen = chosen
            self.rate.step = "level"
            self._changed("rate")

    def rate_level(self, level: int) -> None:
        """One of the five faces was touched."""
        if level not in LEVELS or self.rate.chosen is None:
            return
        self.rate.level = level
        self.rate.reasons = []
        if needs_reasons(level):
            self.rate.step = "reasons"
            self._changed("rate")
        else:
            self._submit_rating()

    def rate_reason(self, code: str) -> None:
        """Toggle one reason of a bad rating."""
        if code not in REASONS:
            return
        reasons = self.rate.reasons
        if code in reasons:
            reasons.remove(code)
        else:
            reasons.append(code)
        self.rate.error = None
        self._changed("rate")

    def rate_send(self) -> None:
        """Send a bad rating with its reasons."""
        if not self.rate.reasons:
            self.rate.error = self.cat.text("rate_reason_needed")
            self._changed("rate")
            return
        self._submit_rating()

    def _submit_rating(self) -> None:
        chosen = self.rate.chosen or {}
        body: dict[str, Any] = {
            "rating_id": str(uuid.uuid4()),
            "case_no": chosen.get("caseNo"),
            "level": self.rate.level,
            "reasons": list(self.rate.reasons),
            "comment": "",
        }
        if self.ratings is None:
            self.rate.error = self.cat.text("err_controller_unreachable")
            self._changed("rate")
            return
        self.ratings.put("rating.submit", body)
        self.rate.step = "thanks"
        self._changed("rate")

    # --- views --------------------------------------------------------------------------

    def _view_screen(self) -> str:
        return self.screen

    def _view_person(self) -> dict[str, Any]:
        return self.person.view() if self.person else dict(NOBODY)

    def _view_message(self) -> dict[str, Any]:
        return self.message or {"text": both("", ""), "level": ""}

    def _view_services(self) -> list[dict[str, Any]]:
        return views.service_groups(self.cfg, self.cat, self.queue)

    def _view_ticket(self) -> dict[str, Any]:
        t = self.ticket
        svc = self.cfg.service(t.service) if t.service else None
        return {
            "step": t.step,
            "service": t.service,
            "serviceName": views.service_name(svc, t.service) if t.service else both("", ""),
            "realName": bool(svc and svc.real_name),
            "result": t.result or {},
            "error": t.error or both("", ""),
            "printing": t.printing,
            "printed": "" if t.printed is None else ("yes" if t.printed else "no"),
            "printNote": t.print_note or both("", ""),
        }

    def _view_cases(self) -> dict[str, Any]:
        c = self.cases
        return {
            "step": c.step,
            "caseNo": c.case_no,
            "verify": c.verify,
            "field": c.focus,
            "items": list(c.items),
            "error": c.error or both("", ""),
            "via": c.via,
        }

    def _view_checkin(self) -> dict[str, Any]:
        c = self.checkin
        return {"step": c.step, "result": c.result or {}, "error": c.error or both("", ""),
                "printed": self._view_ticket()["printed"], "printNote": self._view_ticket()["printNote"]}

    def _view_guide(self) -> dict[str, Any]:
        g = self.guide
        return {
            "query": g.query,
            "category": g.category,
            "items": list(g.items),
            "categories": list(g.categories),
            "item": g.item or {},
            "loading": g.loading,
            "error": g.error or both("", ""),
            "printNote": g.print_note or both("", ""),
        }

    def _view_rate(self) -> dict[str, Any]:
        r = self.rate
        return {
            "step": r.step,
            "caseNo": r.case_no,
            "verify": r.verify,
            "field": r.focus,
            "cases": list(r.cases),
            "chosen": r.chosen or {},
            "level": r.level,
            "reasons": list(r.reasons),
            "levels": [{"level": lv, "text": self.cat.text(level_key(lv))} for lv in LEVELS],
            "reasonList": [{"code": c, "text": self.cat.text(reason_key(c))} for c in REASONS],
            "error": r.error or both("", ""),
        }
