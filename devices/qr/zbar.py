"""pyzbar's libzbar, asked for the raw payload bytes (ZBAR_CFG_BINARY) instead of its charset guess."""

from __future__ import annotations

from ctypes import c_char_p, c_void_p, cast, string_at

import numpy as np
import numpy.typing as npt
from pyzbar import pyzbar
from pyzbar.wrapper import (
    ZBarConfig,
    ZBarSymbol,
    zbar_image_scanner_set_config,
    zbar_image_set_data,
    zbar_image_set_format,
    zbar_image_set_size,
    zbar_scan_image,
    zbar_symbol_get_data,
    zbar_symbol_get_data_length,
)

# zbar.h, enum zbar_config_e: ZBAR_CFG_BINARY ("don't convert binary data to text"), zbar >= 0.23.
_CFG_BINARY = 4


def zbar_qr_bytes(gray: npt.NDArray[np.uint8]) -> list[bytes]:
    """Payload bytes of every QR code zbar finds in a grayscale image."""
    height, width = gray.shape[:2]
    pixels = np.ascontiguousarray(gray).tobytes()
    found: list[bytes] = []
    with pyzbar._image_scanner() as scanner:
        zbar_image_scanner_set_config(scanner, ZBarSymbol.NONE, ZBarConfig.CFG_ENABLE, 0)
        zbar_image_scanner_set_config(scanner, ZBarSymbol.QRCODE, ZBarConfig.CFG_ENABLE, 1)
        zbar_image_scanner_set_config(scanner, ZBarSymbol.QRCODE, _CFG_BINARY, 1)
        with pyzbar._image() as image:
            zbar_image_set_format(image, pyzbar._FOURCC["L800"])
            zbar_image_set_size(image, width, height)
            zbar_image_set_data(image, cast(c_char_p(pixels), c_void_p), len(pixels), None)
            if zbar_scan_image(scanner, image) < 0:
                return found
            for symbol in pyzbar._symbols_for_image(image):
                size = zbar_symbol_get_data_length(symbol)
                found.append(string_at(zbar_symbol_get_data(symbol), size))
    return found
