"""The pure frame codec: round trips, resync on noise, damaged frames, garbage, fuzzing."""

from __future__ import annotations

import os
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.idcard.errors import FrameError
from devices.idcard.frame import (
    MAX_LEN,
    PREAMBLE,
    Command,
    FrameParser,
    Reply,
    build_frame,
    parse_frame,
    xor,
)

bodies = st.binary(min_size=1, max_size=MAX_LEN - 1)


def test_frame_layout_matches_the_standard() -> None:
    frame = Command(0x20, 0x01).frame()
    assert frame[:5] == PREAMBLE
    assert int.from_bytes(frame[5:7], "big") == 3  # CMD PARA + checksum
    assert frame[7:9] == b"\x20\x01"
    assert frame[-1] == frame[5] ^ frame[6] ^ frame[7] ^ frame[8]


@given(bodies)
def test_build_then_parse_round_trips(body: bytes) -> None:
    assert parse_frame(build_frame(body)) == body


@given(st.lists(bodies.filter(lambda b: len(b) < 300), min_size=1, max_size=5), st.data())
def test_parser_handles_any_split(bodies_: list[bytes], data: st.DataObject) -> None:
    stream = b"".join(build_frame(b) for b in bodies_)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=10)))
    parser = FrameParser()
    out: list[bytes | FrameError] = []
    prev = 0
    for cut in [*cuts, len(stream)]:
        out += parser.feed(stream[prev:cut])
        prev = cut
    assert out == bodies_
    assert parser.pending == 0


@given(
    st.binary(max_size=200).filter(lambda n: PREAMBLE[:1] not in n),
    bodies.filter(lambda b: len(b) < 300),
)
def test_noise_before_a_frame_is_skipped(noise: bytes, body: bytes) -> None:
    parser = FrameParser()
    assert parser.feed(noise + build_frame(body)) == [body]
    assert parser.noise_bytes == len(noise)


@given(bodies.filter(lambda b: len(b) < 300), st.integers(0, 10_000), st.integers(1, 255))
def test_any_single_byte_change_is_detected(body: bytes, where: int, flip: int) -> None:
    frame = bytearray(build_frame(body))
    i = 5 + where % (len(frame) - 5)  # anywhere after the preamble
    frame[i] ^= flip
    events = FrameParser().feed(bytes(frame))
    assert body not in events


def test_bad_checksum_is_reported_and_next_frame_still_read() -> None:
    bad = bytearray(build_frame(b"\x00\x00\x90abc"))
    bad[-1] ^= 0xFF
    good = build_frame(b"\x00\x00\x9f\x00\x00\x00\x00")
    events = FrameParser().feed(bytes(bad) + good)
    assert isinstance(events[0], FrameError) and "checksum" in events[0].message_en
    assert events[-1] == b"\x00\x00\x9f\x00\x00\x00\x00"


def test_impossible_length_is_rejected_at_once() -> None:
    events = FrameParser().feed(PREAMBLE + b"\xff\xff" + build_frame(b"ok"))
    assert isinstance(events[0], FrameError)
    assert events[-1] == b"ok"


def test_lying_length_gives_up_on_expire_and_finds_the_next_frame() -> None:
    good = build_frame(b"\x00\x00\x90")
    liar = bytearray(build_frame(b"\x00\x00\x90"))
    liar[5:7] = (500).to_bytes(2, "big")  # claims more bytes than will ever come
    parser = FrameParser()
    assert parser.feed(bytes(liar) + good) == []  # waits: the claimed frame is not complete
    assert parser.in_frame
    events = parser.expire()
    assert isinstance(events[0], FrameError)
    assert events[1:] == [b"\x00\x00\x90"]


def test_truncated_frame_then_good_one() -> None:
    parser = FrameParser()
    full = build_frame(bytes(range(50)))
    assert parser.feed(full[:20]) == []
    assert isinstance(parser.expire()[0], FrameError)
    assert parser.feed(build_frame(b"next")) == [b"next"]


def test_one_megabyte_of_random_bytes_then_a_good_frame() -> None:
    rng = random.Random(1234)
    garbage = rng.randbytes(1 << 20)
    parser = FrameParser()
    for i in range(0, len(garbage), 4096):
        for event in parser.feed(garbage[i : i + 4096]):
            assert isinstance(event, (bytes, FrameError))
        assert parser.pending <= 7 + parser.max_len  # bounded: never the whole megabyte
    parser.expire()  # whatever partial frame the garbage left is abandoned
    assert parser.feed(build_frame(b"\x00\x00\x90hello"))[-1:] == [b"\x00\x00\x90hello"]


def test_fuzz_parser_with_100k_inputs() -> None:
    """Random, mutated and spliced inputs: the parser never raises, never returns junk types."""
    rng = random.Random(int.from_bytes(os.urandom(4), "big"))
    seeds = [
        build_frame(bytes([0, 0, 0x90]) + rng.randbytes(rng.randrange(0, 40))) for _ in range(50)
    ]
    parser = FrameParser(max_len=512)
    for n in range(100_000):
        kind = n % 4
        if kind == 0:
            data = rng.randbytes(rng.randrange(0, 40))
        elif kind == 1:
            f = bytearray(rng.choice(seeds))
            for _ in range(rng.randrange(1, 4)):
                f[rng.randrange(len(f))] = rng.randrange(256)
            data = bytes(f)
        elif kind == 2:
            f = rng.choice(seeds)
            data = f[: rng.randrange(len(f))] + rng.choice(seeds)
        else:
            data = PREAMBLE + rng.randbytes(rng.randrange(0, 12))
        for event in parser.feed(data):
            if isinstance(event, bytes):
                assert event  # a body is never empty
            else:
                assert isinstance(event, FrameError)
        if n % 97 == 0:
            parser.expire()
        assert parser.pending <= 7 + 512
    parser.reset()
    assert parser.feed(seeds[0]) == [parse_frame(seeds[0])]


@pytest.mark.parametrize(
    "frame", [b"", PREAMBLE, PREAMBLE + b"\x00", b"\x00" * 10, PREAMBLE + b"\x00\x01\x00"]
)
def test_parse_frame_refuses_malformed(frame: bytes) -> None:
    with pytest.raises(FrameError):
        parse_frame(frame)


def test_reply_and_command_bodies() -> None:
    reply = Reply.from_body(b"\x00\x00\x9f\x01\x02")
    assert (reply.sw3, reply.data) == (0x9F, b"\x01\x02")
    assert Command.from_body(b"\x30\x01") == Command(0x30, 0x01)
    with pytest.raises(FrameError):
        Reply.from_body(b"\x00\x00")
    assert xor(b"\x01\x02\x04") == 7
