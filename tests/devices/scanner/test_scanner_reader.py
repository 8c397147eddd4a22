"""`ScannerReader` against the simulator over a real pty: payloads, encodings, unplug and replug."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO, Any

from devices.common.health import Health
from devices.qr.decode import QrCode
from devices.scanner.reader import ScannerReader
from devices.scanner.sim import ScannerSimulator

REPO = Path(__file__).resolve().parents[3]


class Recorder:
    """Collects callbacks from the reader thread."""

    def __init__(self) -> None:
        self.codes: list[QrCode] = []
        self.health: list[str] = []
        self.changed = threading.Condition()

    def on_code(self, code: QrCode) -> None:
        with self.changed:
            self.codes.append(code)
            self.changed.notify_all()

    def on_health(self, health: Health) -> None:
        with self.changed:
            self.health.append(health.state)
            self.changed.notify_all()

    def wait_for(self, predicate: Any, timeout: float = 5.0) -> bool:
        with self.changed:
            return self.changed.wait_for(predicate, timeout)


def test_payloads_with_every_terminator_and_gbk(tmp_path: Path) -> None:
    link = tmp_path / "scanner"
    rec = Recorder()
    with (
        ScannerSimulator(link) as sim,
        ScannerReader(str(link), rec.on_code, rec.on_health) as reader,
    ):
        assert rec.wait_for(lambda: rec.health == ["ok"])
        sim.scan("https://hall.example.cn/a/123", terminator="\r")
        sim.scan("预约码 778812", terminator="\r\n")
        sim.scan("回执 案号:2024-000123", terminator="\t", encoding="gbk")
        sim.scan("slow UART", chunk=3)
        assert rec.wait_for(lambda: len(rec.codes) == 4)
        assert reader.codes_read == 4
    assert [c.text for c in rec.codes] == [
        "https://hall.example.cn/a/123",
        "预约码 778812",
        "回执 案号:2024-000123",
        "slow UART",
    ]
    assert rec.codes[2].raw == "回执 案号:2024-000123".encode("gbk")


def test_unplug_is_an_error_and_replug_recovers(tmp_path: Path) -> None:
    link = tmp_path / "scanner"
    rec = Recorder()
    sim = ScannerSimulator(link)
    reader = ScannerReader(
        str(link), rec.on_code, rec.on_health, reconnect_min_s=0.05, reconnect_max_s=0.2
    )
    reader.start()
    try:
        assert rec.wait_for(lambda: rec.health == ["ok"])
        sim.close()
        assert rec.wait_for(lambda: "error" in rec.health)
        sim = ScannerSimulator(link)
        assert rec.wait_for(lambda: rec.health[-1] == "ok")
        sim.scan("after replug")
        assert rec.wait_for(lambda: [c.text for c in rec.codes] == ["after replug"])
    finally:
        reader.stop()
        sim.close()


def test_missing_port_is_absent(tmp_path: Path) -> None:
    rec = Recorder()
    with ScannerReader(str(tmp_path / "nothing"), rec.on_code, rec.on_health) as reader:
        assert rec.wait_for(lambda: rec.health)
        assert reader.health.state == "absent"
        assert "Cannot open scanner port" in reader.health.detail


def test_hold_off_drops_a_repeated_scan(tmp_path: Path) -> None:
    link = tmp_path / "scanner"
    rec = Recorder()
    with (
        ScannerSimulator(link) as sim,
        ScannerReader(str(link), rec.on_code, rec.on_health, hold_off_s=5.0),
    ):
        assert rec.wait_for(lambda: rec.health == ["ok"])
        for text in ["A", "A", "B", "C"]:
            sim.scan(text)
        # C is the marker: it arrives after the repeated A was read, so that A was dropped.
        assert rec.wait_for(lambda: [c.text for c in rec.codes][-1:] == ["C"])
    assert [c.text for c in rec.codes] == ["A", "B", "C"]


def _until_line(stream: IO[str] | None, text: str) -> None:
    assert stream is not None
    for line in stream:
        if text in line:
            return
    raise AssertionError(f"the process ended without a line containing {text!r}")


def test_cli_watch_against_the_simulator_process(tmp_path: Path) -> None:
    link = tmp_path / "scanner"
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONIOENCODING": "utf-8"}
    sim = subprocess.Popen(
        [sys.executable, "-m", "devices", "sim", "scanner", "--link", str(link)],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        env=env,
    )
    watch: subprocess.Popen[str] | None = None
    try:
        _until_line(sim.stderr, "linked at")
        watch = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "devices",
                "scanner",
                "watch",
                "--port",
                str(link),
                "--json",
                "--count",
                "2",
                "--timeout",
                "15",
            ],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            env=env,
        )
        _until_line(watch.stderr, "scanner: ok")  # the port is open: nothing scanned now is lost
        assert sim.stdin is not None
        sim.stdin.write("A012\n请到3号窗口\n")
        sim.stdin.flush()
        out, _ = watch.communicate(timeout=30)
    finally:
        if watch is not None and watch.poll() is None:
            watch.kill()
            watch.wait(5)
        sim.send_signal(signal.SIGTERM)
        sim.wait(5)
    assert watch is not None and watch.returncode == 0
    assert [json.loads(line)["text"] for line in out.splitlines()] == ["A012", "请到3号窗口"]
    assert not link.exists()
