"""The screen walk's checks (issue 16): what a person sees on any role's real QML, measured.

`check_screen(window)` looks at one settled screen of any role and returns what is wrong:

- `cut`: a Text whose words do not fit (elided or cut short: `truncated`), or whose
  painted words reach out of the box drawn around them (the nearest Rectangle with a
  fill or a border), out of a clipping ancestor, or off the window (words scrolled
  wholly out of a list's view are not shown, so not cut; words half in view are, except
  at the edge where the list shows its scroll sign: see SCROLL_SIGNS);
- `overlap`: two Texts whose painted words cover each other;
- `target`: a touch target (an enabled MouseArea or a text field) smaller than
  MIN_TARGET_PX on its short side (about 15 mm on the hall's panels);
- `contrast`: the number (NUMBER_CONTRAST) and the main message (TEXT_CONTRAST) of the
  screen, measured on the rendered picture: the background is the commonest colour of
  the words' box, the ink the strongest colour against it (WCAG 2 contrast ratio); a
  flashing screen is measured in every phase (`flash_phases`).

Only what a person can see counts: invisible items, items under an opaque (or dimming)
overlay and fully transparent ones are skipped. The thresholds are the issue's; they are
never lowered to make a screen pass.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import shiboken6
from PySide6.QtCore import QRectF
from PySide6.QtGui import QImage
from PySide6.QtQml import QQmlEngine, QQmlExpression, QQmlProperty
from PySide6.QtQuick import QQuickItem, QQuickWindow

MIN_TARGET_PX = 60  # ~15 mm on these panels (issue 16 item 11)
NUMBER_CONTRAST = 7.0  # the number of a state (issue 16 item 7)
TEXT_CONTRAST = 4.5  # the main message of a state
SLACK_PX = 2.0  # anti-aliasing and rounding

# objectNames (or their prefixes, ending in "_") of the numbers and main messages of every role
NUMBERS = (
    "counter_ticket_number", "display_ticket", "strip_ticket", "hall_newest_ticket", "hall_window_ticket_",
    "hall_recent_ticket_", "ticket_number", "idle_seconds",
)
MESSAGES = (
    "counter_no_ticket", "counter_message", "counter_badge_hint", "counter_login_error", "counter_status",
    "banner_offline_text", "display_status", "display_window_name", "display_pause_reason", "display_offline",
    "strip_window_name", "hall_newest_window", "hall_offline", "tablet_staff_name", "tablet_window_name",
    "tablet_error", "tablet_thanks_text", "tablet_paused", "screen_title", "message", "ticket_error",
    "checkin_error", "cases_error", "rate_thanks", "rate_thanks_text", "print_note", "counter_dialog_title",
    "tablet_faces_title", "home_hint",
)
# a ticker scrolls its words through a clipped window on purpose: not a cut
TICKERS = ("hall_notice",)
# The sign a scrolling list shows while it goes on past an edge (objectName -> that edge): an item
# with a `target` property naming the list (terminal/ScrollHint.qml below a list, the guide's "›" at
# the end of its categories). Words cut by that edge of that list, while the sign shows, are the
# list going on as the sign says, as on any scrolling page; they are not counted as cut. Words cut
# by any other edge, or by a list showing no sign, still are.
SCROLL_SIGNS = {"scroll_hint": "bottom", "scroll_hint_right": "right"}
CHECKS = ("cut", "overlap", "target", "contrast")
# (picture name, variant) -> findings, filled by whatever walks the screens in this test session
WALKED: dict[tuple[str, str], dict[str, list[Finding]]] = {}


@dataclass(frozen=True)
class Finding:
    """One thing wrong on a screen."""

    check: str
    where: str
    detail: str

    def __str__(self) -> str:
        return f"{self.check}: {self.where}: {self.detail}"


@dataclass
class Seen:
    """A visible item and what the walk knows about it."""

    item: QQuickItem
    rect: QRectF  # scene rectangle
    boxes: list[QRectF]  # scene rectangles of the drawn boxes around it, innermost first
    clip: QRectF  # what of the scene its clipping ancestors leave visible
    path: str  # objectNames from the root, for messages
    scroller: QQuickItem | None = None  # the innermost clipping Flickable around it


def _cls(item: QQuickItem, name: str) -> bool:
    return bool(item.inherits(name))


def _qml(item: QQuickItem, expression: str) -> Any:
    """A QML expression evaluated on `item` (for properties PySide cannot convert, such as enums)."""
    value, failed = QQmlExpression(QQmlEngine.contextForObject(item), item, expression).evaluate()
    if failed:
        raise RuntimeError(f"cannot evaluate {expression!r} on {item}")
    return value


def _draws_box(item: QQuickItem) -> bool:
    if not _cls(item, "QQuickRectangle"):
        return False
    color = item.property("color")
    width = QQmlProperty.read(item, "border.width")
    return (color is not None and color.alphaF() > 0.05) or bool(width and width > 0)


def _covers(item: QQuickItem) -> bool:
    """An overlay that hides (or dims) what lies under it: a Rectangle of at least half-opaque colour."""
    if not _cls(item, "QQuickRectangle") or item.opacity() < 0.5:
        return False
    color = item.property("color")
    return color is not None and color.alphaF() >= 0.5


def _scene_rect(item: QQuickItem) -> QRectF:
    return item.mapRectToScene(QRectF(0, 0, item.width(), item.height()))


def _paint_order(item: QQuickItem) -> list[QQuickItem]:
    kids = list(item.childItems())
    return sorted(kids, key=lambda k: (k.z(), kids.index(k)))


def walk(window: QQuickWindow) -> list[Seen]:
    """Every item a person can see, in paint order (an item under a later-painted overlay is not seen)."""
    out: list[Seen] = []
    root = window.contentItem()
    scene = QRectF(0, 0, window.width(), window.height())

    def visit(item: QQuickItem, opacity: float, boxes: list[QRectF], clip: QRectF, covers: list[QRectF],
              path: str, scroller: QQuickItem | None) -> None:
        if not item.isVisible():
            return
        opacity *= item.opacity()
        if opacity < 0.05:
            return
        rect = _scene_rect(item)
        shown = rect.intersected(clip)
        if any(c.contains(shown) for c in covers):
            return
        name = item.objectName()
        here = f"{path}/{name}" if name else path
        out.append(Seen(item, rect, boxes, clip, here, scroller))
        inner = [rect, *boxes] if _draws_box(item) else boxes
        inner_clip = clip.intersected(rect) if item.clip() else clip
        inner_scroller = item if item.clip() and _cls(item, "QQuickFlickable") else scroller
        kids = _paint_order(item)
        for i, kid in enumerate(kids):
            over = [_scene_rect(k) for k in kids[i + 1:] if k.isVisible() and _covers(k)]
            visit(kid, opacity, inner, inner_clip, covers + over, here, inner_scroller)

    visit(root, 1.0, [scene], scene, [], "", None)
    return out


def _texts(seen: Iterable[Seen]) -> Iterator[Seen]:
    for s in seen:
        if _cls(s.item, "QQuickText") and str(s.item.property("text") or "").strip():
            yield s


def painted(item: QQuickItem) -> QRectF:
    """The scene rectangle the words of a Text are painted in (after alignment)."""
    w, h = item.width(), item.height()
    cw, ch = float(item.property("contentWidth")), float(item.property("contentHeight"))
    ha, va = int(_qml(item, "effectiveHorizontalAlignment + 0")), int(_qml(item, "verticalAlignment + 0"))
    x = {2: w - cw, 4: (w - cw) / 2}.get(ha & 0x0F, 0.0)
    y = {64: h - ch, 128: (h - ch) / 2}.get(va & 0xE0, 0.0)
    return item.mapRectToScene(QRectF(x, y, cw, ch))


def _label(s: Seen) -> str:
    words = str(s.item.property("text")).replace("\n", " ")
    words = words if len(words) <= 24 else words[:23] + "…"
    return f"{s.path or '(root)'} «{words}»"


def _outside(inner: QRectF, outer: QRectF) -> float:
    """How far (px) `inner` reaches out of `outer`."""
    return max(outer.left() - inner.left(), inner.right() - outer.right(),
               outer.top() - inner.top(), inner.bottom() - outer.bottom(), 0.0)


def _signed_edges(seen: list[Seen]) -> dict[int, str]:
    """The lists (by C++ address) showing a scroll sign, and the edge past which it says they go on."""
    out: dict[int, str] = {}
    for s in seen:
        edge = SCROLL_SIGNS.get(s.item.objectName())
        target = _qml(s.item, "target") if edge else None  # (a Flickable: PySide cannot convert the property)
        if edge and target is not None:
            out[shiboken6.getCppPointer(target)[0]] = edge
    return out


def _clip_allowing(s: Seen, words: QRectF, signed: dict[int, str]) -> QRectF:
    """The clipping area of `s`, widened past the edge where its list's scroll sign says it goes on."""
    limit = QRectF(s.clip)
    edge = signed.get(shiboken6.getCppPointer(s.scroller)[0]) if s.scroller is not None else None
    list_rect = _scene_rect(s.scroller) if s.scroller is not None else None
    if edge == "bottom" and list_rect is not None and abs(limit.bottom() - list_rect.bottom()) <= SLACK_PX:
        limit.setBottom(max(limit.bottom(), words.bottom()))
    if edge == "right" and list_rect is not None and abs(limit.right() - list_rect.right()) <= SLACK_PX:
        limit.setRight(max(limit.right(), words.right()))
    return limit


