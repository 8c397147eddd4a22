"""Speech synthesis fallback with espeak-ng (`-v cmn-latn-pinyin` reads hanzi right; plain `cmn` does not)."""

from __future__ import annotations

import shutil
import subprocess

from devices.voice.wav import Samples, read_wav, resample, trim_silence

VOICE = "cmn-latn-pinyin"


class SynthesisUnavailable(RuntimeError):
    """espeak-ng is not installed or failed."""


def synthesize(text: str, *, voice: str = VOICE, rate: int = 16000, speed: int = 150) -> Samples:
    """Speak `text` with espeak-ng; mono int16 at `rate`. Raises `SynthesisUnavailable`."""
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise SynthesisUnavailable(
            "未安装 espeak-ng，无法合成语音；请安装 espeak-ng 或为该文字录制语音片段。 / espeak-ng is not installed, so this text cannot be spoken; install espeak-ng or record clips for it."
        )
    try:
        result = subprocess.run(
            [exe, "-v", voice, "-s", str(speed), "--stdout", text],
            capture_output=True,
            timeout=30,
            check=True,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as err:
        raise SynthesisUnavailable(f"espeak-ng 合成失败。 / espeak-ng failed: {err}") from err
    source_rate, samples = read_wav(result.stdout)
    return trim_silence(resample(samples, source_rate, rate))
