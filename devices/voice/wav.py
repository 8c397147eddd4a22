"""WAV in and out as 16-bit mono numpy arrays at one sample rate (the wave module, nothing else)."""

from __future__ import annotations

import io
import wave
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

Samples = npt.NDArray[np.int16]
RATE = 16000


def read_wav(source: str | Path | bytes) -> tuple[int, Samples]:
    """(sample rate, mono int16 samples) of a 16-bit PCM WAV file or bytes; stereo is mixed down."""
    handle: Any = io.BytesIO(source) if isinstance(source, bytes) else str(source)
    with wave.open(handle, "rb") as w:
        if w.getsampwidth() != 2:
            raise ValueError(
                f"{source!r:.60}: only 16-bit PCM WAV is supported / 仅支持16位PCM格式"
            )
        frames = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
        channels = w.getnchannels()
        rate = w.getframerate()
    if channels > 1:
        frames = frames.reshape(-1, channels).mean(axis=1).astype(np.int16)
    return rate, frames.astype(np.int16)


def resample(samples: Samples, rate: int, target: int = RATE) -> Samples:
    """Linear resampling (good enough for speech prompts)."""
    if rate == target or samples.size == 0:
        return samples
    count = int(round(samples.size * target / rate))
    positions = np.linspace(0, samples.size - 1, count)
    return np.interp(positions, np.arange(samples.size), samples.astype(np.float64)).astype(
        np.int16
    )


def trim_silence(samples: Samples, threshold: int = 300, pad: int = 480) -> Samples:
    """Cut leading and trailing near-silence, keeping `pad` samples either side."""
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > threshold)
    if loud.size == 0:
        return samples[:0]
    return samples[max(0, loud[0] - pad) : loud[-1] + pad]


def silence(seconds: float, rate: int = RATE) -> Samples:
    """Zeros for `seconds`."""
    return np.zeros(int(rate * seconds), dtype=np.int16)


def wav_bytes(samples: Samples, rate: int = RATE) -> bytes:
    """A 16-bit mono PCM WAV file as bytes."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.astype("<i2").tobytes())
    return buf.getvalue()


def chime(rate: int = RATE) -> Samples:
    """A two-note 'ding-dong' (E6 then C6) with a soft decay, as halls play before a call."""
    out = []
    for freq, length in ((1318.5, 0.45), (1046.5, 0.7)):
        t = np.arange(int(rate * length)) / rate
        envelope = np.exp(-t * 5.0) * np.minimum(1.0, t / 0.005)
        tone = np.sin(2 * np.pi * freq * t) + 0.3 * np.sin(2 * np.pi * 2 * freq * t)
        out.append((0.35 * 32767 / 1.3) * envelope * tone)
    return np.concatenate(out).astype(np.int16)
