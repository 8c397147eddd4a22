"""Proving a case (办件) is one's own, and the throttle on guessing it, kept in the controller's store.

A citizen proves a case by the ID card (its HMAC matches the case's applicant), by the
receipt QR (signed with the hall key), or by the case number with the last 6 characters of
the ID number. Only the last can be guessed, so only it is throttled, per source and per
case number, with a growing wait rather than a lock-out:

- a source is the node of the request (`node:{id}`); callers the hall does not list in
  `[[nodes]]` share one key, so junk sent under made-up reply topics neither escapes the
  throttle nor fills the table with keys of its own;
- the web service (`hallweb`, a node of role `web`) asks for every citizen's phone: one
  node key for it would let five wrong guesses from anywhere refuse every phone. So its
  request names the phone in `client` (hallweb's keyed hash of the phone's address, 32 hex
  digits: the store never holds an address) and the source is that phone, `web:{client}`.
  Only a node proven to be of role `web` may send it (`LookupThrottle.is_web`: its
  signature checked out, or, in a hall without node keys, its reply topic names it); any
  other node sending it is refused (`forbidden`, nothing looked up, nothing counted), so a
  stolen terminal login cannot spread its guesses over made-up phones. A web node's
  request without `client` counts against the node, as every other node's does;
- each key (a source, a case number) has FREE_FAILS failed guesses free; every further one
  makes it wait BASE_WAIT_S, doubling per failure, at most `cap_s` (a source 15 min, a
  case 5 min: the owner of an attacked case waits minutes, never the day);
- a key without a failure for FORGET_S starts from nothing; its row is removed then, and
  no sooner: the table is bounded by time, not by a count a flood of junk could overflow
  (phones' keys too: one row per phone that failed within the hour, each failure a
  request within the web node's budget, `[rpc_limits]`);
- the counts live in `rec_lookup_throttle` (a table of the cases module, made by the
  store's migration runner), counted by the hall's one persisted back-off
  (`hallbus.controller.backoff`, as staff logins are), so a restart of the controller
  forgets nothing; a failure is counted when the request is refused, after its other
  changes are rolled back (`Tx.keep_on_fault`);
- an ID card read or a valid receipt QR proves the owner and is never held back by
  guesses made elsewhere (the QR only by its own source's failed QRs).
"""

from __future__ import annotations

import hmac
import math
import re
from dataclasses import dataclass

from hallbus.config import HallConfig
from hallbus.controller.backoff import Backoff, Limits
from hallbus.controller.module import Tx
from hallbus.privacy import verify_hash
from hallbus.rpc import Request, RpcFault

THROTTLE_MIGRATION = """
CREATE TABLE rec_lookup_throttle (
    key           TEXT PRIMARY KEY,
    fails         INTEGER NOT NULL,
    last_ts       REAL NOT NULL,
    blocked_until REAL NOT NULL
);
CREATE INDEX rec_lookup_throttle_last ON rec_lookup_throttle(last_ts);
"""
# the column as every back-off names it (hallbus.controller.backoff); the counts are kept
THROTTLE_RENAME_MIGRATION = "ALTER TABLE rec_lookup_throttle RENAME COLUMN fails TO failures;"

FREE_FAILS = 5
BASE_WAIT_S = 30.0
NODE_CAP_S = 15 * 60.0
CASE_CAP_S = 5 * 60.0
FORGET_S = 3600.0
NODE_LIMITS = Limits(free=FREE_FAILS, base_s=BASE_WAIT_S, cap_s=NODE_CAP_S)
CASE_LIMITS = Limits(free=FREE_FAILS, base_s=BASE_WAIT_S, cap_s=CASE_CAP_S)
VERIFY_RE = re.compile(r"^[0-9X]{6}$")
CLIENT_RE = re.compile(r"^[0-9a-f]{32}$")  # `case.query` `client`: hallweb's keyed hash of a phone's address


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


def client_refused() -> RpcFault:
    """`client` from a node that is not the web service: nothing is looked up, nothing counted."""
    return RpcFault(
        "forbidden",
        "只有网上服务（hallweb）可以代手机查询办件；本终端的查询不能带 client。",
        "Only the web service (hallweb) looks cases up for phones; this node may not send `client`.",
    )


