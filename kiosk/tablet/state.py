"""Everything the evaluation tablet (窗口服务评价平板) knows, without Qt.

Idle, it shows who serves at its window. When the window's retained state carries a
`rating_request`, it shows five faces (none chosen, none highlighted); a bad level asks for
at least one reason and a comment when the reason is "other" (the one rule of
`hallbus.schemas.rating`); then thanks, with the hall's follow-up promise for a bad one. A rating goes into the durable
outbox first (it survives a broker outage and a restart) and is never sent twice: after
the first tap on a level or on "send", further taps do nothing. Without a touch for
`[ratings] tablet_timeout_s`, or when the request expires or is cleared, it goes back to
idle and nothing is recorded (never a default "satisfied").
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from hallbus import schemas, wording
from hallbus.config import HallConfig
from kiosk.common.i18n import Catalogue, Text, both
from kiosk.common.rating import (
    COMMENT_MAX,
    LEVELS,
    REASONS,
    RatingSink,
    needs_reasons,
    problem_text,
    rating_view,
)
from kiosk.common.sections import Sectioned, configured_window

log = logging.getLogger(__name__)

THANKS_S = 6.0


def request_key(rr: schemas.RatingRequest) -> str:
    """One handling's rating request, as the tablet recognises it again."""
    return rr.request_id or f"{rr.ticket}|{rr.staff}|{rr.expires_at}"


def photo_url(cfg: HallConfig, photo: str) -> str:
    """A staff photo as a URL QML can load, or '' for the placeholder (missing file, no photo)."""
    if not photo:
        return ""
    if "://" in photo:
        return photo
    path = cfg.resolve(photo)
    return path.as_uri() if Path(path).is_file() else ""


