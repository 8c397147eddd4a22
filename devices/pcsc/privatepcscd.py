"""A private pcscd with the vpcd driver, isolated from any pcscd already on the machine.

pcscd 1.9 always puts its socket at `/run/pcscd/pcscd.comm`, so the daemon runs in its own
mount namespace (`unshare --mount`) where our own folder is bind-mounted on `/run/pcscd`. The
socket is then reachable from outside at `<run_dir>/pcscd.comm`; clients find it through
`PCSCLITE_CSOCK_NAME`, which libpcsclite reads once per process, before its first context.
Its reader config (`-c`) names only vpcd on a free TCP port pair (one per slot), so the
system's own pcscd, its readers and port 35963 are never touched. Without root, the
namespace is made with `--user --map-root-user` (unprivileged user namespaces must be on).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from devices.ports import free_port

VPCD_DRIVER = Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")
SOCKET_ENV = "PCSCLITE_CSOCK_NAME"
FRIENDLY_NAME = "Virtual PCD"


def free_port_pair() -> int:
    """A TCP port P with P and P+1 both free on this machine (vpcd opens one port per slot)."""
    return free_port(2, host="0.0.0.0")


def _listening(port: int) -> bool:
    want = f":{port:04X}"
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[1].endswith(want) and fields[3] == "0A":
                return True
    return False


class PrivatePcscd:
    """Start/stop a pcscd of our own; `env()` gives what a client process needs to reach it."""

    def __init__(
        self, base_dir: str | os.PathLike[str], *, port: int | None = None, debug: bool = False
    ) -> None:
        self.base_dir = Path(base_dir).resolve()
        if str(self.base_dir).startswith("/run/"):
            raise ValueError(
                "base_dir must not be under /run (it would be hidden inside the namespace)"
            )
        self.run_dir = self.base_dir / "run"
        self.conf_dir = self.base_dir / "reader.conf.d"
        self.log_path = self.base_dir / "pcscd.log"
        self.port = port or free_port_pair()
        self.debug = debug
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def socket_path(self) -> Path:
        """Where clients connect (PCSCLITE_CSOCK_NAME)."""
        return self.run_dir / "pcscd.comm"

    @property
    def slot_ports(self) -> tuple[int, int]:
        """vpcd's TCP ports: slot 0 and slot 1."""
        return self.port, self.port + 1

    @property
    def reader_names(self) -> tuple[str, str]:
        """The PC/SC names of the two vpcd slots."""
        return f"{FRIENDLY_NAME} 00 00", f"{FRIENDLY_NAME} 00 01"

    def env(self) -> dict[str, str]:
        """Environment for a client process (merge into os.environ or a subprocess env)."""
        return {SOCKET_ENV: str(self.socket_path)}

    @property
    def pid(self) -> int | None:
        """The daemon's PID while it runs."""
        return self.proc.pid if self.proc is not None and self.proc.poll() is None else None

    def _command(self) -> list[str]:
        for tool in ("unshare", "pcscd"):
            if shutil.which(tool) is None:
                raise RuntimeError(f"{tool} not found: install util-linux and pcscd")
        if not VPCD_DRIVER.exists():
            raise RuntimeError(f"{VPCD_DRIVER} not found: install vsmartcard-vpcd")
        ns = ["unshare", "--mount", "--propagation", "private"]
        if os.geteuid() != 0:
            ns[1:1] = ["--user", "--map-root-user"]
        # Where /run/pcscd does not exist (and cannot be made), a private tmpfs on /run holds it.
        script = (
            "set -e; if [ ! -d /run/pcscd ]; then mkdir -p /run/pcscd 2>/dev/null || "
            "{ mount -t tmpfs hallkit-run /run && mkdir /run/pcscd; }; fi; "
            'mount --bind "$1" /run/pcscd; shift; exec "$@"'
        )
        daemon = ["pcscd", "--foreground", "-c", str(self.conf_dir)] + (
            ["--debug", "--apdu"] if self.debug else []
        )
        return [*ns, "sh", "-c", script, "hallkit-pcscd", str(self.run_dir), *daemon]

    def start(self, timeout: float = 10.0) -> PrivatePcscd:
        """Start the daemon and wait until its socket and vpcd's port are there."""
        if self.pid is not None:
            return self
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.conf_dir.mkdir(parents=True, exist_ok=True)
        for stale in self.run_dir.iterdir():
            stale.unlink()
        (self.conf_dir / "vpcd").write_text(
            f'FRIENDLYNAME "{FRIENDLY_NAME}"\nDEVICENAME /dev/null:{self.port}\nLIBPATH {VPCD_DRIVER}\nCHANNELID 0x{self.port:04X}\n'
        )
        log = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen(
                self._command(), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        finally:
            log.close()
        deadline = time.monotonic() + timeout
        while not (self.socket_path.exists() and _listening(self.port)):
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"private pcscd exited with {self.proc.returncode}; see {self.log_path}:\n{self.log_tail()}"
                )
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(
                    f"private pcscd did not come up in {timeout} s; see {self.log_path}"
                )
            time.sleep(0.02)
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the daemon by its PID (SIGTERM, then SIGKILL) and clean its run folder."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout)
        for leftover in self.run_dir.glob("*"):
            try:
                leftover.unlink()
            except OSError:
                pass

    def log_tail(self, lines: int = 20) -> str:
        """The end of the daemon's log (for failure messages)."""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def __enter__(self) -> PrivatePcscd:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
