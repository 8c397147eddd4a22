"""`python -m devices qr ...` as an installer runs it: a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2

from tests.devices.qr.qrimages import on_canvas, qr_image

REPO = Path(__file__).resolve().parents[3]


def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "devices", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_decode_json_one_line_per_image_and_errors_at_the_end(tmp_path: Path) -> None:
    good = tmp_path / "good.png"
    cv2.imwrite(str(good), on_canvas(qr_image("取号 A012".encode("gbk"))))
    corrupt = tmp_path / "corrupt.jpg"
    corrupt.write_bytes(b"\xff\xd8\xff garbage")
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), on_canvas(qr_image("x")[:5, :5]))
    result = run(
        "qr", "decode", str(good), str(corrupt), str(tmp_path / "missing.png"), str(blank), "--json"
    )
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert result.returncode == 1
    assert [line["path"] for line in lines] == [
        str(good),
        str(corrupt),
        str(tmp_path / "missing.png"),
        str(blank),
    ]
    assert lines[0]["codes"] == [{"text": "取号 A012", "format": "QR_CODE"}]
    assert "corrupt" in lines[1]["error"] and "损坏" in lines[1]["error"]
    assert "No such file" in lines[2]["error"]
    assert lines[3] == {"path": str(blank), "codes": []}


def test_watch_a_picture_folder(tmp_path: Path) -> None:
    for i, text in enumerate(["one", "two"]):
        cv2.imwrite(str(tmp_path / f"{i}.png"), on_canvas(qr_image(text)))
    result = run("qr", "watch", "--camera", str(tmp_path), "--json")
    assert result.returncode == 0, result.stderr
    assert [json.loads(line)["text"] for line in result.stdout.splitlines()] == ["one", "two"]


def test_watch_missing_camera_exits_non_zero() -> None:
    result = run("qr", "watch", "--camera", "/nonexistent.avi", "--timeout", "1")
    assert result.returncode == 1
    assert "No camera or file" in result.stderr
