"""The capture loop: real video files and picture folders, reporting each code once, health on faults."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from devices.common.health import Health
from devices.qr.decode import QrCode
from devices.qr.source import FolderSource, FrameSource, SourceUnavailable, open_source
from devices.qr.watcher import QrWatcher
from tests.devices.qr.qrimages import on_canvas, qr_image


def write_video(path: Path, plan: list[str | None], fps: float = 30.0) -> None:
    """A real MJPG video whose frame i shows the code plan[i] (or nothing)."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (640, 480))
    assert writer.isOpened()
    images = {text: on_canvas(qr_image(text)) for text in set(plan) if text}
    blank = on_canvas(np.full((10, 10), 120, np.uint8))
    for text in plan:
        writer.write(images[text] if text else blank)
    writer.release()


class Recorder:
    """Collects callbacks from the watcher thread."""

    def __init__(self) -> None:
        self.codes: list[str] = []
        self.health: list[Health] = []
        self.changed = threading.Condition()

    def on_code(self, code: QrCode) -> None:
        with self.changed:
            self.codes.append(code.text)
            self.changed.notify_all()

    def on_health(self, health: Health) -> None:
        with self.changed:
            self.health.append(health)
            self.changed.notify_all()

    def wait_for(self, predicate: Any, timeout: float = 10.0) -> bool:
        with self.changed:
            return self.changed.wait_for(predicate, timeout)


@pytest.mark.slow
def test_video_reports_each_code_once_and_again_after_hold_off(tmp_path: Path) -> None:
    video = tmp_path / "cam.avi"
    plan: list[str | None] = (
        [None] * 5 + ["A012"] * 15 + [None] * 5 + ["B007"] * 10 + [None] * 25 + ["A012"] * 12
    )
    write_video(video, plan)
    rec = Recorder()
    watcher = QrWatcher(str(video), rec.on_code, rec.on_health, max_fps=30, hold_off_s=0.5)
    watcher.start()
    try:
        assert watcher.wait(15)
    finally:
        watcher.stop()
    assert rec.codes == ["A012", "B007", "A012"]
    assert rec.health[0].state == "ok"
    assert watcher.stats.frames_grabbed >= len(plan) - watcher.stats.frames_grabbed // 4


def test_governor_decodes_at_most_max_fps(tmp_path: Path) -> None:
    video = tmp_path / "cam.avi"
    write_video(video, [None] * 45)  # 1.5 s at 30 fps
    rec = Recorder()
    watcher = QrWatcher(str(video), rec.on_code, rec.on_health, max_fps=5)
    start = time.monotonic()
    watcher.start()
    assert watcher.wait(10)
    elapsed = time.monotonic() - start
    watcher.stop()
    assert watcher.stats.frames_grabbed > 30
    assert watcher.stats.frames_decoded <= 5 * elapsed + 1


def test_folder_with_a_corrupt_picture_goes_on(tmp_path: Path) -> None:
    cv2.imwrite(str(tmp_path / "1.png"), qr_image("first"))
    (tmp_path / "2.png").write_bytes(b"not a picture")
    cv2.imwrite(str(tmp_path / "3.png"), qr_image("third"))
    rec = Recorder()
    watcher = QrWatcher(str(tmp_path), rec.on_code, rec.on_health, max_fps=0)
    watcher.start()
    assert watcher.wait(10)
    watcher.stop()
    assert rec.codes == ["first", "third"]


def test_missing_camera_is_absent() -> None:
    rec = Recorder()
    watcher = QrWatcher("/nonexistent/camera.avi", rec.on_code, rec.on_health, reconnect_min_s=0.05)
    watcher.start()
    try:
        assert rec.wait_for(lambda: rec.health)
    finally:
        watcher.stop()
    assert rec.health[0].state == "absent"
    assert "No camera or file" in rec.health[0].detail


class SilentCamera:
    """A camera that opens but never gives a frame (as a USB camera with a broken sensor does)."""

    description = "silent camera"

    def grab(self) -> bool:
        return False  # at once: the watcher's own pause between grabs paces the loop

    def retrieve(self) -> npt.NDArray[Any] | None:
        return None

    def close(self) -> None:
        pass


def test_camera_that_gives_no_frames_is_an_error() -> None:
    rec = Recorder()
    watcher = QrWatcher(
        0, rec.on_code, rec.on_health, stall_timeout_s=0.3, opener=lambda _src: SilentCamera()
    )
    watcher.start()
    try:
        assert rec.wait_for(lambda: rec.health)
    finally:
        watcher.stop()
    assert rec.health[0].state == "error"
    assert "gives no frames" in rec.health[0].detail


def test_camera_lost_and_back_reconnects(tmp_path: Path) -> None:
    cv2.imwrite(str(tmp_path / "1.png"), qr_image("back again"))
    attempts: list[int] = []

    def opener(_src: str | int) -> FrameSource:
        attempts.append(1)
        if len(attempts) <= 2:
            raise SourceUnavailable("unplugged")
        return FolderSource(tmp_path, fps=20)

    rec = Recorder()
    watcher = QrWatcher("cam", rec.on_code, rec.on_health, reconnect_min_s=0.05, opener=opener)
    watcher.start()
    try:
        assert rec.wait_for(lambda: rec.codes == ["back again"])
    finally:
        watcher.stop()
    assert [h.state for h in rec.health] == ["absent", "ok"]


def test_a_failing_callback_does_not_stop_the_watcher(tmp_path: Path) -> None:
    for i in range(3):
        cv2.imwrite(str(tmp_path / f"{i}.png"), qr_image(f"code {i}"))
    seen: list[str] = []

    def on_code(code: QrCode) -> None:
        seen.append(code.text)
        raise RuntimeError("bug in the kiosk")

    watcher = QrWatcher(str(tmp_path), on_code, max_fps=0)
    watcher.start()
    assert watcher.wait(10)
    watcher.stop()
    assert seen == ["code 0", "code 1", "code 2"]


def test_camera_index_without_device_is_unavailable() -> None:
    with pytest.raises(SourceUnavailable, match="/dev/video97"):
        open_source("97")
