"""The ID card reader over a serial line: a command/reply link and a card-polling watcher.

`IdCardReader` is what the kiosk uses: `read_once()` for one card, `watch(on_card, ...)` for a
background thread that reports each placed card once, reopens a port that disappeared (USB
reader unplugged) with backoff, and publishes health "ok" | "absent" | "error".
"""

from __future__ import annotations

import logging
import termios
import threading
import time
from collections.abc import Callable

import serial

from devices.common.health import Health
from devices.common.ports import open_port
from devices.common.worker import Backoff, HealthCallback, Worker
from devices.idcard import commands as c
from devices.idcard.card import CardData, PhotoDecoder, PlaceholderPhotoDecoder, parse_text
from devices.idcard.commands import RawCard
from devices.idcard.errors import (
    FrameError,
    IdCardError,
    NoCardError,
    PortError,
    ReaderNotAnswering,
    SamError,
)
from devices.idcard.frame import Command, FrameParser, Reply

log = logging.getLogger(__name__)


def _port_gone(err: BaseException) -> PortError:
    return PortError(
        f"身份证阅读器连接中断（{err}），请检查 USB 线或串口。",
        f"The ID card reader's link broke ({err}); check the USB cable or serial port.",
    )


class SamLink:
    """One open serial link to a SAM module: send a command, wait for its reply (always with a timeout)."""

    def __init__(
        self, port: serial.SerialBase, *, timeout: float = 2.0, idle_gap: float = 0.2
    ) -> None:
        self.port = port
        self.timeout = timeout
        # A frame that stops arriving for this long is given up (truncated, or its length lied).
        self.idle_gap = idle_gap
        self._parser = FrameParser()

    def close(self) -> None:
        """Close the serial port."""
        try:
            self.port.close()
        except (OSError, serial.SerialException, termios.error):
            pass

    def exchange(self, command: Command, timeout: float | None = None) -> Reply:
        """Send `command` and return the next reply frame, unchecked."""
        limit = self.timeout if timeout is None else timeout
        try:
            # Stale bytes (a late reply to an earlier, timed-out command) must not pair with this one.
            self.port.reset_input_buffer()
            self._parser.reset()
            self.port.write(command.frame())
            self.port.flush()
            return self._read_reply(time.monotonic() + limit)
        except (OSError, serial.SerialException, termios.error) as err:
            raise _port_gone(err) from err

    def _read_reply(self, deadline: float) -> Reply:
        last_byte = time.monotonic()
        while True:
            now = time.monotonic()
            if now >= deadline:
                raise ReaderNotAnswering(
                    "身份证阅读器没有应答，请检查连接和电源。",
                    "The ID card reader did not answer; check its cable and power.",
                )
            self.port.timeout = min(0.05, deadline - now)
            chunk = self.port.read(max(1, self.port.in_waiting))
            if chunk:
                last_byte = time.monotonic()
                events = self._parser.feed(chunk)
            elif self._parser.in_frame and time.monotonic() - last_byte > self.idle_gap:
                events = self._parser.expire()
            else:
                continue
            for event in events:
                if isinstance(event, FrameError):
                    raise event
                return Reply.from_body(event)

    def transact(self, command: Command, timeout: float | None = None) -> Reply:
        """Send `command`; return its successful reply or raise the typed error."""
        return c.check_reply(command, self.exchange(command, timeout))

    def reset(self) -> None:
        """Reset the SAM (10 FF)."""
        self.transact(c.RESET)

    def sam_status(self) -> None:
        """Ask the SAM for its status (11 FF); raises if it is not well."""
        self.transact(c.SAM_STATUS)

    def sam_id(self) -> str:
        """The SAM module's id (12 FF), formatted as on its label."""
        return c.format_sam_id(self.transact(c.SAM_ID).data)

    def find_card(self) -> bool:
        """True if a card is in the field (20 01); False when SW3 says none."""
        try:
            self.transact(c.FIND_CARD)
        except NoCardError:
            return False
        return True

    def select_card(self) -> None:
        """Select the found card (20 02)."""
        self.transact(c.SELECT_CARD)

    def read_card(self, *, fingerprint: bool = False) -> RawCard:
        """Read text and photo (30 01), or also fingerprints (30 10)."""
        command = c.READ_CARD_FP if fingerprint else c.READ_CARD
        reply = self.transact(command, timeout=max(self.timeout, 1.0))
        return c.split_read_data(reply.data, with_fingerprint=fingerprint)


