"""Proving a case (办件) is one's own, and the throttle on guessing it, kept in the controller's store.

A citizen proves a case by the ID card (its HMAC matches the case's applicant), by the
receipt QR (signed with the hall key), or by the case number with the last 6 characters of
the ID number. Only the last can be guessed, so only it is throttled, per source node and
per case number, with a growing wait rather than a lock-out:

- a node is the caller of the request; callers the hall does not list in `[[nodes]]` share
  one key, so junk sent under made-up reply topics neither escapes the throttle nor fills
  the table with keys of its own; the web service (role `web`) asks for many people, so its
  key is per client address it names (`client`): one phone's guesses never hold back another's;
- each key (a node, a case number) has FREE_FAILS failed guesses free; every further one
  makes it wait BASE_WAIT_S, doubling per failure, at most `cap_s` (a node 15 min, a
  case 5 min: the owner of an attacked case waits minutes, never the day);
- a key without a failure for FORGET_S starts from nothing; its row is removed then, and
  no sooner: the table is bounded by time, not by a count a flood of junk could overflow;
- the counts live in `rec_lookup_throttle` (a table of the cases module, made by the
  store's migration runner), so a restart of the controller forgets nothing; a failure is
  counted when the request is refused, after its other changes are rolled back (`Tx.keep_on_fault`);
- an ID card read or a valid receipt QR proves the owner and is never held back by
  guesses made elsewhere (the QR only by its own node's failed QRs).
"""

from __future__ import annotations

import hmac
import math
import re
from dataclasses import dataclass

from hallbus.controller.module import Tx
from hallbus.privacy import verify_hash
from hallbus.rpc import RpcFault

THROTTLE_MIGRATION = """
CREATE TABLE rec_lookup_throttle (
    key           TEXT PRIMARY KEY,
    fails         INTEGER NOT NULL,
    last_ts       REAL NOT NULL,
    blocked_until REAL NOT NULL
);
CREATE INDEX rec_lookup_throttle_last ON rec_lookup_throttle(last_ts);
"""

FREE_FAILS = 5
BASE_WAIT_S = 30.0
NODE_CAP_S = 15 * 60.0
CASE_CAP_S = 5 * 60.0
FORGET_S = 3600.0
VERIFY_RE = re.compile(r"^[0-9X]{6}$")


def too_many(wait_s: float) -> RpcFault:
    """The refusal while a key waits: how long, in seconds, and what works at once instead."""
    secs = max(1, math.ceil(wait_s))
    return RpcFault(
        "too_many_attempts",
        f"办件编号或身份证号码后6位输错的次数较多，为保护办件信息，请 {secs} 秒后再试；"
        "刷身份证或扫描受理回执上的二维码可以立即查询。",
        f"Too many wrong case numbers or ID digits were tried. To protect the case, try again in {secs} s; "
        "your ID card or the QR code on your receipt works at once.",
    )


def not_found(case_no: str) -> RpcFault:
    """No case by that number (a counted failure)."""
    return RpcFault(
        "case_not_found",
        f"没有找到办件编号为 {case_no} 的办件，请核对受理回执上的编号，或刷身份证查询。",
        f"No case numbered {case_no}. Check the number on your receipt, or look up by ID card.",
    )


