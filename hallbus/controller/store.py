"""The hall's one SQLite database (`hall.db`): WAL, durable commits, one migration runner for every module.

Each module (core here, the queue, the records' cases, appointments and ratings) brings
its migrations as a list of SQL scripts; `Store.migrate` applies the ones not applied yet,
each once, in order, in its own transaction, and tracks them in `schema_versions`. The
controller and the command line (`hallbus cases import`, `hallbus ratings move`) open
the database the same way (`hallbus.controller.app.open_store`), so whichever comes
first makes the tables and neither runs a script twice.

One connection writes, under `Store.lock`; readers (the state publisher, the admin CLI)
use their own connections, which WAL lets run beside the writer.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import stat
import threading
from collections.abc import Sequence
from pathlib import Path

log = logging.getLogger(__name__)

DB_NAME = "hall.db"

CORE_MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE rpc_replies (
        request_id TEXT PRIMARY KEY,
        method TEXT NOT NULL,
        reply BLOB NOT NULL,
        at_ts REAL NOT NULL
    );
    CREATE INDEX rpc_replies_at ON rpc_replies(at_ts);
    """,
    # 2: one index fewer: a stored reply wrote three B-tree pages per commit (the table,
    # its text key, the time index), every one a WAL frame the commit's fsync carries.
    # Rows are now kept in arrival order, so pruning by age walks the oldest rowids.
    """
    CREATE TABLE rpc_replies_v2 (
        seq INTEGER PRIMARY KEY,
        request_id TEXT NOT NULL UNIQUE,
        method TEXT NOT NULL,
        reply BLOB NOT NULL,
        at_ts REAL NOT NULL
    );
    INSERT INTO rpc_replies_v2(request_id, method, reply, at_ts)
        SELECT request_id, method, reply, at_ts FROM rpc_replies ORDER BY at_ts;
    DROP TABLE rpc_replies;
    ALTER TABLE rpc_replies_v2 RENAME TO rpc_replies;
    """,
    # 3: a reply is kept per (request_id, node): a request_id that another node sends again
    # must not get the first node's reply. Replies stored before have no node (LEGACY_NODE);
    # they answer their request_id from any node until they are pruned.
    """
    CREATE TABLE rpc_replies_v3 (
        seq INTEGER PRIMARY KEY,
        request_id TEXT NOT NULL,
        node TEXT NOT NULL,
        method TEXT NOT NULL,
        reply BLOB NOT NULL,
        at_ts REAL NOT NULL,
        UNIQUE(request_id, node)
    );
    INSERT INTO rpc_replies_v3(seq, request_id, node, method, reply, at_ts)
        SELECT seq, request_id, '?', method, reply, at_ts FROM rpc_replies ORDER BY seq;
    DROP TABLE rpc_replies;
    ALTER TABLE rpc_replies_v3 RENAME TO rpc_replies;
    """,
)
LEGACY_NODE = "?"  # the node of a reply stored before core migration 3 (no node id has a "?")

ReplyKey = tuple[str, str]  # (node, request_id): whose request a stored reply answers

PRUNE_BATCH = 500  # aged stored replies forgotten per prune step
PRUNE_MAX = 5000  # stored replies forgotten per prune step when the store is over its size bound
DB_MODE = 0o640  # hall.db and its -wal/-shm: the service's user writes, its group (backups) reads
DIR_MODE = 0o750  # a data directory the store makes


class StoreError(Exception):
    """The database cannot be used (a person should look at the file or the disk)."""


def db_path(data_dir: Path | str) -> Path:
    """Where the hall's database lives in a data directory."""
    return Path(data_dir) / DB_NAME


def _private_files(path: Path) -> None:
    """Make the data directory (0750) and the database file (0640) before SQLite does, never world-readable.

    SQLite gives the -wal and -shm files the database file's mode. A database left
    world-readable by an older release, and its -wal/-shm, lose their "other" bits here.
    """
    if not path.parent.is_dir():
        path.parent.mkdir(parents=True, mode=DIR_MODE)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, DB_MODE))
    except FileExistsError:
        pass
    except OSError as err:
        raise StoreError(f"cannot create the hall database {path}: {err}") from err
    for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            mode = stat.S_IMODE(p.stat().st_mode)
            if mode & 0o007:
                p.chmod(mode & ~0o007)
                log.warning("%s was readable by every user; now %o", p, mode & ~0o007)
        except FileNotFoundError:
            pass
        except OSError as err:  # not ours to change: say so, the store still opens
            log.warning("cannot make %s private: %s", p, err)


