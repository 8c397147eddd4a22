"""The SAM command set (GA/T 467) and what a correct reply to each looks like."""

from __future__ import annotations

import struct
from dataclasses import dataclass

from devices.idcard.errors import UnexpectedReply, sam_error
from devices.idcard.frame import Command, Reply

SW3_OK = 0x90
SW3_FOUND = 0x9F
SW3_NO_CARD = 0x80
SW3_SELECT_FAILED = 0x81

RESET = Command(0x10, 0xFF)
SAM_STATUS = Command(0x11, 0xFF)
SAM_ID = Command(0x12, 0xFF)
FIND_CARD = Command(0x20, 0x01)
SELECT_CARD = Command(0x20, 0x02)
READ_CARD = Command(0x30, 0x01)
READ_CARD_FP = Command(0x30, 0x10)

TEXT_LEN = 256
PHOTO_LEN = 1024
FP_LEN = 1024


@dataclass(frozen=True)
class Expect:
    """What a correct reply to one command looks like: its success SW3 and data length bounds."""

    name: str
    ok_sw3: int
    min_data: int
    max_data: int


EXPECT: dict[tuple[int, int], Expect] = {
    (0x10, 0xFF): Expect("reset", SW3_OK, 0, 0),
    (0x11, 0xFF): Expect("sam_status", SW3_OK, 0, 0),
    (0x12, 0xFF): Expect("sam_id", SW3_OK, 16, 16),
    (0x20, 0x01): Expect("find", SW3_FOUND, 0, 4),
    (0x20, 0x02): Expect("select", SW3_OK, 0, 8),
    (0x30, 0x01): Expect("read", SW3_OK, 4 + TEXT_LEN, 4 + TEXT_LEN + PHOTO_LEN),
    (0x30, 0x10): Expect("read_fp", SW3_OK, 6 + TEXT_LEN, 6 + TEXT_LEN + PHOTO_LEN + FP_LEN),
}


def check_reply(command: Command, reply: Reply) -> Reply:
    """Return `reply` if it answers `command` with success; else raise the typed error."""
    expect = EXPECT.get((command.cmd, command.para))
    if expect is None:
        return reply
    if reply.sw3 != expect.ok_sw3:
        if reply.sw3 in (SW3_OK, SW3_FOUND):
            raise _mismatch(
                expect.name, f"success code 0x{reply.sw3:02X} belongs to another command"
            )
        raise sam_error(reply.sw3)
    if not expect.min_data <= len(reply.data) <= expect.max_data:
        raise _mismatch(expect.name, f"{len(reply.data)} data bytes")
    return reply


def _mismatch(name: str, detail: str) -> UnexpectedReply:
    return UnexpectedReply(
        f"阅读器的应答与命令不符（{name}），请重试。",
        f"The reader's reply does not answer the {name} command ({detail}); try again.",
    )


@dataclass(frozen=True)
class RawCard:
    """The three blobs of a read: 256-byte text, 1024-byte WLT photo, optional fingerprints."""

    text: bytes
    photo: bytes
    fingerprint: bytes = b""


def split_read_data(data: bytes, *, with_fingerprint: bool) -> RawCard:
    """Split the data of a read reply by its length fields."""
    n = 6 if with_fingerprint else 4
    if len(data) < n:
        raise _mismatch("read", "too short for its length fields")
    text_len, photo_len = struct.unpack(">HH", data[:4])
    fp_len = struct.unpack(">H", data[4:6])[0] if with_fingerprint else 0
    if (
        text_len != TEXT_LEN
        or photo_len > PHOTO_LEN
        or fp_len > FP_LEN
        or n + text_len + photo_len + fp_len != len(data)
    ):
        raise _mismatch(
            "read", f"length fields {text_len}/{photo_len}/{fp_len} do not match {len(data)} bytes"
        )
    text = data[n : n + text_len]
    photo = data[n + text_len : n + text_len + photo_len]
    fp = data[n + text_len + photo_len :]
    return RawCard(bytes(text), bytes(photo), bytes(fp))


def join_read_data(card: RawCard, *, with_fingerprint: bool) -> bytes:
    """Inverse of `split_read_data` (used by the simulator)."""
    head = struct.pack(">HH", len(card.text), len(card.photo))
    if with_fingerprint:
        head += struct.pack(">H", len(card.fingerprint))
        return head + card.text + card.photo + card.fingerprint
    return head + card.text + card.photo


def format_sam_id(data: bytes) -> str:
    """The SAM id as printed on the module label: `05.01-20101215-0011364427-2253674683`."""
    if len(data) != 16:
        return data.hex()
    a, b = data[0], data[2]
    c, d, e = struct.unpack("<III", data[4:16])
    return f"{a:02d}.{b:02d}-{c:08d}-{d:010d}-{e:010d}"
