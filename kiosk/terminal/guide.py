"""办事指南: search by text or pinyin initials, categories, one item in full, its one-time notice printed."""

from __future__ import annotations

import logging
from typing import Any

from hallbus import schemas
from kiosk.common import keypad
from kiosk.common.i18n import Text, both
from kiosk.terminal import views
from kiosk.terminal.flow import Flow

log = logging.getLogger(__name__)
INITIALS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


class GuideFlow(Flow):
    """The service guide."""

    SECTION = "guide"

    def clear(self) -> None:
        """No search, no category, no item open."""
        self.query = ""
        self.category = ""
        self.items: list[dict[str, Any]] = []
        self.categories: list[str] = []
        self.item: dict[str, Any] | None = None
        self.loading = False
        self.error: Text | None = None
        self.printed: bool | None = None
        self.print_note: Text | None = None

    def start(self) -> None:
        """All items, and the categories they fall in."""
        self.search(initial=True)

    def back(self) -> bool:
        """From an open item back to the list."""
        if self.item is None:
            return False
        self.item = None
        self.printed = None
        self.print_note = None
        self.changed()
        return True

    # --- searching --------------------------------------------------------------------------

    def key(self, key: str) -> None:
        """A key of the initials keypad (letters, back, clear)."""
        self.query = keypad.press(self.query, key, max_len=12, allowed=INITIALS)
        self.search()

    def text(self, text: str) -> None:
        """Search by a word (a suggested term or typed text)."""
        self.query = text.strip()[:20]
        self.search()

    def choose_category(self, category: str) -> None:
        """Show one category (the same one again: all)."""
        self.category = "" if category == self.category else category
        self.search()

    def search(self, initial: bool = False) -> None:
        """`guide.list` for the query and category; an answer to an older search is dropped."""
        self.loading = True
        self.error = None
        self.changed()
        body: dict[str, Any] = {"q": self.query}
        if self.category:
            body["category"] = self.category
        asked = (self.query, self.category)
        t = self.terminal

        def ok(reply: schemas.GuideListReply) -> None:
            if (self.query, self.category) != asked:
                return  # a newer search is under way
            self.items = [views.guide_summary(i) for i in reply.items]
            self.loading = False
            if initial:
                self.categories = list(dict.fromkeys(i["category"] for i in self.items if i["category"]))
            self.error = None if self.items else t.cat.text("guide_none")
            self.changed()

        t.call(schemas.GUIDE_LIST, body, ok, self._failed)

    def _failed(self, text: Text) -> None:
        self.loading = False
        self.error = text
        self.changed()

    # --- one item ---------------------------------------------------------------------------

    def open(self, item: str) -> None:
        """Show one guide item in full."""
        self.loading = True
        self.changed()

        def ok(reply: schemas.GuideGetReply) -> None:
            self.loading = False
            self.item = views.guide_detail(reply.item)
            self.printed = None
            self.print_note = None
            self.changed()

        self.terminal.call(schemas.GUIDE_GET, {"item": item}, ok, self._failed)

    def print_notice(self) -> None:
        """Print the one-time notice (一次性告知单) of the open item."""
        t = self.terminal
        item = self.item
        if item is None:
            return
        printer = t.printer
        if printer is None or not printer.ready():
            self._printed(False)
            return
        payload = dict(item, hallName=t.cfg.hall.name)

        def failed(err: BaseException) -> None:
            log.warning("notice not printed: %s", err)
            self._printed(False)

        self.printed = None
        self.print_note = t.cat.text("printing")
        self.changed()
        t.run(lambda: printer.print_notice(payload), lambda _r: self._printed(True), failed)

    def _printed(self, done: bool) -> None:
        self.printed = done
        self.print_note = self.terminal.cat.text("print_notice_done" if done else "print_notice_unavailable")
        self.changed()

    def view(self) -> dict[str, Any]:
        """The guide screen."""
        return {
            "query": self.query,
            "category": self.category,
            "items": list(self.items),
            "categories": list(self.categories),
            "item": self.item or {},
            "loading": self.loading,
            "error": self.error or both("", ""),
            "printNote": self.print_note or both("", ""),
        }
