"""The manager console's door (SPEC 12.2) over the real stack: login, sessions, CSRF, the guard, the audit log.

Every route under /admin/ is taken from the app's own route table, so a route added later
is crawled too: without a session it must answer a redirect to the login page (or 401
under /admin/api/), never data; with a `staff` session, only what a staff member may see.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from hallbus.brokerurl import parse_broker_url
from hallbus.client import BusClient
from hallbus.config import load_config
from hallbus.rpc import RpcClient
from tests.web.conftest import WebHall, wait_until
from web.app import create_app

LOGIN = "[login]\nstaff_free_attempts = 3\nnode_free_attempts = 6\nbackoff_s = 30\nmax_backoff_s = 120\nforget_after_s = 600\n"
XSS_NAME = '<script>alert("x")</script>刘洋'


def with_roles(text: str) -> str:
    """s001 a manager, s002 a supervisor, s003 staff; s004's name an XSS attempt."""
    text = text.replace('id = "s001"\nname = "李明"', 'id = "s001"\nname = "李明"\nrole = "manager"')
    text = text.replace('id = "s002"\nname = "王芳"', 'id = "s002"\nname = "王芳"\nrole = "supervisor"')
    text = text.replace('id = "s004"\nname = "刘洋"', f'id = "s004"\nname = \'{XSS_NAME}\'\nrole = "manager"')
    return text + "\n" + LOGIN


@pytest.fixture
def hall_text() -> Callable[[str], str]:
    return with_roles


OPEN: list[httpx.Client] = []


def client(base: str, **kw: Any) -> httpx.Client:
    """An httpx client closed after the test (`close_clients`)."""
    c = httpx.Client(base_url=base, timeout=15, **kw)
    OPEN.append(c)
    return c


@pytest.fixture(autouse=True)
def close_clients() -> Iterator[None]:
    yield
    while OPEN:
        OPEN.pop().close()


class Browser:
    """An httpx client keeping cookies, as a browser does; `login` goes through the form."""

    def __init__(self, base: str) -> None:
        self.http = client(base, follow_redirects=False)

    def csrf_of(self, html: str) -> str:
        found = re.search(r'name="_csrf" value="([0-9a-f]+)"', html)
        assert found, html
        return found.group(1)

    def login(self, staff: str, password: str) -> httpx.Response:
        form = self.http.get("/admin/login")
        assert form.status_code == 200
        return self.http.post("/admin/login", data={"staff": staff, "password": password,
                                                    "_csrf": self.csrf_of(form.text)})

    def home_csrf(self) -> str:
        return self.csrf_of(self.http.get("/admin/").text)


def admin_routes(hall: WebHall) -> list[tuple[str, str]]:
    """(method, path) of every route under /admin in the app as built, path parameters filled in."""
    cfg = load_config(hall.config_path)
    bus = BusClient(hall=cfg.hall.id, node="routes", role="web", broker=parse_broker_url(hall.broker.url))
    app = create_app(cfg, bus, RpcClient(bus), b"k" * 32).app  # not started: only its table is read
    found = []
    for r in app.routes:
        if not r.path.startswith("/admin"):
            continue
        path = re.sub(r"\{[^}]+:path\}", "anything/else", r.path)
        path = re.sub(r"\{[^}]+\}", "1", path)
        for method in sorted(getattr(r, "methods", {"GET"}) - {"HEAD", "OPTIONS"}):
            found.append((method, path))
    assert ("GET", "/admin/audit") in found and ("POST", "/admin/logout") in found, found
    return found


def test_without_a_session_every_admin_route_says_log_in_first(hall: WebHall) -> None:
    routes = admin_routes(hall)
    http = client(hall.web, follow_redirects=False)
    for method, path in routes:
        r = http.request(method, path)
        if path == "/admin/login" and method == "GET":
            assert r.status_code == 200, (method, path, r.status_code)
            continue
        if path == "/admin/login":  # the form's POST without a CSRF token
            assert r.status_code == 403, (method, path, r.status_code)
            continue
        if path.startswith("/admin/api/"):
            assert r.status_code == 401, (method, path, r.status_code)
            assert r.json()["error"]["code"] == "login_required"
        else:
            assert r.status_code == 303 and r.headers["location"].startswith("/admin/login"), (method, path, r.status_code)
        assert "李明" not in r.text and "audit" not in r.text.lower().replace("/admin/audit", "")
    # and with a forged cookie: the same
    forged = http.get("/admin/audit", cookies={"hall_admin": "x" * 43})
    assert forged.status_code == 303 and forged.headers["location"].startswith("/admin/login")


