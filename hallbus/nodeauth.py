"""Signed node ids: the controller's own check of who may act for a window.

A topic ACL can say that only counters publish `rpc/window.*`, but not which window a
request names. So each node signs `node|method|request_id` with its node key (made by
`hallbus broker-config`, installed with its credentials) and the controller, which holds
every node key, refuses `window.*` from anyone but that window's counter,
`rating.submit` from a tablet of another window, `ticket.issue` from anyone but a
terminal, and `report.query` from anyone but the web service. A misconfigured ACL is then not the only guard. A request that passes carries
its checked node id on (`Request.signed_node`): the controller keeps each terminal's
ticket pace by it, and the RPC server its request budget (`source`, for every method).
(A node's own side, its key and signature, is `hallbus.nodesign`.)
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Callable, Mapping
from pathlib import Path

from hallbus import schemas
from hallbus.config import HallConfig
from hallbus.nodesign import sign
from hallbus.rpc import Dispatcher, Request, RpcFault, error_reply

log = logging.getLogger(__name__)

GUARDED_PREFIXES = ("window.", "admin.")
GUARDED_METHODS = ("rating.submit", "ticket.issue", "report.query")


def load_node_keys(path: Path | str) -> dict[str, bytes]:
    """Read `node-keys.json` ({node: hex key}) written by `hallbus broker-config`."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return {node: bytes.fromhex(key) for node, key in data.items()}


def _forbidden(zh: str, en: str) -> RpcFault:
    return RpcFault("forbidden", zh, en)


class NodeGuard:
    """A dispatcher in front of the controller that checks signed node ids on guarded methods."""

    def __init__(self, inner: Dispatcher, config: HallConfig, node_keys: Mapping[str, bytes]) -> None:
        self.inner = inner
        self.config = config
        self.node_keys = dict(node_keys)
        self.refused = 0

    def guarded(self, method: str) -> bool:
        """True for methods that act for one window, taking a ticket (paced per terminal), rating, reports."""
        return method.startswith(GUARDED_PREFIXES) or method in GUARDED_METHODS

    def _sig_ok(self, req: Request) -> bool:
        """Whether `req` carries a valid signature of the node it names (checked once, kept on the request)."""
        if req.sig_ok is None:
            node = getattr(req.body, "node", None)
            sig = getattr(req.body, "sig", None)
            key = self.node_keys.get(node) if isinstance(node, str) else None
            req.sig_ok = bool(
                isinstance(node, str) and isinstance(sig, str) and key is not None
                and hmac.compare_digest(sign(key, node, req.method, req.request_id), sig)
            )
        return req.sig_ok

    def source(self, req: Request) -> str | None:
        """The node `req` proves it comes from (a valid signature, any method), else None: its budget's key."""
        return getattr(req.body, "node", None) if self._sig_ok(req) else None

    def check(self, req: Request) -> RpcFault | None:
        """None when `req` may go on; otherwise the fault to answer with."""
        if not self.guarded(req.method):
            return None
        body = req.body
        node = getattr(body, "node", None)
        sig = getattr(body, "sig", None)
        key = self.node_keys.get(node or "")
        if not node or not sig or key is None:
            return _forbidden("本终端未获授权执行此操作。", "This node is not authorised for this action (unsigned request).")
        if not self._sig_ok(req):
            return _forbidden("本终端的签名无效。", "The node signature is not valid.")
        if req.caller is not None and req.caller != node:
            return _forbidden("请求来源与终端不符。", "The reply topic does not belong to the signing node.")
        cfg_node = self.config.node(node)
        window = getattr(body, "window", None)
        if req.method.startswith("window."):
            if cfg_node is None or cfg_node.role != "counter" or cfg_node.window != window:
                return _forbidden(
                    f"只有{window}号窗口的叫号终端可以操作该窗口。",
                    f"Only the counter terminal of window {window} may act for it.",
                )
        elif req.method.startswith("admin."):
            if cfg_node is None or cfg_node.role != "web":
                return _forbidden("只有大厅网站服务可以进行管理操作。", "Only the hall web service may use the console methods.")
        elif req.method == "ticket.issue":
            if cfg_node is None or cfg_node.role != "terminal":
                return _forbidden("只有自助终端可以取号。", "Only self-service terminals may issue tickets.")
        elif req.method == "rating.submit":
            if cfg_node is None or cfg_node.role not in ("tablet", "terminal", "web"):
                return _forbidden("只有评价终端可以提交评价。", "Only rating tablets and terminals may submit ratings.")
            if cfg_node.role == "web" and not getattr(body, "ticket_id", None):  # a phone proves it by its link
                return _forbidden("手机评价须凭排队小票的链接。", "A phone rates a handling by its ticket's link only.")
            if cfg_node.role == "tablet" and window is not None and cfg_node.window != window:
                return _forbidden(
                    "评价平板只能评价本窗口的服务。", "A rating tablet may only rate its own window."
                )
        elif req.method == "report.query" and (cfg_node is None or cfg_node.role != "web"):
            return _forbidden("只有大厅的网页服务可以查询报表。", "Only the hall's web service may ask for reports.")
        req.signed_node = node
        return None

    def slow_work(self, req: Request) -> Callable[[], None] | None:
        """The controller's slow work, only for requests that pass the check (no hashing for refused ones)."""
        inner = getattr(self.inner, "slow_work", None)
        if inner is None or self.check(req) is not None:
            return None
        work: Callable[[], None] | None = inner(req)
        return work

    def after_replies(self) -> None:
        """Let the controller publish state once the replies are out."""
        after = getattr(self.inner, "after_replies", None)
        if after is not None:
            after()

    def handle_batch(self, requests: list[Request]) -> list[schemas.RpcReply]:
        """Answer refused requests here; hand the rest to the controller in one batch."""
        replies: list[schemas.RpcReply | None] = [None] * len(requests)
        passed: list[tuple[int, Request]] = []
        for i, req in enumerate(requests):
            fault = self.check(req)
            if fault is None:
                passed.append((i, req))
            else:
                self.refused += 1
                if self.refused <= 20 or self.refused % 1000 == 0:  # a flood of unsigned requests: a few lines
                    log.warning("refused %s from %s (%s): %s (%d refused so far)", req.method, req.caller,
                                req.request_id[:8], fault.message_en, self.refused)
                replies[i] = error_reply(req.request_id, fault)
        if passed:
            for (i, _req), reply in zip(passed, self.inner.handle_batch([r for _i, r in passed]), strict=True):
                replies[i] = reply
        return [r for r in replies if r is not None]
