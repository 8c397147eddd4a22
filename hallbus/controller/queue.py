"""The queue engine (排队叫号) as a controller module: its parts wired together, and its day.

The parts, one job each:
- `queue_schema`: the tables, their migrations, typed rows and shared reads;
- `ticket_ids`: what a ticket id is made of;
- `queue_layout`: the hall config's services, windows and staff, checked at start (and again
  for each change of the settings, `hallbus.controller.settings`, which give the one in effect);
- `issuing`: the rules a new ticket passes (hours, caps, slots, real name);
- `windows`: the window state machine (the counter actions);
- `login_throttle`: back-off after failed staff logins (a module of its own: its table, its tick);
- `queue_views`: tickets with their place in line, retained state, figures, alerts;
- `queue_rpc`: the `ticket.*` and `window.*` RPC methods over all of these.

Here: the hall day (numbering restarts at the roll-over time, open tickets expire, the
day's figures are archived) and the hooks every controller module has. All state is in
SQLite, so a failed request rolls back cleanly and a restart loses nothing answered.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from collections.abc import Set as AbstractSet
from typing import Any

from hallbus import schemas
from hallbus.config import HallConfig
from hallbus.controller.issuing import Issuer
from hallbus.controller.login_throttle import LoginThrottle
from hallbus.controller.module import ALL, ControllerModule, RatedLookup, Tx, TxHandler
from hallbus.controller.queue_layout import QueueLayout
from hallbus.controller.queue_rpc import QueueRpc
from hallbus.controller.queue_schema import QUEUE_MIGRATIONS
from hallbus.controller.queue_views import QueueViews
from hallbus.controller.settings import HallSettings
from hallbus.controller.staff_directory import StaffDirectory
from hallbus.controller.windows import Windows
from hallbus.rpc import Request

log = logging.getLogger(__name__)


class QueueModule(ControllerModule):
    """Tickets, windows and calls: the queue engine and its RPC handlers."""

    name = "queue"
    migrations = QUEUE_MIGRATIONS

    def __init__(
        self, config: HallConfig, settings: HallSettings | None = None, directory: StaffDirectory | None = None
    ) -> None:
        self.config = config
        self.layout = QueueLayout(config, directory)
        self.services = self.layout.services
        self.views = QueueViews(self.layout, settings)
        self.issuer = Issuer(self.views)
        self.windows = Windows(self.views)
        self.logins = LoginThrottle(config, self.layout.directory.known)  # its own module; build_controller lists it
        self.rpc = QueueRpc(self.issuer, self.windows, self.views, self.logins)
        # What other modules use (hallbus.controller.module.QueueApi), straight from its part.
        self.issue = self.issuer.issue
        self.find_ticket = self.views.find_ticket
        self.window_state = self.views.window_state
        self.clear_rating_request = self.windows.clear_rating_request
        self._stored_day: str | None = None  # queue_meta's day as last read (None: read it again)

    def know_ratings(self, rated: RatedLookup) -> None:
        """The ratings module tells how to know a rated handling (`Ticket.rated` in `ticket.status(es)` by id)."""
        self.rpc.rated = rated

    # --- the day -------------------------------------------------------------------------

    def prepare(self, tx: Tx) -> None:
        """Make sure every configured window has a row (new windows appear as closed)."""
        for wid in self.layout.windows:
            tx.execute(
                "INSERT OR IGNORE INTO windows(id, status, since) VALUES (?, 'closed', ?)", (wid, tx.now_iso)
            )

    def ensure_day(
        self, tx: Tx, figures: Callable[[Tx, str], dict[str, Any]], closed: Callable[[Tx, str], None] | None = None
    ) -> bool:
        """Roll over to a new hall day if the clock passed the roll-over hour; True when it did.

        `closed(tx, day)` runs after the day is closed (its open tickets expired), in the same
        transaction: the modules archive the day there (`ControllerModule.close_day`).
        """
        today = tx.today
        if self._stored_day is not None and self._stored_day >= today:
            return False  # the common case, without a query (this process is the only writer)
        row = tx.execute("SELECT value FROM queue_meta WHERE key = 'day'").fetchone()
        if row is None:
            tx.execute("INSERT INTO queue_meta(key, value) VALUES ('day', ?)", (today,))
            return False
        old = str(row[0])
        if old >= today:
            self._stored_day = old
            return False
        self._stored_day = None  # known again once this transaction has committed and read it back
        self.rollover(tx, old, today, figures(tx, old))
        if closed is not None:
            closed(tx, old)
        return True

    def rollover(self, tx: Tx, old: str, new: str, figures: dict[str, Any]) -> None:
        """Close day `old`: open tickets expire, windows close, the figures are archived."""
        expired = tx.execute(
            "UPDATE tickets SET status = 'expired', ended_ts = ? WHERE status IN ('waiting', 'called', 'held')",
            (tx.now_ts,),
        ).rowcount
        tx.execute(
            "UPDATE windows SET status = 'closed', staff = NULL, ticket_id = NULL, pause_reason = NULL, "
            "rating_request = NULL, rating_expires_ts = NULL, rule_state = '{}', since = ?",
            (tx.now_iso,),
        )
        tx.execute("DELETE FROM queue_alerts")
        figures = dict(figures, expired=expired, date=old)
        tx.execute(
            "INSERT OR REPLACE INTO days(day, closed_at, tickets_issued, served, no_show, expired, "
            "avg_wait_s, avg_service_s, figures) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                old, tx.now_iso, figures.get("tickets_issued", 0), figures.get("served", 0),
                figures.get("no_show", 0), expired, figures.get("avg_wait_s", 0.0),
                figures.get("avg_service_s", 0.0), schemas.encode(figures).decode(),
            ),
        )
        tx.execute("UPDATE queue_meta SET value = ? WHERE key = 'day'", (new,))
        tx.mark(ALL)
        log.info("day %s closed: %d open tickets expired; now %s", old, expired, new)

    # --- the module's hooks --------------------------------------------------------------

    def handlers(self) -> Mapping[str, TxHandler]:
        """The queue's RPC methods."""
        return self.rpc.handlers()

    def preparers(self) -> Mapping[str, Callable[[Request], None]]:
        """A password login's hash is checked on a worker thread, not in the writer's transaction."""
        return self.rpc.preparers()

    def tick(self, tx: Tx) -> None:
        """Expire rating requests and raise queue alerts once per threshold crossing."""
        self.windows.expire_rating_requests(tx)
        self.views.check_alerts(tx)

    def refresh(self, tx: Tx, keys: AbstractSet[str]) -> None:
        """Publish the retained state of marked windows, the queue and the recent calls."""
        self.views.refresh(tx, keys)

    def contribute_stats(self, tx: Tx, stats: dict[str, Any]) -> None:
        """Queue figures of the day in `stats["date"]`."""
        self.views.contribute_stats(tx, stats)
