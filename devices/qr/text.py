"""Turn a QR payload's bytes into text: UTF-8 first, then GB18030 (GBK receipts carry no ECI)."""

from __future__ import annotations


def payload_text(data: bytes) -> str:
    """Decode payload bytes as UTF-8, else GB18030, else Latin-1 (which never fails).

    Chinese government receipts are often GBK without an ECI header; decoders
    that guess (ISO-8859-1 or Shift_JIS) garble them, so we decide here.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def normalise(text: str) -> str:
    """Compare-ready text: CRLF as LF, outer whitespace stripped (as ZXing's own harness does)."""
    return text.replace("\r\n", "\n").strip()
