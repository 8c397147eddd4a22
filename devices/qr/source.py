"""Where frames come from: a camera index or device, a video file, a folder of pictures, a stream URL.

Every source has the same two-step read a camera driver has: `grab()` takes the next frame off the
device (cheap; keeps the queue fresh) and `retrieve()` decodes it into pixels (costly; only for the
frames we will look at). Files and folders are paced to their frame rate so they behave like a
live camera, which is what the demo and the tests need.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np
import numpy.typing as npt

log = logging.getLogger(__name__)

# OpenCV prints its own warnings for every failed open; our health messages say it better.
cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff", ".pgm", ".ppm"}


class SourceUnavailable(OSError):
    """The source cannot be opened (no such camera, file or stream)."""


class SourceEnded(Exception):
    """A finite source (file, folder) has no more frames."""


class FrameSource(Protocol):
    """A live-like source of frames."""

    description: str

    def grab(self) -> bool:
        """Take the next frame off the source; False when none came (lost or stalled)."""

    def retrieve(self) -> npt.NDArray[Any] | None:
        """Pixels of the last grabbed frame, or None."""

    def close(self) -> None:
        """Release the device or file."""


class CaptureSource:
    """A camera (index or device path), video file or stream URL through `cv2.VideoCapture`."""

    def __init__(self, target: int | str, *, finite: bool, realtime: bool = True) -> None:
        self.description = f"camera {target}" if isinstance(target, int) else str(target)
        self._finite = finite
        self._capture = cv2.VideoCapture(target)
        if not self._capture.isOpened():
            self._capture.release()
            raise SourceUnavailable(
                f"无法打开摄像头或视频源 {target}，请检查连接与权限。 / Cannot open camera or video source {target}; check the cable and permissions."
            )
        fps = self._capture.get(cv2.CAP_PROP_FPS)
        # A file is read as fast as we ask; pace it like the camera that recorded it.
        self._period = 1.0 / fps if finite and realtime and 0 < fps < 1000 else 0.0
        self._start = time.monotonic()
        self._frame_no = -1
        self.stale_skipped = 0

    def grab(self) -> bool:
        """Next frame; raises `SourceEnded` at the end of a file.

        A paced file behaves like a camera: frames that went by while the caller was busy are
        dropped (counted in `stale_skipped`), so the next frame is always the current one.
        """
        if self._period:
            self._frame_no += 1
            now = time.monotonic()
            due = self._start + self._frame_no * self._period
            if due > now:
                time.sleep(due - now)
            else:
                behind = int((now - due) / self._period)
                for _ in range(behind):
                    if not self._capture.grab():
                        raise SourceEnded(self.description)
                self._frame_no += behind
                self.stale_skipped += behind
        ok = bool(self._capture.grab())
        if not ok and self._finite:
            raise SourceEnded(self.description)
        return ok

    def retrieve(self) -> npt.NDArray[Any] | None:
        """Pixels of the grabbed frame."""
        ok, frame = self._capture.retrieve()
        return np.asarray(frame) if ok and frame is not None else None

    def close(self) -> None:
        """Release the capture."""
        self._capture.release()


class FolderSource:
    """Pictures in a folder (sorted by name), shown one after another at `fps` like a camera."""

    def __init__(self, folder: Path, *, fps: float = 5.0, realtime: bool = True) -> None:
        self.description = str(folder)
        self._files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not self._files:
            raise SourceUnavailable(
                f"文件夹 {folder} 中没有图片。 / The folder {folder} holds no pictures."
            )
        self._index = -1
        self._period = 1.0 / fps if realtime and fps > 0 else 0.0
        self._next_due = time.monotonic()

    def grab(self) -> bool:
        """Move to the next picture; raises `SourceEnded` after the last."""
        if self._period:
            delay = self._next_due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            self._next_due = max(self._next_due + self._period, time.monotonic())
        self._index += 1
        if self._index >= len(self._files):
            raise SourceEnded(self.description)
        return True

    def retrieve(self) -> npt.NDArray[Any] | None:
        """The current picture, or None (and a log line) when it cannot be read."""
        path = self._files[self._index]
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            log.warning("cannot read picture %s (corrupt or not an image); skipped", path)
            return None
        return np.asarray(image)

    def close(self) -> None:
        """Nothing to release."""


def open_source(spec: str | int, *, realtime: bool = True, folder_fps: float = 5.0) -> FrameSource:
    """Open a camera by index (`0`) or device path, a video file, a picture folder or a stream URL."""
    if isinstance(spec, int) or spec.isdigit():
        index = int(spec)
        if Path("/dev").is_dir() and not Path(f"/dev/video{index}").exists():
            raise SourceUnavailable(
                f"未找到摄像头 {index}（/dev/video{index} 不存在）。 / No camera {index}: /dev/video{index} does not exist."
            )
        return CaptureSource(index, finite=False)
    if "://" in spec:
        return CaptureSource(spec, finite=False)
    path = Path(spec)
    if path.is_dir():
        return FolderSource(path, fps=folder_fps, realtime=realtime)
    if path.is_char_device():
        return CaptureSource(spec, finite=False)
    if path.is_file():
        if path.suffix.lower() in IMAGE_SUFFIXES:
            return _SinglePicture(path)
        return CaptureSource(spec, finite=True, realtime=realtime)
    raise SourceUnavailable(f"找不到摄像头或文件 {spec}。 / No camera or file at {spec}.")


class _SinglePicture(FolderSource):
    """One picture file, as a one-frame source."""

    def __init__(self, path: Path) -> None:
        self.description = str(path)
        self._files = [path]
        self._index = -1
        self._period = 0.0
        self._next_due = 0.0
