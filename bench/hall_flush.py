"""What one call costs the hall screen's view-model flush (QML bindings and delegates included).

    .venv/bin/python bench/hall_flush.py [--calls 60] [--windows 12|60]

The sample hall (scripts/role_screens.py's: a private Mosquitto and the real controller in this
process) and a real hall-screen kiosk (offscreen, software rendering, 1920x1080). A few windows
call, finish and call again; after each call the flushes the view-model ran for it (the
`calls` event, the window's state, the queue, the figures) are summed. Each section's change
signal is timed on its own too, so a slow section shows by name. Only the GUI thread's work is
measured, not the wait for the next frame: felt.py measures the whole path.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import kiosk.qt.sections as sections  # noqa: E402


def role_screens() -> Any:
    """scripts/role_screens.py as a module (its Shooter starts the hall and the kiosks)."""
    spec = importlib.util.spec_from_file_location("role_screens", REPO / "scripts" / "role_screens.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["role_screens"] = module
    spec.loader.exec_module(module)
    return module


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=60)
    ap.add_argument("--windows", type=int, choices=(12, 60), default=12)
    args = ap.parse_args(argv)
    per_section: dict[str, list[float]] = defaultdict(list)
    plain_emit = sections.emit

    def timed_emit(signal: Any) -> None:
        t0 = time.perf_counter()
        plain_emit(signal)
        name = str(signal).split("(")[0].split()[-1]
        per_section[name].append((time.perf_counter() - t0) * 1000)

    sections.emit = timed_emit  # the view-model emits every section's change through this
    rs = role_screens()
    with tempfile.TemporaryDirectory(prefix="hall-flush-") as d:
        s = rs.Shooter(Path(d), Path(d), 1.0, rs.EXTRA_WINDOWS if args.windows == 60 else "")
        try:
            calling = ["1", "13", "14", "15"] if args.windows == 60 else ["1", "2", "3"]
            for i, w in enumerate(calling, start=1):
                s.call("window.login", window=w, staff=f"s{i:03d}", password=f"hall{i:03d}")
            for _ in range(args.calls + len(calling)):
                s.call("ticket.issue", service="A")
            hall = s.kiosk("hall", "hall-1", (1920, 1080))
            vm = hall.role.properties["vm"]
            s.wait(1)
            vm.record_flushes = True
            per_section.clear()
            per_call = []
            for k in range(args.calls):
                w = calling[k % len(calling)]
                if k >= len(calling):
                    s.call("window.finish", window=w)
                    s.wait(0.15)
                vm.flush_times.clear()
                s.call("window.call_next", window=w)
                s.wait(0.25)
                per_call.append(sum(vm.flush_times) * 1000)
        finally:
            s.close()
    per_call.sort()
    print(f"{args.windows} windows, {args.calls} calls: flush per call p50 {statistics.median(per_call):.2f} ms, "
          f"p90 {per_call[int(len(per_call) * 0.9)]:.2f} ms, max {per_call[-1]:.2f} ms")
    for name, v in sorted(per_section.items()):
        print(f"  {name:16s} n {len(v):4d}  p50 {statistics.median(v):.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
