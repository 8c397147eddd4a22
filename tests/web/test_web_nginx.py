"""The deployment of docs/web.md, run: `hallweb` started by its systemd unit's command line, behind nginx with TLS.

nginx is Debian's binary (installed by `./hall`), run here as an ordinary process with its
own prefix and main config in a temporary folder, on free loopback ports, with a
self-signed certificate made by openssl now. Its `server` blocks are
`systemd/hallweb-nginx.conf.example` (the same text docs/web.md shows: checked below) with
only the ports, the certificate's paths and `hallweb`'s address put in. Behind it, a hall
secured as `docs/install.md` sets one up (`hallbus broker-config`, node keys) and `hallweb`
started as `systemd/hallweb.service` starts it: its `ExecStart` and the env file of
install step 5a.

Checked through nginx: the ticket page over HTTPS; an event of the ticket's stream within a
second or two of a call (a buffering proxy holds it back); failed case lookups counted per
client address, which nginx passes on in `X-Forwarded-For` and a client cannot forge; and
nothing but the phone routes reaches `hallweb` (`/admin/` answered by nginx itself).
"""

from __future__ import annotations

import ctypes
import http.client
import json
import re
import shlex
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from hallbus.client import BusClient
from hallbus.config import parse_config
from hallbus.controller.app import HallController
from hallbus.localbroker import LocalBroker, die_with_parent, end_process, free_port
from hallbus.rpc import RpcClient
from tests.hallbus.deploy import secured
from tests.web.conftest import REPO, START_S, bus_up, wait_until
from tests.web.nginx import EXAMPLE, NGINX, Nginx, start_nginx

UNIT = REPO / "systemd" / "hallweb.service"
EVENT_BOUND_S = 2.0  # a call's event through nginx; a buffering proxy holds it until its buffer fills
PR_SET_NO_NEW_PRIVS, PR_SET_MDWE, PR_GET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN = 38, 65, 66, 1
LIBC = ctypes.CDLL(None, use_errno=True)
HAS_MDWE = LIBC.prctl(PR_GET_MDWE, 0, 0, 0, 0) >= 0  # Linux 6.3 and later

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not NGINX.exists(), reason="nginx (apt, installed by ./hall) missing"),
]

def docs_nginx_block() -> str:
    """The nginx config docs/web.md shows (its one fenced `nginx` block)."""
    (block,) = re.findall(r"```nginx\n(.*?)```", (REPO / "docs" / "web.md").read_text(encoding="utf-8"), re.S)
    return block


def confined_as_the_unit_says() -> None:
    """In `hallweb`'s process before it runs: the unit's NoNewPrivileges=true, and its
    MemoryDenyWriteExecute=true the kernel's own way (prctl PR_SET_MDWE, kept across exec; systemd
    gets the same with a seccomp filter) where the kernel has it: no memory both writable and
    executable, which would stop a library that makes code at run time."""
    die_with_parent()
    if LIBC.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS)")
    if HAS_MDWE and LIBC.prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_MDWE)")


def unit_command(config: Path) -> tuple[list[str], dict[str, str], Path]:
    """`systemd/hallweb.service`'s ExecStart (this checkout for /opt/hallkit, `config` for hall.toml),
    its Environment= settings and the path of its EnvironmentFile."""
    text = UNIT.read_text()
    assert "NoNewPrivileges=true" in text and "MemoryDenyWriteExecute=true" in text  # what `confined_as_the_unit_says` does
    (exec_start,) = re.findall(r"(?m)^ExecStart=(.*)$", text)
    argv = [a.replace("/opt/hallkit/", f"{REPO}/") for a in shlex.split(exec_start)]
    assert argv[1:] == ["serve", "--config", "/etc/hallkit/hall.toml"], argv
    argv[-1] = str(config)
    env = dict(e.split("=", 1) for e in re.findall(r"(?m)^Environment=(.*)$", text))
    (env_file,) = re.findall(r"(?m)^EnvironmentFile=(.*)$", text)
    return argv, env, Path(env_file)


