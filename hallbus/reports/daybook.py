"""One hall day's figures per group (the hall, each service, window and staff member), and their archive.

`day_rows(conn, day)` computes them from the raw tables (tickets, ratings); the day's
roll-over writes exactly those rows into `report_days` (`archive_day`), in the same
transaction that closes the day, so a report over a past day reads what the same code
would have computed live on that day. Tickets and ratings themselves are kept too.

Per group:
- tickets: every ticket of the day (cancelled and expired ones included, as `stats/today`);
- visitors: distinct people among them (the ID card's hash, else the ticket);
- served, no_show, expired, cancelled: tickets by their final status;
- wait: first call minus issue, for every ticket called at least once: `wait_n`, `wait_sum`
  (seconds, for the mean) and `waits`, each wait in whole seconds (rounded down) as a
  little-endian uint32 array, for the 90th percentile (`hallbus.reports.engine.p90`);
- handling: `service_s` of the served tickets (`svc_n`, `svc_sum`);
- ratings of the day by level (`l1`..`l5`; levels 3-5 are 满意, 1-2 不满意).

A ticket counts for the service it ended in (after a transfer, the new one) and for the
window and staff member who called it last; a rating for the window and staff member the
controller recorded for its handling, and for the service of that handling's ticket.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

DIMS = ("hall", "service", "window", "staff")

REPORTS_MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE report_days (
        day TEXT NOT NULL,
        dim TEXT NOT NULL,
        key TEXT NOT NULL,
        tickets INTEGER NOT NULL,
        visitors INTEGER NOT NULL,
        served INTEGER NOT NULL,
        no_show INTEGER NOT NULL,
        expired INTEGER NOT NULL,
        cancelled INTEGER NOT NULL,
        wait_n INTEGER NOT NULL,
        wait_sum REAL NOT NULL,
        svc_n INTEGER NOT NULL,
        svc_sum REAL NOT NULL,
        l1 INTEGER NOT NULL,
        l2 INTEGER NOT NULL,
        l3 INTEGER NOT NULL,
        l4 INTEGER NOT NULL,
        l5 INTEGER NOT NULL,
        closed_at TEXT NOT NULL,
        waits BLOB NOT NULL
    );
    CREATE UNIQUE INDEX report_days_key ON report_days(dim, day, key);
    """,
)

COUNT_COLS = ("tickets", "visitors", "served", "no_show", "expired", "cancelled", "wait_n", "svc_n",
              "l1", "l2", "l3", "l4", "l5")
SUM_COLS = ("wait_sum", "svc_sum")


@dataclass
class DayRow:
    """One group's figures of one day (see the module docstring)."""

    dim: str
    key: str
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNT_COLS, 0))
    sums: dict[str, float] = field(default_factory=lambda: dict.fromkeys(SUM_COLS, 0.0))
    waits: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype="<u4"))


def _has(conn: sqlite3.Connection, table: str) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).fetchone() is not None


_TICKET_FIGURES = (
    "COUNT(*), COUNT(DISTINCT COALESCE(id_hash, id)), COUNT(*) FILTER (WHERE status = 'done'), "
    "COUNT(*) FILTER (WHERE status = 'no_show'), COUNT(*) FILTER (WHERE status = 'expired'), "
    "COUNT(*) FILTER (WHERE status = 'cancelled'), COUNT(first_called_ts), "
    "COALESCE(SUM(first_called_ts - issued_ts), 0.0), COUNT(service_s) FILTER (WHERE status = 'done'), "
    "COALESCE(SUM(service_s) FILTER (WHERE status = 'done'), 0.0)"
)
_TICKET_KEYS = {"hall": "''", "service": "service", "window": "window", "staff": "staff"}


