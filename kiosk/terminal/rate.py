"""服务评价 (一事一评): find the case (number + verify, or card), five levels, reasons for a bad one, thanks.

The rating carries the proof the case was found with (the card, or the last 6 of the ID
number): the controller rates only a case its applicant proves (`rating.submit`).
"""

from __future__ import annotations

import uuid
from typing import Any

from hallbus import schemas
from kiosk.common.i18n import Text, both
from kiosk.common.rating import (
    COMMENT_MAX,
    LEVELS,
    REASONS,
    needs_reasons,
    problem_text,
    rating_view,
)
from kiosk.terminal import views
from kiosk.terminal.flow import CaseEntry, TypedCaseFlow


class RateFlow(TypedCaseFlow):
    """Rate one finished matter; the rating goes into the durable outbox."""

    SECTION = "rate"

    def clear(self) -> None:
        """No case found yet."""
        self.step = "case"  # case | pick | level | reasons | thanks
        self.entry = CaseEntry()
        self.cases: list[dict[str, Any]] = []
        self.not_yet: list[dict[str, Any]] = []  # the person's cases still being handled (cannot be rated yet)
        self.chosen: dict[str, Any] | None = None
        self.proof: dict[str, Any] = {}  # how the listed cases were found: {"id_card": ...} or {"verify": ...}
        self.level = 0
        self.reasons: list[str] = []
        self.comment = ""
        self.error: Text | None = None

    def start(self) -> None:
        """A person already known by card picks among their cases at once."""
        if self.terminal.person is not None:
            self.lookup({"id_card": self.terminal.card_ref()})

    def on_card(self) -> None:
        """A card finds the person's cases while no case is chosen yet."""
        if self.step in ("case", "pick"):
            self.lookup({"id_card": self.terminal.card_ref()})

    def back(self) -> bool:
        """From the faces or the reasons back to finding the case."""
        if self.step not in ("level", "reasons"):
            return False
        self.step = "pick" if self.cases else "case"
        self.level = 0
        self.reasons = []
        self.comment = ""
        self.changed()
        return True

    # --- finding the case -------------------------------------------------------------------

    def look_up_typed(self, body: dict[str, Any]) -> None:
        """Find the typed case before rating it."""
        self.lookup(body)

    def lookup(self, body: dict[str, Any]) -> None:
        """`case.query`: only finished cases can be rated (the controller refuses the others).

        One typed finished case goes straight to the faces; a person's finished cases are listed,
        and the ones still being handled are named with the reason they cannot be rated yet.
        """
        self.error = None
        self.changed()
        t = self.terminal

        def ok(reply: schemas.CaseQueryReply) -> None:
            found = [views.case_view(t.cfg, t.cat, c) for c in reply.cases]
            self.proof = {k: body[k] for k in ("id_card", "verify") if body.get(k) is not None}
            self.cases = [c for c in found if c["status"] in schemas.CASE_FINISHED_STATUSES]
            self.not_yet = [c for c in found if c["status"] not in schemas.CASE_FINISHED_STATUSES]
            if not found:
                self.step = "case"
                self.error = t.cat.text("rate_case_not_found")
            elif not self.cases:
                self.step = "case"
                self.error = self._not_yet_text()
            elif len(self.cases) == 1 and "case_no" in body:
                self.chosen = self.cases[0]
                self.step = "level"
            else:
                self.step = "pick"
            self.changed()

        def failed(text: Text) -> None:
            self.step = "case"
            self.error = text
            self.changed()

        t.call(schemas.CASE_QUERY, body, ok, failed)

    def _not_yet_text(self) -> Text:
        """Why the cases still being handled are not offered: each one named with its status."""
        cat = self.terminal.cat
        names = {
            lang: sep.join(f"{c['item']}（{c['statusText'][lang]}）" if lang == "zh_CN" else f"{c['item']} ({c['statusText'][lang]})"
                           for c in self.not_yet)
            for lang, sep in (("zh_CN", "；"), ("en", "; "))
        }
        return {lang: cat.get(lang, "rate_not_finished", cases=names[lang]) for lang in names}

    def pick(self, case_no: str) -> None:
        """Choose which of the person's cases to rate."""
        chosen = next((c for c in self.cases if c["caseNo"] == case_no), None)
        if chosen is not None:
            self.chosen = chosen
            self.step = "level"
            self.changed()

    # --- rating -----------------------------------------------------------------------------

    def choose_level(self, level: int) -> None:
        """One of the five faces was touched."""
        if level not in LEVELS or self.chosen is None:
            return
        self.level = level
        self.reasons = []
        self.comment = ""
        if needs_reasons(level):
            self.step = "reasons"
            self.changed()
        else:
            self._submit()

    def toggle_reason(self, code: str) -> None:
        """Toggle one reason of a bad rating."""
        if code not in REASONS:
            return
        if code in self.reasons:
            self.reasons.remove(code)
        else:
            self.reasons.append(code)
        self.error = None
        self.changed()

    def set_comment(self, text: str) -> None:
        """The comment of a bad rating (needed with the reason "other", as on the tablet)."""
        if self.step != "reasons":
            return
        self.comment = text[:COMMENT_MAX]
        self.error = None
        self.changed()

    def send(self) -> None:
        """Send a bad rating with its reasons, checked by the one rating rule."""
        self.error = problem_text(self.level, self.reasons, self.comment)
        if self.error is not None:
            self.changed()
            return
        self._submit()

    def _submit(self) -> None:
        ratings = self.terminal.ratings
        if ratings is None:
            self.error = self.terminal.cat.text("err_controller_unreachable")
            self.changed()
            return
        chosen = self.chosen or {}
        ratings.put("rating.submit", {
            "rating_id": str(uuid.uuid4()),
            "case_no": chosen.get("caseNo"),
            "level": self.level,
            "reasons": list(self.reasons),
            "comment": self.comment.strip(),
            **self.proof,
        })
        self.step = "thanks"
        self.changed()

    def view(self) -> dict[str, Any]:
        """The rating screen."""
        cat = self.terminal.cat
        return {
            "step": self.step,
            **self.entry.view(),
            "cases": list(self.cases),
            "notYet": self._not_yet_text() if self.not_yet else both("", ""),
            "chosen": self.chosen or {},
            **rating_view(cat, self.terminal.cfg, self.level, self.reasons, self.comment),
            "error": self.error or both("", ""),
        }
