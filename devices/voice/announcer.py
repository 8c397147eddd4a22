"""`Announcer`: turn a call into speech — chime, clips (or espeak-ng), the whole call twice — and queue it."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from devices.voice.player import Player, PlayQueue, clips_dir, default_player
from devices.voice.synth import synthesize
from devices.voice.wav import (
    RATE,
    Samples,
    chime,
    read_wav,
    resample,
    silence,
    trim_silence,
    wav_bytes,
)
from devices.voice.words import call_clips, call_text

log = logging.getLogger(__name__)


class ClipLibrary:
    """The WAV clips in a folder, by name (`qing.wav` → "qing"), all brought to one sample rate."""

    def __init__(self, folder: str | Path | None = None, rate: int = RATE) -> None:
        self.folder = Path(folder) if folder is not None else clips_dir()
        self.rate = rate
        self._cache: dict[str, Samples] = {}

    def has(self, name: str) -> bool:
        """Whether a clip file exists."""
        return (self.folder / f"{name}.wav").is_file()

    def get(self, name: str) -> Samples:
        """A clip's samples; raises `FileNotFoundError` naming the missing clip."""
        if name not in self._cache:
            path = self.folder / f"{name}.wav"
            if not path.is_file():
                raise FileNotFoundError(f"缺少语音片段 {path}。 / Voice clip {path} is missing.")
            rate, samples = read_wav(path)
            self._cache[name] = resample(samples, rate, self.rate)
        return self._cache[name]


class Announcer:
    """Speaks calls through a `PlayQueue`: never two at once, always in order.

    `call("A012", "3")` queues 请A012号到3号窗口办理 from clips; `say(text)` queues any text
    (clips are not enough for free text, so it is synthesised with espeak-ng).
    """

    def __init__(
        self,
        player: Player | None = None,
        clips: ClipLibrary | None = None,
        *,
        repeat: int = 2,
        gap_s: float = 0.7,
        word_gap_s: float = 0.04,
    ) -> None:
        self.clips = clips or ClipLibrary()
        self.repeat = repeat
        self.gap_s = gap_s
        self.word_gap_s = word_gap_s
        self.queue = PlayQueue(player or default_player())

    def render_call(self, ticket: str, window: str) -> bytes:
        """The WAV for one call: chime, then the call `repeat` times. Falls back to synthesis."""
        try:
            names = call_clips(ticket, window)
            gap = silence(self.word_gap_s, self.clips.rate)
            parts: list[Samples] = []
            for name in names:
                parts += [self.clips.get(name), gap]
            spoken = np.concatenate(parts)
        except (ValueError, FileNotFoundError) as err:
            log.info("clips cannot say %s/%s (%s); synthesising", ticket, window, err)
            spoken = synthesize(call_text(ticket, window), rate=self.clips.rate)
        return self._with_chime(spoken)

    def render_text(self, text: str) -> bytes:
        """The WAV for free text: chime, then the synthesised text `repeat` times."""
        return self._with_chime(synthesize(text, rate=self.clips.rate))

    def _with_chime(self, spoken: Samples) -> bytes:
        rate = self.clips.rate
        bell = self.clips.get("chime") if self.clips.has("chime") else chime(rate)
        parts = [bell, silence(0.3, rate)]
        for i in range(self.repeat):
            if i:
                parts.append(silence(self.gap_s, rate))
            parts.append(trim_silence(spoken, pad=rate // 50) if spoken.size else spoken)
        parts.append(silence(0.2, rate))
        return wav_bytes(np.concatenate(parts), rate)

    def call(self, ticket: str, window: str) -> None:
        """Queue a call (returns at once; it plays after the calls before it)."""
        self.queue.put(call_text(ticket, window), self.render_call(ticket, window))

    def say(self, text: str) -> None:
        """Queue free text (synthesised)."""
        self.queue.put(text, self.render_text(text))

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until every queued announcement has played."""
        return self.queue.wait_idle(timeout)

    def close(self) -> None:
        """Play what is queued, then stop."""
        self.queue.close()
