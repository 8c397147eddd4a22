"""Benchmark: a 1280x720 camera stream at 30 fps through the QR capture loop, pinned to one core.

Generates a video (codes appear in some frames) in a temporary folder, runs `QrWatcher` on it
in real time with the decode governor at 30 fps, and prints frames read and decoded per second,
codes reported and the CPU share of one core, then a JSON line. Usage:
`.venv/bin/python bench/qr_stream.py [--seconds 6] [--fps 30]`.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import segno

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from devices.qr.decode import QrCode  # noqa: E402
from devices.qr.watcher import QrWatcher  # noqa: E402


def make_video(path: Path, seconds: float, fps: float) -> list[str]:
    """A 1280x720 MJPG video; every other second shows a new code. Returns the codes in order."""
    frames = int(seconds * fps)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (1280, 720))
    rng = np.random.default_rng(7)
    background = cv2.GaussianBlur(rng.integers(60, 200, (720, 1280, 3), dtype=np.uint8), (0, 0), 8)
    shown: list[str] = []
    for i in range(frames):
        frame = background.copy()
        second = int(i / fps)
        if second % 2 == 1:
            text = f"https://hall.example.cn/t/A{second:03d}"
            if not shown or shown[-1] != text:
                shown.append(text)
            buf = io.BytesIO()
            segno.make(text, error="m").save(buf, kind="png", scale=6, border=4)
            code = cv2.imdecode(np.frombuffer(buf.getvalue(), np.uint8), cv2.IMREAD_COLOR)
            x, y = 200 + 20 * second, 150 + (i % 30)
            frame[y : y + code.shape[0], x : x + code.shape[1]] = code
        writer.write(frame)
    writer.release()
    return shown


def main() -> int:
    """Run the stream benchmark on one core."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--fps", type=float, default=30.0, help="stream frame rate and decode cap")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    cv2.setNumThreads(1)
    with tempfile.TemporaryDirectory() as tmp:
        video = Path(tmp) / "stream.avi"
        shown = make_video(video, args.seconds, args.fps)
        seen: list[str] = []

        def on_code(code: QrCode) -> None:
            seen.append(code.text)

        watcher = QrWatcher(str(video), on_code, max_fps=args.fps, hold_off_s=0.5)
        cpu0, wall0 = time.process_time(), time.monotonic()
        watcher.start()
        watcher.wait(args.seconds * 3 + 10)
        watcher.stop()
        cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
    stats = watcher.stats
    result = {
        "bench": "qr_stream",
        "resolution": "1280x720",
        "stream_fps": args.fps,
        "seconds": round(wall, 2),
        "frames_read_per_s": round(stats.frames_grabbed / wall, 1),
        "frames_decoded_per_s": round(stats.frames_decoded / wall, 1),
        "decode_ms_mean": round(1000 * stats.decode_seconds / max(1, stats.frames_decoded), 2),
        "cpu_share_one_core": round(cpu / wall, 3),
        "codes_shown": len(shown),
        "codes_reported": len(seen),
        "all_codes_seen": seen == shown,
    }
    print(
        f"1280x720 @ {args.fps:g} fps on one core for {wall:.1f} s (includes MJPG decoding of the video)"
    )
    print(
        f"frames read {result['frames_read_per_s']}/s, decoded {result['frames_decoded_per_s']}/s, mean decode {result['decode_ms_mean']} ms"
    )
    print(
        f"CPU share of one core: {100 * cpu / wall:.0f}%; codes reported {len(seen)}/{len(shown)}"
    )
    print(json.dumps(result))
    return 0 if seen == shown else 1


if __name__ == "__main__":
    sys.exit(main())
