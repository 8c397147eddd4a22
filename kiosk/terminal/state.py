"""Everything the self-service terminal (自助一体机) knows, without Qt.

`TerminalState` holds the screen being shown, the person who swiped a card (masked, hashed), the
message band and the queue, and one flow object per screen: take a ticket (`ticket.py`), case
status (`cases.py`), appointment check-in (`checkin.py`), service guide (`guide.py`) and rating
(`rate.py`). Each flow owns the section named like its screen. Views read `view(section)`; buttons
call the flows; a card or a QR code goes to the open flow; slow work goes through a `Port` and
comes back on the same thread. `reset()` forgets the last person entirely: any answer that arrives
afterwards for an older session is dropped (the session `epoch` changed).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from devices.idcard import CardData
from hallbus.config import HallConfig
from hallbus.rpc import RpcFault
from hallbus.schemas import QueueState, Rpc, ServiceQueue, WindowState, to_builtins
from kiosk.common.faults import fault_text
from kiosk.common.hallsettings import config_serving
from kiosk.common.i18n import Catalogue, Text, both
from kiosk.common.person import NOBODY, Person, person_from_card
from kiosk.common.port import Port, R
from kiosk.common.rating import RatingSink
from kiosk.common.sections import Sectioned
from kiosk.terminal import views
from kiosk.terminal.cases import CasesFlow
from kiosk.terminal.checkin import CheckinFlow
from kiosk.terminal.flow import Flow, Printer
from kiosk.terminal.guide import GuideFlow
from kiosk.terminal.rate import RateFlow
from kiosk.terminal.ticket import TicketFlow

log = logging.getLogger(__name__)
A = TypeVar("A")

# Controller error codes we explain in our own words (with what to do next); others keep theirs.
OWN_WORDS = {
    "unavailable": "err_controller_unreachable",
    "timeout": "err_controller_unreachable",
}


class TerminalState(Sectioned):
    """The terminal's screens and the last person's session; Qt-free."""

    SECTIONS = ("screen", "person", "message", "services", "ticket", "cases", "checkin", "guide", "rate")

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
        super().__init__()
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
        self.epoch = 0
        self.screen = "home"
        self.person: Person | None = None
        self.message: dict[str, Any] | None = None
        self.ticket = TicketFlow(self)
        self.cases = CasesFlow(self, self.ticket)
        self.checkin = CheckinFlow(self, self.ticket)
        self.guide = GuideFlow(self)
        self.rate = RateFlow(self)
        self.flows: dict[str, Flow] = {f.SECTION: f for f in (self.ticket, self.cases, self.checkin, self.guide, self.rate)}

    def view(self, section: str) -> Any:
        """What the screen shows of one section: a flow's own view, or one of the terminal's."""
        flow = self.flows.get(section)
        return flow.view() if flow is not None else super().view(section)

    def changed(self, *sections: str) -> None:
        """Tell the listeners (the view-model) these sections changed."""
        self._changed(*sections)

    # --- session ------------------------------------------------------------------------

    def has_session(self) -> bool:
        """True while there is anything about a person to forget (the idle timer counts then)."""
        return self.screen != "home" or self.person is not None or self.message is not None

    def is_empty(self) -> bool:
        """True when nothing about the last person remains (checked by tests after reset)."""
        return (
            self.screen == "home"
            and self.person is None
            and self.message is None
            and all(flow.is_fresh() for flow in self.flows.values())
        )

    def reset(self) -> None:
        """Back home and forget everything about the last person; late answers are dropped."""
        self.epoch += 1
        self.screen = "home"
        self.person = None
        self.message = None
        for flow in self.flows.values():
            flow.clear()
        self._changed(*self.SECTIONS)

    def go(self, screen: str) -> None:
        """Open a screen from home (each flow starts fresh)."""
        if screen != "home" and screen not in self.flows:
            raise ValueError(f"unknown screen {screen!r}")
        self.message = None
        self.screen = screen
        self._changed("screen", "message")
        flow = self.flows.get(screen)
        if flow is not None:
            flow.clear()
            flow.start()
            flow.changed()

    def show(self, screen: str) -> None:
        """Switch to a flow's screen as it is (a flow handing over to another one)."""
        self.screen = screen
        self._changed("screen")

    def back(self) -> None:
        """One step back within the open flow, or home."""
        flow = self.flows.get(self.screen)
        if flow is not None and flow.back():
            return
        self.screen = "home"
        self.message = None
        self._changed("screen", "message")

    def dismiss_message(self) -> None:
        """Close the message band."""
        self.message = None
        self._changed("message")

    def _say(self, key: str, level: str = "info", **params: Any) -> None:
        self.message = {"text": self.cat.text(key, **params), "level": level}
        self._changed("message")

    def _guard(self, fn: Callable[[A], None]) -> Callable[[A], None]:
        """Wrap a callback so it is dropped when the session was reset in the meantime."""
        epoch = self.epoch

        def wrapped(arg: A) -> None:
            if self.epoch != epoch:
                log.debug("dropped a late answer for an earlier session")
                return
            fn(arg)

        return wrapped

    def call(
        self,
        method: Rpc[R],
        body: dict[str, Any],
        on_ok: Callable[[R], None],
        on_error: Callable[[Text], None],
        *,
        on_refused: Callable[[str], bool] | None = None,
    ) -> None:
        """An RPC through the port; `on_ok` gets the method's reply type, `on_error` the words a person reads.

        `on_refused` hears the controller's error code first and returns True when it dealt with
        it (a person is then told nothing). Dropped after a reset.
        """

        def failed(err: BaseException) -> None:
            if on_refused is not None and isinstance(err, RpcFault) and on_refused(err.code):
                return
            on_error(fault_text(self.cat, err, OWN_WORDS))

        self.port.call(method, body, self._guard(on_ok), self._guard(failed))

    def run(self, work: Callable[[], Any], on_ok: Callable[[Any], None], on_error: Callable[[BaseException], None]) -> None:
        """Blocking work through the port (printing). Dropped after a reset."""
        self.port.run(work, self._guard(on_ok), self._guard(on_error))

    def card_ref(self) -> dict[str, Any] | None:
        """The person's `IdCardRef` for a request body, or None."""
        return to_builtins(self.person.ref) if self.person else None

    # --- bus ----------------------------------------------------------------------------

    def on_queue_state(self, state: QueueState) -> None:
        """Retained `queue/state` arrived: waiting counts and estimated waits per service."""
        self.queue = {s.code: s for s in state.services}
        self._changed("services")

    def on_window_state(self, state: WindowState) -> None:
        """A window's retained state: the services it serves now (a manager may change them without a restart)."""
        cfg = config_serving(self.cfg, state.window, state.services)
        if cfg is not self.cfg:
            self.cfg = cfg
            self._changed("services")

    def on_connection(self, up: bool) -> None:
        """The broker connection went up or down."""
        self.connected = up

    # --- devices ------------------------------------------------------------------------

    def on_card(self, card: CardData) -> None:
        """A card was read: remember the person (masked, hashed), then let the open flow act on it."""
        if self.hall_key is None:
            self._say("err_no_hall_key", "error")
            return
        person = self.person = person_from_card(card, self.hall_key, self.today())
        del card
        self.message = None
        self._changed("person", "message")
        if person.expired:
            self._say("err_card_expired", "error", valid_to=person.valid_to)
        flow = self.flows.get(self.screen)
        if flow is not None:
            flow.card_read(person)
        elif not person.expired:
            self._say("card_welcome", name=person.name_masked)

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
        flow = self.flows.get(self.screen)
        if flow is not None:
            flow.on_qr(text)
        else:
            self._say("qr_where")

    # --- the terminal's own sections ------------------------------------------------------

    def _view_screen(self) -> str:
        return self.screen

    def _view_person(self) -> dict[str, Any]:
        return self.person.view() if self.person else dict(NOBODY)

    def _view_message(self) -> dict[str, Any]:
        return self.message or {"text": both("", ""), "level": ""}

    def _view_services(self) -> list[dict[str, Any]]:
        return views.service_groups(self.cfg, self.cat, self.queue)
