"""The rating screens' side of 政务服务"好差评": the one vocabulary (`hallbus.schemas.rating`) as screens show it.

Terminal and tablet list the same five faces and the same reasons in the same words, check a
rating by the same rule before sending it, and make the same promise for a bad one (the
follow-up deadline, `[ratings] followup_days`, from the config).
"""

from __future__ import annotations

from typing import Any, Protocol

from hallbus.config import HallConfig
from hallbus.schemas.rating import (
    COMMENT_MAX,
    LEVELS,
    NEEDS_COMMENT,
    REASONS,
    needs_reasons,
    rating_problem,
)
from kiosk.common.i18n import Catalogue, Text, both

__all__ = [
    "COMMENT_MAX", "LEVELS", "REASONS", "needs_comment", "needs_reasons", "problem_text", "rate_text", "satisfaction",
]


def rate_text(rate: float | None) -> str:
    """A rate as a percentage, or a dash when there is nothing to rate yet."""
    return "—" if rate is None else f"{rate * 100:.0f}%"


def satisfaction(cfg: HallConfig, cat: Catalogue, rate: float | None, ratings: int) -> dict[str, Any]:
    """满意率 and the count it stands on, as the hall screen and the counter show it: a rate only
    from `[kiosk] satisfaction_min_ratings` ratings (a rate of one or two ratings says nothing),
    below that a dash and how many there are."""
    least = max(1, cfg.kiosk.satisfaction_min_ratings)
    if rate is None or ratings < least:
        return {"satisfaction": "—", "satisfactionNote": cat.text("hall_ratings_few", n=ratings, least=least)}
    return {"satisfaction": rate_text(rate), "satisfactionNote": cat.text("hall_ratings_count", n=ratings)}


def level_choices() -> list[dict[str, Any]]:
    """The five faces as a screen lists them (5 first): level and words."""
    return [{"level": lv, "text": both(*words)} for lv, words in LEVELS.items()]


def reason_choices() -> list[dict[str, Any]]:
    """The reasons of a bad rating as a screen lists them: code, words, whether it needs a comment."""
    return [{"code": c, "text": both(*words), "comment": c in NEEDS_COMMENT} for c, words in REASONS.items()]


def needs_comment(reasons: list[str]) -> bool:
    """Whether the chosen reasons need a comment (the reason "other")."""
    return bool(NEEDS_COMMENT.intersection(reasons))


def problem_text(level: int, reasons: list[str], comment: str) -> Text | None:
    """Why a rating cannot be sent yet, in both languages, or None when it can."""
    problem = rating_problem(level, reasons, comment)
    return both(problem[1], problem[2]) if problem is not None else None


def thanks_text(cat: Catalogue, cfg: HallConfig, level: int) -> Text:
    """The words after a rating: a bad one gets the hall's follow-up promise in working days."""
    if needs_reasons(level):
        return cat.text("rating_promise", n=cfg.ratings.followup_days)
    return cat.text("rating_thanks_good")


def rating_view(cat: Catalogue, cfg: HallConfig, level: int, reasons: list[str], comment: str) -> dict[str, Any]:
    """What a rating screen shows, the same on every device: faces, reasons, the comment, the thanks."""
    return {
        "level": level,
        "levels": level_choices(),
        "reasons": list(reasons),
        "reasonList": reason_choices(),
        "comment": comment,
        "commentNeeded": needs_comment(reasons),
        "commentMax": COMMENT_MAX,
        "thanks": thanks_text(cat, cfg, level) if level else both("", ""),
    }


class RatingSink(Protocol):
    """Where ratings go: a durable outbox (`hallbus.outbox.Outbox`); a rating must never be lost."""

    def put(self, method: str, body: dict[str, Any], request_id: str | None = None) -> str:
        """Store a request durably for delivery; returns its request id."""
        ...
