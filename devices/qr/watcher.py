"""`QrWatcher`: watch a camera for QR codes on a background thread and report codes and health.

The kiosk gives a source and two callbacks; both are called on the watcher's thread, so a Qt
owner should hand them over to the GUI thread (e.g. by emitting a signal).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from devices.common.health import Health, HealthState
from devices.common.worker import Backoff, HealthCallback, Worker
from devices.qr.decode import QrCode, QrDecoder
from devices.qr.source import FrameSource, SourceEnded, SourceUnavailable, open_source

CodeCallback = Callable[[QrCode], None]
Opener = Callable[[str | int], FrameSource]


@dataclass(slots=True)
class WatcherStats:
    """Counters since start: frames grabbed, frames decoded, codes reported, time spent decoding."""

    frames_grabbed: int = 0
    frames_decoded: int = 0
    codes_reported: int = 0
    decode_seconds: float = 0.0
    reconnects: int = 0


class QrWatcher(Worker):
    """Read frames from `source`, decode at most `max_fps` of them, report each code once.

    - `on_code(code)`: a code newly in view; the same text is reported again only after it has
      been out of view for `hold_off_s` seconds.
    - `on_health(health)`: called when the state changes: `ok`, `absent` (no such camera),
      `error` (lost, or opened but giving no frames); the watcher reconnects with backoff.
    - Most frames get only the fast decoder; the costly retries run at most every
      `deep_interval_s`, so decoding never starves the user interface.
    """

    def __init__(
        self,
        source: str | int,
        on_code: CodeCallback,
        on_health: HealthCallback | None = None,
        *,
        max_fps: float = 10.0,
        hold_off_s: float = 2.0,
        deep_interval_s: float = 0.5,
        stall_timeout_s: float = 3.0,
        reconnect_min_s: float = 0.5,
        reconnect_max_s: float = 10.0,
        opener: Opener | None = None,
    ) -> None:
        super().__init__(
            f"qr-watcher {source}",
            on_health,
            health=Health("absent", "not started / 未启动"),
            label=("二维码识别", "QR watcher"),
        )
        self.source = source
        self.on_code = on_code
        self.max_fps = max_fps
        self.hold_off_s = hold_off_s
        self.deep_interval_s = deep_interval_s
        self.stall_timeout_s = stall_timeout_s
        self.reconnect_min_s = reconnect_min_s
        self.reconnect_max_s = reconnect_max_s
        self._opener: Opener = opener or open_source
        self._decoder = QrDecoder()
        self._last_seen: dict[str, float] = {}
        self.stats = WatcherStats()
        self.ended = threading.Event()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until a finite source (file, folder) has been read to its end."""
        return self.ended.wait(timeout)

    # -- the loop -------------------------------------------------------------------------------

    def _finished(self) -> None:
        self.ended.set()

    def _run(self) -> None:
        backoff = Backoff(self.reconnect_min_s, self.reconnect_max_s)
        ever_opened = False
        while not self.stopping:
            try:
                source = self._opener(self.source)
            except SourceUnavailable as err:
                state: HealthState = "error" if ever_opened else "absent"
                self._set_health(Health(state, str(err)))
                self._sleep(backoff.next())
                continue
            if ever_opened:
                self.stats.reconnects += 1
            ever_opened = True
            try:
                had_frames = self._watch(source)
            except SourceEnded:
                return
            finally:
                source.close()
            if had_frames:
                backoff.reset()
            self._sleep(backoff.next())

    def _watch(self, source: FrameSource) -> bool:
        """Read until stopped or the source stalls; True when any frame arrived."""
        opened_at = time.monotonic()
        last_frame = 0.0
        next_decode: float | None = None
        next_deep = 0.0
        period = 1.0 / self.max_fps if self.max_fps > 0 else 0.0
        while not self.stopping:
            ok = source.grab()
            now = time.monotonic()
            if not ok:
                quiet_since = last_frame or opened_at
                if now - quiet_since >= self.stall_timeout_s:
                    if last_frame:
                        detail = f"摄像头 {source.description} 断开，正在重新连接。 / Camera {source.description} lost; reconnecting."
                    else:
                        detail = f"摄像头 {source.description} 已打开但没有画面，请检查摄像头。 / Camera {source.description} opened but gives no frames; check the camera."
                    self._set_health(Health("error", detail))
                    return bool(last_frame)
                self._sleep(0.02)
                continue
            self.stats.frames_grabbed += 1
            last_frame = now
            self._set_health(Health("ok", source.description))
            if next_decode is not None and now < next_decode:
                continue  # governor: this frame is skipped, the next fresh one will be decoded
            frame = source.retrieve()
            if frame is None:
                continue
            # Keep the cadence; when late, decode the next frame that comes, never a burst.
            next_decode = now + period if next_decode is None else max(next_decode + period, now)
            deep = now >= next_deep
            started = time.perf_counter()
            codes = self._decoder.decode(frame, deep=deep)
            self.stats.decode_seconds += time.perf_counter() - started
            self.stats.frames_decoded += 1
            if deep and not codes:
                next_deep = now + self.deep_interval_s
            self._report(codes, time.monotonic())
        return bool(last_frame)

    def _report(self, codes: list[QrCode], now: float) -> None:
        for code in codes:
            last = self._last_seen.get(code.text)
            self._last_seen[code.text] = now
            if last is not None and now - last < self.hold_off_s:
                continue
            self.stats.codes_reported += 1
            self._call(self.on_code, code)
        if len(self._last_seen) > 64:
            horizon = now - self.hold_off_s
            self._last_seen = {t: s for t, s in self._last_seen.items() if s >= horizon}
