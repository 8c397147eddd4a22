"""Generate the first set of voice clips in assets/sounds/ with espeak-ng (cmn-latn-pinyin) and a chime.

Every clip is 16 kHz mono 16-bit PCM with silence trimmed, so clips concatenate cleanly. Replace
any file with a recording of the same name (see docs/devices-voice.md). Usage:
`.venv/bin/python scripts/make_voice_clips.py [--out assets/sounds] [--only NAME...]`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from devices.voice.synth import synthesize  # noqa: E402
from devices.voice.wav import RATE, chime, wav_bytes  # noqa: E402
from devices.voice.words import CLIP_WORDS  # noqa: E402


def main() -> int:
    """Write every clip (or those named with --only)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=REPO / "assets" / "sounds")
    parser.add_argument("--only", nargs="*", default=None)
    parser.add_argument("--speed", type=int, default=150, help="espeak-ng words per minute")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    names = args.only or ["chime", *CLIP_WORDS]
    total = 0
    for name in names:
        if name == "chime":
            samples = chime(RATE)
        else:
            samples = synthesize(CLIP_WORDS[name], rate=RATE, speed=args.speed)
        data = wav_bytes(samples, RATE)
        (args.out / f"{name}.wav").write_bytes(data)
        total += len(data)
        print(f"{name:22s} {CLIP_WORDS.get(name, 'ding-dong'):6s} {len(samples) / RATE:5.2f} s")
    print(f"{len(names)} clips, {total / 1024:.0f} KiB in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