def test_login_home_logout_and_the_cookie(hall: WebHall) -> None:
    b = Browser(hall.web)
    r = b.login("s001", "hall001")
    assert r.status_code == 303 and r.headers["location"] == "/admin/"
    cookie = next(c for c in r.headers.get_list("set-cookie") if c.startswith("hall_admin="))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/admin" in cookie
    assert "Secure" not in cookie  # plain http here; behind TLS (X-Forwarded-Proto https) it is Secure
    home = b.http.get("/admin/")
    assert home.status_code == 200 and "李明" in home.text and "大厅管理" in home.text
    assert "即将推出" not in home.text and 'href="/admin/audit"' in home.text  # every module is built now
    assert "script-src 'self'" in home.headers["content-security-policy"] and "<script" not in home.text
    assert b.http.get("/admin/api/session").json()["account"] == {
        "id": "s001", "name": "李明", "role": "manager", "department": "",
    }
    en = b.http.get("/admin/?lang=en")
    assert "Hall manager" in en.text and "coming" not in en.text
    out = b.http.post("/admin/logout", data={"_csrf": b.home_csrf()})
    assert out.status_code == 303 and out.headers["location"].startswith("/admin/login")
    assert b.http.get("/admin/").status_code == 303, "the session ended"
    # the token a thief copied before the logout is dead at the controller too
    token = cookie.split(";")[0].split("=", 1)[1]
    again = httpx.get(hall.web + "/admin/api/session", cookies={"hall_admin": token}, timeout=15)
    assert again.status_code == 401


def test_behind_tls_the_cookie_is_secure(hall: WebHall) -> None:
    b = Browser(hall.web)
    b.http.headers["X-Forwarded-Proto"] = "https"  # what nginx in front says (docs/web.md)
    form = b.http.get("/admin/login")
    nonce = next(c for c in form.headers.get_list("set-cookie") if c.startswith("hall_login="))
    assert "Secure" in nonce
    b.http.cookies.clear()  # httpx keeps Secure cookies from plain http: sent by hand, as the browser would over TLS
    r = b.http.post("/admin/login", data={"staff": "s002", "password": "hall002", "_csrf": b.csrf_of(form.text)},
                    headers={"Cookie": nonce.split(";")[0]})
    assert r.status_code == 303
    cookie = next(c for c in r.headers.get_list("set-cookie") if c.startswith("hall_admin="))
    assert "Secure" in cookie


def test_a_post_without_its_csrf_token_is_refused(hall: WebHall) -> None:
    b = Browser(hall.web)
    assert b.login("s001", "hall001").status_code == 303
    refused = b.http.post("/admin/logout", data={})
    assert refused.status_code == 403 and "页面已过期" in refused.text
    assert b.http.post("/admin/logout", data={"_csrf": "0" * 64}).status_code == 403
    assert b.http.get("/admin/").status_code == 200, "still signed in: nothing changed"
    # another session's token is no token for this one
    other = Browser(hall.web)
    assert other.login("s002", "hall002").status_code == 303
    assert b.http.post("/admin/logout", data={"_csrf": other.home_csrf()}).status_code == 403
    # the header form works (for scripts)
    assert b.http.post("/admin/logout", headers={"X-CSRF-Token": b.home_csrf()}).status_code == 303
    # the login form without its token (a login CSRF) is refused before any password is checked
    fresh = client(hall.web)
    r = fresh.post("/admin/login", data={"staff": "s001", "password": "hall001"}, follow_redirects=False)
    assert r.status_code == 403 and "hall_admin" not in r.headers.get("set-cookie", "")


def test_wrong_passwords_are_throttled_and_audited(hall: WebHall) -> None:
    b = Browser(hall.web)
    codes = [b.login("s002", f"guess{i}").status_code for i in range(5)]
    assert codes == [401, 401, 401, 429, 429]
    last = b.login("s002", "hall002")
    assert last.status_code == 429 and "已暂停登录" in last.text, "the right password waits too"
    boss = Browser(hall.web)
    assert boss.login("s001", "hall001").status_code == 303
    page = boss.http.get("/admin/audit")
    assert page.status_code == 200
    rows = re.findall(r"<tr><td class=\"nowrap\">[^<]+</td><td>([^<]*)</td><td>([^<]*)</td>", page.text)
    assert rows[:4] == [("s001", "登录"), ("s002", "登录失败"), ("s002", "登录失败"), ("s002", "登录失败")]


def serve_and_rate(hall: WebHall, window: str, staff: str, level: int) -> None:
    """`staff` serves one ticket at `window` and the window's tablet rates it `level`."""
    hall.issue("A")
    counter = hall.counter(window, staff)
    counter.call("window.call_next", {"window": window}, timeout=10)
    counter.call("window.finish", {"window": window}, timeout=10)
    body: dict[str, Any] = {"rating_id": str(uuid.uuid4()), "window": window, "level": level}
    if level <= 2:
        body["reasons"] = ["attitude"]
    hall.rpc(f"tablet-{window}", "tablet").call("rating.submit", body, timeout=10)
    counter.call("window.logout", {"window": window}, timeout=10)


