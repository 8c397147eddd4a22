"""Cut a scan engine's byte stream into payloads: each ends with CR, LF, CRLF or TAB. Pure, no I/O."""

from __future__ import annotations

TERMINATORS = b"\r\n\t"
MAX_PAYLOAD = 8192  # a QR code holds at most 2953 bytes; anything longer is line noise


class ScanFramer:
    """Feed bytes as they arrive; get back the complete payloads (terminator removed)."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self.overflows = 0

    def feed(self, data: bytes) -> list[bytes]:
        """Add `data`; return every payload it completes (empty lines are dropped, so CRLF is one end)."""
        payloads: list[bytes] = []
        for byte in data:
            if byte in TERMINATORS:
                if self._buffer:
                    payloads.append(bytes(self._buffer))
                    self._buffer.clear()
                continue
            if len(self._buffer) >= MAX_PAYLOAD:
                # Garbage without terminators: drop it rather than grow without bound.
                self._buffer.clear()
                self.overflows += 1
            self._buffer.append(byte)
        return payloads

    def pending(self) -> bytes:
        """Bytes received after the last terminator."""
        return bytes(self._buffer)
