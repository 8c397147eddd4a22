"""`./hall demo`: the whole hall on one machine.

The hall runs as docs/install.md sets one up, on one machine: `hallbus broker-config`
writes the Mosquitto config, password file, ACL, node keys and every node's credentials
into `<out>/broker/`; a private Mosquitto runs on that config (anonymous clients refused)
and `hallbus serve` as a child process, logged in as the controller, with the node keys
and the staff secrets file `<out>/staff-secrets.toml`; `hallweb serve` (the phone pages,
on port 8080 of every interface, its address printed) logs in as the node `web`. Sample cases, appointments and the
service guide are loaded; then every role runs in this process, each with its own node's
config (`<out>/nodes/NODE.toml`, its own `[broker] credentials_file`), so its own login and
node key, as its own window: the self-service terminal
(terminal-1, with simulated SAM ID card reader, ESC/POS printer and QR scanner on
ptys), the counter, the evaluation tablet and the window display of window 3, and the
hall screen. With a display the windows are tiled on screen and stay up until Ctrl-C;
without one (or with `--headless`) everything is drawn off-screen.

Either way a scripted scenario plays once: a citizen swipes an ID card and takes a
ticket, the counter calls it, the window display flashes, the hall screen announces
it, the printed ticket's QR opened in headless Chromium (a phone, 390x844) says "go to
window 3", the counter finishes, the tablet takes the rating, and the citizen's case list
shows a deadline warning. After every step a screenshot of every window is written to
`<out>/screens/`. Ctrl-C (or the end of a headless run) stops every process started.

`--capture FILE` writes every bus message to FILE with `mosquitto_sub`, logged in as a
read-only observer (`demo-capture`) the demo adds to the generated password file and ACL.
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import json
import logging
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from secrets import token_urlsafe
from typing import Any

from hallbus.config import REPO_ROOT, HallConfig, parse_config
from hallbus.deploy.brokerconf import mosquitto_hash
from hallbus.localbroker import LocalBroker, end_process, free_port, parent_death_hook
from hallbus.sample import all_day_text, open_all_day
from kiosk import demo_web

log = logging.getLogger("kiosk.demo")

# (role, node, window size when tiled)
SCREENS: list[tuple[str, str, tuple[int, int]]] = [
    ("terminal", "terminal-1", (1280, 800)),
    ("counter", "counter-3", (1280, 800)),
    ("tablet", "tablet-3", (1280, 800)),
    ("window", "window-3", (1366, 768)),
    ("hall", "hall-1", (1920, 1080)),
]
CITIZEN_CASE = "ZW2026DEMO00001"
STAFF_SECRETS_EXAMPLE = REPO_ROOT / "assets" / "staff-secrets.example.toml"
DEMO_DEVICES = (
    "\n[devices.terminal-1]\nidcard = \"sim\"\nprinter = \"sim\"\nprinter_width = 80\nscanner = \"sim\"\n"
    "\n[devices.counter-3]\n"  # staff log in by password in the demo (no PC/SC daemon needed)
)
OBSERVER = "demo-capture"  # `--capture`'s login: reads every topic, writes none


def _set_line(text: str, pattern: str, line: str) -> str:
    """`text` with the one line matching `pattern` (a regex over a whole line) replaced by `line`."""
    new, n = re.subn(rf"(?m)^{pattern}$", line.replace("\\", "\\\\"), text, count=1)
    if n != 1:
        raise RuntimeError(f"the sample hall.toml has no line matching {pattern!r}: kiosk/demo.py needs updating")
    return new


def server_text(text: str, *, port: int, broker_dir: Path, secrets: Path) -> str:
    """The sample hall's config as install.md sets up the server's (steps 3 and 5), on one machine.

    Its broker on `port`, the node keys from `broker-config`'s `node-keys.json` in `broker_dir`, staff
    secrets from `secrets`. The controller's login is set once `broker-config` has written it.
    """
    text = _set_line(text, r"port = \d+.*", f"port = {port}")
    text = _set_line(text, r"staff_secrets_file = .*", f'staff_secrets_file = "{secrets}"   # controller only')
    return _set_line(text, r"\[privacy\]", f'[privacy]\nnode_keys_file = "{broker_dir / "node-keys.json"}"')


def node_config(server_config: Path, nodes_dir: Path, node: str) -> HallConfig:
    """Write and read `nodes_dir/NODE.toml`: the server's hall.toml with this node's own credentials (install.md, step 6)."""
    text = server_config.read_text(encoding="utf-8")
    own = server_config.parent / "broker" / "credentials" / f"{node}.json"
    text = _set_line(text, r'credentials_file = ".*"', f'credentials_file = "{own}"')
    nodes_dir.mkdir(parents=True, exist_ok=True)
    path = nodes_dir / f"{node}.toml"
    path.write_text(text, encoding="utf-8")
    return parse_config(text, path)


def add_observer(broker_dir: Path) -> tuple[str, str]:
    """Add a read-only login to the generated password file and ACL (before the broker starts); its (user, password).

    No node of a hall reads every topic, and a capture logged in as one would push that node off the
    broker (the client id is the login), so `--capture` gets a login of its own that can only read.
    """
    password = token_urlsafe(18)
    with open(broker_dir / "passwd", "a", encoding="utf-8") as f:
        f.write(f"{OBSERVER}:{mosquitto_hash(password)}\n")
    with open(broker_dir / "acl", "a", encoding="utf-8") as f:
        f.write(f"\nuser {OBSERVER}\ntopic read #\n")
    return OBSERVER, password


class Demo:
    """Everything the demo started, so it can all be stopped."""

    def __init__(self, out: Path, *, headless: bool, step_pause_s: float, capture: Path | None = None) -> None:
        self.out = out
        self.capture_path = capture
        self.headless = headless
        self.step_pause_s = step_pause_s
        self.broker: LocalBroker | None = None
        self.serve: subprocess.Popen[bytes] | None = None
        self.web: subprocess.Popen[bytes] | None = None
        self.kiosks: dict[str, Any] = {}
        self.cfg: HallConfig | None = None
        self.cfg_path: Path | None = None
        self.shots: list[Path] = []
        self.step = 0
        self.card: Any = None
        self.capture: subprocess.Popen[bytes] | None = None

    # --- the parts ------------------------------------------------------------------------

    def start_back_end(self) -> None:
        """The hall as docs/install.md sets it up: generated broker config, its Mosquitto, the controller."""
        port = free_port()
        broker_dir = self.out / "broker"
        secrets = self.out / "staff-secrets.toml"  # the controller's alone (install.md, step 3)
        secrets.write_text(STAFF_SECRETS_EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
        secrets.chmod(0o600)
        text = server_text(all_day_text(self.out), port=port, broker_dir=broker_dir, secrets=secrets)
        text = demo_web.with_web(text, demo_web.lan_address(), demo_web.web_port())
        self.cfg_path, self.cfg = open_all_day(self.out, text=text, extra=DEMO_DEVICES)
        (broker_dir / "persist").mkdir(parents=True, exist_ok=True)
        self._run([sys.executable, "-m", "hallbus", "broker-config", "--config", str(self.cfg_path),
                   "--out", str(broker_dir), "--listen", "127.0.0.1", "--port", str(port),
                   "--run-as", getpass.getuser(), "--persistence-dir", f"{broker_dir}/persist/"])
        # Then the controller logs in with the credentials broker-config wrote for it (install.md, step 5).
        text = _set_line(text, r"# credentials_file = .*",
                         f'credentials_file = "{broker_dir / "credentials" / "controller.json"}"')
        self.cfg_path, self.cfg = open_all_day(self.out, text=text, extra=DEMO_DEVICES)
        observer = add_observer(broker_dir) if self.capture_path is not None else None
        self.broker = LocalBroker(broker_dir, port, conf_file=broker_dir / "mosquitto.conf")
        self.broker.start()
        self._say_secured(broker_dir, secrets)
        print(f"demo: broker      {self.broker.url} (pid {self.broker.proc.pid if self.broker.proc else '?'}), "
              f"log {self.broker.log_path}")
        if self.capture_path is not None and observer is not None:
            # Everything said on the bus, as a third-party client sees it (a privacy check greps it),
            # logged in as a read-only observer the demo adds to the generated password file and ACL.
            out = open(self.capture_path, "wb")
            self.capture = subprocess.Popen(
                ["mosquitto_sub", "-h", "127.0.0.1", "-p", str(port), "-u", observer[0], "-P", observer[1],
                 "-t", "#", "-v", "-V", "mqttv5"],
                stdout=out, stderr=subprocess.DEVNULL, preexec_fn=parent_death_hook(),
            )
            out.close()
            print(f"demo: capture     every bus message to {self.capture_path} (pid {self.capture.pid}), "
                  f"logged in as the read-only {observer[0]}")
        data = self.out / "data"
        self._records(data)
        log_file = open(self.out / "controller.log", "ab")
        self.serve = subprocess.Popen(
            [sys.executable, "-m", "hallbus", "serve", "--config", str(self.cfg_path), "--data", str(data),
             "--tick", "0.5"],
            cwd=REPO_ROOT, stdout=log_file, stderr=log_file, preexec_fn=parent_death_hook(),
        )
        log_file.close()
        print(f"demo: controller  hallbus serve --config {self.cfg_path} (pid {self.serve.pid}), state in {data}, "
              f"log {self.out / 'controller.log'}")
        web_cfg = node_config(self.cfg_path, self.out / "nodes", "web")  # its own login, as every node
        self.web = demo_web.start_hallweb(self.out, Path(web_cfg.path))
        print(f"demo: web         hallweb on {self.cfg.web.base_url} (pid {self.web.pid}): a phone on this network "
              f"follows a printed ticket by its QR; log {self.out / 'web.log'}")
        print(f"demo: console     {self.cfg.web.base_url}/admin/ (no manager yet, no default password: "
              f"hallbus staff-secrets create-manager --config {self.cfg_path} --staff s001, then restart; docs/admin.md)")

    def _say_secured(self, broker_dir: Path, secrets: Path) -> None:
        """What the demo hall secures, and where its generated files are."""
        print("demo: secured as docs/install.md sets a hall up: anonymous clients refused, one login per node")
        print("demo:   (client id = login), an ACL per role, 128 KiB message limit, window actions and ratings")
        print("demo:   signed with node keys, tickets paced per signed terminal, staff secrets on the controller only")
        print(f"demo: hall.toml   {self.cfg_path} (the controller's)")
        print(f"demo: nodes       {self.out / 'nodes'}/NODE.toml (each node's: its own credentials_file)")
        print(f"demo: broker conf {broker_dir / 'mosquitto.conf'} (+ passwd, acl; `hallbus broker-config`)")
        print(f"demo: credentials {broker_dir / 'credentials'}/NODE.json, node keys {broker_dir / 'node-keys.json'}")
        print(f"demo: staff       {secrets} (password hashes, badge UIDs)")

    def _records(self, data: Path) -> None:
        """Sample cases and appointments for today, plus a case of the demo citizen near its deadline."""
        from devices.idcard.samples import sample_card

        self.card = sample_card("resident")
        samples = self.out / "samples"
        now = dt.datetime.now().astimezone()
        self._run([sys.executable, "-m", "hallbus.records.samples", "--out", str(samples), "--now", now.isoformat()])
        accepted = now - dt.timedelta(days=14)
        mine = [{
            "case_no": CITIZEN_CASE, "item": "个体工商户设立登记", "item_code": "scjg-gtgsh-sl",
            "applicant_name": self.card.name, "id_number": self.card.id_number, "status": "reviewing",
            "accepted_at": accepted.isoformat(), "promised_days": 15, "handler": "李明",
            "department": "县市场监督管理局", "pickup_window": "3号窗口", "result": "窗口领取",
        }]
        (samples / "citizen.json").write_text(json.dumps(mine, ensure_ascii=False), encoding="utf-8")
        assert self.cfg_path is not None
        for name in ("records.json", "citizen.json"):
            path = samples / name
            if path.exists():
                self._run([sys.executable, "-m", "hallbus", "cases", "import", str(path),
                           "--config", str(self.cfg_path), "--data", str(data)])
        # The import files stand for an upstream export with full ID numbers: gone once imported.
        for path in samples.iterdir():
            path.unlink()
        samples.rmdir()

    def _run(self, cmd: list[str]) -> None:
        done = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd[:5])} failed:\n{done.stderr[-2000:]}")

    def start_screens(self) -> None:
        """One Kiosk per role in this process, tiled on a screen when there is one."""
        from kiosk.app import Kiosk, Options

        assert self.cfg_path is not None and self.broker is not None
        x = y = 0
        row_h = 0
        for role, node, size in SCREENS:
            # Each screen reads its own node's hall.toml, so logs in and signs as that node, as on a real node.
            cfg = node_config(self.cfg_path, self.out / "nodes", node)
            k = Kiosk(Options(role=role, node=node, config=Path(cfg.path), data=self.out / "kiosk" / node,
                              size=size if self.headless else (size[0] // 2, size[1] // 2)), cfg)
            window = k.start()
            if not self.headless:
                w, h = size[0] // 2, size[1] // 2
                if x + w > 2560:
                    x, y, row_h = 0, y + row_h + 30, 0
                window.setPosition(x, y)
                x += w + 10
                row_h = max(row_h, h)
            self.kiosks[role] = k
            print(f"demo: screen      kiosk --role {role} --node {node} --config {cfg.path}")

    def stop(self) -> None:
        """Stop every screen, the controller and the broker: nothing is left running."""
        for k in self.kiosks.values():
            try:
                k.stop()
            except Exception:
                log.exception("a screen did not stop cleanly")
        self.kiosks.clear()
        if self.serve is not None and self.serve.poll() is None:
            self.serve.send_signal(signal.SIGTERM)
            try:
                self.serve.wait(15)
            except subprocess.TimeoutExpired:
                self.serve.kill()
                self.serve.wait(5)
        self.serve = None
        if self.web is not None:
            end_process(self.web)
            self.web = None
        if self.capture is not None:
            self.capture.terminate()
            self.capture.wait(5)
            self.capture = None
        if self.broker is not None:
            self.broker.stop()
            self.broker = None

    # --- the scenario ---------------------------------------------------------------------

    def shoot(self, name: str) -> None:
        """A screenshot of every window, named after the step."""
        from kiosk.qt.drive import pump

        pump(0.6)  # let the last change be drawn
        self.step += 1
        for role, k in self.kiosks.items():
            path = self.out / "screens" / f"{self.step:02d}-{name}-{role}.png"
            try:
                k.grab(path)
                self.shots.append(path)
            except OSError as err:
                log.error("screenshot failed: %s", err)
        print(f"demo: step {self.step:2d}  {name}")
        pump(self.step_pause_s)

    def scenario(self) -> list[str]:
        """Play the scripted day in the hall; return what did not happen as expected."""
        from kiosk.qt.drive import pump, wait_until

        problems: list[str] = []

        def expect(ok: bool, what: str) -> None:
            if not ok:
                problems.append(what)
                print(f"demo: !! {what}")

        for role, k in self.kiosks.items():
            expect(wait_until(lambda k=k: k.shell.connected, 15), f"{role} did not connect to the broker")
        pump(1.0)
        self.shoot("start")
        steps: list[tuple[str, Callable[[], None]]] = [
            ("card-swiped", lambda: self._take_ticket_part1(expect)),
            ("ticket-taken", lambda: self._take_ticket_part2(expect)),
            ("called", lambda: self._call(expect)),
            ("phone", lambda: self._phone(expect)),
            ("finished", lambda: self._finish(expect)),
            ("rated", lambda: self._rate(expect)),
            ("case-deadline", lambda: self._cases(expect)),
        ]
        for name, act in steps:
            try:
                act()
            except Exception as err:  # a broken step must not leave processes behind
                log.exception("step %s failed", name)
                expect(False, f"step {name} raised {err!r}")
            self.shoot(name)
        return problems

    # Terminal: the citizen swipes a card and takes a real-name ticket for 企业开办 (B).
    def _take_ticket_part1(self, expect: Callable[[bool, str], None]) -> None:
        from kiosk.qt.drive import text, touch, wait_until

        k = self.kiosks.get("terminal")
        if k is None:
            return
        w = k.window
        expect(touch(w, "tile_ticket"), "terminal: no 取号 tile")
        expect(touch(w, "service_B"), "terminal: no 企业开办 service")
        k.devices.simulators["idcard"].place(self.card)
        expect(wait_until(lambda: text(w, "person_name").startswith("张"), 10), "terminal: the card was not read")

    def _take_ticket_part2(self, expect: Callable[[bool, str], None]) -> None:
        from kiosk.qt.drive import text, touch, wait_until

        k = self.kiosks.get("terminal")
        if k is None:
            return
        w = k.window
        expect(touch(w, "confirm_ticket"), "terminal: no confirm button")
        expect(wait_until(lambda: text(w, "ticket_number").startswith("B"), 10), "terminal: no ticket number")
        self.ticket = text(w, "ticket_number")
        printer = k.devices.simulators.get("printer")
        if printer is not None:
            expect(printer.wait_for_tickets(1, timeout=10), "terminal: nothing was printed")
        k.devices.simulators["idcard"].remove()

    def pump_short(self) -> None:
        """Let animations and bus traffic settle a moment."""
        from kiosk.qt.drive import pump

        pump(0.3)

    def _call(self, expect: Callable[[bool, str], None]) -> None:
        """Window 3's staff logs in and calls the next ticket (the citizen's)."""
        drive_counter_call(self, expect)

    def _phone(self, expect: Callable[[bool, str], None]) -> None:
        """The citizen's phone: the printed ticket's QR opened in Chromium shows "go to window 3"."""
        printed = sorted((self.out / "kiosk").glob("*/printed/**/*.png"))
        link = demo_web.ticket_link(printed[-1]) if printed else None
        expect(link is not None, "phone: no link in the printed ticket's QR code")
        if link is None:
            return
        print(f"demo: phone       the printed ticket's QR leads to {link}")
        path = self.out / "screens" / f"{self.step + 1:02d}-phone-web.png"
        if demo_web.phone_screenshot(link, path, self.out / "chromium"):
            self.shots.append(path)

    def _finish(self, expect: Callable[[bool, str], None]) -> None:
        drive_counter_finish(self, expect)

    def _rate(self, expect: Callable[[bool, str], None]) -> None:
        drive_tablet_rate(self, expect)

    def _cases(self, expect: Callable[[bool, str], None]) -> None:
        """Back at the terminal, the citizen checks the case: a deadline warning shows."""
        from kiosk.qt.drive import find, touch, wait_until

        k = self.kiosks.get("terminal")
        if k is None:
            return
        w = k.window
        k.role.reset()
        expect(touch(w, "tile_cases"), "terminal: no 办件查询 tile")
        wait_until(lambda: find(w, "case_method_card") is not None, 5)
        k.devices.simulators["idcard"].place(self.card)
        expect(wait_until(lambda: find(w, f"case_deadline_{CITIZEN_CASE}") is not None, 10),
               "terminal: the citizen's case did not show")
        k.devices.simulators["idcard"].remove()


# The counter and tablet steps drive those roles' own pages; they live apart so each role's
# object names are in one place.
def drive_counter_call(demo: Demo, expect: Callable[[bool, str], None]) -> None:
    """Window 3's staff member logs in on the on-screen keyboard and calls the next ticket."""
    from kiosk.qt.drive import text, touch, wait_until

    k = demo.kiosks.get("counter")
    if k is None:
        return
    w, state = k.window, k.role.keep[0]
    for field, value in (("staff", "s003"), ("password", "hall003")):
        touch(w, f"login_field_{field}")
        for ch in value:
            touch(w, f"login_key_{ch}")
    touch(w, "login_submit")
    expect(wait_until(lambda: state.logged_in, 10), "counter: staff login failed")
    expect(wait_until(lambda: state.enabled("call_next"), 10), "counter: 叫号 stayed disabled")
    expect(touch(w, "action_call_next"), "counter: no 叫号 button")
    expect(wait_until(lambda: text(w, "counter_ticket_number").startswith("B"), 10), "counter: nothing was called")
    display = demo.kiosks.get("window")
    if display is not None:
        expect(wait_until(lambda: text(display.window, "display_ticket").startswith("B")
                          or demo.ticket in _all_text(display.window), 10), "window display: the call did not show")
    demo.pump_short()


