"""The ESC/POS command set in one class: every method writes the exact bytes to a transport.

Byte values follow the Epson ESC/POS reference as implemented by common Chinese thermal printers
(Xprinter, GP, Sewoo...): `FS &` / `FS .` switch double-byte (GB18030) text on and off.
"""

from __future__ import annotations

import io
import unicodedata
from enum import IntEnum
from typing import Literal

import numpy as np
import numpy.typing as npt
import segno

from devices.printer.profile import PrinterProfile
from devices.printer.transport import Transport

ESC, GS, FS, DLE, EOT, LF = 0x1B, 0x1D, 0x1C, 0x10, 0x04, 0x0A

Align = Literal["left", "center", "right"]
_ALIGN = {"left": 0, "center": 1, "right": 2}
QrErrorLevel = Literal["L", "M", "Q", "H"]
_QR_ECC = {"L": 48, "M": 49, "Q": 50, "H": 51}


class PaperState(IntEnum):
    """Paper sensor as answered to DLE EOT 4."""

    OK = 0
    NEAR_END = 1
    OUT = 2


def parse_paper_status(byte: int) -> PaperState:
    """Decode the DLE EOT 4 reply: bits 5-6 paper end, bits 2-3 paper near end."""
    if byte & 0x60:
        return PaperState.OUT
    if byte & 0x0C:
        return PaperState.NEAR_END
    return PaperState.OK


def paper_status_byte(state: PaperState) -> int:
    """The reply byte a printer sends for `state` (fixed bits 1 and 4 set)."""
    return {PaperState.OK: 0x12, PaperState.NEAR_END: 0x1E, PaperState.OUT: 0x7E}[state]


def display_width(text: str) -> int:
    """Columns `text` takes in font A: wide (CJK) characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def wrap(text: str, columns: int) -> list[str]:
    """Break `text` into lines of at most `columns` display columns (keeps explicit newlines)."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line, width = "", 0
        for ch in paragraph:
            w = display_width(ch)
            if width + w > columns and line:
                lines.append(line.rstrip())
                line, width = ("", 0) if ch == " " else (ch, w)
                continue
            line += ch
            width += w
        lines.append(line.rstrip())
    return lines


def qr_matrix(data: bytes, error: QrErrorLevel = "M") -> npt.NDArray[np.bool_]:
    """The QR symbol for `data` (byte mode) as a boolean matrix, True = dark, without quiet zone."""
    code = segno.make(data, error=error.lower(), micro=False, boost_error=False)
    return np.array(list(code.matrix_iter(scale=1, border=0)), dtype=bool)


def raster_bytes(image: npt.NDArray[np.bool_]) -> tuple[int, int, bytes]:
    """(bytes per row, rows, packed data) of a boolean image for GS v 0; True = dark dot."""
    rows, cols = image.shape
    width_bytes = (cols + 7) // 8
    padded = np.zeros((rows, width_bytes * 8), dtype=bool)
    padded[:, :cols] = image
    return width_bytes, rows, np.packbits(padded, axis=1).tobytes()


