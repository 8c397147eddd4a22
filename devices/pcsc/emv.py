"""The bank-card number of a social security card's financial application (PBOC/EMV, UnionPay).

Pure logic over a `transmit(apdu) -> (data, sw)` function: SELECT PPSE (`2PAY.SYS.DDF01`), fall
back to PSE (`1PAY.SYS.DDF01`) and then to the known UnionPay AIDs; SELECT the application; GET
PROCESSING OPTIONS for the AFL (a bounded record scan if that fails); READ RECORD until tag 5A
(PAN) or 57 (track 2 equivalent) turns up. Only the masked number ever leaves this module.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Callable

from devices.pcsc import tlv

Transmit = Callable[[bytes], tuple[bytes, int]]

PPSE = b"2PAY.SYS.DDF01"
PSE = b"1PAY.SYS.DDF01"
UNIONPAY_RID = bytes.fromhex("A000000333")
# 借记 debit, 贷记 credit, 准贷记 quasi-credit, 电子现金 e-cash, UICS.
UNIONPAY_AIDS = [
    bytes.fromhex(a)
    for a in (
        "A000000333010101",
        "A000000333010102",
        "A000000333010103",
        "A000000333010106",
        "A000000333010108",
    )
]
SW_OK = 0x9000
MAX_SCAN_SFI = 10
MAX_SCAN_RECORD = 10


def mask_pan(pan: str) -> str:
    """`621700******0684`: first 6 and last 4 digits kept."""
    if len(pan) <= 10:
        return "*" * (len(pan) - 4) + pan[-4:] if len(pan) > 4 else "*" * len(pan)
    return pan[:6] + "*" * (len(pan) - 10) + pan[-4:]


def select(transmit: Transmit, name: bytes) -> tuple[bytes, int]:
    """SELECT by DF name / AID, first or only occurrence."""
    return transmit(bytes([0x00, 0xA4, 0x04, 0x00, len(name)]) + name + b"\x00")


def read_record(transmit: Transmit, sfi: int, record: int) -> tuple[bytes, int]:
    """READ RECORD `record` of short file `sfi`."""
    return transmit(bytes([0x00, 0xB2, record, (sfi << 3) | 0x04, 0x00]))


def aids_from_ppse(fci: bytes) -> list[bytes]:
    """AIDs listed in a PPSE answer (61 entries under BF0C)."""
    return [aid for entry in tlv.find_all(fci, 0x61) if (aid := tlv.find(entry, 0x4F))]


def aids_from_pse(transmit: Transmit, fci: bytes) -> list[bytes]:
    """AIDs in the PSE directory file (SFI from tag 88), read record by record."""
    sfi_raw = tlv.find(fci, 0x88)
    if not sfi_raw:
        return []
    sfi = sfi_raw[0] & 0x1F
    aids: list[bytes] = []
    for record in range(1, MAX_SCAN_RECORD + 1):
        data, sw = read_record(transmit, sfi, record)
        if sw != SW_OK:
            break
        aids += [aid for entry in tlv.find_all(data, 0x61) if (aid := tlv.find(entry, 0x4F))]
    return aids


def _pdol_data(pdol: bytes) -> bytes:
    today = datetime.date.today()
    defaults = {
        0x9F66: bytes.fromhex("46000000"),  # terminal transaction qualifiers: contact + qUICS
        0x9F1A: bytes.fromhex("0156"),  # terminal country: China
        0x5F2A: bytes.fromhex("0156"),  # currency: CNY
        0x9A: bytes.fromhex(today.strftime("%y%m%d")),
        0x9F37: os.urandom(4),
        0x9C: b"\x00",
    }
    out = b""
    for tag, length in tlv.parse_dol(pdol):
        value = defaults.get(tag, b"")
        out += value[:length].rjust(length, b"\x00")
    return out


def afl_entries(afl: bytes) -> list[tuple[int, int, int]]:
    """(sfi, first record, last record) from an AFL."""
    out: list[tuple[int, int, int]] = []
    for i in range(0, len(afl) - len(afl) % 4, 4):
        sfi, first, last = afl[i] >> 3, afl[i + 1], afl[i + 2]
        if 1 <= sfi <= 30 and 1 <= first <= last:
            out.append((sfi, first, min(last, first + 16)))
    return out


def get_afl(transmit: Transmit, fci: bytes) -> list[tuple[int, int, int]]:
    """GET PROCESSING OPTIONS with a PDOL filled from sensible defaults; the AFL or []."""
    data = _pdol_data(tlv.find(fci, 0x9F38) or b"")
    resp, sw = transmit(
        bytes([0x80, 0xA8, 0x00, 0x00, len(data) + 2, 0x83, len(data)]) + data + b"\x00"
    )
    if sw != SW_OK:
        return []
    fmt1 = tlv.find(resp, 0x80)
    if fmt1 is not None and len(fmt1) >= 2:
        return afl_entries(fmt1[2:])
    return afl_entries(tlv.find(resp, 0x94) or b"")


def pan_from_record(record: bytes) -> str | None:
    """The PAN in a record: tag 5A, else the part of tag 57 before the separator D."""
    pan = tlv.find(record, 0x5A)
    if pan:
        digits = pan.hex().upper().rstrip("F")
        if digits.isdigit() and 12 <= len(digits) <= 19:
            return digits
    track2 = tlv.find(record, 0x57)
    if track2:
        digits = track2.hex().upper().split("D", 1)[0]
        if digits.isdigit() and 12 <= len(digits) <= 19:
            return digits
    return None


def _scan_records(transmit: Transmit, entries: list[tuple[int, int, int]]) -> str | None:
    for sfi, first, last in entries:
        for record in range(first, last + 1):
            data, sw = read_record(transmit, sfi, record)
            if sw != SW_OK:
                break  # 6A83 record not found / 6A82 file not found: next file
            pan = pan_from_record(data)
            if pan:
                return pan
    return None


def read_pan_masked(transmit: Transmit) -> str | None:
    """The masked bank-card number of the card's UnionPay application, or None if it has none."""
    aids: list[bytes] = []
    fci, sw = select(transmit, PPSE)
    if sw == SW_OK:
        aids = aids_from_ppse(fci)
    if not aids:
        fci, sw = select(transmit, PSE)
        if sw == SW_OK:
            aids = aids_from_pse(transmit, fci)
    ordered = [a for a in aids if a.startswith(UNIONPAY_RID)] + [
        a for a in aids if not a.startswith(UNIONPAY_RID)
    ]
    candidates = list(dict.fromkeys(ordered + UNIONPAY_AIDS))
    for aid in candidates:
        fci, sw = select(transmit, aid)
        if sw != SW_OK:
            continue
        entries = get_afl(transmit, fci)
        pan = _scan_records(transmit, entries) if entries else None
        if pan is None:
            scan = [(sfi, 1, MAX_SCAN_RECORD) for sfi in range(1, MAX_SCAN_SFI + 1)]
            pan = _scan_records(transmit, scan)
        if pan:
            return mask_pan(pan)
    return None
