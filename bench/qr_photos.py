"""Benchmark: QR decoding on the real photographs in ../shared/data/qr-photos.

Prints the share decoded correctly (payload compared with the expected text after normalising
CRLF and stripping, as ZXing's harness does), median/p95 milliseconds per image, which strategy
read each image, and a final JSON line. Usage: `.venv/bin/python bench/qr_photos.py [--dir DIR]`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from devices.qr.decode import QrDecoder  # noqa: E402
from devices.qr.text import normalise  # noqa: E402


def main() -> int:
    """Run the benchmark; exit 1 when fewer than 136 of 144 are read."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dir", type=Path, default=REPO.parent / "shared" / "data" / "qr-photos")
    parser.add_argument("--baseline", action="store_true", help="also time each library alone")
    args = parser.parse_args()
    manifest = json.loads((args.dir / "manifest.json").read_text(encoding="utf-8"))
    decoder = QrDecoder()
    decoder.decode(np.full((64, 64), 255, np.uint8))  # warm-up: first call loads libraries
    times: list[float] = []
    by: Counter[str] = Counter()
    wrong: list[str] = []
    missed: list[str] = []
    for item in manifest:
        gray = cv2.imread(str(args.dir / item["image"]), cv2.IMREAD_GRAYSCALE)
        expected = normalise(item["expected"])
        start = time.perf_counter()
        codes = decoder.decode(gray)
        times.append((time.perf_counter() - start) * 1000)
        texts = [normalise(c.text) for c in codes]
        if expected in texts:
            hit = next(c for c in codes if normalise(c.text) == expected)
            by[f"{hit.decoder}/{hit.strategy}"] += 1
        elif codes:
            wrong.append(item["image"])
        else:
            missed.append(item["image"])
    total = len(manifest)
    ok = sum(by.values())
    median = statistics.median(times)
    p95 = float(np.percentile(times, 95))
    print(f"decoded correctly: {ok}/{total} ({100 * ok / total:.1f}%)")
    print(f"ms per image: median {median:.2f}, p95 {p95:.2f}, max {max(times):.1f}")
    for name, count in by.most_common():
        print(f"  {name:32s} {count}")
    print(f"missed: {', '.join(missed) or '-'}")
    print(f"wrong payload: {', '.join(wrong) or '-'}")
    print(
        json.dumps(
            {
                "bench": "qr_photos",
                "decoded": ok,
                "total": total,
                "share": round(ok / total, 4),
                "median_ms": round(median, 3),
                "p95_ms": round(p95, 3),
                "by_strategy": dict(by),
                "missed": missed,
                "wrong": wrong,
            },
            ensure_ascii=False,
        )
    )
    return 0 if ok >= 136 and not wrong else 1


if __name__ == "__main__":
    sys.exit(main())
