"""The console's staff accounts over the real stack: Mosquitto, the controller, `hallweb` in its own process.

A manager adds, changes, disables members through the forms (CSRF token and all, as a
browser posts them); what each change does is checked where it counts: a counter's
window.login over the bus, the window's retained state, a console session of the member.
"""

from __future__ import annotations

import contextlib
import getpass
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from hallbus import schemas
from hallbus.localbroker import LocalBroker, free_port
from hallbus.rpc import RpcClient, RpcFault, RpcServer, SimpleDispatcher
from tests.web.conftest import WebHall, wait_until
from tests.web.test_web_acl import node_bus
from tests.web.test_web_admin import XSS_NAME, Browser, close_clients, with_roles

__all__ = ["close_clients"]  # the autouse fixture closing the test's clients

PASSWORD = "Kaimen-2026"


@pytest.fixture
def hall_text() -> Callable[[str], str]:
    return with_roles


def manager(hall: WebHall) -> Browser:
    b = Browser(hall.web)
    assert b.login("s001", "hall001").status_code == 303
    return b


def post_form(b: Browser, path: str, data: dict[str, str], page: str | None = None) -> httpx.Response:
    """A form posted as the browser does: the CSRF token of the page it is on."""
    csrf = b.csrf_of(b.http.get(page or path).text)
    return b.http.post(path, data={"_csrf": csrf, **data})


def version_of(b: Browser, sid: str) -> str:
    found = re.search(r'name="version" value="(\d+)"', b.http.get(f"/admin/settings/staff/{sid}").text)
    assert found
    return found.group(1)


def counter_login(hall: WebHall, window: str, **body: str) -> tuple[str, RpcClient]:
    rpc = hall.rpc(f"counter-{window}", "counter")
    try:
        rpc.call("window.login", {"window": window, **body}, timeout=10)
    except RpcFault as fault:
        return fault.code, rpc
    return "ok", rpc


def test_a_member_added_in_the_console_signs_in_at_a_counter_until_disabled(hall: WebHall) -> None:
    b = manager(hall)
    added = post_form(b, "/admin/settings/staff/new", {
        "id": "s101", "name": "周新", "title": "科员", "department": "综合窗口", "role": "staff",
        "password": PASSWORD, "password2": PASSWORD,
    })
    assert added.status_code == 303 and added.headers["location"] == "/admin/settings/staff/s101?saved=1"
    assert "周新（s101）" in b.http.get("/admin/followups").text, "the follow-ups' staff filter knows them too"
    code, counter = counter_login(hall, "1", staff="s101", password=PASSWORD)
    assert code == "ok"
    state = counter.call_typed(schemas.WINDOW_LOGIN, {"window": "1", "staff": "s101", "password": PASSWORD},
                               timeout=10).window
    assert state.staff is not None and state.staff.name == "周新"
    counter.call("window.logout", {"window": "1"}, timeout=10)
    off = post_form(b, "/admin/settings/staff/s101/disable", {"version": version_of(b, "s101")},
                    page="/admin/settings/staff/s101")
    assert off.status_code == 303
    assert counter_login(hall, "2", staff="s101", password=PASSWORD)[0] == "login_failed"
    listed = b.http.get("/admin/settings/staff").text
    assert re.search(r'id="staff-s101" class="off"', listed)


def test_a_disabled_members_console_session_ends_and_a_new_role_counts_at_once(hall: WebHall) -> None:
    boss = manager(hall)
    supervisor = Browser(hall.web)
    assert supervisor.login("s002", "hall002").status_code == 303
    assert supervisor.http.get("/admin/monitor").status_code == 200
    demoted = post_form(boss, "/admin/settings/staff/s002", {
        "version": version_of(boss, "s002"), "name": "王芳", "title": "二级主任科员", "department": "",
        "role": "staff", "photo": "",
    }, page="/admin/settings/staff/s002")
    assert demoted.status_code == 303
    assert supervisor.http.get("/admin/monitor").status_code == 403, "a staff role now: refused at once"
    post_form(boss, "/admin/settings/staff/s002/disable", {"version": version_of(boss, "s002")},
              page="/admin/settings/staff/s002")
    gone = supervisor.http.get("/admin/")
    assert gone.status_code == 303 and gone.headers["location"].startswith("/admin/login")
    assert supervisor.login("s002", "hall002").status_code == 401
    audit = boss.http.get("/admin/audit").text
    assert "停用人员账号" in audit and "修改人员信息" in audit and "hall002" not in audit