@dataclass
class Deployed:
    """The running deployment: nginx's HTTPS and HTTP addresses, the CA to trust, the hall behind."""

    https: str
    http: str
    ca: ssl.SSLContext
    controller: HallController
    broker: LocalBroker
    out: Path
    buses: list[BusClient] = field(default_factory=list)  # stopped with the deployment
    admin: str = ""  # the console's server (on the hall network in a real hall)

    def client(self, source: str = "127.0.0.1", **kw: object) -> httpx.Client:
        """An HTTPS client connecting from loopback address `source` (each a different phone to nginx)."""
        transport = httpx.HTTPTransport(verify=self.ca, local_address=source)
        return httpx.Client(base_url=self.https, transport=transport, timeout=15, **kw)  # type: ignore[arg-type]

    def rpc(self, node: str, role: str) -> RpcClient:
        """An RPC client logged in as `node` with its credentials and node key."""
        bus = BusClient(hall=self.controller.config.hall.id, node=node, role=role,
                        broker=secured.address(self.broker, self.out, node))
        self.buses.append(bus)
        assert bus.start(wait=10), f"{node} could not log in"
        c = secured.creds(self.out, node)
        return RpcClient(bus, node_key=bytes.fromhex(c["node_key"]))


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    tmp = tmp_path_factory.mktemp("deployed")
    out = tmp / "broker"
    config_path, _config, broker = secured.write_secured_hall(tmp, out)
    web_port, https_port, http_port = free_port(), free_port(), free_port()
    # /etc/hallkit/hall.toml of this server: the broker's port, hallweb on loopback, phones reach nginx.
    text = config_path.read_text(encoding="utf-8")
    for old, new in (("port = 1883\n", f"port = {broker.port}\n"),
                     ('listen = "127.0.0.1:8080"', f'listen = "127.0.0.1:{web_port}"'),
                     ('public_url = "https://zwfw.example.gov.cn"', f'public_url = "https://127.0.0.1:{https_port}"')):
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    config_path.write_text(text, encoding="utf-8")
    config = parse_config(text, config_path)
    broker.start()
    controller = HallController(config, data_dir=tmp / "data", broker=secured.address(broker, out, "controller"),
                                tick_s=0.2)
    web: subprocess.Popen[bytes] | None = None
    nginx: Nginx | None = None
    d: Deployed | None = None
    web_log = tmp / "hallweb.log"
    try:
        assert controller.start(wait=10), "the controller could not log in"
        # hallweb as systemd starts it: the unit's command line, its Environment= and the env file of
        # docs/install.md step 5a (the node `web`'s login and node key from credentials/web.json).
        argv, env, env_file = unit_command(config_path)
        c = secured.creds(out, "web")
        env_text = f"HALL_MQTT_USERNAME={c['username']}\nHALL_MQTT_PASSWORD={c['password']}\nHALL_NODE_KEY={c['node_key']}\n"
        assert env_file == Path("/etc/hallkit/hallweb.env")
        env.update(line.split("=", 1) for line in env_text.splitlines())
        with web_log.open("ab") as log:
            web = subprocess.Popen(argv, cwd="/", env={"PATH": "/usr/bin:/bin", **env}, stdout=subprocess.DEVNULL,
                                   stderr=log, preexec_fn=confined_as_the_unit_says)
        wait_until(lambda: web.poll() is not None or bus_up(f"http://127.0.0.1:{web_port}"), START_S, "hallweb up")
        assert web.poll() is None, web_log.read_text(errors="replace")

        nginx = start_nginx(tmp, web_port, https_port=https_port, http_port=http_port)
        ca = ssl.create_default_context(cafile=str(nginx.cert))
        d = Deployed(nginx.https, nginx.http, ca, controller, broker, out, admin=nginx.admin)

        def through_nginx() -> bool:
            assert nginx is not None and nginx.proc.poll() is None, nginx.errors()
            try:
                with d.client() as client:
                    return client.get("/healthz").json().get("bus") == "up"
            except httpx.HTTPError:
                return False

        wait_until(through_nginx, 30, "hallweb through nginx")
        yield d
    finally:
        for bus in d.buses if d is not None else []:
            bus.stop()
        for proc in (nginx.proc if nginx is not None else None, web):
            if proc is not None:
                end_process(proc)
        controller.stop()
        broker.stop()
        said = web_log.read_text(errors="replace") if web_log.exists() else ""
        assert "Traceback" not in said, said


