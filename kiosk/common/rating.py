"""The five levels and the reason codes of 政务服务"好差评" (SPEC 4.2), shared by terminal and tablet."""

from __future__ import annotations

from typing import Any, Protocol

from kiosk.common.i18n import Catalogue

# level -> catalogue key; 5 非常满意 ... 1 非常不满意. Shown in this order, never pre-selected.
LEVELS: tuple[int, ...] = (5, 4, 3, 2, 1)
BAD_LEVELS = frozenset({1, 2})
# reason codes for levels 1-2 (at least one is required)
REASONS: tuple[str, ...] = (  # the controller's codes (hallbus.records.ratings.REASONS); a test keeps them equal
    "attitude",
    "efficiency",
    "overdue",
    "competence",
    "not_told_once",
    "asked_again",
    "unreasonable_materials",
    "integrity",
    "other",
)


def level_key(level: int) -> str:
    """Catalogue key of a level's words."""
    return f"rating_level_{level}"


def reason_key(code: str) -> str:
    """Catalogue key of a reason's words."""
    return f"rating_reason_{code}"


def needs_reasons(level: int) -> bool:
    """Bad ratings (1-2) need at least one reason."""
    return level in BAD_LEVELS


def level_choices(cat: Catalogue) -> list[dict[str, Any]]:
    """The five faces as a screen lists them: level and words."""
    return [{"level": lv, "text": cat.text(level_key(lv))} for lv in LEVELS]


def reason_choices(cat: Catalogue) -> list[dict[str, Any]]:
    """The reasons of a bad rating as a screen lists them: code and words."""
    return [{"code": c, "text": cat.text(reason_key(c))} for c in REASONS]


class RatingSink(Protocol):
    """Where ratings go: a durable outbox (`hallbus.outbox.Outbox`); a rating must never be lost."""

    def put(self, method: str, body: dict[str, Any], request_id: str | None = None) -> str:
        """Store a request durably for delivery; returns its request id."""
        ...