def test_bad_fields_are_shown_next_to_the_field_and_nothing_changes(hall: WebHall) -> None:
    b = manager(hall)
    bad = post_form(b, "/admin/settings/staff/new", {
        "id": "s102", "name": "新人", "role": "staff", "photo": "javascript:alert(1)", "badge_uid": "04a1b2c3010080",
        "password": "", "password2": "",
    })
    assert bad.status_code == 400
    assert re.search(r'id="e-photo" role="alert">照片应为', bad.text), "the controller's reason next to the photo"
    assert 'value="新人"' in bad.text, "what was typed is kept"
    badge = post_form(b, "/admin/settings/staff/new", {"id": "s102", "name": "新人", "role": "staff",
                                                       "badge_uid": "04 a1 b2 c3 01 00 80"})
    assert badge.status_code == 409 and re.search(r'id="e-badge_uid" role="alert">该工牌已登记给 李明（s001）', badge.text)
    mismatch = post_form(b, "/admin/settings/staff/new", {"id": "s102", "name": "新人", "role": "staff",
                                                          "password": PASSWORD, "password2": PASSWORD + "x"})
    assert mismatch.status_code == 400 and 'id="e-password2"' in mismatch.text and PASSWORD not in mismatch.text
    assert "s102" not in b.http.get("/admin/settings/staff").text
    # two managers on one member: the second save, drawn from the old version, is refused
    stale = version_of(b, "s005")
    first = post_form(b, "/admin/settings/staff/s005", {"version": stale, "name": "陈静", "title": "副科长", "role": "staff"},
                      page="/admin/settings/staff/s005")
    assert first.status_code == 303
    second = post_form(b, "/admin/settings/staff/s005", {"version": stale, "name": "陈静", "title": "科长", "role": "staff"},
                       page="/admin/settings/staff/s005")
    assert second.status_code == 409 and "s001" in second.text and "未保存" in second.text
    shown = b.http.get("/admin/settings/staff/s005").text
    assert "副科长" in shown and re.search(r'id="member-source">hall.toml · 与 hall.toml 不同：职务', shown)


def test_a_one_time_password_is_shown_once_and_works(hall: WebHall) -> None:
    b = manager(hall)
    made = post_form(b, "/admin/settings/staff/s006/password", {"version": version_of(b, "s006"), "generate": "1"},
                     page="/admin/settings/staff/s006")
    assert made.status_code == 200
    found = re.search(r'<code id="one-time">([A-Za-z0-9]{10})</code>', made.text)
    assert found
    assert found.group(1) not in b.http.get("/admin/settings/staff/s006").text, "shown once"
    assert counter_login(hall, "3", staff="s006", password="hall006")[0] == "login_failed"
    assert counter_login(hall, "4", staff="s006", password=found.group(1))[0] == "ok"


def test_roles_csrf_and_names_as_text(hall: WebHall) -> None:
    boss = manager(hall)
    page = boss.http.get("/admin/settings/staff")
    assert page.status_code == 200
    assert XSS_NAME not in page.text and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;刘洋" in page.text
    no_csrf = boss.http.post("/admin/settings/staff/s007/disable", data={"version": "0"})
    assert no_csrf.status_code == 403
    supervisor = Browser(hall.web)
    supervisor.login("s002", "hall002")
    assert supervisor.http.get("/admin/settings/staff").status_code == 200, "a supervisor reads the list"
    assert 'id="staff-add"' not in supervisor.http.get("/admin/settings/staff").text
    refused = post_form(supervisor, "/admin/settings/staff/s007/disable", {"version": "0"},
                        page="/admin/settings/staff/s007")
    assert refused.status_code == 403
    staff = Browser(hall.web)
    staff.login("s003", "hall003")
    assert staff.http.get("/admin/settings/staff").status_code == 403
    assert 'id="staff-s007" class="on"' in boss.http.get("/admin/settings/staff").text, "nothing was disabled"


