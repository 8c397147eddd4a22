"""A node's side of signed node ids: its key, and the signature it puts on a request.

The controller's side, which checks the signatures, is `hallbus.nodeauth`. The two are
apart so the RPC client (`hallbus.rpc`) can sign without importing the guard, which
itself stands in front of the RPC server.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path


def sign(node_key: bytes, node: str, method: str, request_id: str) -> str:
    """The signature a node puts in `sig`."""
    return hmac.new(node_key, f"{node}|{method}|{request_id}".encode(), hashlib.sha256).hexdigest()


def node_key_from_credentials(path: Path | str) -> bytes | None:
    """The node key in a node's credentials file, if any."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    key = data.get("node_key")
    return bytes.fromhex(key) if key else None
