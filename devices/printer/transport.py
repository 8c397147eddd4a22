"""Byte transports for a printer, chosen by URL; each overrides only raw open/close/write/read.

- `/dev/ttyUSB0`, `serial:///dev/ttyS1?baud=9600`, other pyserial URLs: `SerialTransport`
- `socket://host:9100` (raw TCP "JetDirect" port): `SocketTransport`
- `/dev/usb/lp0` or `usblp:///dev/usb/lp0` (Linux USB printer class): `UsbLpTransport`
- `dummy://`: `DummyTransport`, which records bytes for exact assertions
"""

from __future__ import annotations

import os
import select
import socket
import time
from urllib.parse import urlparse

import serial

from devices.common.ports import open_port

DEFAULT_BAUD = 9600


class TransportError(OSError):
    """Bytes could not be written or read (timeout, unplugged, refused)."""


class Transport:
    """Raw byte link to a printer. Subclasses override `open`, `close`, `_write` and `_read`."""

    url: str = ""
    write_timeout: float = 5.0

    def open(self) -> None:
        """Open the link; raise `TransportError` when it cannot be opened."""

    def close(self) -> None:
        """Close the link (safe to call twice)."""

    def _write(self, data: bytes) -> None:
        raise NotImplementedError

    def _read(self, size: int, timeout: float) -> bytes:
        raise NotImplementedError

    def write(self, data: bytes) -> None:
        """Write all of `data` within `write_timeout`, else raise `TransportError`."""
        self._write(data)

    def read(self, size: int, timeout: float) -> bytes:
        """Up to `size` bytes arriving within `timeout` seconds (empty when none came)."""
        return self._read(size, timeout)

    def drain_input(self) -> None:
        """Drop bytes already waiting (stale replies) before asking something new."""
        while self._read(256, 0.0):
            pass

    def __enter__(self) -> Transport:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SerialTransport(Transport):
    """A serial printer (RS-232 or USB-serial), 9600 8N1 unless the URL says `?baud=`."""

    def __init__(self, url: str, *, baudrate: int = DEFAULT_BAUD) -> None:
        self.url = url
        self.baudrate = baudrate
        self._port: serial.SerialBase | None = None

    def open(self) -> None:
        """Open the port with a write timeout, so a stalled printer cannot hang us."""
        try:
            self._port = open_port(
                self.url, baudrate=self.baudrate, timeout=0.5, write_timeout=self.write_timeout
            )
        except OSError as err:
            raise TransportError(str(err)) from err

    def close(self) -> None:
        """Close the port."""
        if self._port is not None:
            self._port.close()
            self._port = None

    def _require(self) -> serial.SerialBase:
        if self._port is None:
            raise TransportError(f"printer port {self.url} is not open")
        return self._port

    def _write(self, data: bytes) -> None:
        port = self._require()
        try:
            port.write(data)
        except (serial.SerialException, OSError) as err:
            raise TransportError(f"write to {self.url} failed: {err}") from err

    def _read(self, size: int, timeout: float) -> bytes:
        port = self._require()
        try:
            port.timeout = timeout
            return bytes(port.read(size))
        except (serial.SerialException, OSError) as err:
            raise TransportError(f"read from {self.url} failed: {err}") from err


class SocketTransport(Transport):
    """A network printer on a raw TCP port (usually 9100)."""

    def __init__(self, host: str, port: int = 9100, *, connect_timeout: float = 3.0) -> None:
        self.url = f"socket://{host}:{port}"
        self.host, self.port, self.connect_timeout = host, port, connect_timeout
        self._sock: socket.socket | None = None

    def open(self) -> None:
        """Connect with TCP_NODELAY (status replies are one byte)."""
        try:
            self._sock = socket.create_connection(
                (self.host, self.port), timeout=self.connect_timeout
            )
        except OSError as err:
            raise TransportError(f"cannot connect to printer {self.url}: {err}") from err
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def close(self) -> None:
        """Close the connection."""
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def _require(self) -> socket.socket:
        if self._sock is None:
            raise TransportError(f"printer connection {self.url} is not open")
        return self._sock

    def _write(self, data: bytes) -> None:
        sock = self._require()
        try:
            sock.settimeout(self.write_timeout)
            sock.sendall(data)
        except OSError as err:
            raise TransportError(f"write to {self.url} failed: {err}") from err

    def _read(self, size: int, timeout: float) -> bytes:
        sock = self._require()
        try:
            if timeout <= 0:
                sock.setblocking(False)
            else:
                sock.settimeout(timeout)
            return sock.recv(size)
        except (TimeoutError, BlockingIOError):
            return b""
        except OSError as err:
            raise TransportError(f"read from {self.url} failed: {err}") from err


class UsbLpTransport(Transport):
    """A USB printer-class device file (`/dev/usb/lp0`), read back for status where supported."""

    def __init__(self, path: str) -> None:
        self.url = path
        self.path = path
        self._fd: int | None = None

    def open(self) -> None:
        """Open the device file for reading and writing, non-blocking (we wait with select)."""
        try:
            self._fd = os.open(self.path, os.O_RDWR | os.O_NONBLOCK | os.O_NOCTTY)
        except OSError as err:
            raise TransportError(f"cannot open printer {self.path}: {err.strerror}") from err

    def close(self) -> None:
        """Close the device file."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _require(self) -> int:
        if self._fd is None:
            raise TransportError(f"printer {self.path} is not open")
        return self._fd

    def _write(self, data: bytes) -> None:
        fd = self._require()
        view = memoryview(data)
        deadline = time.monotonic() + self.write_timeout
        while view:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TransportError(f"printer {self.path} stopped taking data (write timed out)")
            _, writable, _ = select.select([], [fd], [], remaining)
            if not writable:
                continue
            try:
                view = view[os.write(fd, view) :]
            except BlockingIOError:
                continue
            except OSError as err:
                raise TransportError(f"write to {self.path} failed: {err.strerror}") from err

    def _read(self, size: int, timeout: float) -> bytes:
        fd = self._require()
        readable, _, _ = select.select([fd], [], [], max(timeout, 0.0))
        if not readable:
            return b""
        try:
            return os.read(fd, size)
        except BlockingIOError:
            return b""
        except OSError as err:
            raise TransportError(f"read from {self.path} failed: {err.strerror}") from err


class DummyTransport(Transport):
    """Records every byte written (`output`) and answers reads from `replies`, for exact assertions."""

    def __init__(self, replies: bytes = b"") -> None:
        self.url = "dummy://"
        self.output = bytearray()
        self.replies = bytearray(replies)

    def _write(self, data: bytes) -> None:
        self.output += data

    def _read(self, size: int, timeout: float) -> bytes:
        data = bytes(self.replies[:size])
        del self.replies[:size]
        return data


def transport_for_url(url: str, *, baudrate: int = DEFAULT_BAUD) -> Transport:
    """The transport a printer URL names (see the module docstring)."""
    if url.startswith("dummy:"):
        return DummyTransport()
    if url.startswith("socket://"):
        parsed = urlparse(url)
        if not parsed.hostname:
            raise ValueError(f"printer URL {url!r} has no host; use socket://HOST:9100")
        return SocketTransport(parsed.hostname, parsed.port or 9100)
    if url.startswith("usblp://"):
        return UsbLpTransport(urlparse(url).path)
    if url.startswith("/dev/usb/lp") or url.startswith("/dev/lp"):
        return UsbLpTransport(url)
    return SerialTransport(url, baudrate=baudrate)
