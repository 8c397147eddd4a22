"""Contrast of text against its background, measured on the rendered picture (WCAG 2 ratio)."""

from __future__ import annotations

from collections import Counter

from PySide6.QtCore import QRectF
from PySide6.QtGui import QImage
from PySide6.QtQuick import QQuickItem


def luminance(rgb: tuple[int, int, int]) -> float:
    """Relative luminance of an sRGB colour."""

    def lin(c: int) -> float:
        v = c / 255
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b = (lin(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def ratio(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    """The contrast ratio of two colours (1 to 21)."""
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def text_contrast(image: QImage, item: QQuickItem) -> float:
    """The contrast of the text an item draws against what is behind it, from the picture.

    The background is the commonest colour in the item's box; the text is the commonest of the
    other colours that make up at least a tenth of the rest (a glyph's solid fill, not its
    anti-aliased edge). A box with no second colour has no readable text: 1.0.
    """
    scale = image.devicePixelRatio()
    r = item.mapRectToScene(QRectF(0, 0, item.width(), item.height()))
    x0, y0 = max(0, int(r.left() * scale)), max(0, int(r.top() * scale))
    x1, y1 = min(image.width(), int(r.right() * scale)), min(image.height(), int(r.bottom() * scale))
    img = image.convertToFormat(QImage.Format.Format_RGB32).copy(x0, y0, max(1, x1 - x0), max(1, y1 - y0))
    raw = bytes(img.constBits())  # BGRA rows, bytesPerLine apart
    colours: Counter[tuple[int, int, int]] = Counter()
    for y in range(img.height()):
        row = raw[y * img.bytesPerLine() : y * img.bytesPerLine() + img.width() * 4]
        colours.update(zip(row[2::4], row[1::4], row[0::4], strict=True))
    if len(colours) < 2:
        return 1.0
    (bg, _), *rest = colours.most_common()
    others = sum(n for _, n in rest)
    fill = next((c for c, n in rest if n >= others / 10), None)
    return 1.0 if fill is None else ratio(bg, fill)
