"""Printer capabilities as data (python-escpos style): paper width, dots, columns, native QR or not."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PrinterProfile:
    """What one printer model can do; layouts read it instead of branching on model names."""

    name: str
    paper_mm: int
    width_dots: int
    columns: int  # font A (12x24 dots) characters per line; a hanzi takes two
    native_qr: bool = True  # GS ( k model 2; without it the QR is sent as a raster image
    qr_module_dots: int = 6
    chinese: bool = True  # FS & switches to double-byte GB18030 text
    cutter: bool = True
    status: bool = True  # answers DLE EOT 4 (paper sensor)


PROFILES: dict[str, PrinterProfile] = {
    "58": PrinterProfile("generic 58 mm", 58, 384, 32, qr_module_dots=6),
    "80": PrinterProfile("generic 80 mm", 80, 576, 48, qr_module_dots=8),
    "58-raster": PrinterProfile(
        "58 mm without QR support", 58, 384, 32, native_qr=False, qr_module_dots=6
    ),
    "80-raster": PrinterProfile(
        "80 mm without QR support", 80, 576, 48, native_qr=False, qr_module_dots=8
    ),
}


def profile_for(width: int | str, *, native_qr: bool = True) -> PrinterProfile:
    """The profile for a roll width (58 or 80), optionally without native QR."""
    key = f"{int(width)}" + ("" if native_qr else "-raster")
    try:
        return PROFILES[key]
    except KeyError:
        raise ValueError(
            f"unknown paper width {width!r}: use 58 or 80 / 纸宽只能是 58 或 80"
        ) from None
