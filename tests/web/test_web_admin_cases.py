"""The console's cases (办件督办) and a staff member's own figures, over the real stack.

Cases come in as a hall imports them (`hallbus cases import`, its own process); the
controller's deadline pass sends each warning level and keeps it; `/admin/cases` shows a
red card for the overdue case and a yellow one for the case 3 working days from its
deadline, grouped by department, with the escalations, the applicant masked and a
handler's name holding markup shown as text. A staff session gets its own page and
nothing of anyone else's, at hallweb and at the controller.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import re
import secrets
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from hallbus.records.cases import CasesModule
from hallbus.records.samples import make_person
from hallbus.rpc import RpcFault
from tests.web.conftest import REPO, WebHall, wait_until
from tests.web.test_web_admin import (
    Browser,
    admin_routes,
    close_clients,
    serve_and_rate,
)
from tests.web.test_web_admin_reports import with_checker

__all__ = ["close_clients"]  # the autouse fixture that closes this module's clients

PEOPLE = [make_person(random.Random(n)) for n in (31, 32, 33)]
XSS_HANDLER = "<b>粗</b><script>alert(1)</script>王"
OTHERS = ["李明", "王芳", "陈静", "刘洋"]  # s003 is 张伟


@pytest.fixture
def hall_text() -> Callable[[str], str]:
    return with_checker  # the console's roles, and a second web node (`web-check`) to ask the controller directly


def import_cases(hall: WebHall, tmp_path: Path) -> None:
    """A red (overdue), a yellow (3 working days left) and a calm case, then one deadline pass."""
    now = dt.datetime.now().astimezone()

    def rec(no: str, n: int, accepted: dt.datetime, days: int, handler: str, dept: str) -> dict[str, object]:
        return {"case_no": no, "item": "个体工商户设立登记", "item_code": "scjg-gtgsh-sl",
                "applicant_name": PEOPLE[n].name, "id_number": PEOPLE[n].id_number, "status": "reviewing",
                "accepted_at": accepted.isoformat(), "promised_days": days, "handler": handler, "department": dept}

    records = [
        rec("ZW2026RED00001", 0, now - dt.timedelta(days=40), 5, "李明", "县市场监督管理局"),
        rec("ZW2026YEL00002", 1, now, 3, XSS_HANDLER, "县人力资源和社会保障局"),
        rec("ZW2026CALM0003", 2, now, 20, "李明", "县市场监督管理局"),
    ]
    path = tmp_path / "cases.json"
    path.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "hallbus", "cases", "import", str(path), "--config",
                           str(hall.config_path), "--data", str(tmp_path / "data")],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    # the pass the controller's tick makes every 30 s, made now (as the tick does it, in the writer)
    ctl = hall.controller.controller
    cases = next(m for m in ctl.modules if isinstance(m, CasesModule))
    assert ctl.run_tx(cases.scan_deadlines) == 2


def signed_in(hall: WebHall, staff: str) -> Browser:
    b = Browser(hall.web)
    assert b.login(staff, "hall" + staff[-3:]).status_code == 303
    return b


def test_cases_page_red_and_yellow_with_escalations(hall: WebHall, tmp_path: Path) -> None:
    import_cases(hall, tmp_path)
    b = signed_in(hall, "s002")  # a supervisor
    assert 'href="/admin/cases"' in b.http.get("/admin/").text
    r = b.http.get("/admin/cases")
    assert r.status_code == 200
    html = r.text
    red = re.search(r'<tr id="case-ZW2026RED00001" class="card-red">(.*?)</tr>', html, re.S)
    yellow = re.search(r'<tr id="case-ZW2026YEL00002" class="card-yellow">(.*?)</tr>', html, re.S)
    assert red and yellow and "ZW2026CALM0003" not in html
    assert "红牌" in red.group(1) and "已超期" in red.group(1) and "超期" in red.group(1)
    assert "黄牌" in yellow.group(1) and "紧急" in yellow.group(1) and "当时剩" in yellow.group(1) and "分管领导" in yellow.group(1)
    assert re.search(r'id="red-count">1<', html) and re.search(r'id="yellow-count">1<', html)
    # grouped by department: each its own section, in name order
    assert html.index("<h2>县人力资源和社会保障局</h2>") < html.index("<h2>县市场监督管理局</h2>")
    # the applicant masked, never a name or an ID number
    for p in PEOPLE:
        assert p.name not in html and p.id_number not in html
    assert PEOPLE[0].name[0] + "*" in red.group(1)
    # a handler's name with markup is text
    assert "<script>alert(1)" not in html and "&lt;b&gt;粗&lt;/b&gt;&lt;script&gt;alert(1)&lt;/script&gt;王" in html
    # filters: department, handler, card; and the JSON twin
    only = b.http.get("/admin/cases", params={"card": "red"}).text
    assert "ZW2026RED00001" in only and "ZW2026YEL00002" not in only
    by_handler = b.http.get("/admin/cases", params={"handler": XSS_HANDLER}).text
    assert "ZW2026YEL00002" in by_handler and "ZW2026RED00001" not in by_handler
    data = b.http.get("/admin/api/cases", params={"department": "县市场监督管理局"}).json()
    assert [c["case_no"] for c in data["cases"]] == ["ZW2026RED00001"] and data["red"] == 1
    assert data["cases"][0]["escalations"][0]["level"] == "overdue"
    en = b.http.get("/admin/cases", params={"lang": "en"}).text
    assert "Red card" in en and "Yellow card" in en and "urgent" in en and "working days left then" in en


def test_a_staff_session_sees_its_own_page_and_nothing_else(hall: WebHall, tmp_path: Path) -> None:
    import_cases(hall, tmp_path)
    serve_and_rate(hall, "3", "s003", 5)
    serve_and_rate(hall, "3", "s003", 1)  # a bad rating: a follow-up about s003
    serve_and_rate(hall, "2", "s002", 1)  # a colleague's: never on s003's pages
    b = signed_in(hall, "s003")
    def own_page() -> str | None:
        text = b.http.get("/admin/me").text
        return text if 'id="today-served">2<' in text else None

    page = wait_until(own_page, 20, "s003's two served today")
    assert re.search(r'id="today-ratings">2<', page) and re.search(r'id="today-satisfaction_rate">50.00%<', page)
    assert re.search(r'id="range-served">2<', page) and 'id="today-avg_service_s"' in page
    followups = re.search(r'<table class="grid" id="own-followups">(.*?)</table>', page, re.S)
    assert followups and followups.group(1).count("<tr>") == 2, "the header and s003's one follow-up"
    assert "张伟" in page and not any(n in page for n in OTHERS)
    assert 'href="/admin/me"' in b.http.get("/admin/").text
    # every other console route and API: refused (the crawl of the whole router as built)
    for method, path in admin_routes(hall):
        if path in ("/admin/login", "/admin/logout") or "anything" in path:
            continue
        headers = {"X-CSRF-Token": b.home_csrf()} if method != "GET" else {}
        r = b.http.request(method, path, headers=headers)
        if path in ("/admin", "/admin/", "/admin/api/session", "/admin/me", "/admin/settings/password"):  # their own
            assert r.status_code == (400 if method == "POST" else 200), (method, path)  # an empty password form: 400
            assert not any(n in r.text for n in OTHERS), (path, r.text)
        else:
            assert r.status_code == 403, (method, path, r.status_code)
            assert "ZW2026" not in r.text and "王芳" not in r.text
    for path in ("/admin/reports/windows.xlsx", "/admin/reports/staff.xlsx", "/admin/api/cases", "/admin/cases"):
        assert b.http.get(path).status_code == 403


def test_the_controller_refuses_a_staff_session_whatever_hallweb_asks(hall: WebHall) -> None:
    """hallweb's guard aside: the staff's session token sent straight to the controller gets its own figures only."""
    serve_and_rate(hall, "3", "s003", 1)
    serve_and_rate(hall, "2", "s002", 1)
    web = hall.rpc("web-check", "web")
    token = secrets.token_urlsafe(32)
    web.call("admin.login", {"staff": "s003", "password": "hall003",
                             "session_hash": hashlib.sha256(token.encode()).hexdigest()}, timeout=10)
    day = dt.datetime.now().astimezone().date().isoformat()
    for method, body in (("admin.cases", {}), ("admin.audit", {}), ("admin.followups", {}),
                         ("admin.followup", {"id": 1}),
                         ("report.query", {"kind": "windows", "from": day, "to": day}),
                         ("report.query", {"kind": "daily", "from": day, "to": day})):
        with pytest.raises(RpcFault) as refused:
            web.call(method, {"session": token, **body}, timeout=10)
        assert refused.value.code == "forbidden", method
    mine = web.call("report.query", {"kind": "staff", "from": day, "to": day, "session": token}, timeout=10)
    assert [r[0] for r in mine["rows"]] == ["s003"] and mine["total"] is None
    about = wait_until(lambda: web.call("report.query", {"kind": "followups", "from": day, "to": day,
                                                         "session": token}, timeout=10)["rows"], 20, "s003's follow-up")
    assert len(about) == 1 and all("王芳" not in json.dumps(r, ensure_ascii=False) for r in about)


def test_a_name_with_script_is_text_on_the_own_page(hall: WebHall) -> None:
    b = signed_in(hall, "s004")  # a manager whose name is a script (tests.web.test_web_admin.XSS_NAME)
    html = b.http.get("/admin/me").text
    assert "<script>alert" not in html
    assert '<span id="own-name">&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;刘洋</span>' in html
