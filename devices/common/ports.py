"""Open a serial link from a device path or a pyserial URL (`socket://host:port`, `loop://`)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlparse

import serial


def open_port(url: str, *, baudrate: int = 115200, timeout: float = 0.5, **kwargs: Any) -> serial.SerialBase:
    """Open `url`: `/dev/ttyUSB0`, `serial:///dev/ttyUSB0?baud=9600`, or any pyserial URL.

    Raises `OSError` with a plain message when the port cannot be opened.
    """
    if url.startswith("serial://"):
        parsed = urlparse(url)
        query = parse_qs(parsed.query)
        if "baud" in query:
            baudrate = int(query["baud"][0])
        url = parsed.path
    try:
        return serial.serial_for_url(url, baudrate=baudrate, timeout=timeout, **kwargs)
    except (serial.SerialException, ValueError) as err:
        raise OSError(f"cannot open serial port {url!r}: {err}") from err
