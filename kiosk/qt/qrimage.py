"""`image://qr/<url-encoded text>`: QR codes drawn for QML from the text (segno), crisp at any size."""

from __future__ import annotations

from urllib.parse import unquote

import segno
from PySide6.QtCore import QSize
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtQuick import QQuickImageProvider


def qr_image(text: str, size: int) -> QImage:
    """A square QImage of the QR code of `text`, with a quiet zone, about `size` pixels wide."""
    matrix = segno.make(text, error="m", micro=False).matrix
    modules = len(matrix) + 8  # 4-module quiet zone each side
    scale = max(1, size // modules)
    side = modules * scale
    image = QImage(side, side, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    black = QColor("black")
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if dark:
                painter.fillRect((x + 4) * scale, (y + 4) * scale, scale, scale, black)
    painter.end()
    return image


class QrImageProvider(QQuickImageProvider):
    """Serves QR images to QML `Image { source: "image://qr/" + encodeURIComponent(text) }`."""

    def __init__(self) -> None:
        super().__init__(QQuickImageProvider.ImageType.Image)

    def requestImage(self, id: str, size: QSize, requested: QSize) -> QImage:  # noqa: A002, N802
        """Draw the code; `requested` width picks the size (default 400 px)."""
        want = requested.width() if requested.isValid() and requested.width() > 0 else 400
        image = qr_image(unquote(id) or " ", want)
        if size is not None:
            size.setWidth(image.width())
            size.setHeight(image.height())
        return image
