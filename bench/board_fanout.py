"""One call reaching every phone on the hall's board (`/q`): ~1,000 open board event streams.

    .venv/bin/python bench/board_fanout.py [--pages 1000] [--english 4] [--calls 5]

A real `hallbus serve` and a real `hallweb serve` process on a private Mosquitto. `--calls`
+ 5 tickets are issued for one service, `--pages` streams of `/api/v1/board/events` are
opened (every `--english`th in English, the rest in Chinese), and the service's window calls
the next ticket `--calls` times (each called ticket then marked no-show, which leaves the board
as it is). Each call changes every board: one more in the latest calls, one fewer waiting. For
each stream the latency is the arrival of the first `board` event showing the call (read
here with plain asyncio sockets) minus the moment the counter got its `call_next` reply.
Also hallweb's CPU seconds per call, its RSS with all streams open, the board events it
encoded per call (`/healthz`'s `encoded`), and this client's own CPU seconds (it shares the
cores with what it measures).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import emit, summary_ms  # noqa: E402
from bench._hall import BenchHall, StreamPage, allow_open_files, close_pages, open_pages, start_web  # noqa: E402
from hallbus import schemas  # noqa: E402
from hallbus.localbroker import end_process  # noqa: E402
from hallbus.rpc import RpcClient  # noqa: E402

EXTRA = 5  # tickets still waiting after the last call


async def shown(page: StreamPage, since: int, waiting: int, calls: int) -> float:
    """When `page` got the first board from event `since` on with `waiting` waiting and `calls` latest calls."""
    while True:
        for i in range(since, len(page.data)):
            board = json.loads(page.data[i])
            if board["total_waiting"] == waiting and len(board["calls"]) == calls:
                return page.at[i]
        since = len(page.data)
        page.changed.clear()
        await page.changed.wait()


def board_encoded(web: str) -> int:
    return int(httpx.get(web + "/healthz", timeout=15).json().get("encoded", {}).get("board", 0))


async def measure(port: int, args: argparse.Namespace, counter: RpcClient, web: psutil.Process) -> dict[str, Any]:
    url = f"http://127.0.0.1:{port}"
    opened = [
        StreamPage("127.0.0.1", port, "/api/v1/board/events" + ("?lang=en" if i % args.english == 0 else ""), "board")
        for i in range(args.pages)
    ]
    tasks = await open_pages(opened)
    rss_mb = web.memory_info().rss / 2**20
    latencies: list[float] = []
    loop = asyncio.get_running_loop()
    encoded0 = await asyncio.to_thread(board_encoded, url)
    cpu0, mine0 = sum(web.cpu_times()[:2]), time.process_time()
    wall0 = time.monotonic()
    for k in range(args.calls):
        since = [len(p.data) for p in opened]
        await loop.run_in_executor(None, lambda: counter.call("window.call_next", {"window": "1"}, timeout=30))
        replied = time.monotonic()
        waiting, calls = args.calls + EXTRA - k - 1, min(k + 1, 10)
        arrived = await asyncio.wait_for(
            asyncio.gather(*(shown(p, s, waiting, calls) for p, s in zip(opened, since, strict=True))), 120
        )
        latencies += [t - replied for t in arrived]
        await loop.run_in_executor(None, lambda: counter.call("window.no_show", {"window": "1"}, timeout=30))
    cpu_s, client_cpu_s = sum(web.cpu_times()[:2]) - cpu0, time.process_time() - mine0
    wall_s = time.monotonic() - wall0
    encoded = await asyncio.to_thread(board_encoded, url) - encoded0
    await close_pages(opened, tasks)
    return {"latencies": latencies, "rss_mb": rss_mb, "cpu_s": cpu_s, "client_cpu_s": client_cpu_s, "wall_s": wall_s,
            "encoded": encoded}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pages", type=int, default=1000)
    ap.add_argument("--english", type=int, default=4, help="every n-th stream in English")
    ap.add_argument("--calls", type=int, default=5)
    args = ap.parse_args()
    allow_open_files(args.pages)
    with tempfile.TemporaryDirectory(prefix="board-fanout-") as tmp, BenchHall(Path(tmp)) as hall:
        proc, port = start_web(hall, Path(tmp))
        try:
            terminal = RpcClient(hall.bus("bench-terminal"))
            for _ in range(args.calls + EXTRA):
                terminal.call_typed(schemas.TICKET_ISSUE, {"service": "A"}, timeout=30)
            counter = RpcClient(hall.bus("bench-counter", "counter"))
            counter.call("window.login", {"window": "1", "staff": "s001", "password": "hall001"}, timeout=30)
            got = asyncio.run(measure(port, args, counter, psutil.Process(proc.pid)))
        finally:
            end_process(proc)
    lat = summary_ms(got["latencies"])
    per_call = got["cpu_s"] / args.calls
    print(f"{args.pages} board streams (1 in {args.english} English), {args.calls} calls: call reply -> board event "
          f"p50 {lat['p50_ms']:.1f} ms, p99 {lat['p99_ms']:.1f} ms; hallweb CPU {per_call * 1000:.0f} ms per call "
          f"({got['cpu_s']:.2f} s over {got['wall_s']:.1f} s; the streams' client {got['client_cpu_s']:.2f} s), "
          f"RSS {got['rss_mb']:.0f} MB; board events encoded: {got['encoded']} in {args.calls} calls")
    emit({"bench": "board_fanout", "pages": args.pages, "english_every": args.english, "calls": args.calls, **lat,
          "web_cpu_s_per_call": round(per_call, 3), "web_cpu_s": round(got["cpu_s"], 2),
          "client_cpu_s": round(got["client_cpu_s"], 2), "wall_s": round(got["wall_s"], 1),
          "web_rss_mb": round(got["rss_mb"], 1), "board_encoded": got["encoded"]})


if __name__ == "__main__":
    main()
