"""A private PostgreSQL in a temporary folder, for tests, the benchmark and the city demo.

On these machines everything runs as root and PostgreSQL refuses to: the cluster belongs to
the `postgres` user (initdb and the postmaster run as it, as `runuser -u postgres --` would
run them, but as our own children: no runuser process between us and the postmaster), listens
on a free loopback port with its socket in a private folder, and is stopped by the PID of the
postmaster we started.
"""

from __future__ import annotations

import ctypes  # noqa: F401  (imported here: the child's die-with-parent hook runs as postgres, who cannot read root's Python to import it)
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from hallbus.localbroker import end_process, free_port, parent_death_hook

PG_BINDIRS = ("/usr/lib/postgresql/17/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/15/bin")


def pg_bin(name: str) -> str:
    """The path of a PostgreSQL server program (Debian keeps them out of PATH)."""
    for d in PG_BINDIRS:
        p = Path(d) / name
        if p.exists():
            return str(p)
    found = shutil.which(name)
    if found:
        return found
    raise RuntimeError(f"PostgreSQL 的 {name} 未安装:请运行 ./hall setup。 PostgreSQL's {name} is not installed: run ./hall setup (apt-get install postgresql).")


class LocalPostgres:
    """One PostgreSQL server we started, in its own folder on a free port; stopped by its PID."""

    def __init__(self, workdir: Path | None = None, port: int | None = None) -> None:
        self._own_dir = workdir is None
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="hallcity-pg-"))
        self.port = port or free_port()
        self.data = self.workdir / "data"
        self.sockdir = self.workdir / "sock"
        self.log_path = self.workdir / "postgres.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.as_root = os.geteuid() == 0
        self.user = "postgres" if self.as_root else pwd.getpwuid(os.geteuid()).pw_name

    @property
    def url(self) -> str:
        """A libpq URL of the server's `postgres` database over TCP loopback."""
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/postgres"

    def _as_user(self) -> dict[str, object]:
        """Popen arguments running a child as the `postgres` user when we are root."""
        return {"user": "postgres", "group": "postgres", "extra_groups": []} if self.as_root else {}

    def _own(self, path: Path) -> None:
        if self.as_root:
            pw = pwd.getpwnam("postgres")
            os.chown(path, pw.pw_uid, pw.pw_gid)

    def init(self) -> None:
        """Make the cluster (trust auth on loopback: a private test server)."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.workdir, 0o755)
        self._own(self.workdir)
        for d in (self.sockdir,):
            d.mkdir(exist_ok=True)
            self._own(d)
        if (self.data / "PG_VERSION").exists():
            return
        done = subprocess.run(
            [pg_bin("initdb"), "-D", str(self.data), "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8",
             "-U", self.user, "--no-sync"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120, cwd=self.workdir,
            **self._as_user(),  # type: ignore[call-overload]
        )
        if done.returncode:
            raise RuntimeError(f"initdb failed in {self.data} (the postgres user must be able to reach the folder):\n"
                               + done.stderr.decode(errors="replace")[-2000:])
        with open(self.data / "postgresql.conf", "a", encoding="utf-8") as f:
            # A test server: fsync off, small, quick to start and stop.
            f.write("fsync = off\nsynchronous_commit = off\nfull_page_writes = off\nshared_buffers = 64MB\n"
                    "max_connections = 60\n")

    def start(self, timeout: float = 30.0) -> None:
        """Start the postmaster (a child of this process) and wait until it accepts connections."""
        if self.proc is not None and self.proc.poll() is None:
            return
        self.init()
        log = open(self.log_path, "ab")
        self._own(self.log_path)
        self.proc = subprocess.Popen(  # the postmaster itself: its PID is ours to stop
            [pg_bin("postgres"), "-D", str(self.data), "-p", str(self.port), "-k", str(self.sockdir),
             "-c", "listen_addresses=127.0.0.1"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, preexec_fn=parent_death_hook(),
            cwd=self.workdir, **self._as_user(),  # type: ignore[call-overload]
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            ready = subprocess.run([pg_bin("pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), "-t", "1"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if ready.returncode == 0:
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"PostgreSQL did not start on port {self.port}; see {self.log_path}:\n"
                           + self.log_path.read_text(errors="replace")[-2000:])

    def stop(self, timeout: float = 15.0) -> None:
        """Stop the server by its PID (SIGINT: PostgreSQL's fast shutdown), SIGKILL if it hangs."""
        proc, self.proc = self.proc, None
        if proc is not None:
            end_process(proc, timeout, signal.SIGINT)

    def kill(self) -> None:
        """Kill the server abruptly, as a crash would (immediate shutdown: SIGQUIT)."""
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGQUIT)
            proc.wait(15)

    def cleanup(self) -> None:
        """Stop, and remove the folder when we made it."""
        self.stop()
        if self._own_dir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def create_database(self, name: str) -> str:
        """Make a database (dropped first if there) and return its URL."""
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{name}"

    def __enter__(self) -> LocalPostgres:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.cleanup()
