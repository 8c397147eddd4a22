"""The console's 好差评 follow-up (SPEC 12.2) over the real stack: a bad rating's task moved to closed over HTTP.

A counter serves a ticket and the window's tablet rates it bad; the controller opens the
task; a manager moves it open → verified → rectified → closed with notes and the callback
through the pages, each move a line of the audit log. A POST without its CSRF token and a
move from a state the task has already left are refused, and nothing changes.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable

import pytest

from hallbus.controller.store import db_path
from tests.web.conftest import WebHall, wait_until
from tests.web.test_web_admin import Browser, serve_and_rate, with_roles


@pytest.fixture
def hall_text() -> Callable[[str], str]:
    return with_roles


def first_task(b: Browser, hall: WebHall) -> int:
    """The id of the newest follow-up task on the list page (waits for the controller to open it)."""
    found = wait_until(lambda: re.search(r'<tr id="fu-(\d+)"', b.http.get("/admin/followups").text), 20,
                       "the bad rating's follow-up on the list")
    return int(found.group(1))


def move(b: Browser, fid: int, from_state: str, to_state: str, note: str, **extra: str) -> tuple[int, str]:
    page = b.http.get(f"/admin/followups/{fid}")
    assert page.status_code == 200
    data = {"_csrf": b.csrf_of(page.text), "from_state": from_state, "to_state": to_state, "note": note, **extra}
    r = b.http.post(f"/admin/followups/{fid}/move", data=data)
    return r.status_code, r.headers.get("location", "") if r.status_code == 303 else r.text


def state_of(b: Browser, fid: int) -> str:
    found = re.search(r'id="fu-state" class="state-(\w+)', b.http.get(f"/admin/followups/{fid}").text)
    assert found
    return found.group(1)


def test_a_bad_rating_is_followed_to_closed_with_its_callback(hall: WebHall) -> None:
    serve_and_rate(hall, "2", "s002", 1)
    b = Browser(hall.web)
    assert b.login("s001", "hall001").status_code == 303
    home = b.http.get("/admin/").text
    assert 'href="/admin/followups"' in home, "好差评 is a link now"
    fid = first_task(b, hall)
    listed = b.http.get("/admin/followups").text
    assert "待核实" in listed and "服务态度不好" in listed and "王芳" in listed
    assert state_of(b, fid) == "open"

    assert move(b, fid, "open", "verified", "已调取录像，情况属实") == (303, f"/admin/followups/{fid}?moved=1")
    assert move(b, fid, "verified", "rectified", "已约谈并培训")[0] == 303
    code, where = move(b, fid, "rectified", "closed", "已回访群众，表示满意", callback_at="2020-01-02T10:30",
                       callback_by="李明", callback_outcome="群众表示满意")
    assert code == 303, where
    detail = b.http.get(where).text
    assert 'id="moved"' in detail and state_of(b, fid) == "closed" and 'id="fu-closed"' in detail
    assert "2020-01-02 10:30 · 李明 · 群众表示满意" in detail
    history = re.findall(r"<tr><td class=\"nowrap\">[^<]+</td><td>([^<]+)</td><td>([^<]+)</td><td>([^<]+)</td>", detail)
    assert history == [("待核实", "差评自动生成整改任务", "system"), ("已核实", "已调取录像，情况属实", "李明"),
                       ("已整改", "已约谈并培训", "李明"), ("已办结", "已回访群众，表示满意", "李明")]
    # a closed task moves no more, whatever a hand-made form says
    code, text = move(b, fid, "closed", "open", "再开")
    assert code == 400 and "已办结" in text and state_of(b, fid) == "closed"

    audit = b.http.get("/admin/audit").text
    rows = re.findall(r"<td>s001</td><td>整改任务状态变更</td><td>followup-(\d+)</td><td><code>([^<]*)</code></td>"
                      r"<td><code>([^<]*)</code></td>", audit)
    assert [(int(r[0]), r[1]) for r in rows] == [(fid, '{&#34;state&#34;: &#34;rectified&#34;}'),
                                                (fid, '{&#34;state&#34;: &#34;verified&#34;}'),
                                                (fid, '{&#34;state&#34;: &#34;open&#34;}')]
    assert "&#34;state&#34;: &#34;closed&#34;" in rows[0][2] and "群众表示满意" in rows[0][2]
    # the filters
    assert f'id="fu-{fid}"' in b.http.get("/admin/followups?state=closed").text
    assert f'id="fu-{fid}"' not in b.http.get("/admin/followups?state=open").text
    assert f'id="fu-{fid}"' in b.http.get("/admin/followups?staff=s002&window=2").text
    assert f'id="fu-{fid}"' not in b.http.get("/admin/followups?window=1").text
    assert f'id="fu-{fid}"' in b.http.get("/admin/followups?reason=attitude").text
    assert f'id="fu-{fid}"' not in b.http.get("/admin/followups?reason=efficiency").text


def test_a_move_without_csrf_or_from_a_stale_page_is_refused(hall: WebHall) -> None:
    serve_and_rate(hall, "2", "s002", 2)
    boss, supervisor = Browser(hall.web), Browser(hall.web)
    assert boss.login("s001", "hall001").status_code == 303
    assert supervisor.login("s002", "hall002").status_code == 303
    fid = first_task(boss, hall)
    bare = boss.http.post(f"/admin/followups/{fid}/move",
                          data={"from_state": "open", "to_state": "verified", "note": "无令牌"})
    assert bare.status_code == 403 and "页面已过期" in bare.text
    assert state_of(boss, fid) == "open", "nothing changed"
    # both pages show `open`; the supervisor moves first, the manager's move from `open` is refused, not applied
    stale = boss.http.get(f"/admin/followups/{fid}").text
    assert move(supervisor, fid, "open", "verified", "核实属实")[0] == 303
    r = boss.http.post(f"/admin/followups/{fid}/move", data={
        "_csrf": boss.csrf_of(stale), "from_state": "open", "to_state": "appealed", "note": "群众申诉"})
    assert r.status_code == 409 and "已被 s002" in r.text and "您的更改未保存" in r.text
    assert "群众申诉" in r.text, "what was typed is kept in the form"
    assert state_of(boss, fid) == "verified"
    # a bad callback: refused with its reason, nothing changed
    code, text = move(boss, fid, "verified", "rectified", "已整改", callback_at="昨天", callback_by="李明",
                      callback_outcome="满意")
    assert code == 400 and "回访时间格式" in text and state_of(boss, fid) == "verified"
    code, text = move(boss, fid, "verified", "rectified", "  ")
    assert code == 400 and "请写明处理情况" in text


def test_a_task_past_its_deadline_is_red(hall: WebHall) -> None:
    serve_and_rate(hall, "2", "s002", 1)
    b = Browser(hall.web)
    assert b.login("s002", "hall002").status_code == 303  # a supervisor reads them too
    fid = first_task(b, hall)
    assert f'<tr id="fu-{fid}" class="state-open">' in b.http.get("/admin/followups").text
    # the task was opened long ago: its deadline passed (written as the ratings module would have)
    conn = sqlite3.connect(db_path(hall.controller.data_dir), timeout=30)
    with conn:
        conn.execute("UPDATE rec_followups SET due_ts = due_ts - 30 * 86400 WHERE id = ?", (fid,))
    conn.close()
    page = b.http.get("/admin/followups").text
    assert f'<tr id="fu-{fid}" class="state-open overdue">' in page and 'id="overdue-count"><strong>1</strong>' in page
    assert "已超期" in b.http.get(f"/admin/followups/{fid}").text


def test_in_english_and_a_name_with_script_escaped(hall: WebHall) -> None:
    serve_and_rate(hall, "2", "s004", 1)  # s004's name is an XSS attempt
    b = Browser(hall.web)
    assert b.login("s001", "hall001").status_code == 303
    fid = first_task(b, hall)
    for path in ("/admin/followups", f"/admin/followups/{fid}"):
        html = b.http.get(path).text
        assert "<script" not in html and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;刘洋" in html, path
    en = b.http.get("/admin/followups?lang=en").text
    assert "Bad ratings follow-up" in en and "Unfriendly attitude" in en and "Very dissatisfied" in en
    assert f'href="/admin/followups/{fid}?lang=en"' in en and '<input type="hidden" name="lang" value="en">' in en
    detail = b.http.get(f"/admin/followups/{fid}?lang=en").text
    assert "What was done (required)" in detail and f'action="/admin/followups/{fid}/move?lang=en"' in detail
    r = b.http.post(f"/admin/followups/{fid}/move?lang=en", data={
        "_csrf": b.csrf_of(detail), "from_state": "open", "to_state": "closed", "note": "x"})
    assert r.status_code == 400 and "it can move to: verified, appealed" in r.text


def test_with_the_controller_away_a_move_is_refused_and_says_so(hall: WebHall) -> None:
    serve_and_rate(hall, "2", "s002", 1)
    b = Browser(hall.web)
    assert b.login("s001", "hall001").status_code == 303
    fid = first_task(b, hall)
    page = b.http.get(f"/admin/followups/{fid}").text
    hall.stop_controller()
    wait_until(hall.controller_away, 20, "hallweb sees the controller away")
    r = b.http.post(f"/admin/followups/{fid}/move", data={
        "_csrf": b.csrf_of(page), "from_state": "open", "to_state": "verified", "note": "核实"})
    assert r.status_code == 503 and "暂时连不上大厅服务器" in r.text
    listed = b.http.get("/admin/followups")
    assert listed.status_code == 503 and "暂时连不上大厅服务器" in listed.text
