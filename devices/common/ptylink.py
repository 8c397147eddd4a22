"""A new pty whose device end is linked at a path of our choosing (for simulators)."""

from __future__ import annotations

import os
import tty
from pathlib import Path


class PtyLink:
    """Open a pty pair; link `path` to the device end; `fd` is the simulator's end.

    A driver opens `path` exactly as it would open `/dev/ttyUSB0`.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.fd, self._device_fd = os.openpty()
        tty.setraw(self.fd)
        tty.setraw(self._device_fd)
        self.device = os.ttyname(self._device_fd)
        if self.path.is_symlink() or self.path.exists():
            self.path.unlink()
        self.path.symlink_to(self.device)

    def close(self) -> None:
        """Remove the link and close both ends."""
        try:
            if self.path.is_symlink():
                self.path.unlink()
        except OSError:
            pass
        for fd in (self.fd, self._device_fd):
            try:
                os.close(fd)
            except OSError:
                pass

    def __enter__(self) -> PtyLink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