class TabletState(Sectioned):
    """The tablet of one window; Qt-free."""

    SECTIONS = ("screen", "idle", "rating", "link")

    def __init__(
        self,
        cfg: HallConfig,
        catalogue: Catalogue,
        ratings: RatingSink,
        *,
        window: str,
        timeout_s: float | None = None,
        thanks_s: float = THANKS_S,
        clock: Callable[[], float] = time.monotonic,
        already_sent: Iterable[dict[str, Any]] = (),
    ) -> None:
        super().__init__()
        win = configured_window(cfg, window, "tablet")
        self.cfg = cfg
        self.cat = catalogue
        self.ratings = ratings
        self.window_id = window
        self.win = win
        self.timeout_s = float(timeout_s if timeout_s is not None else cfg.ratings.tablet_timeout_s)
        self.thanks_s = thanks_s
        self.clock = clock
        self.state: schemas.WindowState | None = None
        self.connected = False
        # rating requests already answered here (also those still in the outbox after a restart)
        self.answered: set[str] = {
            str(b["rating_request_id"]) for b in already_sent if b.get("rating_request_id")
        }
        self.submitted = 0
        self._reset_rating()

    def _reset_rating(self) -> None:
        self.screen = "idle"  # idle | faces | reasons | thanks
        self.request: schemas.RatingRequest | None = None
        self.level = 0
        self.reasons: list[str] = []
        self.comment = ""
        self.error: Text | None = None
        self.last_touch = self.clock()
        self.thanks_until = 0.0

    # --- bus --------------------------------------------------------------------------------

    def on_window_state(self, state: schemas.WindowState) -> None:
        """The window's retained state: who serves, paused, and any open rating request."""
        if state.window != self.window_id:
            return
        self.state = state
        rr = state.rating_request
        sections = {"idle"}
        if self.screen in ("faces", "reasons"):
            assert self.request is not None
            if rr is None or request_key(rr) != request_key(self.request):
                log.info(
                    "rating request %s expired or was cleared; back to idle",
                    request_key(self.request)[:8],
                )
                self._reset_rating()
                sections |= {"screen", "rating"}
        # "thanks" too: the next person, finished within THANKS_S of the last rating, is asked
        # at once; waiting for the thanks to end would lose the request (no new state comes then).
        if rr is not None and self.screen in ("idle", "thanks") and request_key(rr) not in self.answered:
            self._reset_rating()
            self.request = rr
            self.screen = "faces"
            sections |= {"screen", "rating"}
        self._changed(*sections)

    def on_connection(self, up: bool) -> None:
        """The broker went up or down (ratings wait in the outbox meanwhile)."""
        self.connected = up
        self._changed("link")

    # --- touches ----------------------------------------------------------------------------

    def touch(self) -> None:
        """Any touch on the screen: the person is still there."""
        self.last_touch = self.clock()

    def choose_level(self, level: int) -> None:
        """One of the five faces was tapped."""
        if self.screen != "faces" or level not in LEVELS:
            return  # a second tap after submitting, or a tap while idle, does nothing
        self.touch()
        self.level = level
        self.reasons = []
        self.error = None
        if needs_reasons(level):
            self.screen = "reasons"
            self._changed("screen", "rating")
        else:
            self._submit()

    def toggle_reason(self, code: str) -> None:
        """Toggle one reason of a bad rating."""
        if self.screen != "reasons" or code not in REASONS:
            return
        self.touch()
        if code in self.reasons:
            self.reasons.remove(code)
        else:
            self.reasons.append(code)
        self.error = None
        self._changed("rating")

    def set_comment(self, text: str) -> None:
        """The optional comment (required with the reason "other")."""
        if self.screen != "reasons":
            return
        self.touch()
        self.comment = text[:COMMENT_MAX]
        if self.error is not None:
            self.error = None
        self._changed("rating")

    def back(self) -> None:
        """From the reasons back to the faces (another level may be chosen)."""
        if self.screen == "reasons":
            self.touch()
            self.screen = "faces"
            self.level = 0
            self.reasons = []
            self.error = None
            self._changed("screen", "rating")

    def send(self) -> None:
        """Send a bad rating with its reasons."""
        if self.screen != "reasons":
            return
        self.touch()
        self.error = problem_text(self.level, self.reasons, self.comment)
        if self.error is None:
            self._submit()
            return
        self._changed("rating")

    def _submit(self) -> None:
        rr = self.request
        assert rr is not None
        rating_id = str(uuid.uuid4())
        body: dict[str, Any] = {
            "rating_id": rating_id,
            "window": self.window_id,
            "ticket": rr.ticket,
            "case_no": rr.case_no,
            "staff": rr.staff,
            "level": self.level,
            "reasons": list(self.reasons),
            "comment": self.comment.strip(),
            "made_at": schemas.now_iso(),  # when the citizen rated, whatever the delivery delay
            "rating_request_id": request_key(rr),
            "handling_id": rr.handling_id or rr.request_id or None,  # exactly the handling asked about
        }
        # Stored durably before the screen says thanks; the outbox delivers (and retries) it.
        self.ratings.put("rating.submit", body, request_id=rating_id)
        self.answered.add(request_key(rr))
        self.submitted += 1
        self.screen = "thanks"
        self.thanks_until = self.clock() + self.thanks_s
        self._changed("screen", "rating")

    def tick(self) -> None:
        """Once a second while a rating is open: time out back to idle."""
        now = self.clock()
        if self.screen in ("faces", "reasons") and now - self.last_touch >= self.timeout_s:
            log.info("nobody rated within %.0f s; back to idle, nothing recorded", self.timeout_s)
        elif not (self.screen == "thanks" and now >= self.thanks_until):
            return
        self._reset_rating()
        self._changed("screen", "rating")

    @property
    def active(self) -> bool:
        """True while the screen is not idle (the view-model ticks only then)."""
        return self.screen != "idle"

    # --- views ------------------------------------------------------------------------------

    def _view_screen(self) -> str:
        return self.screen

    def _view_idle(self) -> dict[str, Any]:
        st = self.state
        staff = st.staff if st is not None else None
        status = st.status if st is not None else "unknown"
        return {
            "windowName": both(self.win.name, self.win.name_en or self.win.name),
            "status": status,
            "paused": status in ("paused", "closed"),
            "statusText": wording.window_state(status),
            "hint": wording.window_hint(status),
            "pauseReason": (st.pause_reason or "") if st is not None else "",
            "staff": staff is not None,
            "staffName": staff.name if staff else "",
            "staffId": staff.id if staff else "",
            "staffTitle": wording.staff_title(staff.title if staff else ""),
            "photo": photo_url(self.cfg, staff.photo_url) if staff else "",
            "initial": staff.name[:1] if staff else "",
            "stars": round(staff.stars) if staff else 0,
            "starsText": f"{staff.stars:.1f}" if staff else "",
        }

    def _view_rating(self) -> dict[str, Any]:
        return {
            "ticket": (self.request.ticket or "") if self.request else "",
            **rating_view(self.cat, self.cfg, self.level, self.reasons, self.comment),
            "bad": needs_reasons(self.level) if self.level else False,
            "error": self.error or both("", ""),
        }

    def _view_link(self) -> dict[str, Any]:
        return {"connected": self.connected}