def _all_text(window: Any) -> str:
    """Every visible text in a window, joined (for a loose check on a screen)."""
    from kiosk.qt.drive import visible_items

    return " ".join(str(i.property("text")) for i in visible_items(window.contentItem()) if i.property("text") is not None)


def drive_counter_finish(demo: Demo, expect: Callable[[bool, str], None]) -> None:
    """The matter is done: 办结, which opens the rating on the tablet."""
    from kiosk.qt.drive import touch, wait_until

    k = demo.kiosks.get("counter")
    if k is None:
        return
    expect(touch(k.window, "action_finish"), "counter: no 办结 button")
    tablet = demo.kiosks.get("tablet")
    if tablet is not None:
        expect(wait_until(lambda: tablet.role.keep[0].screen == "faces", 10), "tablet: the faces did not show")


def drive_tablet_rate(demo: Demo, expect: Callable[[bool, str], None]) -> None:
    """The citizen was kept waiting: 不满意 (2) with a reason, then sends it."""
    from kiosk.qt.drive import touch, wait_until

    k = demo.kiosks.get("tablet")
    if k is None:
        return
    w, state = k.window, k.role.keep[0]
    expect(touch(w, "face_2", timeout=10), "tablet: no 不满意 face")
    expect(wait_until(lambda: state.screen == "reasons", 5), "tablet: no reasons asked for a bad rating")
    expect(touch(w, "reason_efficiency"), "tablet: no 办事慢或超时 reason")
    expect(touch(w, "tablet_send"), "tablet: no send button")
    expect(wait_until(lambda: state.screen == "thanks", 10), "tablet: the rating was not taken")


