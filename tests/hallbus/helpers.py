"""Helpers for bus tests: the test hall id, a message collector and a reconnect watcher."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from typing import Any

HALL = "test-hall"


def without_rpc_limits(text: str) -> str:
    """Config text with the per-node request budget off (`[rpc_limits] per_second = 0`): for load tests only."""
    lifted = re.sub(r"(?m)^(\[rpc_limits\][^\n]*\n)per_second = [\d.]+", r"\1per_second = 0", text)
    assert lifted != text, "no [rpc_limits] per_second in the config"
    return lifted


def with_notify(text: str, url: str, **keys: object) -> str:
    """Config text with `[notify]` on, posting to `url`, and these keys set (TOML values as Python gives them)."""
    lines = ["[notify]", "enabled = true", f'url = "{url}"', *(f"{k} = {v}" for k, v in keys.items())]
    notify = "\n".join(lines) + "\n\n"
    turned = re.sub(r"(?ms)^\[notify\].*?(?=^\[)", lambda _m: notify, text, count=1)
    assert turned != text, "no [notify] section in the config"
    return turned


def with_broker_limits(text: str, **keys: object) -> str:
    """Config text with these `[broker_limits]` keys set (e.g. `enabled="false"`, `per_second=0`)."""
    head, sep, rest = text.partition("\n[broker_limits]")
    assert sep, "no [broker_limits] in the config"
    block, nxt, tail = rest.partition("\n[")
    for key, value in keys.items():
        block, n = re.subn(rf"(?m)^{key} = \S+", f"{key} = {value}", block)
        assert n == 1, f"no [broker_limits] {key} in the config"
    return head + sep + block + nxt + tail


def without_broker_limits(text: str) -> str:
    """Config text with the broker's per-login publish budgets off: for load tests that drive many requests
    from one login, and for tests of the controller's own budget behind them."""
    return with_broker_limits(text, enabled="false")


class Inbox:
    """Collects messages from a subscription; `wait_for(pred)` blocks until one matches."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, bytes]] = []
        self._cond = threading.Condition()

    def __call__(self, topic: str, payload: bytes, _props: Any) -> None:
        with self._cond:
            self.messages.append((topic, payload))
            self._cond.notify_all()

    def wait_for(self, pred: Callable[[str, bytes], bool], timeout: float = 5.0) -> tuple[str, bytes]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for m in self.messages:
                    if pred(*m):
                        return m
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no matching message in {timeout}s; got {self.messages[-5:]}")
                self._cond.wait(left)

    def wait_count(self, n: int, timeout: float = 5.0) -> list[tuple[str, bytes]]:
        """Block until at least `n` messages arrived; returns them all."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.messages) >= n, timeout):
                raise AssertionError(f"{len(self.messages)} of {n} messages in {timeout}s")
            return list(self.messages)


class Reconnects:
    """Records a bus client's connection changes; `wait_back()` waits for a drop and a return."""

    def __init__(self, bus: Any) -> None:
        self.changes: list[bool] = []
        self._cond = threading.Condition()
        bus.add_connection_listener(self._on_change)

    def _on_change(self, up: bool) -> None:
        with self._cond:
            self.changes.append(up)
            self._cond.notify_all()

    def wait_back(self, timeout: float = 5.0) -> None:
        """Block until the connection dropped and came back."""
        with self._cond:
            ok = self._cond.wait_for(lambda: False in self.changes and self.changes[-1], timeout)
            assert ok, f"no reconnect within {timeout}s: {self.changes}"