def test_a_staff_session_sees_only_its_own(hall: WebHall) -> None:
    serve_and_rate(hall, "3", "s003", 5)
    serve_and_rate(hall, "3", "s003", 2)
    serve_and_rate(hall, "2", "s002", 1)  # a colleague's figures: never on s003's pages
    b = Browser(hall.web)
    assert b.login("s003", "hall003").status_code == 303
    wait_until(lambda: ">2<" in b.http.get("/admin/").text, 20, "s003's two ratings on the home page")
    home = b.http.get("/admin/").text
    assert re.search(r'id="own-ratings">2<', home) and re.search(r'id="own-bad">1<', home)
    assert re.search(r'id="own-satisfaction">50.0%<', home)
    for method, path in admin_routes(hall):
        if path in ("/admin/login", "/admin/logout") or "anything" in path:
            continue
        headers = {"X-CSRF-Token": b.home_csrf()} if method != "GET" else {}
        r = b.http.request(method, path, headers=headers)
        if path in ("/admin", "/admin/", "/admin/api/session", "/admin/me", "/admin/settings/password"):  # their own
            assert r.status_code == (400 if method == "POST" and path == "/admin/settings/password" else 200), (method, path)
            others = ["李明", "王芳", "陈静", "刘洋"]
            assert "张伟" in r.text and not any(n in r.text for n in others), (path, r.text)
        else:
            assert r.status_code == 403, (method, path, r.status_code)
    home = b.http.get("/admin/").text
    assert 'href="/admin/audit"' not in home and "只能查看本人的数据" in home


def test_a_name_with_script_is_shown_escaped(hall: WebHall) -> None:
    b = Browser(hall.web)
    assert b.login("s004", "hall004").status_code == 303
    for path in ("/admin/", "/admin/audit"):
        html = b.http.get(path).text
        assert '<script>alert("x")</script>' not in html and "<script" not in html
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;刘洋" in html
    assert b.http.get("/admin/api/session").json()["account"]["name"] == XSS_NAME
    # at a window, on the live monitor: its data block cannot be ended by the name
    hall.counter("2", "s004")
    wait_until(lambda: "\\u003cscript\\u003ealert" in b.http.get("/admin/monitor").text, 20, "the name on the monitor")
    html = b.http.get("/admin/monitor").text
    assert '<script>alert' not in html and "</script>刘洋" not in html
    assert b.http.get("/admin/api/monitor").json()["windows"][1]["staff"] == XSS_NAME


def test_controller_away_login_says_so(hall: WebHall) -> None:
    b = Browser(hall.web)
    hall.stop_controller()
    wait_until(hall.controller_away, 20, "hallweb sees the controller away")
    r = b.login("s001", "hall001")
    assert r.status_code == 503 and "暂时连不上大厅服务器" in r.text


def test_a_missing_key_file_is_made_and_an_unreadable_one_stops_the_start(hall: WebHall, tmp_path: Path) -> None:
    key = tmp_path / "web.key"
    assert key.exists() and (key.stat().st_mode & 0o777) == 0o600, "made on the first start, readable by hallweb only"
    text = hall.config_path.read_text(encoding="utf-8").replace(str(key), str(tmp_path / "no-such-dir" / "x" / "web.key"))
    (tmp_path / "no-such-dir").write_text("a file, not a folder")
    bad = tmp_path / "bad.toml"
    bad.write_text(text, encoding="utf-8")
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "web", "serve", "--config", str(bad), "--listen", "127.0.0.1:1"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "secret_key_file" in out.stderr and "StateDirectory" in out.stderr



def test_a_session_unused_for_30_minutes_ends(hall: WebHall, monkeypatch: pytest.MonkeyPatch) -> None:
    """The idle limit, with hallweb in this process (its clock moved by hand) over the real bus and controller."""
    from litestar.testing import TestClient

    from web import admin

    cfg = load_config(hall.config_path)
    bus = BusClient(hall=cfg.hall.id, node="web", role="web", broker=parse_broker_url(hall.broker.url))
    app = create_app(cfg, bus, RpcClient(bus), b"k" * 32)
    moment = [1000.0]
    monkeypatch.setattr(admin.time, "monotonic", lambda: moment[0])
    with TestClient(app=app, base_url="http://127.0.0.1") as client:
        wait_until(lambda: bus.connected and not app.monitor.presence.away, 20, "the in-process hallweb on the bus")
        form = client.get("/admin/login")
        csrf = re.search(r'name="_csrf" value="([0-9a-f]+)"', form.text)
        assert csrf
        r = client.post("/admin/login", data={"staff": "s001", "password": "hall001", "_csrf": csrf.group(1)},
                        follow_redirects=False)
        assert r.status_code == 303
        moment[0] += admin.IDLE_S - 60
        assert client.get("/admin/", follow_redirects=False).status_code == 200, "29 minutes: still signed in"
        moment[0] += admin.IDLE_S - 60
        assert client.get("/admin/", follow_redirects=False).status_code == 200, "each request starts the 30 again"
        moment[0] += admin.IDLE_S + 1
        token = client.cookies.get("hall_admin")
        assert token
        gone = client.get("/admin/", follow_redirects=False)
        assert gone.status_code == 303 and gone.headers["location"].startswith("/admin/login")
        # ended at the controller too: the token does not come back through a cache miss
        again = client.get("/admin/api/session", cookies={"hall_admin": token}, follow_redirects=False)
        assert again.status_code == 401
