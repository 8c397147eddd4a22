"""到号短信提醒 at the terminal: the mobile number a citizen may type before the ticket is taken (optional).

Offered only when the hall notifies (`[notify] enabled`). The digits live here until the
ticket is taken or the citizen leaves; the screen shows them while they are typed, and only
masked (`138****5678`, as the controller's reply gives it) after that.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hallbus.notify.phone import MOBILE_LEN, is_mobile
from kiosk.common import keypad
from kiosk.common.i18n import Catalogue, Text, both

DIGITS = "0123456789"


@dataclass
class PhoneEntry:
    """The number typed so far on the keypad, and what is wrong with it."""

    digits: str = ""
    error: Text | None = None

    def key(self, key: str) -> None:
        """A key of the keypad: a digit, `back` or `clear`."""
        self.digits = keypad.press(self.digits, key, max_len=MOBILE_LEN, allowed=DIGITS)
        self.error = None

    def check(self, cat: Catalogue) -> str | None:
        """The number, when it is a mobile number; else None, with the sentence why in `error`."""
        if is_mobile(self.digits):
            return self.digits
        self.error = cat.text("err_phone")
        return None

    def view(self) -> dict[str, Any]:
        """The field as typed, in groups of 3-4-4 (easier to check against one's own number)."""
        d = self.digits
        groups = " ".join(part for part in (d[:3], d[3:7], d[7:]) if part)
        return {"digits": groups, "complete": len(d) == MOBILE_LEN, "error": self.error or both("", "")}