def cut_texts(seen: list[Seen]) -> list[Finding]:
    """Texts whose words are elided, or reach out of their box, their clip or the window."""
    out = []
    signed = _signed_edges(seen)
    for s in _texts(seen):
        if s.item.objectName() in TICKERS:
            continue
        if s.item.property("truncated"):
            out.append(Finding("cut", _label(s), "the words are cut short (elided or too many lines)"))
            continue
        words = painted(s.item)
        if words.intersected(s.clip).isEmpty():
            continue  # scrolled right out of view: not shown, so not cut
        box = s.boxes[0]
        for limit, what in ((box, "its box"), (_clip_allowing(s, words, signed), "its clipping area")):
            over = _outside(words, limit)
            if over > SLACK_PX:
                out.append(Finding("cut", _label(s), f"the words reach {over:.0f} px out of {what}"))
                break
    return out


def overlapping_texts(seen: list[Seen]) -> list[Finding]:
    """Pairs of Texts whose painted words cover each other."""
    texts = [(s, painted(s.item).intersected(s.clip)) for s in _texts(seen)]
    texts = [(s, r) for s, r in texts if not r.isEmpty()]
    out = []
    for i, (a, ra) in enumerate(texts):
        for b, rb in texts[i + 1:]:
            if a.item.isAncestorOf(b.item) or b.item.isAncestorOf(a.item):
                continue
            both = ra.intersected(rb)
            if both.width() > SLACK_PX and both.height() > SLACK_PX:
                out.append(Finding("overlap", _label(a), f"covers {_label(b)} by {both.width():.0f}x{both.height():.0f} px"))
    return out