@dataclass(frozen=True)
class LookupThrottle:
    """Failed guesses per key in `rec_lookup_throttle`; stateless itself (the store keeps the counts)."""

    known_nodes: frozenset[str] = frozenset()  # the hall's [[nodes]]; empty: every caller is its own key
    web_nodes: frozenset[str] = frozenset()  # nodes of role `web`: keyed per client address they name
    free: int = FREE_FAILS
    base_s: float = BASE_WAIT_S
    forget_s: float = FORGET_S

    def node_key(self, caller: str | None, client: str | None = None) -> str:
        """The throttle key of a source node (one shared key for callers the hall does not know),
        of one client address for a `web` node that names it."""
        if not caller or (self.known_nodes and caller not in self.known_nodes):
            return "node:?"
        if client and caller in self.web_nodes:
            return f"node:{caller}@{client[:64]}"
        return f"node:{caller}"

    def wait_s(self, tx: Tx, key: str) -> float:
        """Seconds until `key` may guess again (0 when it may now)."""
        row = tx.execute("SELECT blocked_until FROM rec_lookup_throttle WHERE key = ?", (key,)).fetchone()
        return max(0.0, float(row[0]) - tx.now_ts) if row else 0.0

    def guard(self, tx: Tx, keys: list[str]) -> None:
        """Raise `too_many_attempts` while any of the keys waits."""
        wait = max(self.wait_s(tx, k) for k in keys)
        if wait > 0:
            raise too_many(wait)

    def fail(self, tx: Tx, key: str, cap_s: float) -> None:
        """Count one failed guess of `key` once the request is refused (the refusal's rollback keeps it)."""
        tx.keep_on_fault(lambda t: self._count(t, key, cap_s))

    def _count(self, tx: Tx, key: str, cap_s: float) -> None:
        """Past the free failures `key` must wait, doubling up to `cap_s`."""
        now = tx.now_ts
        row = tx.execute("SELECT fails, last_ts FROM rec_lookup_throttle WHERE key = ?", (key,)).fetchone()
        fails = int(row[0]) + 1 if row is not None and now - float(row[1]) < self.forget_s else 1
        wait = min(cap_s, self.base_s * 2 ** (fails - self.free)) if fails >= self.free else 0.0
        tx.execute(
            "INSERT INTO rec_lookup_throttle(key, fails, last_ts, blocked_until) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(key) DO UPDATE SET fails = excluded.fails, last_ts = excluded.last_ts, "
            "blocked_until = excluded.blocked_until",
            (key, fails, now, now + wait),
        )

    def clear(self, tx: Tx, key: str) -> None:
        """The owner got in: the case's count starts again (a node's never does: it may guess many cases)."""
        tx.execute("DELETE FROM rec_lookup_throttle WHERE key = ?", (key,))

    def prune(self, tx: Tx) -> int:
        """Remove the keys forgotten by now (no failure for `forget_s`, no wait left); how many."""
        cur = tx.execute(
            "DELETE FROM rec_lookup_throttle WHERE last_ts < ? AND blocked_until <= ?",
            (tx.now_ts - self.forget_s, tx.now_ts),
        )
        return int(cur.rowcount)


def case_key(case_no: str) -> str:
    """The throttle key of a case number (as typed, stripped and upper-cased: one key per case)."""
    return f"case:{case_no.strip().upper()}"


def prove_by_number(
    throttle: LookupThrottle, tx: Tx, caller: str | None, case_no: str, verify: str, client: str | None = None
) -> str:
    """Check a case number + last 6 of the ID number, throttled; the stored case number, or RpcFault.

    `client`: the address a `web` node asks for (see `LookupThrottle.node_key`).
    """
    case_no = case_no.strip()
    verify = verify.strip().upper()
    keys = [throttle.node_key(caller, client), case_key(case_no)]
    throttle.guard(tx, keys)
    if not VERIFY_RE.match(verify):
        raise RpcFault(
            "bad_verify",
            "请输入身份证号码的后6位（数字，最后一位可能是X）。",
            "Enter the last 6 characters of the ID number (digits, the last may be X).",
        )
    row = tx.execute("SELECT case_no, verify_hash FROM rec_cases WHERE case_no = ?", (case_no,)).fetchone()
    if row is None:
        throttle.fail(tx, keys[0], NODE_CAP_S)
        throttle.fail(tx, keys[1], CASE_CAP_S)
        raise not_found(case_no)
    stored, expected = str(row[0]), row[1] or ""
    if not expected or not hmac.compare_digest(expected, verify_hash(tx.hall_key, stored, verify)):
        throttle.fail(tx, keys[0], NODE_CAP_S)
        throttle.fail(tx, keys[1], CASE_CAP_S)
        raise RpcFault(
            "verify_mismatch",
            "办件编号与身份证号码后6位不匹配，请核对后重试。",
            "The case number and the last 6 characters of the ID number do not match. Please check and retry.",
            )
    throttle.clear(tx, keys[1])
    return stored