class IdCardReader:
    """A resident ID card reader on one port URL (`/dev/ttyUSB0`, `serial://...?baud=`, `socket://`)."""

    def __init__(
        self,
        port_url: str,
        *,
        poll_interval: float = 0.3,
        timeout: float = 2.0,
        baudrate: int = 115200,
        photo_decoder: PhotoDecoder | None = None,
    ) -> None:
        self.port_url = port_url
        self.poll_interval = poll_interval
        self.timeout = timeout
        self.baudrate = baudrate
        self.photo_decoder: PhotoDecoder = photo_decoder or PlaceholderPhotoDecoder()
        self._link: SamLink | None = None
        self._lock = threading.RLock()

    def open(self) -> SamLink:
        """Open the port if it is not open yet; `PortError` if it cannot be."""
        with self._lock:
            if self._link is None:
                try:
                    port = open_port(self.port_url, baudrate=self.baudrate, timeout=0.05)
                except OSError as err:
                    raise PortError(
                        f"无法打开身份证阅读器端口 {self.port_url}，请检查阅读器是否接好、端口名是否正确。",
                        f"Cannot open the ID card reader port {self.port_url} ({err}); check the reader is plugged in and the port name.",
                    ) from err
                self._link = SamLink(port, timeout=self.timeout)
            return self._link

    def close(self) -> None:
        """Close the port (it reopens on next use)."""
        with self._lock:
            if self._link is not None:
                self._link.close()
                self._link = None

    def __enter__(self) -> IdCardReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def sam_id(self) -> str:
        """The SAM module id (proves the reader answers)."""
        with self._lock:
            return self.open().sam_id()

    def read_card(self, *, fingerprint: bool = False) -> CardData | None:
        """One attempt: find, select, read, parse. None when no card is on the reader."""
        with self._lock:
            link = self.open()
            if not link.find_card():
                return None
            link.select_card()
            raw = link.read_card(fingerprint=fingerprint)
        return parse_text(raw.text, raw.photo, raw.fingerprint)

    def read_once(self, timeout: float = 5.0, *, fingerprint: bool = False) -> CardData:
        """Wait up to `timeout` seconds for a card and read it; `NoCardError` if none comes."""
        deadline = time.monotonic() + timeout
        last: IdCardError | None = None
        while True:
            try:
                card = self.read_card(fingerprint=fingerprint)
                if card is not None:
                    return card
            except (SamError, FrameError) as err:
                last = err  # card moved mid-read or a damaged frame: try again until the deadline
            if time.monotonic() + self.poll_interval > deadline:
                if last is not None:
                    raise last
                raise NoCardError(
                    0x80,
                    "等待超时，未检测到证件，请把身份证放在感应区。",
                    "Timed out: no card found; place the ID card on the reader.",
                )
            time.sleep(self.poll_interval)

    def photo_image(self, card: CardData) -> bytes | None:
        """The decoded photo of `card`, or None (show a placeholder)."""
        return self.photo_decoder.decode(card.photo)

    def watch(
        self,
        on_card: Callable[[CardData], None],
        on_health: Callable[[Health], None] | None = None,
        on_removed: Callable[[], None] | None = None,
        *,
        removal_misses: int = 2,
        max_backoff: float = 5.0,
    ) -> IdCardWatcher:
        """Start a background watcher; call `.stop()` on the result to end it."""
        watcher = IdCardWatcher(
            self,
            on_card,
            on_health,
            on_removed,
            removal_misses=removal_misses,
            max_backoff=max_backoff,
        )
        watcher.start()
        return watcher


class IdCardWatcher(Worker):
    """Polls a reader in a thread: `on_card` once per placed card, `on_health` on every health change.

    A SAM usually stops finding a card it has read until it leaves the field; others keep finding
    it. Both work: a card counts as removed after `removal_misses` failed finds in a row, and a card
    re-read while still present is only reported if it is a different card.
    """

    def __init__(
        self,
        reader: IdCardReader,
        on_card: Callable[[CardData], None],
        on_health: HealthCallback | None = None,
        on_removed: Callable[[], None] | None = None,
        *,
        removal_misses: int = 2,
        max_backoff: float = 5.0,
    ) -> None:
        super().__init__(
            f"idcard-watch {reader.port_url}",
            on_health,
            health=Health("error", "not started"),
            label=("读卡器", "ID card watcher"),
        )
        self.reader = reader
        self.on_card = on_card
        self.on_removed = on_removed
        # Optional: told of each failed read of a present card (card moved, not flat), e.g. to say so on screen.
        self.on_read_error: Callable[[IdCardError], None] | None = None
        self.removal_misses = removal_misses
        self.max_backoff = max_backoff
        self.cards_reported = 0

    def stop(self, timeout: float = 5.0) -> None:
        """Stop polling and close the port."""
        super().stop(timeout)
        self.reader.close()

    def _finished(self) -> None:
        self.reader.close()

    def _run(self) -> None:
        present_key: str | None = None
        misses = 0
        failures = 0
        backoff = Backoff(0.4, self.max_backoff)
        while not self.stopping:
            try:
                self.reader.open()
                link = self.reader._link
                assert link is not None
                with self.reader._lock:
                    found = link.find_card()
                    card: CardData | None = None
                    if found:
                        link.select_card()
                        raw = link.read_card()
                        card = parse_text(raw.text, raw.photo, raw.fingerprint)
                failures = 0
                backoff.reset()
                self._set_health(Health("ok"))
                if card is None:
                    misses += 1
                    if present_key is not None and misses >= self.removal_misses:
                        present_key = None
                        if self.on_removed is not None:
                            self._call(self.on_removed)
                else:
                    misses = 0
                    key = card.fingerprint_key()
                    if key != present_key:
                        present_key = key
                        self.cards_reported += 1
                        self._call(self.on_card, card)
            except PortError as err:
                self.reader.close()
                present_key = None
                failures += 1
                self._set_health(Health("absent", err.message_zh))
                self._sleep(backoff.next())
                continue
            except (SamError, FrameError) as err:
                # The card left mid-read, a damaged frame: the reader itself is fine.
                log.info("idcard read attempt failed: %s", err.message_en)
                if self.on_read_error is not None:
                    self._call(self.on_read_error, err)
            except IdCardError as err:
                failures += 1
                self._set_health(Health("error", err.message_zh))
                if failures >= 3:  # a reader that stopped answering: start afresh with the port
                    self.reader.close()
            except Exception as err:  # never let the watcher die silently
                log.exception("idcard watcher: unexpected error")
                failures += 1
                self.reader.close()
                self._set_health(Health("error", f"读卡器内部错误：{err}"))
                self._sleep(backoff.next())
                continue
            self._sleep(self.reader.poll_interval)