class EscPos:
    """ESC/POS commands for one printer profile, written to `transport`. Methods chain."""

    def __init__(self, transport: Transport, profile: PrinterProfile) -> None:
        self.transport = transport
        self.profile = profile
        self._chinese = False
        self._left = 0
        self._area = profile.width_dots

    def raw(self, data: bytes) -> EscPos:
        """Write bytes as they are."""
        self.transport.write(data)
        return self

    def init(self) -> EscPos:
        """ESC @: reset modes (alignment, size, bold) to the printer's defaults."""
        self._chinese = False
        self._left, self._area = 0, self.profile.width_dots
        return self.raw(bytes([ESC, 0x40]))

    def margins(self, dots: int) -> EscPos:
        """GS L / GS W: a blank margin of `dots` on both sides of the paper (text and images keep off its edges)."""
        self._left, self._area = dots, self.profile.width_dots - 2 * dots
        return self.raw(bytes([GS, 0x4C, dots & 0xFF, dots >> 8, GS, 0x57, self._area & 0xFF, self._area >> 8]))

    @property
    def columns(self) -> int:
        """Font A characters (a hanzi takes two) a line holds between the margins."""
        return self._area // 12

    def chinese(self, on: bool = True) -> EscPos:
        """FS & (on) / FS . (off): double-byte character mode for GB18030 text."""
        if not self.profile.chinese or on == self._chinese:
            return self
        self._chinese = on
        return self.raw(bytes([FS, 0x26 if on else 0x2E]))

    def align(self, how: Align) -> EscPos:
        """ESC a n: left, center or right."""
        return self.raw(bytes([ESC, 0x61, _ALIGN[how]]))

    def bold(self, on: bool = True) -> EscPos:
        """ESC E n: emphasised printing."""
        return self.raw(bytes([ESC, 0x45, 1 if on else 0]))

    def size(self, width: int = 1, height: int = 1) -> EscPos:
        """GS ! n: character magnification, 1..8 in each direction."""
        if not (1 <= width <= 8 and 1 <= height <= 8):
            raise ValueError("character size must be 1..8")
        return self.raw(bytes([GS, 0x21, ((width - 1) << 4) | (height - 1)]))

    def text(self, text: str) -> EscPos:
        """Text in the current mode: GB18030 in Chinese mode, else ASCII (others as '?')."""
        if self._chinese:
            data = text.encode("gb18030", errors="replace")
        else:
            data = text.encode("ascii", errors="replace")
        return self.raw(data)

    def line(self, text: str = "") -> EscPos:
        """Text and a line feed (LF)."""
        return self.text(text).raw(bytes([LF]))

    def feed(self, lines: int = 1) -> EscPos:
        """ESC d n: print and feed n lines."""
        return self.raw(bytes([ESC, 0x64, max(0, min(lines, 255))]))

    def qr(self, data: bytes, *, module: int | None = None, error: QrErrorLevel = "M") -> EscPos:
        """A QR code: native `GS ( k` (model 2, size, ECC, store, print) or a raster image fallback."""
        module = module or self.profile.qr_module_dots
        if not self.profile.native_qr:
            return self.qr_raster(data, module=module, error=error)
        if len(data) > 7089:
            raise ValueError("QR data too long")
        store_len = len(data) + 3
        return (
            self.raw(bytes([GS, 0x28, 0x6B, 4, 0, 0x31, 0x41, 0x32, 0x00]))  # fn 165: model 2
            .raw(
                bytes([GS, 0x28, 0x6B, 3, 0, 0x31, 0x43, max(1, min(module, 16))])
            )  # fn 167: module size
            .raw(
                bytes([GS, 0x28, 0x6B, 3, 0, 0x31, 0x45, _QR_ECC[error]])
            )  # fn 169: error correction
            .raw(
                bytes([GS, 0x28, 0x6B, store_len & 0xFF, store_len >> 8, 0x31, 0x50, 0x30]) + data
            )  # fn 180
            .raw(bytes([GS, 0x28, 0x6B, 3, 0, 0x31, 0x51, 0x30]))  # fn 181: print
        )

    def qr_raster(self, data: bytes, *, module: int, error: QrErrorLevel = "M") -> EscPos:
        """A QR code drawn as a raster image (for printers without GS ( k), centred on the paper."""
        matrix = qr_matrix(data, error)
        size = matrix.shape[0]
        width = self._area  # the printing area: the image starts at the left margin
        while module > 1 and (size + 8) * module > width:
            module -= 1
        image = np.kron(matrix, np.ones((module, module), dtype=bool)).astype(bool)
        quiet = 4 * module
        image = np.pad(image, ((quiet, quiet), (0, 0)))
        left = max(0, (width - image.shape[1]) // 2)
        canvas = np.zeros((image.shape[0], width), dtype=bool)
        canvas[:, left : left + image.shape[1]] = image[:, : width - left]
        return self.image(canvas)

    def image(self, image: npt.NDArray[np.bool_]) -> EscPos:
        """GS v 0: a raster bit image, True = dark dot (sent in bands of at most 255 rows)."""
        for top in range(0, image.shape[0], 255):
            band = image[top : top + 255]
            width_bytes, rows, data = raster_bytes(band)
            header = bytes(
                [GS, 0x76, 0x30, 0, width_bytes & 0xFF, width_bytes >> 8, rows & 0xFF, rows >> 8]
            )
            self.raw(header + data)
        return self

    def cut(self, feed_dots: int = 80) -> EscPos:
        """GS V 66 n: feed n dots (past the cutter) and cut partially."""
        if not self.profile.cutter:
            return self.feed(4)
        return self.raw(bytes([GS, 0x56, 66, max(0, min(feed_dots, 255))]))

    @staticmethod
    def clear_buffers() -> bytes:
        """DLE DC4 8: real-time "clear buffers", so half a ticket left by a fault is thrown away."""
        return bytes([DLE, 0x14, 0x08, 0x01, 0x03, 0x14, 0x01, 0x06, 0x02, 0x08])

    @staticmethod
    def paper_status_request() -> bytes:
        """DLE EOT 4: transmit paper sensor status (answered with one byte)."""
        return bytes([DLE, EOT, 4])


def qr_png(data: bytes, scale: int = 4) -> bytes:
    """A PNG of the QR for `data` (for showing a ticket on screen when the printer is out of paper)."""
    buf = io.BytesIO()
    segno.make(data, error="m", micro=False).save(buf, kind="png", scale=scale, border=4)
    return buf.getvalue()
