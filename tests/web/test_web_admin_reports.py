"""The console's reports (SPEC 12.2) over the real stack: the page, the printable page and the XLSX export.

The XLSX is downloaded through hallweb with a manager's session and read back with openpyxl
cell by cell against the same `report.query` figures asked of the controller by another web node.
"""

from __future__ import annotations

import hashlib
import io
import re
import secrets
from collections.abc import Callable
from typing import Any

import pytest
from openpyxl import load_workbook

from hallbus.reports.engine import Report
from hallbus.reports.module import fetch_report
from hallbus.reports.xlsx import FIRST_ROW
from hallbus.rpc import RpcClient
from tests.web.conftest import WebHall, wait_until
from tests.web.test_web_admin import Browser, admin_routes, serve_and_rate, with_roles
from web.admin_reports import this_month
from web.vendor import find_vendor

CHECKER = '[[nodes]]\nid = "web-check"\nrole = "web"\n\n[[nodes]]\nid = "web"\nrole = "web"'


def with_checker(text: str) -> str:
    """The roles of the console tests, and a second web node that asks the controller for the reference report."""
    text = text.replace('[[nodes]]\nid = "web"\nrole = "web"', CHECKER)
    assert 'id = "web-check"' in text
    return with_roles(text)


@pytest.fixture
def hall_text() -> Callable[[str], str]:
    return with_checker


def manager_report(rpc: RpcClient, kind: str, first: str, last: str) -> Report:
    """The controller's report as a manager's console session gets it (s001; report.query checks the session)."""
    token = secrets.token_urlsafe(32)
    rpc.call("admin.login", {"staff": "s001", "password": "hall001",
                             "session_hash": hashlib.sha256(token.encode()).hexdigest()}, timeout=10)
    return fetch_report(rpc, kind, first, last, session=token)


def signed_in(hall: WebHall, staff: str) -> Browser:
    b = Browser(hall.web)
    assert b.login(staff, "hall" + staff[-3:]).status_code == 303
    return b


