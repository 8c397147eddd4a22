"""`ScannerReader`: read a serial scan engine on a background thread; report codes and health.

Same callbacks as `devices.qr.QrWatcher`: `on_code(QrCode)` and `on_health(Health)`, both called on
the reader's thread. I/O faults become health (and a reconnect with backoff); an exception in a
callback is logged and never stops the reader.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import serial

from devices.common.health import Health
from devices.common.ports import open_port
from devices.common.worker import Backoff, HealthCallback, Worker
from devices.qr.decode import QrCode
from devices.qr.text import payload_text
from devices.scanner.framing import ScanFramer

DEFAULT_BAUD = 9600


class ScannerReader(Worker):
    """Read payloads from a scan engine at `url` (device path or pyserial URL), 9600 8N1 by default."""

    def __init__(
        self,
        url: str,
        on_code: Callable[[QrCode], None],
        on_health: HealthCallback | None = None,
        *,
        baudrate: int = DEFAULT_BAUD,
        hold_off_s: float = 0.0,
        reconnect_min_s: float = 0.5,
        reconnect_max_s: float = 10.0,
    ) -> None:
        super().__init__(
            f"scanner-reader {url}",
            on_health,
            health=Health("absent", "not started / 未启动"),
            label=("扫码模组读取", "Scanner reader"),
        )
        self.url = url
        self.on_code = on_code
        self.baudrate = baudrate
        self.hold_off_s = hold_off_s
        self.reconnect_min_s = reconnect_min_s
        self.reconnect_max_s = reconnect_max_s
        self._last: tuple[str, float] | None = None
        self.codes_read = 0

    def stop(self, timeout: float = 3.0) -> None:
        """Stop the thread (within one read timeout) and close the port."""
        super().stop(timeout)

    def _run(self) -> None:
        backoff = Backoff(self.reconnect_min_s, self.reconnect_max_s)
        ever_opened = False
        while not self.stopping:
            try:
                port = open_port(self.url, baudrate=self.baudrate, timeout=0.2)
            except OSError as err:
                if ever_opened:
                    self._set_health(
                        Health(
                            "error",
                            f"扫码模组 {self.url} 已断开，正在重新连接。 / Scanner {self.url} lost; reconnecting. ({err})",
                        )
                    )
                else:
                    self._set_health(
                        Health(
                            "absent",
                            f"无法打开扫码模组串口 {self.url}，请检查连接。 / Cannot open scanner port {self.url}; check the cable. ({err})",
                        )
                    )
                self._sleep(backoff.next())
                continue
            ever_opened = True
            backoff.reset()
            self._set_health(Health("ok", self.url))
            try:
                self._read(port)
            except (serial.SerialException, OSError) as err:
                self._set_health(
                    Health(
                        "error",
                        f"扫码模组 {self.url} 读取失败，正在重新连接。 / Reading scanner {self.url} failed; reconnecting. ({err})",
                    )
                )
                self._sleep(backoff.next())
            finally:
                port.close()

    def _read(self, port: serial.SerialBase) -> None:
        framer = ScanFramer()
        while not self.stopping:
            data = port.read(port.in_waiting or 1)
            if not data:
                continue
            for payload in framer.feed(data):
                self._deliver(payload)

    def _deliver(self, payload: bytes) -> None:
        text = payload_text(payload)
        now = time.monotonic()
        if (
            self.hold_off_s
            and self._last
            and self._last[0] == text
            and now - self._last[1] < self.hold_off_s
        ):
            self._last = (text, now)
            return
        self._last = (text, now)
        self.codes_read += 1
        self._call(self.on_code, QrCode(text, payload, "QR_CODE", "scanner", "serial"))
