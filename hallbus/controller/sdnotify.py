"""systemd notifications (sd_notify) by hand: READY=1, WATCHDOG=1 and STOPPING=1 over a unix datagram."""

from __future__ import annotations

import logging
import os
import socket

log = logging.getLogger(__name__)


class SdNotifier:
    """Talks to systemd when it started us with `NOTIFY_SOCKET`; does nothing otherwise."""

    def __init__(self, environ: dict[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        self.address = env.get("NOTIFY_SOCKET") or None
        usec = env.get("WATCHDOG_USEC", "")
        pid = env.get("WATCHDOG_PID", "")
        self.watchdog_s: float | None = None
        if usec.isdigit() and int(usec) > 0 and (not pid or pid == str(os.getpid())):
            self.watchdog_s = int(usec) / 1_000_000

    @property
    def enabled(self) -> bool:
        """True when systemd listens."""
        return self.address is not None

    def notify(self, state: str) -> bool:
        """Send one state line such as `READY=1`; False when nobody listens or the send failed."""
        if self.address is None:
            return False
        addr = self.address
        if addr.startswith("@"):
            addr = "\0" + addr[1:]  # abstract socket namespace
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                sock.connect(addr)
                sock.sendall(state.encode())
            return True
        except OSError as err:
            log.warning("sd_notify %s failed: %s", state, err)
            return False

    def ready(self) -> bool:
        """Tell systemd we are up."""
        return self.notify("READY=1")

    def watchdog(self) -> bool:
        """Keep the watchdog from restarting us."""
        return self.notify("WATCHDOG=1")

    def stopping(self) -> bool:
        """Tell systemd a clean stop has begun."""
        return self.notify("STOPPING=1")
