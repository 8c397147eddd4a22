"""Payload framing: CR, LF, CRLF and TAB end a payload, in any chunking."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from devices.scanner.framing import MAX_PAYLOAD, ScanFramer


def test_each_terminator_ends_a_payload() -> None:
    framer = ScanFramer()
    assert framer.feed(b"one\rtwo\r\nthree\tfour\n") == [b"one", b"two", b"three", b"four"]
    assert framer.pending() == b""


def test_partial_payload_waits_for_its_terminator() -> None:
    framer = ScanFramer()
    assert framer.feed(b"A0") == []
    assert framer.feed(b"12\r") == [b"A012"]


def test_endless_garbage_is_bounded() -> None:
    framer = ScanFramer()
    assert framer.feed(b"x" * (MAX_PAYLOAD * 3)) == []
    assert len(framer.pending()) <= MAX_PAYLOAD
    assert framer.overflows >= 2
    assert framer.feed(b"\rok\r")[-1] == b"ok"


payload = st.binary(min_size=1, max_size=200).filter(lambda b: not any(c in b for c in b"\r\n\t"))


@given(
    st.lists(payload, min_size=1, max_size=10), st.sampled_from([b"\r", b"\r\n", b"\t"]), st.data()
)
def test_any_chunking_gives_the_same_payloads(
    payloads: list[bytes], end: bytes, data: st.DataObject
) -> None:
    stream = b"".join(p + end for p in payloads)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=8)))
    framer = ScanFramer()
    got: list[bytes] = []
    for start, stop in zip([0, *cuts], [*cuts, len(stream)], strict=True):
        got += framer.feed(stream[start:stop])
    assert got == payloads