def small_targets(seen: list[Seen], minimum: float = MIN_TARGET_PX) -> list[Finding]:
    """Enabled touch targets (MouseAreas, text fields) smaller than `minimum` on their short side."""
    out = []
    for s in seen:
        touchable = (_cls(s.item, "QQuickMouseArea") and s.item.isEnabled()) or _cls(s.item, "QQuickTextInput")
        if not touchable:
            continue
        short = min(s.rect.width(), s.rect.height())
        if short + 0.5 < minimum:
            parent = s.item.parentItem()
            name = s.item.objectName() or (parent.objectName() if parent is not None else "") or s.path
            out.append(Finding("target", name or "(unnamed)", f"{s.rect.width():.0f}x{s.rect.height():.0f} px < {minimum:.0f} px"))
    return out


def _luminance(rgb: np.ndarray) -> np.ndarray:
    c = rgb.astype(np.float64) / 255.0
    c = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return 0.2126 * c[..., 0] + 0.7152 * c[..., 1] + 0.0722 * c[..., 2]


def pixels(image: QImage) -> np.ndarray:
    """The picture as an (h, w, 3) array of RGB."""
    rgb = image.convertToFormat(QImage.Format.Format_RGB888)
    h, w, stride = rgb.height(), rgb.width(), rgb.bytesPerLine()
    data = np.frombuffer(bytes(rgb.constBits()), dtype=np.uint8).reshape(h, stride)
    return data[:, : w * 3].reshape(h, w, 3).copy()


