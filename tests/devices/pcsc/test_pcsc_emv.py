"""Pure parts of the PC/SC driver: TLV, AFL, PAN extraction and masking."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from devices.pcsc import emv, tlv


def test_tlv_round_trip_and_nested_search() -> None:
    inner = tlv.encode(0x5A, bytes.fromhex("6217001234560684")) + tlv.encode(
        0x9F38, b"\x9f\x66\x04"
    )
    outer = tlv.encode(
        0x70, inner + tlv.encode(0xBF0C, tlv.encode(0x61, tlv.encode(0x4F, b"\xa0\x00")))
    )
    assert tlv.find(outer, 0x5A) == bytes.fromhex("6217001234560684")
    assert tlv.find(outer, 0x4F) == b"\xa0\x00"
    assert tlv.find(outer, 0x9F38) == b"\x9f\x66\x04"
    assert tlv.find(tlv.encode(0x70, bytes(300)), 0x70) == bytes(300)  # two-byte length form


@given(st.binary(max_size=300))
def test_tlv_never_raises_on_garbage(data: bytes) -> None:
    list(tlv.find_all(data, 0x5A))
    tlv.parse_dol(data)
    emv.pan_from_record(data)
    emv.afl_entries(data)


def test_pan_from_5a_and_57() -> None:
    assert (
        emv.pan_from_record(tlv.encode(0x5A, bytes.fromhex("6217001234560684")))
        == "6217001234560684"
    )
    assert (
        emv.pan_from_record(
            tlv.encode(0x5A, bytes.fromhex("621700123456068412 3F".replace(" ", "")))
        )
        == "6217001234560684123"
    )
    track2 = bytes.fromhex("6217001234560684D3012201000000000F")
    assert emv.pan_from_record(tlv.encode(0x70, tlv.encode(0x57, track2))) == "6217001234560684"
    assert emv.pan_from_record(tlv.encode(0x5A, b"\x12")) is None  # too short to be a card number


def test_mask_pan() -> None:
    assert emv.mask_pan("6217001234560684") == "621700******0684"
    assert emv.mask_pan("6217001234560684123") == "621700*********4123"


def test_afl_entries() -> None:
    assert emv.afl_entries(bytes([0x08, 1, 2, 0, 0x10, 1, 1, 0])) == [(1, 1, 2), (2, 1, 1)]
    assert emv.afl_entries(bytes([0x08, 3, 1, 0])) == []  # first > last is ignored