def test_the_docs_show_the_config_the_test_runs() -> None:
    assert docs_nginx_block() == EXAMPLE.read_text()


def test_the_ticket_page_over_https(deployed: Deployed) -> None:
    t = deployed.rpc("terminal-1", "terminal").call("ticket.issue", {"service": "A"}, timeout=10)["ticket"]
    # The ticket links to the public address (nginx), as the printed QR does.
    assert t["track_url"] == f"{deployed.https}/t/{t['ticket_id']}"
    with deployed.client(headers={"Accept-Encoding": "gzip"}) as client:
        page = client.get(f"/t/{t['ticket_id']}")
        assert page.status_code == 200 and t["number"] in page.text
        assert page.headers["content-encoding"] == "gzip"
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert page.headers["referrer-policy"] == "no-referrer" and page.headers["cache-control"] == "no-store"
        assert client.get("/static/ticket.js").status_code == 200
        assert client.get(f"/api/v1/tickets/{t['ticket_id']}").json()["number"] == t["number"]
    # Plain HTTP is sent to HTTPS.
    moved = httpx.get(f"{deployed.http}/t/{t['ticket_id']}", timeout=15)
    assert moved.status_code == 301 and moved.headers["location"] == f"https://127.0.0.1/t/{t['ticket_id']}"


def test_the_event_stream_comes_through_nginx_unbuffered(deployed: Deployed) -> None:
    terminal = deployed.rpc("terminal-2", "terminal")
    mine = terminal.call("ticket.issue", {"service": "E"}, timeout=10)["ticket"]
    counter = deployed.rpc("counter-9", "counter")  # window 9 serves E alone (the sample hall)
    counter.call("window.login", {"window": "9", "staff": "s009", "password": "hall009"}, timeout=10)
    with deployed.client() as client, client.stream("GET", f"/api/v1/tickets/{mine['ticket_id']}/events") as stream:
        assert stream.status_code == 200 and stream.headers["content-type"].startswith("text/event-stream")
        assert "content-encoding" not in stream.headers and "content-length" not in stream.headers
        lines = stream.iter_lines()
        events: list[dict] = []

        def next_event() -> dict:
            for line in lines:
                if line.startswith("data: "):
                    events.append(json.loads(line[6:]))
                    return events[-1]
            raise AssertionError("the stream ended")

        assert next_event()["status"] == "waiting"
        counter.call("window.call_next", {"window": "9"}, timeout=10)
        replied = time.monotonic()
        got = next_event()
        took = time.monotonic() - replied
        assert got["status"] == "called" and got["window"] == "9"
        assert took < EVENT_BOUND_S, f"the call's event took {took:.2f} s through nginx"


def test_case_lookups_are_counted_per_client_address_behind_nginx(deployed: Deployed) -> None:
    def ask(source: str, n: int, forwarded_for: str | None = None) -> httpx.Response:
        headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
        with deployed.client(source) as client:
            return client.post("/api/v1/cases/query", json={"case_no": f"ZW2026PROXY{n:04d}", "verify": "123456"},
                               headers=headers)

    # One phone (127.0.0.2) guessing: five wrong answers, then it waits, told how long ...
    assert [ask("127.0.0.2", i).status_code for i in range(5)] == [404] * 5
    # ... and a header of its own naming another address does not let it out (nginx sets the header).
    stopped = ask("127.0.0.2", 5, forwarded_for="10.20.30.40")
    assert stopped.status_code == 429 and int(stopped.headers["Retry-After"]) > 0
    # Another phone (127.0.0.3) is not held back by the first one's guesses, nor when it names the first.
    assert ask("127.0.0.3", 7).status_code == 404
    assert ask("127.0.0.3", 8, forwarded_for="127.0.0.2").status_code == 404


