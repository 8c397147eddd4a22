"""`python -m devices idcard ...` and `python -m devices sim idcard` run as real processes."""

from __future__ import annotations

import dataclasses
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest

from devices.idcard.cli import format_card
from devices.idcard.samples import sample_card
from devices.idcard.sim import SamSimulator

REPO = Path(__file__).resolve().parents[3]


def run(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "devices", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def sim_process(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], Path]]:
    link = tmp_path / "ttySIM"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "devices",
            "sim",
            "idcard",
            "--link",
            str(link),
            "--card",
            "foreign_2023",
            "--sticky",
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert "ready" in proc.stdout.readline()
        yield proc, link
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(10)


def test_sim_process_serves_and_cleans_up(
    sim_process: tuple[subprocess.Popen[str], Path], spec_keys: frozenset[str]
) -> None:
    proc, link = sim_process
    result = run("idcard", "read", "--port", str(link), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == spec_keys
    expected = sample_card("foreign_2023")
    assert data["card_type"] == "foreign_2023" and data["valid_to"] == "2033-12-01"
    assert data["sign_count"] == 1 and data["nationality"] == "ESP"  # a count is a JSON integer
    assert data["name_en"] == "G*" and data["old_id_number"] == "ESP110*****2019"
    assert data["id_number"] == expected.masked().id_number
    assert expected.id_number not in result.stdout + result.stderr
    full = json.loads(run("idcard", "read", "--port", str(link), "--json", "--show-full").stdout)
    assert full == expected.to_json(show_full=True)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(10) == 0
    assert not link.exists()


def _lines(stream: IO[str]) -> queue.Queue[str]:
    """Lines of `stream` as they come, read on a thread so a wait can have a timeout."""
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        for line in stream:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    return lines


def _wait_for_line(lines: queue.Queue[str], text: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        try:
            if text in lines.get(timeout=left):
                return
        except queue.Empty:
            break
    raise AssertionError(f"no line with {text!r} within {timeout} s")


def test_sim_usr1_toggles_the_card(sim_process: tuple[subprocess.Popen[str], Path]) -> None:
    proc, link = sim_process
    assert proc.stderr is not None
    log = _lines(proc.stderr)
    proc.send_signal(signal.SIGUSR1)
    _wait_for_line(log, "card removed")  # the simulator's own word that the signal was handled
    assert run("idcard", "read", "--port", str(link), "--timeout", "0.5").returncode == 1
    proc.send_signal(signal.SIGUSR1)
    _wait_for_line(log, "card placed")
    back = run("idcard", "read", "--port", str(link), "--json")
    assert back.returncode == 0 and json.loads(back.stdout)["card_type"] == "foreign_2023"


def test_read_text_output_is_chinese_and_masked(tmp_path: Path) -> None:
    with SamSimulator(tmp_path / "tty", card="resident") as sim:
        result = run("idcard", "read", "--port", sim.device)
    card = sample_card("resident")
    assert result.returncode == 0, result.stderr
    assert "姓名：张*" in result.stdout
    assert "居民身份证" in result.stdout and "民族：汉" in result.stdout
    assert card.masked().id_number in result.stdout
    assert card.id_number not in result.stdout
    with SamSimulator(tmp_path / "tty", card="resident") as sim:
        full = run("idcard", "read", "--port", sim.device, "--show-full")
    assert card.id_number in full.stdout and card.name in full.stdout


def test_bad_check_digit_is_shown(tmp_path: Path) -> None:
    good = sample_card("resident")
    bad_digit = "1" if good.id_number[-1] != "1" else "2"
    card = dataclasses.replace(good, id_number=good.id_number[:17] + bad_digit)
    with SamSimulator(tmp_path / "tty", card=card) as sim:
        result = run("idcard", "read", "--port", sim.device)
    assert result.returncode == 0
    assert "校验位错误" in result.stdout
    assert "check digit" in result.stderr


def test_no_card_exits_1_with_a_json_error(tmp_path: Path) -> None:
    with SamSimulator(tmp_path / "tty", card=None) as sim:
        none = run("idcard", "read", "--port", sim.device, "--timeout", "0.5", "--json")
    assert none.returncode == 1
    assert json.loads(none.stdout)["error"]["code"] == "no_card"
    assert "请把身份证放在感应区" in none.stderr


def test_bad_port_exits_2(tmp_path: Path) -> None:
    bad = run("idcard", "read", "--port", str(tmp_path / "missing"))
    assert bad.returncode == 2 and "无法打开" in bad.stderr


def test_silent_reader_exits_3(tmp_path: Path) -> None:
    with SamSimulator(tmp_path / "tty", card="resident") as sim:
        sim.fail("*", "silent", times=100)
        silent = run("idcard", "read", "--port", sim.device, "--timeout", "1")
    assert silent.returncode == 3 and "没有应答" in silent.stderr


def test_samid(tmp_path: Path) -> None:
    with SamSimulator(tmp_path / "tty") as sim:
        result = run("idcard", "samid", "--port", sim.device, "--json")
    assert json.loads(result.stdout) == {"sam_id": "05.01-20101215-0011364427-2253674683"}


def test_watch_prints_one_card_per_placement(tmp_path: Path) -> None:
    with SamSimulator(tmp_path / "tty", card="hmt") as sim:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "devices",
                "idcard",
                "watch",
                "--port",
                sim.device,
                "--json",
                "--interval",
                "0.05",
            ],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        try:
            assert proc.stdout is not None
            events = []
            while len([e for e in events if e["event"] == "card"]) < 1:
                events.append(json.loads(proc.stdout.readline()))
            # Ten more polls with the hmt card still there; a repeat would be printed before them.
            finds = sim.commands_seen.count("find")
            assert sim.wait_for(lambda: sim.commands_seen.count("find") >= finds + 10)
            sim.place("resident")
            while len([e for e in events if e["event"] == "card"]) < 2:
                events.append(json.loads(proc.stdout.readline()))
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(10)
    cards = [e["card"] for e in events if e["event"] == "card"]
    assert [c["card_type"] for c in cards] == ["hmt", "resident"]
    assert cards[0]["sign_count"] == 1 and cards[1]["sign_count"] is None
    assert {"event": "health", "state": "ok", "detail": ""} in events


def test_text_output_shows_counts_including_zero() -> None:
    card = sample_card("foreign_2023")
    text = format_card(card)
    assert "外国人永久居留身份证（2023版）" in text
    assert "换证次数：1" in text and "既往证件号码：ESP110*****2019" in text
    assert "换证次数：0" in format_card(dataclasses.replace(card, sign_count=0))
    assert "签发次数：1" in format_card(sample_card("hmt"))
