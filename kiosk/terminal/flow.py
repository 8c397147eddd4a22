"""What every flow of the terminal is (one screen, one section, its own steps), and what it may ask of the terminal.

A flow (取号, 办件查询, 预约签到, 办事指南, 服务评价) is a small object owning one section of
`TerminalState`: its fields, the buttons of its screen, what it does with a card or a QR code
while it is open, one step back, and `view()` for QML. It reaches the rest of the terminal only
through `Terminal` below (the person, RPCs and blocking work dropped after a reset, change
notices), so each flow can be read, and changed, on its own.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from hallbus import schemas
from hallbus.config import HallConfig
from kiosk.common import keypad
from kiosk.common.i18n import Catalogue, Text
from kiosk.common.person import Person
from kiosk.common.port import R
from kiosk.common.rating import RatingSink

CASE_NO_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-"
VERIFY_CHARS = "0123456789X"


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


class Terminal(Protocol):
    """What a flow may use of the terminal it belongs to (`TerminalState`)."""

    cfg: HallConfig
    cat: Catalogue
    node: str
    person: Person | None
    printer: Printer | None
    ratings: RatingSink | None

    def changed(self, *sections: str) -> None:
        """Tell the view-model these sections changed."""
        ...

    def call(
        self,
        method: schemas.Rpc[R],
        body: dict[str, Any],
        on_ok: Callable[[R], None],
        on_error: Callable[[Text], None],
        *,
        on_refused: Callable[[str], bool] | None = None,
    ) -> None:
        """An RPC; `on_ok` gets the method's reply type, `on_error` the words a person reads.

        `on_refused` hears the controller's error code first; True: dealt with, nothing is said.
        Answers for an earlier session are dropped.
        """
        ...

    def today(self) -> dt.date:
        """The terminal's date (card validity, the green channel's age)."""
        ...

    def run(self, work: Callable[[], Any], on_ok: Callable[[Any], None], on_error: Callable[[BaseException], None]) -> None:
        """Blocking work (printing) off the screen's thread. Answers for an earlier session are dropped."""
        ...

    def card_ref(self) -> dict[str, Any] | None:
        """The person's `IdCardRef` for a request body, or None when nobody swiped a card."""
        ...

    def show(self, screen: str) -> None:
        """Switch to another flow's screen as it is (the one-touch pickup ticket opens the ticket screen)."""
        ...


class Flow:
    """One flow of the terminal; `clear()` sets every field to its fresh value."""

    SECTION: ClassVar[str]

    def __init__(self, terminal: Terminal) -> None:
        self.terminal = terminal
        self.clear()

    def clear(self) -> None:
        """Every field as when the flow was never used."""

    def is_fresh(self) -> bool:
        """True when nothing of an earlier use remains (tests check this after a reset)."""
        fresh = copy.copy(self)
        fresh.clear()
        return vars(fresh) == vars(self)

    def changed(self) -> None:
        """Tell the view-model this flow's section changed."""
        self.terminal.changed(self.SECTION)

    def start(self) -> None:
        """The flow's screen was opened from home (fields are fresh); a known person may start it at once."""

    def card_read(self, person: Person) -> None:
        """A card was read while this flow is open; by default only a valid card is acted on."""
        if not person.expired:
            self.on_card()

    def on_card(self) -> None:
        """A valid card was read while this flow is open (`terminal.card_ref()` is set)."""

    def on_qr(self, text: str) -> None:
        """A QR code was scanned while this flow is open."""

    def back(self) -> bool:
        """One step back within the flow; False when there is none (the terminal goes home)."""
        return False

    def view(self) -> dict[str, Any]:
        """What the screen shows of this flow (plain data for QML)."""
        raise NotImplementedError


@dataclass
class CaseEntry:
    """The case number and the last 6 of the ID number, typed on the on-screen keypad (cases and rating)."""

    case_no: str = ""
    verify: str = ""
    focus: str = "caseNo"  # caseNo | verify

    def field(self, name: str) -> bool:
        """Move the keypad to `caseNo` or `verify`; False for any other name."""
        if name not in ("caseNo", "verify"):
            return False
        self.focus = name
        return True

    def key(self, key: str) -> None:
        """A key of the keypad, into the focused field."""
        if self.focus == "caseNo":
            self.case_no = keypad.press(self.case_no, key, max_len=32, allowed=CASE_NO_CHARS)
        else:
            self.verify = keypad.press(self.verify, key, max_len=6, allowed=VERIFY_CHARS)

    def problem(self, cat: Catalogue) -> Text | None:
        """What is missing before the case can be looked up, or None."""
        if not self.case_no:
            return cat.text("err_case_no_missing")
        if len(self.verify) != 6:
            return cat.text("err_verify_missing")
        return None

    def body(self) -> dict[str, Any]:
        """The lookup's request body."""
        return {"case_no": self.case_no, "verify": self.verify}

    def view(self) -> dict[str, Any]:
        """The keypad's fields for QML."""
        return {"caseNo": self.case_no, "verify": self.verify, "field": self.focus}


class TypedCaseFlow(Flow):
    """A flow that finds a case by number + last 6 of the ID number typed on its keypad (cases, rating)."""

    entry: CaseEntry
    error: Text | None

    def field(self, name: str) -> None:
        """Move the keypad to `caseNo` or `verify`."""
        if self.entry.field(name):
            self.changed()

    def key(self, key: str) -> None:
        """A key of the on-screen keypad."""
        self.entry.key(key)
        self.error = None
        self.changed()

    def submit(self) -> None:
        """Look up the typed case, or say what is missing."""
        self.error = self.entry.problem(self.terminal.cat)
        if self.error is None:
            self.look_up_typed(self.entry.body())
        else:
            self.changed()

    def look_up_typed(self, body: dict[str, Any]) -> None:
        """Send the lookup of a typed case."""
        raise NotImplementedError