def test_the_xlsx_download_is_the_controllers_report_cell_by_cell(hall: WebHall) -> None:
    serve_and_rate(hall, "3", "s003", 5)
    serve_and_rate(hall, "3", "s003", 1)
    serve_and_rate(hall, "2", "s002", 4)
    first, today = this_month(hall.config)
    ref_rpc = hall.rpc("web-check", "web")
    wait_until(lambda: manager_report(ref_rpc, "windows", today, today).total is not None, 20, "the report")
    b = signed_in(hall, "s001")
    for kind in ("windows", "daily", "followups"):
        r = b.http.get(f"/admin/reports/{kind}.xlsx", params={"from": first, "to": today})
        assert r.status_code == 200, (kind, r.text)
        assert r.headers["content-type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        disposition = r.headers["content-disposition"]
        assert disposition == f'attachment; filename="{hall.config.hall.id}-{kind}-{first}-{today}.xlsx"'
        ref = manager_report(ref_rpc, kind, first, today)
        ws = load_workbook(io.BytesIO(r.content)).active
        assert ws is not None
        assert ws.cell(2, 2).value == f"{first} 至 {today}"
        assert [ws.cell(FIRST_ROW - 2, j + 1).value for j in range(len(ref.columns))] == [c.zh for c in ref.columns]
        assert [ws.cell(FIRST_ROW - 1, j + 1).value for j in range(len(ref.columns))] == [c.en for c in ref.columns]
        expected: list[list[Any]] = [*ref.rows, *([ref.total] if ref.total is not None else [])]
        assert expected, kind
        for i, row in enumerate(expected):
            got = [ws.cell(FIRST_ROW + i, j + 1).value for j in range(len(ref.columns))]
            assert got == [None if v == "" else v for v in row], (kind, i, got, row)  # "" is an empty cell
        assert ws.cell(FIRST_ROW + len(expected), 1).value is None, "nothing after the last row"
    windows = manager_report(ref_rpc, "windows", first, today)
    keys = [c.key for c in windows.columns]
    by_window = {row[0]: row for row in windows.rows}
    assert by_window["3"][keys.index("ratings")] == 2 and by_window["3"][keys.index("bad_ratings")] == 1
    assert by_window["2"][keys.index("served")] == 1


def test_the_page_shows_the_table_with_its_total_in_either_language(hall: WebHall) -> None:
    serve_and_rate(hall, "3", "s003", 5)
    first, today = this_month(hall.config)
    b = signed_in(hall, "s002")  # a supervisor reads reports too
    vendor_url = find_vendor().url("echarts.min.js")
    home = b.http.get("/admin/").text
    assert 'href="/admin/reports"' in home and 'id="nav-reports"' in home
    page = b.http.get("/admin/reports")
    assert page.status_code == 200
    assert f'value="{first}"' in page.text and f'value="{today}"' in page.text, "this month by default"
    assert "<th class=\"k-text\">日期</th>" not in page.text and "接待人数" in page.text and 'id="report-total"' in page.text
    assert f'href="/admin/reports/daily.xlsx?from={first}&amp;to={today}"' in page.text
    en = b.http.get("/admin/reports", params={"kind": "windows", "from": today, "to": today, "lang": "en"})
    assert en.status_code == 200 and "Visitors" in en.text and "接待人数" not in en.text
    row = re.search(r"<tr><td class=\"k-text\">3</td>(.*?)</tr>", en.text)
    assert row, en.text
    printable = b.http.get("/admin/reports", params={"kind": "windows", "from": today, "to": today, "print": "1"})
    assert printable.status_code == 200 and 'id="report"' in printable.text
    assert "nav-reports" not in printable.text and "<nav" not in printable.text and "退出登录" not in printable.text
    for html in (printable.text, page.text):  # the charts' scripts: files of this server, data as JSON; nothing inline
        scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
        assert sorted(a for a, _ in scripts) == sorted([' type="application/json" id="chart-data"',
                                                        f' src="{vendor_url}"', ' src="/static/admin-reports.js"'])
        assert all(body == "" for a, body in scripts if "src=" in a)


def test_who_may_see_reports(hall: WebHall) -> None:
    crawled = admin_routes(hall)  # what test_web_admin.py crawls without a session and with a staff one
    assert ("GET", "/admin/reports") in crawled and ("GET", "/admin/reports/1") in crawled, crawled
    _first, today = this_month(hall.config)
    anon = Browser(hall.web)
    for path in ("/admin/reports", "/admin/reports/daily.xlsx", f"/admin/reports/daily.xlsx?from={today}&to={today}"):
        r = anon.http.get(path)
        assert r.status_code == 303 and r.headers["location"].startswith("/admin/login"), path
        assert not r.content.startswith(b"PK")
    staff = signed_in(hall, "s003")
    for path in ("/admin/reports", f"/admin/reports/staff.xlsx?from={today}&to={today}"):
        r = staff.http.get(path)
        assert r.status_code == 403 and "无权查看" in r.text, path
    manager = signed_in(hall, "s001")
    assert manager.http.get(f"/admin/reports/staff.xlsx?from={today}&to={today}").content.startswith(b"PK")


@pytest.mark.parametrize(("path", "said"), [
    ("/admin/reports/daily.xlsx?from=2026-02-30&to=2026-03-01", "日期"),
    ("/admin/reports/daily.xlsx?from=2026-03-02&to=2026-03-01", "2026-03-02"),
    ("/admin/reports/daily.xlsx?from=2000-01-01&to=2026-03-01", "5"),
    ("/admin/reports/daily.xlsx?from=yesterday&to=2026-03-01", "日期"),
    ("/admin/reports/yearly.xlsx?from=2026-03-01&to=2026-03-01", "yearly"),
    ("/admin/reports/daily.csv?from=2026-03-01&to=2026-03-01", ".xlsx"),
    ("/admin/reports/%3Cb%3E.xlsx?from=2026-03-01&to=2026-03-01", "followups"),
])
def test_a_bad_kind_or_range_is_a_400_that_says_why(hall: WebHall, path: str, said: str) -> None:
    b = signed_in(hall, "s001")
    r = b.http.get(path)
    assert r.status_code == 400 and said in r.text and r.headers["content-type"].startswith("text/plain"), r.text
    zh, en = r.text.strip().split("\n")
    assert re.search(r"[\u4e00-\u9fff]", zh) and not re.search(r"[\u4e00-\u9fff]", en), "Chinese, then English"


def test_the_page_refuses_a_bad_range_next_to_the_form(hall: WebHall) -> None:
    b = signed_in(hall, "s001")
    r = b.http.get("/admin/reports", params={"kind": "daily", "from": "2026-03-09", "to": "2026-03-01"})
    assert r.status_code == 400 and 'id="report-error"' in r.text and 'id="report"' not in r.text
    assert 'value="2026-03-09"' in r.text, "the form keeps what was typed"
    r = b.http.get("/admin/reports", params={"kind": "<script>", "from": "2026-03-01", "to": "2026-03-01"})
    assert r.status_code == 400 and "<script>" not in r.text and "&lt;script&gt;" in r.text


def test_controller_away_the_reports_say_so(hall: WebHall) -> None:
    _first, today = this_month(hall.config)
    b = signed_in(hall, "s001")
    hall.stop_controller()
    wait_until(hall.controller_away, 20, "hallweb sees the controller away")
    page = b.http.get("/admin/reports")
    assert page.status_code == 503 and "暂时连不上大厅服务器，无法生成报表" in page.text
    r = b.http.get(f"/admin/reports/daily.xlsx?from={today}&to={today}")
    assert r.status_code == 503 and "暂时连不上大厅服务器" in r.text and "cannot be reached" in r.text


def test_a_session_the_controller_ended_is_sent_to_the_login_page(hall: WebHall) -> None:
    """hallweb keeps a live session in its cache; when the controller has ended it meanwhile (signed out from
    another page, its 8 hours over), the report asked for it is refused and the browser goes to the login page."""
    _first, today = this_month(hall.config)
    b = signed_in(hall, "s001")
    assert b.http.get("/admin/reports").status_code == 200  # the session is in hallweb's cache now
    token = b.http.cookies.get("hall_admin")
    assert token
    hall.rpc("web-other", "web").call("admin.logout", {"session": token}, timeout=10)  # ended at the controller only
    for path in ("/admin/reports", f"/admin/reports/daily.xlsx?from={today}&to={today}"):
        b.http.cookies.set("hall_admin", token)
        r = b.http.get(path)
        assert r.status_code == 303 and r.headers["location"] == "/admin/login", (path, r.status_code, r.text[:200])
    b.http.cookies.set("hall_admin", token)
    assert b.http.get("/admin/").status_code == 303, "hallweb's cache forgot it: the home page asks the controller"


def test_garbage_in_any_parameter_is_a_4xx_never_a_5xx(hall: WebHall) -> None:
    b = signed_in(hall, "s001")
    junk = ["", " ", "\x00", "2026-03-01\x00", "9" * 5000, "２０２６-０３-０１", "-1", "2026-3-1", "0000-00-00",
            "9999-12-31", "0001-01-01", "<script>", "%", "daily.xlsx", "../../etc/passwd"]
    for value in junk:
        for params in ({"kind": value}, {"from": value}, {"to": value}, {"from": value, "to": value},
                       {"kind": value, "print": "1"}):
            r = b.http.get("/admin/reports", params=params)
            assert r.status_code in (200, 400), (params, r.status_code)
            r = b.http.get("/admin/reports/daily.xlsx", params={k: v for k, v in params.items() if k != "kind"})
            assert r.status_code in (200, 400), (params, r.status_code)
        r = b.http.get(f"/admin/reports/{value[:200]}.xlsx".replace("\x00", "%00"))
        assert r.status_code in (400, 404), (value, r.status_code)