def main(argv: list[str] | None = None) -> int:
    """Entry point of `./hall demo` (`python -m kiosk.demo`)."""
    ap = argparse.ArgumentParser(prog="./hall demo", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=None, help="folder for screenshots, logs and state")
    ap.add_argument("--headless", action="store_true", help="draw off-screen even when there is a display")
    ap.add_argument("--keep", action="store_true", help="with a display: keep running after the scenario")
    ap.add_argument("--pause", type=float, default=None, help="seconds to linger after each step")
    ap.add_argument("--capture", type=Path, default=None, help="write every bus message to this file (mosquitto_sub -v)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    headless = args.headless or not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    if headless:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        os.environ.setdefault("QT_QUICK_BACKEND", "software")
    out = (args.out or REPO_ROOT / "demo-out" / time.strftime("%Y%m%d-%H%M%S")).resolve()
    out.mkdir(parents=True, exist_ok=True)
    print(f"demo: everything goes to {out}")

    from PySide6.QtGui import QFont, QGuiApplication

    from kiosk.app import FONT_FAMILY, _quit_on_signals

    app = QGuiApplication.instance() or QGuiApplication([])
    assert isinstance(app, QGuiApplication)
    app.setFont(QFont(FONT_FAMILY))
    demo = Demo(out, headless=headless, step_pause_s=args.pause if args.pause is not None else (0.0 if headless else 2.0),
                capture=args.capture)
    notifier = _quit_on_signals(app)
    interrupted = {"flag": False}
    signal.signal(signal.SIGINT, lambda *_: interrupted.__setitem__("flag", True))
    code = 0
    try:
        demo.start_back_end()
        demo.start_screens()
        problems = demo.scenario()
        print(f"demo: {len(demo.shots)} screenshots in {out / 'screens'}")
        printed = sorted((out / "kiosk").glob("*/printed/**/*.png"))
        if printed:
            print(f"demo: printed tickets rendered to {printed[0].parent}")
        if problems:
            print(f"demo: {len(problems)} step(s) did not go as expected (see above)")
            code = 1
        if not headless and args.keep and not interrupted["flag"]:
            print("demo: the hall is running; press Ctrl-C to stop everything")
            app.exec()
    except KeyboardInterrupt:
        code = 130
    finally:
        demo.stop()
        del notifier
        print("demo: stopped; no process left running")
    return code


if __name__ == "__main__":
    sys.exit(main())
