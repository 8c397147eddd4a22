"""Helpers for QR tests: draw codes with segno into numpy images (no files needed)."""

from __future__ import annotations

import io
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
import segno


def qr_image(content: str | bytes, *, scale: int = 6, border: int = 4) -> npt.NDArray[Any]:
    """A grayscale picture of a QR code; bytes are encoded as-is (byte mode, no ECI)."""
    code = segno.make(content, error="m", micro=False)
    buf = io.BytesIO()
    code.save(buf, kind="png", scale=scale, border=border)
    return cv2.imdecode(np.frombuffer(buf.getvalue(), np.uint8), cv2.IMREAD_GRAYSCALE)


def on_canvas(
    code: npt.NDArray[Any], width: int = 640, height: int = 480, at: tuple[int, int] = (100, 80)
) -> npt.NDArray[Any]:
    """A BGR frame with `code` pasted onto a grey-ish desk at `at`."""
    frame = np.full((height, width, 3), 120, np.uint8)
    x, y = at
    h, w = code.shape[:2]
    frame[y : y + h, x : x + w] = cv2.cvtColor(code, cv2.COLOR_GRAY2BGR)
    return frame