def _pragmas(conn: sqlite3.Connection, busy_timeout_s: float = 5.0) -> None:
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
    conn.execute("PRAGMA foreign_keys = ON")
    # A deleted row (a citizen's phone number once the ticket ends) is zeroed, not left readable in
    # free space. Debian's SQLite is built with this on (SQLITE_SECURE_DELETE); said here for builds without.
    conn.execute("PRAGMA secure_delete = ON")


class Store:
    """The writer's connection (WAL, synchronous=FULL) and the migrations of every module.

    The controller's store is the `owner`: it checkpoints the WAL itself (`checkpoint()`,
    and TRUNCATE on close). The command line's store (`owner=False`) may run beside it:
    it waits up to `busy_timeout_s` for the controller's writer and leaves checkpoints to
    SQLite's own passive ones, so closing it never waits on the controller's readers.
    """

    def __init__(self, path: Path | str, *, busy_timeout_s: float = 5.0, owner: bool = True) -> None:
        self.path = Path(path)
        self.owner = owner
        _private_files(self.path)
        self.lock = threading.RLock()
        try:
            self.conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            mode = self.conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        except sqlite3.DatabaseError as err:
            raise StoreError(f"cannot open the hall database {self.path}: {err}") from err
        if str(mode).lower() != "wal":
            raise StoreError(f"{self.path}: the database refused WAL mode ({mode})")
        # FULL: a commit is on disk before the reply leaves, also across a power cut.
        self.conn.execute("PRAGMA synchronous = FULL")
        if owner:
            # The writer never checkpoints inside a commit (that would stall a reply behind a
            # copy of the WAL into the database); `checkpoint()` does it beside the writer.
            self.conn.execute("PRAGMA wal_autocheckpoint = 0")
        _pragmas(self.conn, busy_timeout_s)
        self._checkpointer: sqlite3.Connection | None = None
        self.applied: list[tuple[str, int]] = []  # (module, migration) applied by this opening, in order
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_versions (module TEXT PRIMARY KEY, version INTEGER NOT NULL)"
        )
        self.migrate("core", CORE_MIGRATIONS)

    def version(self, module: str) -> int:
        """How many migrations of `module` are applied."""
        row = self.conn.execute("SELECT version FROM schema_versions WHERE module = ?", (module,)).fetchone()
        return int(row[0]) if row else 0

    def migrate(self, module: str, migrations: Sequence[str]) -> int:
        """Apply the module's migrations not applied yet, each in its own transaction; return how many."""
        applied = 0
        with self.lock:
            current = self.version(module)
            if current > len(migrations):
                raise StoreError(
                    f"{self.path}: module {module!r} is at schema version {current}, "
                    f"newer than this program knows ({len(migrations)}); use a newer hall kit"
                )
            for number, script in enumerate(migrations[current:], start=current + 1):
                try:
                    self.conn.execute("BEGIN IMMEDIATE")
                    for statement in _statements(script):
                        self.conn.execute(statement)
                    self.conn.execute(
                        "INSERT INTO schema_versions(module, version) VALUES (?, ?) "
                        "ON CONFLICT(module) DO UPDATE SET version = excluded.version",
                        (module, number),
                    )
                    self.conn.execute("COMMIT")
                except sqlite3.Error as err:
                    if self.conn.in_transaction:
                        self.conn.execute("ROLLBACK")
                    raise StoreError(f"migration {number} of module {module!r} failed: {err}") from err
                log.info("applied migration %d of %s", number, module)
                self.applied.append((module, number))
                applied += 1
        return applied

    # --- stored replies (idempotency) ---------------------------------------------------

    def stored_reply(self, node: str, request_id: str) -> bytes | None:
        """The reply stored for this node's request_id (or for the request_id alone, before migration 3)."""
        row = self.conn.execute(
            "SELECT reply FROM rpc_replies WHERE request_id = ? AND node IN (?, ?) ORDER BY node = ? LIMIT 1",
            (request_id, node, LEGACY_NODE, LEGACY_NODE),
        ).fetchone()
        return None if row is None else bytes(row[0])

    def keep_reply(self, node: str, request_id: str, method: str, reply: bytes, at_ts: float) -> None:
        """Store a new request's reply, in the writer's transaction."""
        self.conn.execute(
            "INSERT INTO rpc_replies(request_id, node, method, reply, at_ts) VALUES (?, ?, ?, ?, ?)",
            (request_id, node, method, reply, at_ts),
        )

    def reply_keys(self) -> set[ReplyKey]:
        """Every (node, request_id) with a stored reply."""
        return {(str(n), str(r)) for n, r in self.conn.execute("SELECT node, request_id FROM rpc_replies")}

    def prune_replies(self, before_ts: float, over: int = 0) -> list[ReplyKey]:
        """Forget the oldest stored replies: those from before `before_ts` (at most PRUNE_BATCH),
        and the oldest `over` whatever their age (at most PRUNE_MAX); their keys.

        Rows are in arrival order, so this reads only the oldest few. (Should the clock have
        stepped back, a younger reply among them stops the step: the rest waits, longer kept.)
        """
        forced = min(max(over, 0), PRUNE_MAX)
        oldest = self.conn.execute(
            "SELECT seq, at_ts FROM rpc_replies ORDER BY seq LIMIT ?", (max(PRUNE_BATCH, forced),)
        )
        last = None
        for i, (seq, at_ts) in enumerate(oldest):  # stepped lazily: a young first row ends it at once
            if i >= forced and (at_ts >= before_ts or i >= PRUNE_BATCH):
                break
            last = seq
        oldest.close()
        if last is None:
            return []
        rows = self.conn.execute(
            "DELETE FROM rpc_replies WHERE seq <= ? RETURNING node, request_id", (last,)
        ).fetchall()
        return [(str(n), str(r)) for n, r in rows]

    def reader(self) -> sqlite3.Connection:
        """A new read-only connection to the same database (for another thread)."""
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        _pragmas(conn)
        conn.execute("PRAGMA query_only = ON")
        return conn

    def checkpoint(self, restart_frames: int = 1000) -> int:
        """Copy the WAL into the database, mostly beside the writer; returns the frames in the WAL.

        A PASSIVE checkpoint on its own connection copies what is there without holding the
        writer up. Under steady writes it never finds the WAL fully copied, though, so the
        WAL would never start over and would grow without end (and every commit would then
        extend the file, a dearer fsync). So once the WAL holds `restart_frames` frames, a
        second pass runs under the writer's lock: it copies only what came in meanwhile,
        and the writer's next commit starts the WAL from its beginning again.
        """
        if self._checkpointer is None:
            self._checkpointer = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            _pragmas(self._checkpointer)
            self._checkpointer.execute("PRAGMA wal_autocheckpoint = 0")
        conn = self._checkpointer
        _busy, frames, _copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        if frames >= restart_frames:  # "all copied" above may be stale already: the writer kept going
            with self.lock:
                _busy, frames, _copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return int(frames)

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close (the owner checkpoints the WAL first)."""
        if self._checkpointer is not None:
            self._checkpointer.close()
            self._checkpointer = None
        with self.lock:
            if self.owner:
                try:
                    self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                except sqlite3.Error as err:
                    log.warning("could not checkpoint %s: %s", self.path, err)
            self.conn.close()


def _statements(script: str) -> list[str]:
    """Split a migration script into statements (no `;` inside literals in our migrations)."""
    out = []
    buf = ""
    for part in script.split(";"):
        buf += part
        if sqlite3.complete_statement(buf + ";"):
            if buf.strip():
                out.append(buf.strip())
            buf = ""
        else:
            buf += ";"
    if buf.strip():
        out.append(buf.strip())
    return out


def open_readonly(data_dir: Path | str) -> sqlite3.Connection:
    """A read-only connection for the admin CLI; works while the controller runs."""
    path = db_path(data_dir)
    if not path.exists():
        raise StoreError(f"no hall database at {path}: has `hallbus serve` run with this --data?")
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
    conn.execute("PRAGMA busy_timeout = 5000")
    return conn
