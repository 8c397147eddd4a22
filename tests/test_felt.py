"""bench/felt.py in a tiny run: every path measured across the real processes, and nothing left running."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PHONE = Path("/usr/bin/chromium").exists() and Path("/usr/bin/chromedriver").exists()  # ./hall installs both


@pytest.mark.slow
def test_felt_measures_every_path_and_stops_what_it_started() -> None:
    paths = "call,card,rate,ticket" + (",phone" if PHONE else "")
    out = subprocess.run([sys.executable, str(REPO / "bench" / "felt.py"), "--samples", "2", "--warmup", "0",
                          "--paths", paths], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    r = json.loads(out.stdout.strip().splitlines()[-1])
    assert r["bench"] == "felt" and r["left_running"] == []
    figures = r["figures"]
    for path in ("call_window", "call_hall", "call_counter", "card", "rate", "rate.tap_to_thanks_painted", "ticket"):
        assert figures[path]["n"] == 2, path
        assert 0 < figures[path]["p50_ms"] <= figures[path]["p99_ms"] < 5000, path
    # the parts add up: a painted call comes after its calls event, a printed ticket after its reply
    assert figures["call.calls_event_to_window_painted"]["p50_ms"] > 0
    assert figures["ticket.reply_to_first_byte"]["p50_ms"] > 0
    # the card's bytes are paced at 115200 baud: the read costs what it costs on a real line
    assert 90 <= r["card_wire_ms"] <= 140
    assert figures["card"]["p50_ms"] >= r["card_wire_ms"]
    if PHONE:  # the call on the phone's page: after the counter's reply, the event before the DOM change
        assert figures["phone"]["n"] == 2 and 0 < figures["phone"]["p50_ms"] < 5000
        assert figures["phone.reply_to_page_event"]["p50_ms"] > 0 and figures["phone.page_event_to_dom"]["p50_ms"] >= 0
        assert figures["phone.key_to_dom"]["p50_ms"] > figures["phone"]["p50_ms"]
