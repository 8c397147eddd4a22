"""`ScannerReader` against the simulator over a real pty: payloads, encodings, unplug and replug."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

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
        for text in ["A", "A", "B"]:
            sim.scan(text)
        assert rec.wait_for(lambda: len(rec.codes) == 2)
        time.sleep(0.2)
    assert [c.text for c in rec.codes] == ["A", "B"]


def test_cli_watch_against_the_simulator_process(tmp_path: Path) -> None:
    link = tmp_path / "scanner"
    sim = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "devices",
            "sim",
            "scanner",
            "--link",
            str(link),
            "--no-stdin",
            "--interval",
            "1.0",
            "--scan",
            "A012",
            "--scan",
            "请到3号窗口",
        ],
        cwd=REPO,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        deadline = time.monotonic() + 10
        while not link.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        result = subprocess.run(
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
            capture_output=True,
            text=True,
            timeout=30,
        )
    finally:
        os.kill(sim.pid, signal.SIGTERM)
        sim.wait(5)
    assert result.returncode == 0, result.stderr
    assert [json.loads(line)["text"] for line in result.stdout.splitlines()] == [
        "A012",
        "请到3号窗口",
    ]
    assert not link.exists()
