"""A hall's SMS/WeChat gateway for tests: a real HTTP server on loopback that records every POST."""

from __future__ import annotations

import json
import threading
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from hallbus.localbroker import free_port


class Gateway:
    """`http://127.0.0.1:{port}/notify`: records each post (headers, JSON body), answers 200 unless told otherwise.

    `stop()` closes the socket (a gateway that is down: connection refused); `start()` opens it
    again on the same port.
    """

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/notify"
        self.posts: list[dict[str, Any]] = []
        self.answers: deque[int] = deque()  # statuses to answer next (then 200)
        self._cond = threading.Condition()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                size = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(size))
                with gateway._cond:
                    status = gateway.answers.popleft() if gateway.answers else 200
                    gateway.posts.append({"path": self.path, "headers": dict(self.headers), "body": body,
                                          "status": status})
                    gateway._cond.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *_args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="gateway", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def bodies(self) -> list[dict[str, Any]]:
        with self._cond:
            return [p["body"] for p in self.posts]

    def wait_posts(self, n: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Block until `n` posts arrived; all of them."""
        with self._cond:
            assert self._cond.wait_for(lambda: len(self.posts) >= n, timeout), f"{len(self.posts)} posts: {self.posts}"
            return list(self.posts)
