"""The demo's phone side: `hallweb` beside the controller, and the ticket page as a phone sees it.

The printed ticket's QR is decoded from the simulated printer's picture (as a phone's camera
would) and its link opened in headless Chromium at a phone's size (390x844), so the demo shows
exactly where the QR leads. `hallweb` is a process of its own: the kiosk never imports `web/`.
"""

from __future__ import annotations

import logging
import shutil
import socket
import subprocess
import sys
from pathlib import Path

from hallbus.config import REPO_ROOT
from hallbus.localbroker import free_port, parent_death_hook

log = logging.getLogger(__name__)

CHROMIUM = "/usr/bin/chromium"


def lan_address() -> str:
    """This machine's address on its network (what a phone on the same Wi-Fi reaches), else 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("10.255.255.255", 1))  # no packet is sent: this only picks the outgoing interface
            return str(s.getsockname()[0])
        except OSError:
            return "127.0.0.1"


def web_port() -> int:
    """8080 when it is free, else any free port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("0.0.0.0", 8080))
            return 8080
        except OSError:
            return free_port()


def with_web(text: str, host: str, port: int) -> str:
    """A hall.toml's text with `[web]` listening on every interface and tickets linking to `host:port`."""
    for old, new in (('listen = "127.0.0.1:8080"', f'listen = "0.0.0.0:{port}"'),
                     ('public_url = "https://zwfw.example.gov.cn"', f'public_url = "http://{host}:{port}"')):
        if old not in text:
            raise RuntimeError(f"the sample hall.toml has no {old!r} any more")
        text = text.replace(old, new)
    return text


def start_hallweb(out: Path, config: Path) -> subprocess.Popen[bytes]:
    """`hallweb serve` on its own node's config (its login and node key), its log in `out/web.log`."""
    with open(out / "web.log", "ab") as log_file:
        return subprocess.Popen(
            [sys.executable, "-m", "web", "serve", "--config", str(config)],
            cwd=REPO_ROOT, stdout=log_file, stderr=log_file, preexec_fn=parent_death_hook(),
        )


def ticket_link(printed: Path) -> str | None:
    """The link in the QR code of a printed ticket's picture, or None when there is none."""
    import zxingcpp
    from PIL import Image

    with Image.open(printed) as image:
        for found in zxingcpp.read_barcodes(image.convert("L")):
            if found.text.startswith("http"):
                return str(found.text)
    return None


def phone_screenshot(url: str, path: Path, profile: Path) -> bool:
    """A 390x844 screenshot of `url` in headless Chromium (Debian's package); False when there is none."""
    if not Path(CHROMIUM).exists():
        log.warning("no %s: the phone page is not captured (apt install chromium)", CHROMIUM)
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        subprocess.run(
            [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=390,844",
             f"--user-data-dir={profile}", f"--screenshot={path}", url],
            capture_output=True, timeout=60, check=False,
        )
    except subprocess.TimeoutExpired:
        log.error("chromium took over 60 s to capture %s", url)
        return False
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    return path.exists()