def contrast_in(picture: np.ndarray, rect: QRectF) -> tuple[float, tuple[int, ...], tuple[int, ...]]:
    """(contrast ratio, ink, background) of the words painted in `rect` of the picture."""
    h, w = picture.shape[:2]
    x0, y0 = max(0, int(rect.left())), max(0, int(rect.top()))
    x1, y1 = min(w, int(rect.right() + 1)), min(h, int(rect.bottom() + 1))
    if x1 <= x0 or y1 <= y0:
        return 1.0, (0, 0, 0), (0, 0, 0)
    crop = picture[y0:y1, x0:x1].reshape(-1, 3)
    colours, counts = np.unique(crop, axis=0, return_counts=True)
    bg = colours[int(np.argmax(counts))]
    lum, lbg = _luminance(crop), float(_luminance(bg[None, :])[0])
    ratio = (np.maximum(lum, lbg) + 0.05) / (np.minimum(lum, lbg) + 0.05)
    strong = ratio[ratio > 1.05]
    if strong.size == 0:
        return 1.0, tuple(int(v) for v in bg), tuple(int(v) for v in bg)
    value = float(np.percentile(strong, 90))  # the ink's own colour, not its anti-aliased rim
    ink = crop[int(np.argmin(np.abs(ratio - value)))]
    return value, tuple(int(v) for v in ink), tuple(int(v) for v in bg)


def _kind(name: str) -> float | None:
    def hit(names: tuple[str, ...]) -> bool:
        return any(name == n or (n.endswith("_") and name.startswith(n)) for n in names)

    if hit(NUMBERS):
        return NUMBER_CONTRAST
    if hit(MESSAGES):
        return TEXT_CONTRAST
    return None


def key_texts(seen: list[Seen]) -> list[tuple[Seen, float]]:
    """The number and the main messages of the screen, each with the contrast it needs."""
    by_item = {id(s.item): s for s in seen}
    out: list[tuple[Seen, float]] = []
    for s in seen:
        need = _kind(s.item.objectName())
        if need is None:
            continue
        if _cls(s.item, "QQuickText"):
            group = [s]
        else:  # a band or a box: the words inside it
            group = [t for t in _texts(seen) if s.item.isAncestorOf(t.item) and id(t.item) in by_item]
        out += [(t, need) for t in group if str(t.item.property("text") or "").strip()]
    return out


def low_contrast(seen: list[Seen], picture: np.ndarray) -> list[Finding]:
    """The number and main messages whose words stand out less than they must."""
    keys = key_texts(seen)
    if not keys:
        return [Finding("contrast", "(screen)", "no number or main message found to measure: name them in MESSAGES")]
    out = []
    for s, need in keys:
        words = painted(s.item).intersected(s.clip)
        ratio, ink, bg = contrast_in(picture, words)
        if ratio + 1e-6 < need:
            out.append(Finding("contrast", _label(s), f"{ratio:.1f}:1 < {need:.1f}:1 (ink {ink} on {bg})"))
    return out


def role_item(kiosk: Any) -> QQuickItem:
    """A kiosk's role page item (the one the shell created), where a role's own properties live."""
    page = next(i for i in kiosk.window.contentItem().childItems() if i.objectName() == "role_page")
    return page.childItems()[0]


def flash_phases(window: QQuickWindow, flashing: Callable[[], bool], period_s: float = 0.7) -> list[QImage]:
    """While `flashing()`: pictures over one flash period (every phase a person sees)."""
    from kiosk.qt.drive import pump

    out: list[QImage] = []
    end = time.monotonic() + period_s
    while flashing() and time.monotonic() < end:
        pump(0.08)
        out.append(window.grabWindow())
    return out


def check_screen(
    window: QQuickWindow, image: QImage | None = None, also: Iterable[QImage] = ()
) -> dict[str, list[Finding]]:
    """Every check on the screen as it is now (`image`: its settled picture, grabbed when not given;
    `also`: more pictures of the same screen, e.g. the other phases of a flash, whose contrast must
    hold too)."""
    seen = walk(window)
    contrast: list[Finding] = []
    for picture in [image if image is not None else window.grabWindow(), *also]:
        contrast += [f for f in low_contrast(seen, pixels(picture)) if f not in contrast]
    return {
        "cut": cut_texts(seen),
        "overlap": overlapping_texts(seen),
        "target": small_targets(seen),
        "contrast": contrast,
        "measured": [Finding("measured", _label(s), f"{need}") for s, need in key_texts(seen)],
    }


def cases(screens: Iterable[str], variants: Iterable[str], known: dict[tuple[str, str, str], str]) -> list[Any]:
    """One pytest case per screen, variant and check; a case in `known` is xfail(strict) with its reason."""
    import pytest

    out = []
    for screen, variant, check in itertools.product(screens, list(variants), CHECKS):
        reason = known.get((screen, variant, check))
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        out.append(pytest.param(screen, variant, check, id=f"{screen}-{variant}-{check}", marks=marks))
    return out
