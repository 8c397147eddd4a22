"""Screenshots of the counter, tablet, window display and hall screen in each of their states, for docs/screens/.

    .venv/bin/python scripts/role_screens.py [--out docs/screens] [--scale 0.5]

A private Mosquitto and the real controller (sample hall, every service open all day) in this
process; each role is a real kiosk window (offscreen, software rendering) driven through its
view-model or the controller's RPCs into each state, then grabbed and scaled down.

One clock per picture set: the controller and every kiosk read a clock that starts at
SCREENS_AT (the moment the terminal's screenshot test uses too, tests/kiosk/conftest.py T0)
and runs on from there, so every header, ticket and call in docs/screens is of that morning.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_QUICK_BACKEND", "software")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtGui import QFont, QGuiApplication, QImage  # noqa: E402

from hallbus.brokerurl import parse_broker_url  # noqa: E402
from hallbus.client import BusClient  # noqa: E402
from hallbus.config import DEFAULT_CONFIG, HallConfig, parse_config  # noqa: E402
from hallbus.controller.app import HallController  # noqa: E402
from hallbus.localbroker import LocalBroker  # noqa: E402
from hallbus.rpc import RpcClient  # noqa: E402
from hallbus.schemas import set_clock  # noqa: E402
from kiosk.app import FONT_FAMILY, Kiosk, Options  # noqa: E402

EXTRA_WINDOWS = "".join(
    f'\n[[windows]]\nid = "{n}"\nname = "{n}号窗口"\nname_en = "Window {n}"\nservices = ["A"]\n' for n in range(13, 61)
)
# the moment of every picture in docs/screens: a Tuesday morning (= tests/kiosk/conftest.py T0)
SCREENS_AT = dt.datetime(2026, 3, 3, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
STRIP_NODE = '\n[[nodes]]\nid = "strip-1"\nrole = "window"\nwindow = "1"\nlayout = "strip"\n'


def screens_clock(start: dt.datetime = SCREENS_AT) -> Callable[[], dt.datetime]:
    """A clock that reads `start` now and runs on in real time from there."""
    t0 = time.monotonic()
    return lambda: start + dt.timedelta(seconds=time.monotonic() - t0)


def config(tmp: Path, extra: str = "") -> HallConfig:
    """The sample hall, open all day, state in `tmp`."""
    text = DEFAULT_CONFIG.read_text(encoding="utf-8")
    text = re.sub(r"(?m)^hours = .*\n", "", text)
    text = re.sub(r"(?m)^slots = .*\n", "", text)
    text = text.replace("[[services]]\n", '[[services]]\nhours = ["00:00-24:00"]\n')
    text = text.replace('key_file = "var/hall/hall.key"', f'key_file = "{tmp / "hall.key"}"')
    text = text.replace('data_dir = "var/hall"', f'data_dir = "{tmp / "data"}"')
    text += STRIP_NODE + extra
    path = tmp / "hall.toml"
    path.write_text(text, encoding="utf-8")
    return parse_config(text, path)


class Shooter:
    """A hall (broker + controller) and helpers to start kiosks, wait and grab."""

    def __init__(self, tmp: Path, out: Path, scale: float, extra: str = "") -> None:
        self.tmp, self.out, self.scale = tmp, out, scale
        self.app = QGuiApplication.instance() or QGuiApplication([])
        self.app.setFont(QFont(FONT_FAMILY))
        self.cfg = config(tmp, extra)
        self.broker = LocalBroker(tmp / "broker")
        self.broker.start()
        clock = screens_clock()
        set_clock(clock)  # the kiosks' headers, payload stamps and the controller: one clock
        self.ctl = HallController(self.cfg, data_dir=tmp / "data", broker=parse_broker_url(self.broker.url), tick_s=0.2,
                                  clock=clock)
        assert self.ctl.start(wait=5)
        self.bus = BusClient(hall=self.cfg.hall.id, node="terminal-1", role="terminal", broker=parse_broker_url(self.broker.url))
        assert self.bus.start(wait=5)
        self.rpc = RpcClient(self.bus)
        self.kiosks: list[Kiosk] = []
        self.language: str | None = None  # every kiosk in this language / large print (a screen walk's variant)
        self.elderly = False
        # called with every picture before it is scaled and saved (the screen walk's checks)
        self.check: Callable[[Kiosk, str, QImage], None] | None = None

    def call(self, method: str, **body: Any) -> dict[str, Any]:
        return self.rpc.call(method, body)

    def wait(self, seconds: float, until: Callable[[], bool] | None = None) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.app.processEvents()
            if until is not None and until():
                break
            time.sleep(0.01)
        for _ in range(5):
            self.app.processEvents()
            time.sleep(0.02)

    def kiosk(self, role: str, node: str, size: tuple[int, int], lang: str | None = None) -> Kiosk:
        k = Kiosk(Options(role=role, node=node, broker=self.broker.url, data=self.tmp / f"k-{node}", size=size,
                          language=lang or self.language, elderly=self.elderly), self.cfg)
        k.start()
        self.kiosks.append(k)
        self.wait(5, lambda: k.shell.connected and getattr(k.role.keep[0], "state", 1) is not None)
        self.wait(0.4)
        return k

    def grab(self, k: Kiosk, name: str) -> None:
        self.wait(0.3)
        assert k.window is not None
        image = k.window.grabWindow()
        if self.check is not None:
            self.check(k, name, image)
        if self.scale != 1.0:
            image = image.scaledToWidth(int(image.width() * self.scale), Qt.TransformationMode.SmoothTransformation)
        path = self.out / f"{name}.png"
        image.save(str(path), "PNG")
        print(f"wrote {path} ({path.stat().st_size // 1024} KiB)", flush=True)

    def offline(self, seconds: float = 4.0) -> None:
        self.broker.stop()
        self.wait(seconds)

    def online(self) -> None:
        self.broker.start()
        self.wait(5, lambda: all(k.shell.connected for k in self.kiosks))

    def close(self) -> None:
        for k in self.kiosks:
            k.stop()
        self.bus.stop()
        self.ctl.stop()
        self.broker.stop()
        set_clock(None)


def shoot_roles(s: Shooter) -> None:
    """Counter, tablet and window display in their states; the hall screen normal, flashing, offline."""
    counter = s.kiosk("counter", "counter-1", (1920, 1080))
    cv, cst = counter.role.properties["vm"], counter.role.keep[0]
    s.grab(counter, "counter-login")
    for key in "s001":
        cv.loginKey(key)
    cv.loginField("password")
    for key in "wrong":
        cv.loginKey(key)
    cv.submitLogin()
    s.wait(3, lambda: cst.login.error is not None)
    s.grab(counter, "counter-login-error")

    tablet = s.kiosk("tablet", "tablet-1", (1280, 800))
    window = s.kiosk("window", "window-1", (1920, 1080))
    small = s.kiosk("window", "window-1", (1366, 768))
    strip = s.kiosk("window", "strip-1", (1920, 360))
    s.grab(window, "window-closed")

    cv.loginField("password")
    cv.loginKey("clear")
    for key in "hall001":
        cv.loginKey(key)
    cv.submitLogin()
    s.wait(3, lambda: cst.logged_in)
    s.call("window.login", window="2", staff="s002", password="hall002")
    s.call("window.login", window="5", staff="s005", password="hall005")
    s.call("window.login", window="7", staff="s007", password="hall007")
    s.call("window.pause", window="7", reason="业务培训")
    s.grab(tablet, "tablet-idle")
    s.grab(window, "window-idle")

    for _ in range(4):
        s.call("ticket.issue", service="A")
    s.call("ticket.issue", service="K")
    s.call("ticket.issue", service="C", id_card={"id_hash": "ab" * 32, "name_masked": "王*"})
    s.call("window.call_next", window="5")
    s.call("window.call_next", window="2")
    s.wait(1, lambda: cv.actions[0]["enabled"])
    s.grab(counter, "counter-idle")

    elder = {"id_hash": "cd" * 32, "name_masked": "李*", "birth": "1950-05-01"}  # 70 and over
    s.call("ticket.issue", service="A", channel="green", id_card=elder)  # 绿色通道: called first
    s.wait(0.5)
    cv.act("call_next")
    s.wait(3, lambda: cst.ticket is not None)
    s.wait(0.2)
    s.grab(window, "window-flashing")  # the number flashes for a few seconds after a call
    s.grab(strip, "window-strip-flashing")
    s.grab(counter, "counter-serving")
    hall = s.kiosk("hall", "hall-1", (1920, 1080))
    s.wait(4)  # flashing over
    s.grab(window, "window-serving")
    s.grab(small, "window-1366x768")
    s.grab(strip, "window-strip")
    s.grab(hall, "hall-normal")
    s.call("window.recall", window="2")
    s.wait(0.4)
    s.grab(hall, "hall-flashing")

    cv.act("hold")
    s.wait(3, lambda: cst.ticket is None)
    cv.act("call_next")
    s.wait(3, lambda: cst.ticket is not None)
    cv.act("transfer")
    cv.transferKind("window")
    cv.transferTarget("3")
    cv.transferPosition("front")
    s.grab(counter, "counter-transfer")
    cv.closeDialog()
    cv.act("finish")
    s.wait(3, lambda: cst.ticket is None)
    s.wait(3, lambda: tablet.role.keep[0].screen == "faces")
    s.grab(tablet, "tablet-faces")
    tv = tablet.role.properties["vm"]
    tv.chooseLevel(2)
    tv.send()  # no reason yet: the tablet asks for one
    s.wait(0.3)
    tv.toggleReason("efficiency")
    tv.toggleReason("not_told_once")
    tv.toggleReason("other")
    tv.send()  # "other" needs a comment
    s.grab(tablet, "tablet-reasons")
    tv.setComment("材料清单和窗口说法不一致")
    tv.send()
    s.wait(1)
    s.grab(tablet, "tablet-thanks")
    s.grab(counter, "counter-after-finish")
    cv.act("call_back")
    s.grab(counter, "counter-callback")
    cv.closeDialog()
    cv.act("pause")
    cv.pauseReason("away")
    s.grab(counter, "counter-pause-dialog")
    cv.pauseConfirm()
    s.wait(3, lambda: cst.state is not None and cst.state.status == "paused")
    s.wait(8, lambda: tablet.role.keep[0].screen == "idle")  # thanks, then back to idle
    s.wait(1, lambda: tablet.role.keep[0].state is not None and tablet.role.keep[0].state.status == "paused")
    s.grab(counter, "counter-paused")
    s.grab(tablet, "tablet-paused")
    s.grab(window, "window-paused")
    s.grab(strip, "window-strip-paused")
    s.grab(hall, "hall-paused-windows")

    s.offline()
    s.grab(counter, "counter-offline")
    s.grab(window, "window-offline")
    s.grab(hall, "hall-offline")
    s.online()
    english = s.kiosk("tablet", "tablet-2", (1280, 800), lang="en")
    s.grab(english, "tablet-idle-en")


def shoot_sixty(s: Shooter) -> None:
    """The hall screen with 60 windows, 14 of them open (more than one page of its grid holds)."""
    opened = (1, 5, 9, 13, 17, 21, 27, 31, 38, 44, 48, 52, 56, 60)
    for i, n in enumerate(opened, start=1):
        s.call("window.login", window=str(n), staff=f"s{i:03d}", password=f"hall{i:03d}")
    s.call("window.pause", window="9", reason="业务培训")
    for _ in range(10):
        s.call("ticket.issue", service="A")
    for n in (1, 13, 17, 21, 27, 31, 44, 60):
        s.call("window.call_next", window=str(n))
    hall = s.kiosk("hall", "hall-1", (1920, 1080))
    s.wait(1)
    s.grab(hall, "hall-60-windows")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "docs" / "screens")
    ap.add_argument("--scale", type=float, default=0.5)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for extra, shoot in (("", shoot_roles), (EXTRA_WINDOWS, shoot_sixty)):
        with tempfile.TemporaryDirectory(prefix="role-screens-") as d:
            s = Shooter(Path(d), args.out, args.scale, extra)
            try:
                shoot(s)
            finally:
                s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