def bad_client() -> RpcFault:
    """A `client` that is no key hallweb makes (it is stored: nothing else is taken)."""
    return RpcFault(
        "bad_request",
        "client 须为32位十六进制数字（网上服务对手机地址的密钥散列）。",
        "`client` must be 32 lower-case hex digits (the web service's keyed hash of the phone's address).",
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
    web_nodes: frozenset[str] = frozenset()  # those of role `web`: only they may name a phone (`client`)
    signed: bool = False  # the hall has node keys: a web node must prove itself by its signature
    backoff: Backoff = Backoff("rec_lookup_throttle", forget_s=FORGET_S)

    @classmethod
    def of(cls, config: HallConfig) -> LookupThrottle:
        """The throttle of a hall: its nodes, its web nodes, whether it has node keys."""
        return cls(
            frozenset(n.id for n in config.nodes), frozenset(n.id for n in config.nodes if n.role == "web"),
            bool(config.privacy.node_keys_file),
        )

    def node_key(self, caller: str | None) -> str:
        """The throttle key of a source node (one shared key for callers the hall does not know)."""
        if not caller or (self.known_nodes and caller not in self.known_nodes):
            return "node:?"
        return f"node:{caller}"

    def is_web(self, req: Request) -> bool:
        """Whether `req` comes from a node of role `web`: by its checked signature, or (no node keys) its reply topic."""
        if self.signed:
            return bool(req.sig_ok) and req.source in self.web_nodes
        return req.caller in self.web_nodes

    def source_key(self, req: Request, client: str | None) -> str:
        """The key of the request's source: the phone hallweb names (`web:{client}`), else the node.

        `client` from any node but the web service is refused (`forbidden`), a malformed one too.
        """
        if client is None:
            return self.node_key(req.caller)
        if not self.is_web(req):
            raise client_refused()
        if not CLIENT_RE.match(client):
            raise bad_client()
        return f"web:{client}"

    def guard(self, tx: Tx, keys: list[str]) -> None:
        """Raise `too_many_attempts` while any of the keys waits."""
        wait = max(self.backoff.wait_s(tx, k) for k in keys)
        if wait > 0:
            raise too_many(wait)

    def fail(self, tx: Tx, key: str, limits: Limits) -> None:
        """Count one failed guess of `key` once the request is refused (the refusal's rollback keeps it)."""

        def count(t: Tx) -> None:
            self.backoff.fail(t, key, limits)

        tx.keep_on_fault(count)

    def clear(self, tx: Tx, key: str) -> None:
        """The owner got in: the case's count starts again (a node's never does: it may guess many cases)."""
        self.backoff.clear(tx, key)

    def prune(self, tx: Tx) -> int:
        """Remove the keys forgotten by now; how many."""
        return self.backoff.prune(tx)


def case_key(case_no: str) -> str:
    """The throttle key of a case number (as typed, stripped and upper-cased: one key per case)."""
    return f"case:{case_no.strip().upper()}"


def prove_by_number(throttle: LookupThrottle, tx: Tx, source: str, case_no: str, verify: str) -> str:
    """Check a case number + last 6 of the ID number, throttled per `source` (its key) and case number.

    The stored case number, or RpcFault.
    """
    case_no = case_no.strip()
    verify = verify.strip().upper()
    keys = [source, case_key(case_no)]
    throttle.guard(tx, keys)
    if not VERIFY_RE.match(verify):
        raise RpcFault(
            "bad_verify",
            "请输入身份证号码的后6位（数字，最后一位可能是X）。",
            "Enter the last 6 characters of the ID number (digits, the last may be X).",
        )
    row = tx.execute("SELECT case_no, verify_hash FROM rec_cases WHERE case_no = ?", (case_no,)).fetchone()
    if row is None:
        throttle.fail(tx, keys[0], NODE_LIMITS)
        throttle.fail(tx, keys[1], CASE_LIMITS)
        raise not_found(case_no)
    stored, expected = str(row[0]), row[1] or ""
    if not expected or not hmac.compare_digest(expected, verify_hash(tx.hall_key, stored, verify)):
        throttle.fail(tx, keys[0], NODE_LIMITS)
        throttle.fail(tx, keys[1], CASE_LIMITS)
        raise RpcFault(
            "verify_mismatch",
            "办件编号与身份证号码后6位不匹配，请核对后重试。",
            "The case number and the last 6 characters of the ID number do not match. Please check and retry.",
            )
    throttle.clear(tx, keys[1])
    return stored
