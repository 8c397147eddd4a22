"""Decode QR codes in one frame: zxing-cpp first, then cheap retries and fallbacks only when that fails.

The cascade was chosen by measurement on real photographs (`bench/qr_photos.py`): plain zxing-cpp
reads ~93% in well under a millisecond; a global-histogram binarizer rescues low-contrast shots;
pyzbar (asked for raw bytes) is the independent second opinion; straightening a bright label on a
dark background and OpenCV's curved-surface decoder rescue codes printed on cloth or paper that
bends. (A variant that straightened the label before the curved decoder read one more photo, but
only at one exact scale: a lottery, not a strategy, so it is not here.) Retries cost tens of milliseconds, so a camera loop asks for them only now and then
(`deep=False` on most frames).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
import zxingcpp

from devices.qr.text import payload_text
from devices.qr.zbar import zbar_qr_bytes

log = logging.getLogger(__name__)

# OpenCV's stubs type images loosely; an 8-bit grayscale image is what flows through here.
Gray = npt.NDArray[Any]

# Symbology identifiers of QR codes that carry an ECI header (ISO/IEC 18004, table on AIM ids).
_ECI_IDS = {"]Q2", "]Q4", "]Q6"}
_QR_ONLY = zxingcpp.barcode_formats_from_str("QRCode")
_FORMAT_NAMES = {"QRCode": "QR_CODE", "MicroQRCode": "MICRO_QR_CODE", "RMQRCode": "RMQR_CODE"}


@dataclass(frozen=True, slots=True)
class QrCode:
    """One decoded code: its text, raw payload bytes, and which decoder and strategy read it."""

    text: str
    raw: bytes
    format: str = "QR_CODE"
    decoder: str = "zxing-cpp"
    strategy: str = "plain"

    def as_dict(self) -> dict[str, str]:
        """The JSON shape of the diagnostics CLI: `{"text":..., "format":...}`."""
        return {"text": self.text, "format": self.format}


@dataclass(frozen=True, slots=True)
class Strategy:
    """One attempt in the cascade: a name, whether it is a costly retry, and the attempt itself."""

    name: str
    retry: bool
    attempt: Callable[[Gray], list[QrCode]]


def to_gray(frame: npt.NDArray[Any]) -> Gray:
    """A frame (grayscale, BGR or BGRA; uint8 or wider) as 8-bit grayscale."""
    if not isinstance(frame, np.ndarray) or frame.ndim not in (2, 3) or frame.size == 0:
        raise ValueError("frame is not an image array / 图像数据无效")
    if frame.dtype != np.uint8:
        wide = frame.astype(np.float64)
        span = float(wide.max() - wide.min()) or 1.0
        frame = ((wide - wide.min()) * (255.0 / span)).astype(np.uint8)
    if frame.ndim == 3:
        channels = frame.shape[2]
        if channels == 1:
            frame = frame[:, :, 0]
        elif channels == 3:
            frame = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        elif channels == 4:
            frame = cv2.cvtColor(frame, cv2.COLOR_BGRA2GRAY)
        else:
            raise ValueError(f"frame has {channels} channels / 图像通道数无效")
    return np.ascontiguousarray(frame, dtype=np.uint8)


def _zxing(gray: Gray, strategy: str, binarizer: zxingcpp.Binarizer) -> list[QrCode]:
    codes: list[QrCode] = []
    for barcode in zxingcpp.read_barcodes(gray, formats=_QR_ONLY, binarizer=binarizer):
        if not barcode.valid:
            continue
        raw = bytes(barcode.bytes)
        # With an ECI header zxing-cpp already knows the charset; without one it guesses
        # ISO-8859-1, which garbles GBK, so we decode the raw bytes ourselves.
        text = barcode.text if barcode.symbology_identifier in _ECI_IDS else payload_text(raw)
        name = _FORMAT_NAMES.get(barcode.format.name, barcode.format.name)
        codes.append(QrCode(text, raw, name, "zxing-cpp", strategy))
    return codes


def _zbar(gray: Gray, strategy: str) -> list[QrCode]:
    return [
        QrCode(payload_text(raw), raw, "QR_CODE", "pyzbar", strategy) for raw in zbar_qr_bytes(gray)
    ]


class _Curved:
    """OpenCV's decoder for codes on curved surfaces (one detector object, reused)."""

    def __init__(self) -> None:
        self._detector = cv2.QRCodeDetector()

    def __call__(self, gray: Gray, strategy: str) -> list[QrCode]:
        try:
            text, _points, _straight = self._detector.detectAndDecodeCurved(gray)
        except cv2.error:
            return []
        if not text:
            return []
        try:
            raw = text.encode("latin-1")  # OpenCV hands byte-mode payloads over one char per byte
        except UnicodeEncodeError:
            raw = text.encode("utf-8")
        return [QrCode(payload_text(raw), raw, "QR_CODE", "opencv", strategy)]