@pytest.mark.parametrize("path", ["/admin/", "/admin/login", "/admin/api/x", "/%61dmin/", "/t/../admin/",
                                  "/static/../admin/", "/q/../admin/login", "/api/v1/", "/api/v1/admin",
                                  "/qq", "/cases/x", "/healthz/x", "/schema", "/robots.txt"])
def test_only_the_phone_routes_pass_nginx(deployed: Deployed, path: str) -> None:
    # http.client sends the path as written (httpx would remove the dot segments first).
    host, port = deployed.https.removeprefix("https://").split(":")
    conn = http.client.HTTPSConnection(host, int(port), context=deployed.ca, timeout=15)
    try:
        conn.request("GET", path)
        got = conn.getresponse()
        got.read()
    finally:
        conn.close()
    # nginx's own 404: hallweb (which puts its CSP on every answer, 404s included) never saw it.
    assert got.status == 404 and got.getheader("content-security-policy") is None, (path, got.getheaders())


@pytest.mark.parametrize("path", ["/", "/q", "/q?lang=en", "/cases", "/healthz", "/static/web.css"])
def test_the_phone_routes_reach_hallweb(deployed: Deployed, path: str) -> None:
    with deployed.client() as client:
        got = client.get(path)
    assert got.status_code in (200, 302) and "content-security-policy" in got.headers, (path, got.status_code)


CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")


@pytest.mark.skipif(not (CHROMIUM.exists() and CHROMEDRIVER.exists()), reason="chromium and chromium-driver (apt) missing")
def test_a_phone_browser_follows_its_ticket_through_nginx_over_http2(deployed: Deployed, tmp_path: Path) -> None:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    from tests.web.test_web_browser import console_errors, wait_text

    mine = deployed.rpc("terminal-1", "terminal").call("ticket.issue", {"service": "A"}, timeout=10)["ticket"]
    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=390,844",
                f"--user-data-dir={tmp_path / 'chromium'}"):
        opts.add_argument(arg)
    opts.set_capability("acceptInsecureCerts", True)  # the test's own certificate
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=opts)
    try:
        driver.get(f"{deployed.https}/t/{mine['ticket_id']}")
        wait_text(driver, mine["number"], "本页自动更新")  # the script's stream is open, through nginx
        assert driver.execute_script("return performance.getEntriesByType('navigation')[0].nextHopProtocol") == "h2"
        driver.execute_script("window.__same_page = true;")
        counter = deployed.rpc("counter-2", "counter")  # window 2 serves A alone
        counter.call("window.login", {"window": "2", "staff": "s002", "password": "hall002"}, timeout=10)
        while (called := counter.call("window.call_next", {"window": "2"}, timeout=10)["window"]["ticket"])["number"] != mine["number"]:
            assert called["number"] < mine["number"], called  # another test's ticket before mine
            counter.call("window.no_show", {"window": "2"}, timeout=10)
        wait_text(driver, "轮到您了", "请到 2号窗口 办理")
        assert driver.execute_script("return window.__same_page === true;"), "the page was reloaded"
        assert console_errors(driver) == []
    finally:
        driver.quit()


def test_the_console_has_its_own_server_and_only_the_console(deployed: Deployed) -> None:
    """The example's second server (the hall network's) passes /admin/ and its static files, nothing of the phones'."""
    with httpx.Client(base_url=deployed.admin, transport=httpx.HTTPTransport(verify=deployed.ca), timeout=15) as c:
        login = c.get("/admin/login")
        assert login.status_code == 200 and "Content-Security-Policy" in login.headers  # hallweb's answer
        assert "hall_login" in login.headers.get("set-cookie", "")
        assert c.get("/admin/").status_code == 303  # no session: to the login page, from hallweb
        for path in ("/q", "/t/20260303-a001-0000000000000000", "/api/v1/cases/query", "/healthz"):
            got = c.get(path)
            assert got.status_code == 404 and "Content-Security-Policy" not in got.headers, path  # nginx's own
