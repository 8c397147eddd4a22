"""Interpret an ESC/POS byte stream for real and draw it, for the printer simulator.

`EscPosInterpreter.feed(bytes)` parses commands incrementally (a command may be split across
reads), keeps the printer's modes (alignment, size, bold, Chinese mode, stored QR data), answers
status requests, and hands each finished ticket (at `GS V`) to `on_page` as a Pillow image.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFont

from devices.printer.escpos import (
    DLE,
    ESC,
    FS,
    GS,
    LF,
    PaperState,
    QrErrorLevel,
    paper_status_byte,
    qr_matrix,
)

log = logging.getLogger(__name__)

FONT_DIRS = [
    Path("/usr/share/fonts/opentype/noto"),
    Path("/usr/share/fonts/noto-cjk"),
    Path("/usr/share/fonts/truetype/noto"),
]
BASE_HEIGHT = 24  # font A: 12x24 dots; a hanzi is 24x24
LINE_SPACING = 6  # default 1/6 inch line pitch at 203 dpi ~ 30 dots
# DLE DC4 8: clear the receive and print buffers (Epson real-time command, fn 8).
CLEAR_BUFFERS = bytes([DLE, 0x14, 0x08, 0x01, 0x03, 0x14, 0x01, 0x06, 0x02, 0x08])
_ECC_BY_BYTE: dict[int, QrErrorLevel] = {48: "L", 49: "M", 50: "Q", 51: "H"}


def _font_path(bold: bool) -> Path | None:
    name = "NotoSansCJK-Bold.ttc" if bold else "NotoSansCJK-Regular.ttc"
    for folder in FONT_DIRS:
        if (folder / name).exists():
            return folder / name
    return None


def _is_wide(ch: str) -> bool:
    """A character that takes a full (24-dot) cell: hanzi, full-width punctuation."""
    return unicodedata.east_asian_width(ch) in "WF"


class _Fonts:
    """Pillow fonts by (pixel size, bold), loaded once."""

    def __init__(self) -> None:
        self._cache: dict[tuple[int, bool], ImageFont.FreeTypeFont | ImageFont.ImageFont] = {}

    def get(self, size: int, bold: bool) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
        key = (size, bold)
        if key not in self._cache:
            path = _font_path(bold) or _font_path(False)
            if path is None:
                log.warning("no CJK font found (install fonts-noto-cjk); hanzi will not render")
                self._cache[key] = ImageFont.load_default(size)
            else:
                # A little under the cell height, so strokes are not clipped at the cell edges.
                self._cache[key] = ImageFont.truetype(str(path), round(size * 0.92))
        return self._cache[key]


@dataclass
class _Segment:
    text: str
    width: int
    height: int
    bold: bool


@dataclass
class _Modes:
    align: int = 0
    width: int = 1
    height: int = 1
    bold: bool = False
    chinese: bool = False
    qr_module: int = 3
    qr_ecc: QrErrorLevel = "M"
    left: int = 0  # GS L: left margin in dots
    area: int = 0  # GS W: printing area width in dots (0: to the right edge)
    qr_data: bytes = b""


@dataclass
class Page:
    """The paper printed since the last cut, as strips of `width_dots` wide images."""

    width_dots: int
    strips: list[Image.Image] = field(default_factory=list)

    def add(self, strip: Image.Image) -> None:
        """Append a strip below what is printed."""
        self.strips.append(strip)

    def feed(self, dots: int) -> None:
        """Blank paper."""
        if dots > 0:
            self.strips.append(Image.new("L", (self.width_dots, dots), 255))

    @property
    def empty(self) -> bool:
        """Nothing printed yet."""
        return not self.strips

    def image(self) -> Image.Image:
        """The whole page with a dashed cut line at the bottom."""
        height = sum(s.height for s in self.strips) + 12
        page = Image.new("L", (self.width_dots, height), 255)
        y = 0
        for strip in self.strips:
            page.paste(strip, (0, y))
            y += strip.height
        draw = ImageDraw.Draw(page)
        for x in range(0, self.width_dots, 12):
            draw.line([(x, height - 4), (x + 6, height - 4)], fill=0, width=2)
        return page


class EscPosInterpreter:
    """Parse ESC/POS for real: modes, text (GB18030 in Chinese mode), QR, raster, cut, status."""

    def __init__(
        self,
        width_dots: int,
        on_page: Callable[[Image.Image], None],
        paper: PaperState = PaperState.OK,
    ) -> None:
        self.width_dots = width_dots
        self.on_page = on_page
        self.paper = paper
        self.modes = _Modes()
        self.page = Page(width_dots)
        self.unknown_commands = 0
        self._buffer = bytearray()
        self._tail = b""
        self._line: list[_Segment] = []
        self._pending = bytearray()
        self._fonts = _Fonts()

    # -- parsing --------------------------------------------------------------------------------

    def feed(self, data: bytes) -> bytes:
        """Consume bytes; return the bytes the printer sends back (status replies).

        Real-time commands act on arrival, as on a real printer, even inside an unfinished
        command: `DLE EOT n` is answered at once (and skipped later by the parser), and
        `DLE DC4 8` (clear buffers) drops everything received before it.
        """
        replies = bytearray()
        scan = self._tail + data
        start = 0
        while (at := scan.find(b"\x10\x04", start)) != -1 and at + 2 < len(scan):
            if at + 2 >= len(self._tail):
                replies.append(self._status(scan[at + 2]))
            start = at + 1
        self._tail = scan[-(len(CLEAR_BUFFERS) - 1) :]
        combined = self._buffer + data
        cleared = combined.rfind(CLEAR_BUFFERS)
        if cleared != -1:
            self._buffer = bytearray(combined[cleared + len(CLEAR_BUFFERS) :])
            self._line, self._pending = [], bytearray()
            self.page = Page(self.width_dots)
        else:
            self._buffer = combined
        i = 0
        buf = self._buffer
        while i < len(buf):
            used = self._step(buf, i, replies)
            if used == 0:
                break  # incomplete command: wait for more bytes
            i += used
        del self._buffer[:i]
        return bytes(replies)

    def _step(self, buf: bytearray, i: int, replies: bytearray) -> int:
        """Handle the command or text byte at `i`; return bytes consumed (0 = need more)."""
        b = buf[i]
        n = len(buf) - i

        def need(count: int) -> bool:
            return n >= count

        if b == LF:
            self._newline()
            return 1
        if b == 0x0D:
            return 1
        if b == DLE:
            if not need(3):
                return 0
            if buf[i + 1] == 0x04:
                return 3  # answered on arrival (see feed)
            if buf[i + 1] == 0x14:  # DLE DC4 fn ...: other real-time requests
                size = len(CLEAR_BUFFERS) if buf[i + 2] == 8 else 5
                return size if n >= size else 0
            self.unknown_commands += 1
            return 2
        if b == ESC:
            if not need(2):
                return 0
            c = buf[i + 1]
            if c == 0x40:  # ESC @
                self._flush_text()
                self.modes = _Modes(qr_data=self.modes.qr_data)
                return 2
            one_arg = {
                0x61,
                0x45,
                0x64,
                0x4A,
                0x21,
                0x2D,
                0x33,
                0x4D,
                0x74,
                0x20,
                0x52,
                0x7B,
                0x47,
                0x56,
                0x63,
            }
            if c in one_arg:
                if not need(3):
                    return 0
                self._esc(c, buf[i + 2])
                return 3
            if c == 0x32:  # ESC 2: default line spacing
                return 2
            self.unknown_commands += 1
            return 2
        if b == FS:
            if not need(2):
                return 0
            c = buf[i + 1]
            if c == 0x26:  # FS &
                self._flush_text()
                self.modes.chinese = True
                return 2
            if c == 0x2E:  # FS .
                self._flush_text()
                self.modes.chinese = False
                return 2
            if c in (0x21, 0x2D, 0x43, 0x57):  # FS ! / FS - / FS C / FS W n
                return 3 if need(3) else 0
            self.unknown_commands += 1
            return 2
        if b == GS:
            return self._gs(buf, i, n, replies)
        if b < 0x20:
            return 1  # other control bytes: ignored, as printers do
        self._pending.append(b)
        return 1

    def _esc(self, c: int, arg: int) -> None:
        if c == 0x61:
            self.modes.align = arg % 48 if arg >= 48 else arg
        elif c == 0x45:
            self._flush_text()
            self.modes.bold = bool(arg & 1)
        elif c == 0x21:  # ESC ! n: print modes
            self._flush_text()
            self.modes.bold = bool(arg & 0x08)
            self.modes.height = 2 if arg & 0x10 else 1
            self.modes.width = 2 if arg & 0x20 else 1
        elif c == 0x64:
            self._newline_if_pending()
            self.page.feed(arg * (BASE_HEIGHT + LINE_SPACING))
        elif c == 0x4A:
            self._newline_if_pending()
            self.page.feed(arg)

    def _gs(self, buf: bytearray, i: int, n: int, replies: bytearray) -> int:
        if n < 2:
            return 0
        c = buf[i + 1]
        if c == 0x21:  # GS ! n
            if n < 3:
                return 0
            self._flush_text()
            self.modes.width = (buf[i + 2] >> 4) + 1
            self.modes.height = (buf[i + 2] & 0x0F) + 1
            return 3
        if c == 0x28 and n >= 3 and buf[i + 2] == 0x6B:  # GS ( k pL pH cn fn ...
            if n < 5:
                return 0
            length = buf[i + 3] | (buf[i + 4] << 8)
            if n < 5 + length:
                return 0
            self._qr_function(bytes(buf[i + 5 : i + 5 + length]))
            return 5 + length
        if c == 0x28:
            if n < 5:
                return 0
            return (
                5 + (buf[i + 3] | (buf[i + 4] << 8))
                if n >= 5 + (buf[i + 3] | (buf[i + 4] << 8))
                else 0
            )
        if c == 0x76:  # GS v 0 m xL xH yL yH d...
            if n < 8:
                return 0
            width_bytes = buf[i + 4] | (buf[i + 5] << 8)
            rows = buf[i + 6] | (buf[i + 7] << 8)
            total = 8 + width_bytes * rows
            if n < total:
                return 0
            self._raster(bytes(buf[i + 8 : i + total]), width_bytes, rows)
            return total
        if c == 0x56:  # GS V m [n]
            if n < 3:
                return 0
            m = buf[i + 2]
            if m in (65, 66, 97, 98):
                if n < 4:
                    return 0
                self._cut(buf[i + 3])
                return 4
            self._cut(0)
            return 3
        if c == 0x72:  # GS r n: transmit status
            if n < 3:
                return 0
            paper = {PaperState.OK: 0x00, PaperState.NEAR_END: 0x03, PaperState.OUT: 0x0F}[
                self.paper
            ]
            self._reply_later = paper
            return 3
        if c in (0x42, 0x48, 0x66, 0x68, 0x77, 0x61):  # one-argument GS commands
            return 3 if n >= 3 else 0
        if c in (0x4C, 0x57):  # GS L / GS W nL nH: left margin, printing area width (dots)
            if n < 4:
                return 0
            self._newline_if_pending()
            value = buf[i + 2] | (buf[i + 3] << 8)
            if c == 0x4C:
                self.modes.left = min(value, self.width_dots - 1)
            else:
                self.modes.area = value
            return 4
        self.unknown_commands += 1
        return 2

    def _status(self, n: int) -> int:
        out = self.paper == PaperState.OUT
        if n == 4:
            return paper_status_byte(self.paper)
        if n == 2:
            return 0x12 | (0x20 if out else 0)
        if n == 1:
            return 0x16
        return 0x12

    # -- drawing --------------------------------------------------------------------------------

    def _flush_text(self) -> None:
        if not self._pending:
            return
        encoding = "gb18030" if self.modes.chinese else "cp437"
        text = bytes(self._pending).decode(encoding, errors="replace")
        self._pending.clear()
        self._line.append(_Segment(text, self.modes.width, self.modes.height, self.modes.bold))

    def _newline_if_pending(self) -> None:
        if self._pending or self._line:
            self._newline()

    def _newline(self) -> None:
        self._flush_text()
        segments = self._line
        self._line = []
        if not segments:
            self.page.feed(BASE_HEIGHT + LINE_SPACING)
            return
        images = [self._draw_segment(s) for s in segments]
        height = max(im.height for im in images) + LINE_SPACING
        strip = Image.new("L", (self.width_dots, height), 255)
        total = sum(im.width for im in images)
        x = self._x_for(total)
        for im in images:
            strip.paste(im, (x, height - LINE_SPACING - im.height))
            x += im.width
        self.page.add(strip)

    def _draw_segment(self, seg: _Segment) -> Image.Image:
        """Draw text in font A cells: 12 dots per half-width character, 24 per hanzi, magnified."""
        size = BASE_HEIGHT * seg.height
        font = self._fonts.get(size, seg.bold)
        spans = [12 * seg.width * (2 if _is_wide(ch) else 1) for ch in seg.text]
        im = Image.new("L", (max(1, sum(spans)), size), 255)
        x = 0
        for ch, span in zip(seg.text, spans, strict=True):
            if ch.strip():
                natural = max(1, int(round(font.getlength(ch))))
                glyph = Image.new("L", (natural, size), 255)
                ImageDraw.Draw(glyph).text(
                    (natural / 2, size / 2), ch, font=font, fill=0, anchor="mm"
                )
                width = min(span, max(1, round(natural * seg.width / seg.height)))
                if width != natural:
                    glyph = glyph.resize((width, size))
                im.paste(glyph, (x + (span - width) // 2, 0))
            x += span
        return im

    def _x_for(self, width: int) -> int:
        left = self.modes.left
        area = min(self.modes.area or self.width_dots, self.width_dots - left)
        free = max(0, area - width)
        return left + {0: 0, 1: free // 2, 2: free}.get(self.modes.align, 0)

    def _qr_function(self, body: bytes) -> None:
        if len(body) < 2 or body[0] != 0x31:
            return
        fn, args = body[1], body[2:]
        if fn == 0x43 and args:
            self.modes.qr_module = max(1, min(args[0], 16))
        elif fn == 0x45 and args:
            self.modes.qr_ecc = _ECC_BY_BYTE.get(args[0], "M")
        elif fn == 0x50 and args:
            self.modes.qr_data = bytes(args[1:])
        elif fn == 0x51:
            self._newline_if_pending()
            if self.modes.qr_data:
                matrix = qr_matrix(self.modes.qr_data, self.modes.qr_ecc)
                self._place(
                    np.kron(matrix, np.ones((self.modes.qr_module,) * 2, dtype=bool)),
                    margin=self.modes.qr_module * 2,
                )

    def _raster(self, data: bytes, width_bytes: int, rows: int) -> None:
        self._newline_if_pending()
        bits = np.unpackbits(
            np.frombuffer(data, dtype=np.uint8).reshape(rows, width_bytes), axis=1
        ).astype(bool)
        self._place(bits, margin=0)

    def _place(self, dark: npt.NDArray[np.bool_], margin: int) -> None:
        rows, cols = dark.shape
        cols = min(cols, self.width_dots - self.modes.left)
        strip = Image.new("L", (self.width_dots, rows + 2 * margin), 255)
        tile = Image.fromarray(np.where(dark[:, :cols], 0, 255).astype(np.uint8), mode="L")
        strip.paste(tile, (self._x_for(cols), margin))
        self.page.add(strip)

    def _cut(self, feed_dots: int) -> None:
        self._newline_if_pending()
        self.page.feed(feed_dots)
        if self.page.empty:
            return
        image = self.page.image()
        self.page = Page(self.width_dots)
        self.on_page(image)
