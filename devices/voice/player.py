"""Playing WAVs: the `Player` interface, a command-line player, a silent player, and a play queue.

The queue plays one announcement at a time, in order, on its own thread, so calls never overlap.
The kiosk may put a QtMultimedia player behind the same interface.
"""

from __future__ import annotations

import io
import logging
import queue
import shutil
import subprocess
import tempfile
import threading
import time
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

log = logging.getLogger(__name__)


class Player(Protocol):
    """Plays one WAV and returns when it has finished."""

    def play(self, wav: bytes) -> None:
        """Play the WAV bytes; block until done."""


def wav_seconds(wav: bytes) -> float:
    """Duration of a WAV in seconds."""
    with wave.open(io.BytesIO(wav), "rb") as w:
        return w.getnframes() / float(w.getframerate())


class CommandPlayer:
    """Plays through `aplay`, `paplay` or `pw-play`, whichever is installed (blocks until done)."""

    CANDIDATES = ("aplay", "paplay", "pw-play")

    def __init__(self, command: str | None = None) -> None:
        found = command or next((c for c in self.CANDIDATES if shutil.which(c)), None)
        if found is None:
            raise FileNotFoundError(
                "没有可用的音频播放程序（aplay/paplay/pw-play）。 / No audio player found (aplay, paplay or pw-play)."
            )
        self.command = found

    def play(self, wav: bytes) -> None:
        """Write a temporary file and run the player on it."""
        with tempfile.NamedTemporaryFile(suffix=".wav") as tmp:
            tmp.write(wav)
            tmp.flush()
            args = (
                [self.command, "-q", tmp.name]
                if self.command == "aplay"
                else [self.command, tmp.name]
            )
            result = subprocess.run(args, capture_output=True, timeout=wav_seconds(wav) + 10)
        if result.returncode != 0:
            log.warning(
                "%s failed: %s", self.command, result.stderr.decode(errors="replace").strip()
            )


class NullPlayer:
    """Plays nothing but takes as long as the sound would (keeps timing honest without speakers)."""

    def __init__(self, realtime: bool = True) -> None:
        self.realtime = realtime
        self.played: list[bytes] = []

    def play(self, wav: bytes) -> None:
        """Record the WAV and wait its duration."""
        self.played.append(wav)
        if self.realtime:
            time.sleep(wav_seconds(wav))


def default_player() -> Player:
    """A command-line player when one is installed, else the silent player."""
    try:
        return CommandPlayer()
    except FileNotFoundError:
        return NullPlayer()


class PlayQueue:
    """Plays WAVs one after another on a background thread, in the order they were queued."""

    def __init__(self, player: Player, on_played: Callable[[str], None] | None = None) -> None:
        self.player = player
        self.on_played = on_played
        self._queue: queue.Queue[tuple[str, bytes] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="voice-queue", daemon=True)
        self._idle = threading.Event()
        self._idle.set()
        self._pending = 0
        self._lock = threading.Lock()
        self._thread.start()

    def put(self, label: str, wav: bytes) -> None:
        """Queue a WAV; `label` is handed to `on_played` after it has played."""
        with self._lock:
            self._pending += 1
            self._idle.clear()
        self._queue.put((label, wav))

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until everything queued has played."""
        return self._idle.wait(timeout)

    def close(self) -> None:
        """Finish what is queued, then stop the thread."""
        self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            label, wav = item
            try:
                self.player.play(wav)
            except Exception:
                log.exception("playing %s failed", label)
            if self.on_played is not None:
                try:
                    self.on_played(label)
                except Exception:
                    log.exception("on_played callback failed")
            with self._lock:
                self._pending -= 1
                if self._pending == 0:
                    self._idle.set()


def clips_dir() -> Path:
    """The shipped clips: `assets/sounds/` in the repository."""
    return Path(__file__).resolve().parents[2] / "assets" / "sounds"
