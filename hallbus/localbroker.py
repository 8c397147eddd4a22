"""A private Mosquitto on a loopback port, for tests, benchmarks and the demo."""

from __future__ import annotations

import getpass
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

from devices.ports import (
    free_port as free_port,  # the one home of free ports (the private pcscd uses it too)
)


def die_with_parent() -> None:
    """In a child before exec: get SIGTERM when the parent dies, so a crash leaves nothing running (Linux).

    The kernel sends it when the *thread* that forked exits, so only use it for children
    started from the main thread (see `parent_death_hook`).
    """
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def parent_death_hook() -> Callable[[], None] | None:
    """`die_with_parent` when called on the main thread; None elsewhere (a short-lived thread would kill the child)."""
    return die_with_parent if threading.current_thread() is threading.main_thread() else None


def end_process(
    proc: subprocess.Popen[bytes], grace_s: float = 10.0, sig: signal.Signals = signal.SIGTERM
) -> None:
    """Stop a child we started, by its PID: `sig` (SIGTERM), and SIGKILL if it has not ended after `grace_s`."""
    if proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(grace_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def _wait_port(host: str, port: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.2):
                return True
        except OSError:
            time.sleep(0.01)
    return False


class LocalBroker:
    """One Mosquitto process we started, stopped by its PID; restartable on the same port."""

    def __init__(
        self,
        workdir: Path,
        port: int | None = None,
        *,
        extra_conf: str = "",
        conf_file: Path | None = None,
        persistence: bool = False,
    ) -> None:
        exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        if not os.path.exists(exe):
            raise RuntimeError("mosquitto is not installed: run ./hall setup (apt-get install mosquitto)")
        self.exe = exe
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.host = "127.0.0.1"
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = self.workdir / "mosquitto.log"
        if conf_file is None:
            conf_file = self.workdir / "mosquitto.conf"
            lines = [
                f"listener {self.port} 127.0.0.1",
                "allow_anonymous true",
                "set_tcp_nodelay true",
                f"user {getpass.getuser()}",
                "max_queued_messages 100000",
                "log_type error",
                "log_type warning",
            ]
            if persistence:
                lines += ["persistence true", f"persistence_location {self.workdir}/", "autosave_interval 1"]
            else:
                lines.append("persistence false")
            conf_file.write_text("\n".join(lines) + "\n" + extra_conf)
        self.conf_file = conf_file

    @property
    def url(self) -> str:
        """The broker as an mqtt:// URL."""
        return f"mqtt://{self.host}:{self.port}"

    def start(self, timeout: float = 5.0) -> None:
        """Start Mosquitto and wait until it accepts connections."""
        if self.proc is not None and self.proc.poll() is None:
            return
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [self.exe, "-c", str(self.conf_file)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=parent_death_hook(),
        )
        log.close()
        if not _wait_port(self.host, self.port, timeout):
            self.stop()
            raise RuntimeError(
                f"mosquitto did not start on port {self.port}; see {self.log_path}:\n"
                + self.log_path.read_text(errors="replace")[-2000:]
            )

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the process we started (SIGTERM, then SIGKILL)."""
        proc, self.proc = self.proc, None
        if proc is not None:
            end_process(proc, timeout)

    def kill(self) -> None:
        """Kill the broker abruptly (SIGKILL), as a crash or a power cut would."""
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(5)

    def restart(self, down_for: float = 0.0) -> None:
        """Stop, optionally stay down for a while, start again on the same port."""
        self.stop()
        if down_for:
            time.sleep(down_for)
        self.start()

    def __enter__(self) -> LocalBroker:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
