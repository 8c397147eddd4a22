"""Staff login throttling (登录限制): back-off per staff id and per counter node, kept in the store.

Without it a counter's credentials guessed 40 passwords in 4.2 s. Each failed login
counts against two keys: the staff id it named (password logins for a configured staff
id only) and the node it came from (every failure, badge or password). A key may fail
`[login] *_free_attempts` times; then it waits `backoff_s`, doubled with each further
failure, never more than `max_backoff_s`. While a key waits, a login through it is
refused before any password is looked at, and the refusal is not counted (so nobody
can stretch a wait by hammering it). A key with no failure for `forget_after_s` starts
afresh; a right password clears its staff id.

What an attacker can and cannot do to a colleague: guess their password at most a few
times per `max_backoff_s`, and make them wait at most that long to sign in by
password; their badge still works, as the staff-id wait applies to passwords only.
Rows live in the controller's store (`hall.db`, migrated by its runner), counted by the
hall's one persisted back-off (`hallbus.controller.backoff`, as case look-ups are), so a
restart does not reset them. The keys are configured staff ids and configured nodes or
windows, never free text from a request, and rows go once their time is up: nothing an
attacker sends can grow the table or push a count out of it.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from hallbus.config import HallConfig, LoginSection
from hallbus.controller.backoff import Backoff, Limits
from hallbus.controller.module import ControllerModule, Tx
from hallbus.rpc import RpcFault

log = logging.getLogger(__name__)

LOGIN_MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE login_failures (
        key TEXT PRIMARY KEY,
        failures INTEGER NOT NULL,
        last_ts REAL NOT NULL,
        blocked_until REAL NOT NULL DEFAULT 0
    );
    CREATE INDEX login_failures_last ON login_failures(last_ts);
    """,
)
"""Migration 1 already has the columns of every back-off (`hallbus.controller.backoff`)."""


@dataclass(frozen=True)
class LoginKeys:
    """The keys one login attempt counts against."""

    node: str  # "node:counter-3", or "window:3" when the request names no configured node
    staff: str | None  # "staff:s001" for a password login naming a configured staff id


def throttled(until: dt.datetime, wait_s: float, *, staff: str | None) -> RpcFault:
    """Too many failed logins: when to try again, in the hall's local time."""
    at = (until + dt.timedelta(microseconds=999_999)).strftime("%H:%M:%S")  # to the second after, not before
    if wait_s < 60:
        zh_wait, en_wait = f"约{math.ceil(wait_s)}秒后", f"in about {math.ceil(wait_s)} s"
    else:
        minutes = math.ceil(wait_s / 60)
        zh_wait, en_wait = f"约{minutes}分钟后", f"in about {minutes} min"
    if staff is not None:
        return RpcFault(
            "login_throttled",
            f"工号{staff}密码错误次数过多，已暂停密码登录。请在{at}之后（{zh_wait}）再试，或刷工牌登录；"
            "如非本人操作，请告知大厅管理员。",
            f"Too many wrong passwords for {staff}: password login is paused. Try again after {at} ({en_wait}) "
            "or use your badge. Not you? Tell the hall manager.",
        )
    return RpcFault(
        "login_throttled",
        f"本终端登录失败次数过多，已暂停登录。请在{at}之后（{zh_wait}）再试；如非本人操作，请告知大厅管理员。",
        f"Too many failed logins at this counter: logins are paused. Try again after {at} ({en_wait}). "
        "Not you? Tell the hall manager.",
    )


class LoginThrottle(ControllerModule):
    """The `login_failures` table: check before a login, count a failure, forget by time."""

    name = "staff_login"
    migrations = LOGIN_MIGRATIONS

    def __init__(self, config: HallConfig, known: Callable[[str], bool] | None = None) -> None:
        self.config = config
        self.rules: LoginSection = config.login
        self.backoff = Backoff("login_failures", forget_s=self.rules.forget_after_s)
        self.node_limits = Limits(self.rules.node_free_attempts, self.rules.backoff_s, self.rules.max_backoff_s)
        self.staff_limits = Limits(self.rules.staff_free_attempts, self.rules.backoff_s, self.rules.max_backoff_s)
        staff_ids: AbstractSet[str] = {s.id for s in config.staff}
        # whether a staff id gets its own key: hall.toml's, and the console's (the staff directory's)
        self._known: Callable[[str], bool] = known or staff_ids.__contains__
        # A hint for the worker thread that hashes passwords, so a refusal costs no PBKDF2:
        # each key's wait as last written or seen, and the latest transaction's time. The
        # store stays the authority: `check` decides in the transaction.
        self._waits: dict[str, float] = {}
        self._now = 0.0

    def keys(self, *, window: str, node: str | None, staff: str | None, password: bool) -> LoginKeys:
        """The keys of a login at `window` from `node` (the signed or reply-topic node id, if configured)."""
        node_key = f"node:{node}" if node and self.config.node(node) is not None else f"window:{window}"
        sid = (staff or "").strip()
        return LoginKeys(node=node_key, staff=f"staff:{sid}" if password and self._known(sid) else None)

    def check(self, tx: Tx, keys: LoginKeys) -> None:
        """Refuse (RpcFault `login_throttled`) while either key waits; the refusal is not counted."""
        self._now = max(self._now, tx.now_ts)
        for key in (keys.staff, keys.node):
            if key is None:
                continue
            until = self.backoff.blocked_until(tx, key)
            if until > tx.now_ts:
                self._waits[key] = until
                at = dt.datetime.fromtimestamp(until, tx.now.tzinfo)
                raise throttled(at, until - tx.now_ts, staff=key.split(":", 1)[1] if key == keys.staff else None)

    def failed(self, tx: Tx, keys: LoginKeys) -> None:
        """Count a failed login against its keys (called after the request's own changes are rolled back)."""
        self._count(tx, keys.node, self.node_limits)
        if keys.staff is not None:
            self._count(tx, keys.staff, self.staff_limits)

    def _count(self, tx: Tx, key: str, limits: Limits) -> None:
        failures, blocked_until = self.backoff.fail(tx, key, limits)
        if blocked_until:
            self._waits[key] = blocked_until
            log.warning(  # for the hall manager: someone may be guessing (journalctl -u hallbus)
                "staff login: %s failed %d times; logins through it wait %.0f s", key, failures, blocked_until - tx.now_ts
            )

    def succeeded(self, tx: Tx, keys: LoginKeys) -> None:
        """A right password clears its staff id (the node's count only fades with time)."""
        if keys.staff is not None:
            self.backoff.clear(tx, keys.staff)
            self._waits.pop(keys.staff, None)

    def waiting(self, keys: LoginKeys) -> bool:
        """Whether a key waits, as far as the latest transaction knew (the hashing thread's hint)."""
        return any(self._waits.get(k, 0.0) > self._now for k in (keys.staff, keys.node) if k is not None)

    def tick(self, tx: Tx) -> None:
        """Forget keys whose wait is over and whose last failure is older than `forget_after_s`."""
        self.backoff.prune(tx)
        self._now = max(self._now, tx.now_ts)
        for key in [k for k, until in self._waits.items() if until <= tx.now_ts]:
            self._waits.pop(key, None)
