"""The one rating vocabulary of 政务服务"好差评" (SPEC 4.2): levels, reason codes, their words and the rule.

The tablet, the terminal (and the phone page to come) show exactly these levels and reasons
in these words, check a rating with `rating_problem` before they send it, and the
controller's `rating.submit` refuses whatever `rating_problem` refuses. Nothing else in
the code base lists a reason or decides when a comment is needed; `docs/protocol.md`
prints this table (`hallbus docs`).

The rule, decided once: levels 1-2 are bad ratings and need at least one reason; the
reason `other` (其他) needs a comment saying what happened (SPEC 4.2 "other + comment"), on
every device; a comment is at most COMMENT_MAX characters.
"""

from __future__ import annotations

# level -> (zh_CN, en); shown in this order (5 first), never pre-selected
LEVELS: dict[int, tuple[str, str]] = {
    5: ("非常满意", "Very satisfied"),
    4: ("满意", "Satisfied"),
    3: ("基本满意", "Fairly satisfied"),
    2: ("不满意", "Dissatisfied"),
    1: ("非常不满意", "Very dissatisfied"),
}
BAD_LEVELS = frozenset({1, 2})
# reason code -> (zh_CN, en); one code per distinct complaint (效率 and 超时 are one: SPEC "efficiency/overdue")
REASONS: dict[str, tuple[str, str]] = {
    "attitude": ("服务态度不好", "Unfriendly attitude"),
    "efficiency": ("办事慢或超时", "Slow or late"),
    "competence": ("业务不熟练", "Did not know the rules"),
    "not_told_once": ("没有一次性告知", "Not told everything at once"),
    "asked_again": ("让我多次跑腿", "Asked to come again"),
    "unreasonable_materials": ("要求提供不合理材料", "Unreasonable document demands"),
    "integrity": ("廉洁问题", "Integrity problem"),
    "other": ("其他", "Other"),
}
NEEDS_COMMENT = frozenset({"other"})
COMMENT_MAX = 200


def needs_reasons(level: int) -> bool:
    """Bad ratings (1-2) need at least one reason."""
    return level in BAD_LEVELS


def rating_problem(level: int, reasons: list[str], comment: str) -> tuple[str, str, str] | None:
    """What is wrong with a rating, as (error code, zh_CN, en), or None when it may be sent."""
    if level not in LEVELS:
        return "bad_level", "评价等级应为1到5。", "The level must be 1 to 5."
    unknown = [r for r in reasons if r not in REASONS]
    if unknown:
        return (
            "bad_reason",
            f"不认识的评价原因：{'、'.join(unknown)}。",
            f"Unknown reason code(s): {', '.join(unknown)}; expected {', '.join(REASONS)}.",
        )
    if needs_reasons(level) and not reasons:
        return (
            "reasons_required",
            "请至少选择一项不满意的原因，以便我们整改。",
            "Please choose at least one reason for a bad rating so it can be put right.",
        )
    if NEEDS_COMMENT.intersection(reasons) and not comment.strip():
        return "comment_required", "选择了“其他”，请写下具体意见。", "You chose “Other”: please write what happened."
    if len(comment) > COMMENT_MAX:
        return (
            "comment_too_long",
            f"意见请不要超过{COMMENT_MAX}字。",
            f"Please keep the comment under {COMMENT_MAX} characters.",
        )
    return None