def isolate_label(gray: Gray, side: int = 400) -> Gray | None:
    """Straighten the largest bright region (a label on a dark shirt or desk) onto a white square.

    Codes printed edge to edge on a label have no quiet zone against a dark background, which
    defeats finder-pattern search; this gives them one. None when there is no such region.
    """
    _, binary = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    binary = cv2.morphologyEx(binary, cv2.MORPH_CLOSE, np.ones((15, 15), np.uint8))
    contours, _ = cv2.findContours(binary, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    contour = max(contours, key=cv2.contourArea)
    area = cv2.contourArea(contour)
    if area < 0.05 * gray.size or area > 0.95 * gray.size:
        return None
    box = cv2.boxPoints(cv2.minAreaRect(contour))
    centre = box.mean(axis=0)
    box = box[np.argsort(np.arctan2(box[:, 1] - centre[1], box[:, 0] - centre[0]))]
    target = np.array([[0, 0], [side, 0], [side, side], [0, side]], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(box.astype(np.float32), target)
    warped = cv2.warpPerspective(gray, matrix, (side, side), borderValue=255)
    margin = 3 * side // 40
    return cv2.copyMakeBorder(
        warped, margin, margin, margin, margin, cv2.BORDER_CONSTANT, value=255
    )


def _otsu(gray: Gray) -> Gray:
    return cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)[1]


def _scaled(gray: Gray, factor: float) -> Gray:
    return cv2.resize(gray, None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC)


class QrDecoder:
    """Decode every QR code in a frame, trying the cheap attempt first and retries only on failure.

    `decode(frame)` returns the codes of the first attempt that finds any. Not thread-safe: give
    each thread its own decoder (they are cheap).
    """

    def __init__(self) -> None:
        local_average = zxingcpp.Binarizer.LocalAverage
        global_histogram = zxingcpp.Binarizer.GlobalHistogram
        clahe = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8))
        curved = _Curved()

        def on_label(attempt: Callable[[Gray], list[QrCode]]) -> Callable[[Gray], list[QrCode]]:
            def run(gray: Gray) -> list[QrCode]:
                label = isolate_label(gray)
                return attempt(label) if label is not None else []

            return run

        self.strategies: Sequence[Strategy] = (
            Strategy("plain", False, lambda g: _zxing(g, "plain", local_average)),
            Strategy(
                "global-threshold", False, lambda g: _zxing(g, "global-threshold", global_histogram)
            ),
            Strategy("zbar", True, lambda g: _zbar(g, "zbar")),
            Strategy("clahe", True, lambda g: _zxing(clahe.apply(g), "clahe", global_histogram)),
            Strategy(
                "label-clahe",
                True,
                on_label(lambda g: _zxing(clahe.apply(g), "label-clahe", global_histogram)),
            ),
            Strategy("curved", True, lambda g: curved(g, "curved")),
            Strategy(
                "upscale-curved", True, lambda g: curved(_otsu(_scaled(g, 2.0)), "upscale-curved")
            ),
        )

    def decode(self, frame: npt.NDArray[Any], *, deep: bool = True) -> list[QrCode]:
        """Codes in `frame`; with `deep=False` only the fast attempts (for most camera frames)."""
        gray = to_gray(frame)
        for strategy in self.strategies:
            if strategy.retry and not deep:
                break
            codes = strategy.attempt(gray)
            if codes:
                return codes
        return []


def decode_image_file(path: str) -> list[QrCode]:
    """Decode a picture file; raises `ValueError` with a clear message when it cannot be read."""
    data = np.fromfile(path, dtype=np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if image is None:
        raise ValueError(
            f"无法读取图片，文件损坏或不是图片格式。 / Cannot read {path}: not an image or corrupt."
        )
    return QrDecoder().decode(image)
