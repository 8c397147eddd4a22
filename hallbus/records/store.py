"""The records' tables in the controller's one SQLite database, and access from the command line.

Every migration here is idempotent (`IF NOT EXISTS`), so the command line (`hallbus cases
import`, `hallbus ratings move`) can make sure the tables exist before the controller ever
ran, and the controller's own per-module tracking applies them once more without harm.
Moments are stored as POSIX seconds (REAL); ISO text with the hall's offset is made on the
way out. No column ever holds a full ID number: `id_hash` (HMAC), `id_masked` and
`verify_hash` (HMAC of case number + last 6) only.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from zoneinfo import ZoneInfo

from hallbus.config import HallConfig

DB_NAME = "hall.db"

CASES_SQL = """
CREATE TABLE IF NOT EXISTS rec_cases (
    case_no          TEXT PRIMARY KEY,
    item             TEXT NOT NULL,
    item_code        TEXT,
    applicant_masked TEXT NOT NULL,
    id_hash          TEXT,
    id_masked        TEXT,
    verify_hash      TEXT,
    status           TEXT NOT NULL,
    open             INTEGER NOT NULL,
    accepted_ts      REAL,
    promised_days    INTEGER,
    due_ts           REAL,
    finished_ts      REAL,
    handler          TEXT NOT NULL DEFAULT '',
    department       TEXT NOT NULL DEFAULT '',
    result           TEXT,
    pickup_window    TEXT,
    timeline         TEXT NOT NULL DEFAULT '[]',
    warned           TEXT NOT NULL DEFAULT 'none',
    source           TEXT NOT NULL DEFAULT '',
    updated_ts       REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS rec_cases_id_hash ON rec_cases(id_hash);
CREATE INDEX IF NOT EXISTS rec_cases_open_due ON rec_cases(open, due_ts);
CREATE INDEX IF NOT EXISTS rec_cases_finished ON rec_cases(finished_ts);
"""

APPOINTMENTS_SQL = """
CREATE TABLE IF NOT EXISTS rec_appointments (
    code          TEXT PRIMARY KEY,
    service       TEXT NOT NULL,
    item          TEXT NOT NULL DEFAULT '',
    id_hash       TEXT,
    name_masked   TEXT,
    id_masked     TEXT,
    slot_start    REAL NOT NULL,
    slot_end      REAL NOT NULL,
    early_min     INTEGER,
    late_min      INTEGER,
    status        TEXT NOT NULL DEFAULT 'booked',
    checked_in_ts REAL,
    ticket_number TEXT,
    ticket_id     TEXT,
    source        TEXT NOT NULL DEFAULT '',
    updated_ts    REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS rec_appointments_id_hash ON rec_appointments(id_hash, slot_start);
"""

RATINGS_SQL = """
CREATE TABLE IF NOT EXISTS rec_rating_requests (
    request_id TEXT PRIMARY KEY,
    window     TEXT NOT NULL,
    ticket     TEXT,
    ticket_id  TEXT,
    case_no    TEXT,
    staff      TEXT NOT NULL,
    opened_ts  REAL NOT NULL,
    expires_ts REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS rec_rating_requests_window ON rec_rating_requests(window, opened_ts);
CREATE TABLE IF NOT EXISTS rec_ratings (
    rating_id  TEXT PRIMARY KEY,
    handling   TEXT NOT NULL UNIQUE,
    window     TEXT,
    ticket     TEXT,
    case_no    TEXT,
    staff      TEXT NOT NULL DEFAULT '',
    level      INTEGER NOT NULL,
    reasons    TEXT NOT NULL DEFAULT '[]',
    comment    TEXT NOT NULL DEFAULT '',
    caller     TEXT,
    made_ts    REAL,
    at_ts      REAL NOT NULL,
    day        TEXT NOT NULL,
    answer     TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS rec_ratings_day ON rec_ratings(day);
CREATE TABLE IF NOT EXISTS rec_followups (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    rating_id  TEXT NOT NULL UNIQUE,
    state      TEXT NOT NULL,
    level      INTEGER NOT NULL,
    reasons    TEXT NOT NULL,
    comment    TEXT NOT NULL DEFAULT '',
    window     TEXT,
    staff      TEXT NOT NULL DEFAULT '',
    ticket     TEXT,
    case_no    TEXT,
    opened_ts  REAL NOT NULL,
    due_ts     REAL NOT NULL,
    alerted    TEXT NOT NULL DEFAULT 'none',
    history    TEXT NOT NULL DEFAULT '[]',
    updated_ts REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS rec_followups_state_due ON rec_followups(state, due_ts);
"""

ALL_MIGRATIONS = (CASES_SQL, APPOINTMENTS_SQL, RATINGS_SQL)


def db_path(data_dir: Path) -> Path:
    """Where the controller keeps its database."""
    return Path(data_dir) / DB_NAME


def open_db(data_dir: Path, *, create: bool = True) -> sqlite3.Connection:
    """A connection for the command line: WAL, a busy timeout so a running controller only delays us."""
    path = db_path(data_dir)
    if not create and not path.exists():
        raise FileNotFoundError(f"no hall database at {path} (start the controller or import first)")
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=30.0, isolation_level=None)
    conn.execute("PRAGMA busy_timeout = 30000")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    for script in ALL_MIGRATIONS:
        conn.executescript(script)
    return conn


class Clock:
    """Moments in the hall's time zone, and the hall day (before the roll-over hour it is still yesterday)."""

    def __init__(self, config: HallConfig) -> None:
        self.tz = ZoneInfo(config.hall.timezone)
        hh, mm = config.hall.rollover.split(":")
        self.rollover = dt.time(int(hh), int(mm))

    def at(self, ts: float | None) -> dt.datetime | None:
        """POSIX seconds as an aware moment in the hall's zone."""
        return None if ts is None else dt.datetime.fromtimestamp(ts, self.tz)

    def iso(self, ts: float | None) -> str | None:
        """POSIX seconds as ISO-8601 with the hall's offset."""
        m = self.at(ts)
        return None if m is None else m.isoformat(timespec="seconds")

    def business_day(self, when: dt.datetime) -> dt.date:
        """The hall day of a moment."""
        local = when.astimezone(self.tz)
        day = local.date()
        return day - dt.timedelta(days=1) if local.time() < self.rollover else day

    def day_bounds(self, day: dt.date) -> tuple[float, float]:
        """POSIX seconds of the start and end of a hall day."""
        start = dt.datetime.combine(day, self.rollover, self.tz)
        end = dt.datetime.combine(day + dt.timedelta(days=1), self.rollover, self.tz)
        return start.timestamp(), end.timestamp()

    def parse(self, text: str) -> dt.datetime:
        """An ISO-8601 date or date-time (also `YYYY/MM/DD HH:MM`); naive means the hall's zone."""
        t = text.strip().replace("/", "-")
        if "T" not in t and " " in t:
            t = t.replace(" ", "T", 1)
        moment = dt.datetime.fromisoformat(t)
        return moment.replace(tzinfo=self.tz) if moment.tzinfo is None else moment.astimezone(self.tz)