def day_rows(conn: sqlite3.Connection, day: str) -> list[DayRow]:
    """Every group's figures of hall day `day` from the raw tables (the hall's row always, even empty)."""
    rows: dict[tuple[str, str], DayRow] = {("hall", ""): DayRow("hall", "")}

    def row(dim: str, key: str) -> DayRow:
        got = rows.get((dim, key))
        if got is None:
            got = rows[(dim, key)] = DayRow(dim, key)
        return got

    for dim, expr in _TICKET_KEYS.items():
        # The hall's row is the very query of `stats/today` (same rows, same order: the same sums).
        group = "" if dim == "hall" else f" AND {expr} IS NOT NULL GROUP BY {expr}"
        for r in conn.execute(f"SELECT {expr}, {_TICKET_FIGURES} FROM tickets WHERE day = ?{group}", (day,)):
            target = row(dim, str(r[0]))
            c = target.counts
            (c["tickets"], c["visitors"], c["served"], c["no_show"], c["expired"], c["cancelled"],
             c["wait_n"]) = (int(v) for v in r[1:8])
            target.sums["wait_sum"] = float(r[8])
            c["svc_n"] = int(r[9])
            target.sums["svc_sum"] = float(r[10])
    waits: dict[tuple[str, str], list[int]] = {}
    for service, window, staff, wait in conn.execute(
        "SELECT service, window, staff, MAX(0, CAST(first_called_ts - issued_ts AS INTEGER)) FROM tickets "
        "WHERE day = ? AND first_called_ts IS NOT NULL",
        (day,),
    ):
        for key in (("hall", ""), ("service", service), ("window", window), ("staff", staff)):
            if key[1] is not None:
                waits.setdefault((key[0], str(key[1])), []).append(int(wait))
    for key, values in waits.items():
        row(*key).waits = np.sort(np.asarray(values, dtype="<u4"))
    if _has(conn, "rec_ratings"):
        _add_ratings(conn, day, row)
    return sorted(rows.values(), key=lambda r: (DIMS.index(r.dim), r.key))


def _add_ratings(conn: sqlite3.Connection, day: str, row: Callable[[str, str], DayRow]) -> None:
    """The day's ratings by level: the hall, the recorded window and staff, the handling's ticket's service."""
    for window, staff, service, level, n in conn.execute(
        "SELECT r.window, r.staff, t.service, r.level, COUNT(*) FROM rec_ratings r "
        "LEFT JOIN rec_rating_requests q ON q.request_id = r.handling "
        "LEFT JOIN tickets t ON t.day = substr(q.ticket_id, 1, 4) || '-' || substr(q.ticket_id, 5, 2) || '-' "
        "|| substr(q.ticket_id, 7, 2) AND t.number = q.ticket "
        "WHERE r.day = ? GROUP BY 1, 2, 3, 4",
        (day,),
    ):
        col = f"l{int(level)}"
        row("hall", "").counts[col] += int(n)
        for dim, key in (("window", window), ("staff", staff), ("service", service)):
            if key:  # a case's rating has no window; a handling pruned before this release, no service
                row(dim, str(key)).counts[col] += int(n)


def archive_day(conn: sqlite3.Connection, day: str, closed_at: str) -> int:
    """Write day `day`'s rows into `report_days` (again, if it was archived before); returns how many."""
    rows = day_rows(conn, day)
    conn.execute("DELETE FROM report_days WHERE day = ?", (day,))
    conn.executemany(
        f"INSERT INTO report_days(day, dim, key, {', '.join(COUNT_COLS)}, {', '.join(SUM_COLS)}, closed_at, waits) "
        f"VALUES (?, ?, ?, {', '.join('?' * (len(COUNT_COLS) + len(SUM_COLS)))}, ?, ?)",
        [(day, r.dim, r.key, *(r.counts[c] for c in COUNT_COLS), *(r.sums[c] for c in SUM_COLS), closed_at,
          r.waits.astype("<u4").tobytes()) for r in rows],
    )
    return len(rows)


def archived_rows(conn: sqlite3.Connection, dim: str, day_from: str, day_to: str) -> Iterator[tuple[str, DayRow]]:
    """(day, row) of the archive's rows of one dimension within a day range."""
    cols = ", ".join((*COUNT_COLS, *SUM_COLS))
    for r in conn.execute(
        f"SELECT day, key, {cols}, waits FROM report_days WHERE dim = ? AND day BETWEEN ? AND ?",
        (dim, day_from, day_to),
    ):
        n = len(COUNT_COLS)
        got = DayRow(dim, str(r[1]))
        got.counts = dict(zip(COUNT_COLS, (int(v) for v in r[2:2 + n]), strict=True))
        got.sums = dict(zip(SUM_COLS, (float(v) for v in r[2 + n:2 + n + len(SUM_COLS)]), strict=True))
        got.waits = np.frombuffer(r[-1], dtype="<u4")
        yield str(r[0]), got


def archived_days(conn: sqlite3.Connection, day_from: str, day_to: str) -> set[str]:
    """The days of a range the archive holds (each has its hall row)."""
    return {str(r[0]) for r in conn.execute(
        "SELECT day FROM report_days WHERE dim = 'hall' AND day BETWEEN ? AND ?", (day_from, day_to)
    )}
