"""Helpers for bus tests: the test hall id and a message collector."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

HALL = "test-hall"


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
