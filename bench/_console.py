"""A manager's console session over a real hall, for benches: Mosquitto, `hallbus serve` and `hallweb serve`.

`Console(base, config, data)` starts a private broker, the controller as its own process on `data`
(the store a bench filled) and hallweb as its own process, waits until hallweb sees the controller
online, and signs in through the login form (`/admin/login`, its CSRF token and cookies, as a browser
does). `console.get(path)` then answers with the session; `stop()` ends what it started, by PID.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from bench._hall import REPO, Serve, wait_web_up
from hallbus.localbroker import LocalBroker, end_process, free_port


def as_console_hall(text: str, staff_secrets: Path) -> str:
    """The sample hall's config text with s001 a manager and the staff secrets file named absolutely."""
    text = text.replace('id = "s001"\nname = "李明"', 'id = "s001"\nname = "李明"\nrole = "manager"')
    assert 'role = "manager"' in text, "the sample's s001 moved"
    return re.sub(r'(?m)^staff_secrets_file = ".*"', f'staff_secrets_file = "{staff_secrets}"', text)


class Console:
    """Broker, controller and hallweb processes on one hall, and a signed-in manager's HTTP client."""

    def __init__(self, base: Path, config: Path, data: Path) -> None:
        self.base, self.config, self.data = base, config, data
        self.broker = LocalBroker(base / "broker")
        self.serve: Serve | None = None
        self.web: subprocess.Popen[bytes] | None = None
        self.http: httpx.Client | None = None

    def start(self, staff: str = "s001", password: str = "hall001") -> Console:
        self.broker.start()
        self.serve = Serve(self.config, self.broker, self.data)
        self.serve.start()
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        with open(self.base / "web.log", "ab") as log:
            self.web = subprocess.Popen(
                [sys.executable, "-m", "web", "serve", "--config", str(self.config), "--broker", self.broker.url,
                 "--listen", f"127.0.0.1:{port}"], cwd=REPO, stdout=log, stderr=log,
            )
        wait_web_up(url, self.web)
        deadline = time.monotonic() + 120
        while httpx.get(url + "/healthz", timeout=5).json().get("controller") != "up":
            if time.monotonic() > deadline or not self.serve.alive():
                raise RuntimeError(f"the controller is not online; see {self.serve.log}")
            time.sleep(0.2)
        self.http = httpx.Client(base_url=url, timeout=120, follow_redirects=False)
        form = self.http.get("/admin/login")
        csrf = re.search(r'name="_csrf" value="([0-9a-f]+)"', form.text)
        assert csrf, form.text
        signed = self.http.post("/admin/login", data={"staff": staff, "password": password, "_csrf": csrf.group(1)})
        if signed.status_code != 303:
            raise RuntimeError(f"the console refused the sign-in ({signed.status_code}): {signed.text[:300]}")
        return self

    def get(self, path: str, **params: Any) -> httpx.Response:
        assert self.http is not None
        return self.http.get(path, params=params)

    def stop(self) -> None:
        if self.http is not None:
            self.http.close()
        if self.web is not None:
            end_process(self.web)
        if self.serve is not None:
            self.serve.stop()
        self.broker.stop()