@pytest.mark.slow
def test_only_the_web_node_may_send_the_staff_methods(tmp_path: Path) -> None:
    """On a Mosquitto configured by `hallbus broker-config`, a counter's `admin.staff.*` never reaches the controller."""
    out, port = tmp_path / "broker-config", free_port()
    (tmp_path / "persist").mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "hallbus", "broker-config", "--out", str(out), "--listen", "127.0.0.1", "--port",
         str(port), "--run-as", getpass.getuser(), "--persistence-dir", f"{tmp_path}/persist/", "--json"],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    broker = LocalBroker(out, port, conf_file=out / "mosquitto.conf")
    with contextlib.ExitStack() as stop:  # stopped in reverse: the server, the buses, the broker
        broker.start()
        stop.callback(broker.stop)
        ctl, web, counter = (node_bus(broker, out, n, r) for n, r in
                             (("controller", "controller"), ("web", "web"), ("counter-1", "counter")))
        for bus in (ctl, web, counter):
            stop.callback(bus.stop)
        asked: list[str] = []
        staff_methods = [m for m in schemas.RPC if m.startswith("admin.staff.")]
        server = RpcServer(ctl, SimpleDispatcher({m: (lambda r, m=m: asked.append(m) or {"m": m})
                                                  for m in staff_methods}))
        server.start()
        stop.callback(server.stop)
        assert ctl.wait_subscribed(ctl.topics.rpc_all, 10)
        for method in staff_methods:  # forged by a counter: dropped by the broker's ACL
            counter.publish(counter.topics.rpc(method), {"v": 1, "request_id": f"forged-{method}", "session": "x"})
        rpc = RpcClient(web)
        assert web.wait_subscribed(rpc.reply_topic, 10)
        for method in staff_methods:
            body = {"session": "x", "id": "s1", "name": "x", "version": 0, "password": "x", "staff": "s1",
                    "old_password": "x", "new_password": "x"}
            assert rpc.call(method, body, timeout=10) == {"m": method}
        assert asked == staff_methods, "the web node's requests only, each once"


def test_with_the_controller_down_the_page_says_so_and_nothing_is_changed(hall: WebHall) -> None:
    b = manager(hall)
    csrf = b.csrf_of(b.http.get("/admin/settings/staff/new").text)
    hall.stop_controller()
    wait_until(hall.controller_away, 30, "hallweb sees the controller away")
    down = b.http.post("/admin/settings/staff/new", data={"_csrf": csrf, "id": "s140", "name": "钱新", "role": "staff"})
    assert down.status_code == 503 and "暂时连不上大厅服务器" in down.text and 'value="钱新"' in down.text
    assert b.http.get("/admin/settings/staff").status_code == 503
    hall.start_controller_process()  # the same hall's data, as after a restart
    back = b.http.get("/admin/settings/staff")
    assert back.status_code == 200 and "李明" in back.text and "s140" not in back.text


def test_every_member_changes_their_own_password(hall: WebHall) -> None:
    me = Browser(hall.web)
    assert me.login("s003", "hall003").status_code == 303  # a staff account
    assert 'id="nav-password"' in me.http.get("/admin/").text
    wrong = post_form(me, "/admin/settings/password", {"old_password": "nope", "password": PASSWORD,
                                                       "password2": PASSWORD})
    assert wrong.status_code == 400 and re.search(r'id="e-old_password" role="alert">原密码不正确', wrong.text)
    done = post_form(me, "/admin/settings/password", {"old_password": "hall003", "password": PASSWORD,
                                                      "password2": PASSWORD})
    assert done.status_code == 303 and done.headers["location"] == "/admin/settings/password?saved=1"
    assert "密码已修改" in me.http.get(done.headers["location"]).text
    assert counter_login(hall, "1", staff="s003", password="hall003")[0] == "login_failed"
    assert counter_login(hall, "2", staff="s003", password=PASSWORD)[0] == "ok"
