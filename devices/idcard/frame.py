"""Pure frame codec of the SAM link: `AA AA AA 96 69 | LEN(2, BE) | body | XOR` (bytes in, objects out).

LEN counts body + checksum; the checksum is the XOR of every byte after the preamble (LEN and
body). `FrameParser` is incremental: it resynchronises on noise, keeps partial frames, and
reports damaged frames as `FrameError` events instead of hanging or raising.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import reduce

from devices.idcard.errors import FrameError

PREAMBLE = b"\xaa\xaa\xaa\x96\x69"
HEADER_LEN = len(PREAMBLE) + 2
# The longest real reply is read-with-fingerprint: 2321 bytes on the wire. Anything much longer
# is a length field that lies; refusing it early keeps the parser from waiting for ever.
MAX_LEN = 4096
MIN_LEN = 2  # at least one body byte and the checksum


def xor(data: bytes | bytearray) -> int:
    """XOR of all bytes (the frame checksum)."""
    return reduce(lambda a, b: a ^ b, data, 0)


def build_frame(body: bytes) -> bytes:
    """Wrap `body` in preamble, length and checksum."""
    length = len(body) + 1
    if not MIN_LEN <= length <= MAX_LEN:
        raise ValueError(f"frame body of {len(body)} bytes cannot be sent")
    payload = length.to_bytes(2, "big") + body
    return PREAMBLE + payload + bytes([xor(payload)])


def parse_frame(frame: bytes) -> bytes:
    """The body of exactly one complete frame; `FrameError` if anything is wrong."""
    if not frame.startswith(PREAMBLE):
        raise _bad("帧头错误", "frame does not start with the preamble AA AA AA 96 69")
    if len(frame) < HEADER_LEN:
        raise _bad("帧不完整", "frame is truncated")
    length = int.from_bytes(frame[5:7], "big")
    if not MIN_LEN <= length <= MAX_LEN or len(frame) != HEADER_LEN + length:
        raise _bad("帧长度错误", f"length field {length} does not match the frame")
    if xor(frame[5:]) != 0:
        raise _bad("帧校验和错误", "frame checksum is wrong")
    return frame[HEADER_LEN:-1]


def _bad(what_zh: str, what_en: str) -> FrameError:
    return FrameError(
        f"阅读器数据损坏：{what_zh}，请重试。",
        f"Damaged data from the reader: {what_en}; try again.",
    )


@dataclass(frozen=True)
class Command:
    """A host command body: `CMD PARA [DATA]`."""

    cmd: int
    para: int
    data: bytes = b""

    def body(self) -> bytes:
        """The frame body of this command."""
        return bytes([self.cmd, self.para]) + self.data

    def frame(self) -> bytes:
        """The complete frame to write to the line."""
        return build_frame(self.body())

    @classmethod
    def from_body(cls, body: bytes) -> Command:
        """Decode a command body (used by the simulator)."""
        if len(body) < 2:
            raise _bad("命令过短", "command body shorter than two bytes")
        return cls(body[0], body[1], bytes(body[2:]))


@dataclass(frozen=True)
class Reply:
    """A reply body from the SAM: `SW1 SW2 SW3 [DATA]`."""

    sw1: int
    sw2: int
    sw3: int
    data: bytes = b""

    def body(self) -> bytes:
        """The frame body of this reply."""
        return bytes([self.sw1, self.sw2, self.sw3]) + self.data

    def frame(self) -> bytes:
        """The complete frame (used by the simulator)."""
        return build_frame(self.body())

    @classmethod
    def from_body(cls, body: bytes) -> Reply:
        """Decode a reply body; `FrameError` if it cannot hold SW1 SW2 SW3."""
        if len(body) < 3:
            raise _bad("应答过短", "reply body shorter than three status bytes")
        return cls(body[0], body[1], body[2], bytes(body[3:]))


class FrameParser:
    """Incremental parser: `feed(bytes)` returns complete bodies and `FrameError`s in line order."""

    def __init__(self, max_len: int = MAX_LEN) -> None:
        self._buf = bytearray()
        self.max_len = max_len
        self.noise_bytes = 0  # bytes skipped while looking for a preamble

    @property
    def pending(self) -> int:
        """Bytes held back: a partial frame, or a tail that may start a preamble."""
        return len(self._buf)

    @property
    def in_frame(self) -> bool:
        """True when a preamble has been seen and the rest of that frame is awaited."""
        return self._buf.startswith(PREAMBLE)

    def reset(self) -> None:
        """Forget everything held back."""
        self._buf.clear()

    def feed(self, data: bytes) -> list[bytes | FrameError]:
        """Add bytes from the line; return every event they complete."""
        self._buf += data
        return self._drain()

    def expire(self) -> list[bytes | FrameError]:
        """Give up on a partial frame (the line went quiet): report it and rescan what is held."""
        if not self.in_frame:
            return []
        del self._buf[0]
        events: list[bytes | FrameError] = [
            _bad("帧不完整或长度字段错误", "frame truncated or its length field is wrong")
        ]
        return events + self._drain()

    def _drain(self) -> list[bytes | FrameError]:
        events: list[bytes | FrameError] = []
        buf = self._buf
        while True:
            start = buf.find(PREAMBLE)
            if start < 0:
                # Keep a tail that could be the start of a preamble split across reads.
                keep = 0
                for k in range(min(len(PREAMBLE) - 1, len(buf)), 0, -1):
                    if buf.endswith(PREAMBLE[:k]):
                        keep = k
                        break
                self.noise_bytes += len(buf) - keep
                del buf[: len(buf) - keep]
                return events
            if start:
                self.noise_bytes += start
                del buf[:start]
            if len(buf) < HEADER_LEN:
                return events
            length = int.from_bytes(buf[5:7], "big")
            if not MIN_LEN <= length <= self.max_len:
                events.append(_bad("帧长度错误", f"impossible length field {length}"))
                del buf[0]
                continue
            end = HEADER_LEN + length
            if len(buf) < end:
                return events
            if xor(buf[5:end]) != 0:
                events.append(_bad("帧校验和错误", "frame checksum is wrong"))
                # The length may have lied: resume one byte on, not after the claimed frame.
                del buf[0]
                continue
            events.append(bytes(buf[HEADER_LEN : end - 1]))
            del buf[:end]
