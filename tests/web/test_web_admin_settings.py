"""The console's settings page over the real stack (broker, controller, hallweb): roles, CSRF, refusals next to
the field, a conflict between two managers, the controller away."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from tests.web.conftest import WebHall, wait_until
from tests.web.test_web_admin import Browser, close_clients, with_roles

__all__ = ["close_clients"]


@pytest.fixture
def hall_text() -> Callable[[str], str]:
    return with_roles


def form_of(html: str, key: str) -> dict[str, str]:
    """The hidden fields of one setting's form on the page."""
    block = html[html.index(f'id="{key.replace(".", "-")}"'):]
    block = block[:block.index("</form>")]
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', block))


def signed_in(hall: WebHall, staff: str) -> Browser:
    b = Browser(hall.web)
    assert b.login(staff, "hall" + staff[-3:]).status_code == 303
    return b


def test_managers_change_supervisors_read_staff_are_refused(hall: WebHall) -> None:
    m = signed_in(hall, "s001")
    page = m.http.get("/admin/settings")
    assert page.status_code == 200 and 'id="nav-settings"' in page.text and "每日现场号上限" in page.text
    assert 'href="/admin/settings"' in page.text
    fields = form_of(page.text, "service.A.daily_cap")
    r = m.http.post("/admin/settings", data={**fields, "value": "45"})
    assert r.status_code == 303 and r.headers["location"].startswith("/admin/settings?saved=service.A.daily_cap")
    again = m.http.get("/admin/settings").text
    assert "已保存" not in again  # only after the redirect of a save
    assert 'class="differs"' in again and "hall.toml 默认值: 400" in again
    s = signed_in(hall, "s002")
    read = s.http.get("/admin/settings")
    assert read.status_code == 200 and 'id="read-only"' in read.text and "<button type=\"submit\">保存" not in read.text
    assert 'value="45"' in read.text
    refused = s.http.post("/admin/settings", data={**form_of(read.text, "service.A.daily_cap"), "value": "50"})
    assert refused.status_code == 403
    staff = signed_in(hall, "s003")
    assert staff.http.get("/admin/settings").status_code == 403
    assert 'value="45"' in m.http.get("/admin/settings").text, "the supervisor changed nothing"


def test_a_post_without_csrf_is_refused_and_changes_nothing(hall: WebHall) -> None:
    m = signed_in(hall, "s001")
    fields = form_of(m.http.get("/admin/settings").text, "hall.notice")
    r = m.http.post("/admin/settings", data={"key": "hall.notice", "version": fields["version"], "value": "forged"})
    assert r.status_code == 403 and "页面已过期" in r.text
    assert "forged" not in m.http.get("/admin/settings").text


def test_refusals_stand_next_to_their_field_with_what_was_typed(hall: WebHall) -> None:
    m = signed_in(hall, "s001")
    page = m.http.get("/admin/settings").text
    bad = m.http.post("/admin/settings", data={**form_of(page, "service.K.slots"), "value": "08:30-10:00 20\n9点 5"})
    assert bad.status_code == 400
    failed = bad.text[bad.text.index('id="service-K-slots"'):]
    assert failed.index("第2行格式不对") < failed.index("</form>") and "9点 5" in failed[:failed.index("</form>")]
    overlap = m.http.post("/admin/settings", data={**form_of(page, "service.K.slots"),
                                                    "value": "08:30-10:00 20\n09:30-11:00 5"})
    assert overlap.status_code == 400 and "重叠" in overlap.text
    empty = m.http.post("/admin/settings", data={**form_of(page, "window.2.services"), "value": " "})
    assert empty.status_code == 400 and "窗口2至少要办理一项业务" in empty.text
    unknown = m.http.post("/admin/settings?lang=en", data={**form_of(page, "window.2.services"), "value": "A, Z"})
    assert unknown.status_code == 400 and "There is no service “Z”" in unknown.text
    hall.issue("K")
    low = m.http.post("/admin/settings", data={**form_of(page, "service.K.daily_cap"), "value": "0"})
    assert low.status_code == 400 and "1到999" in low.text
    date = m.http.post("/admin/settings", data={**form_of(page, "calendar.holidays"), "value": "2026-13-01"})
    assert date.status_code == 400 and "不是有效日期" in date.text
    long = m.http.post("/admin/settings", data={**form_of(page, "hall.notice"), "value": "长" * 250})
    assert long.status_code == 400 and "最多200个字" in long.text
    after = m.http.get("/admin/settings").text
    assert 'class="differs"' not in after and 'id="no-differ"' in after, "nothing changed"


def test_two_managers_the_second_is_told_not_overwritten(hall: WebHall) -> None:
    first, second = signed_in(hall, "s001"), signed_in(hall, "s004")
    seen_by_second = form_of(second.http.get("/admin/settings").text, "service.E.daily_cap")
    fields = form_of(first.http.get("/admin/settings").text, "service.E.daily_cap")
    assert first.http.post("/admin/settings", data={**fields, "value": "120"}).status_code == 303
    late = second.http.post("/admin/settings?lang=en", data={**seen_by_second, "value": "90"})
    assert late.status_code == 409 and "Someone else (s001) changed this at" in late.text and "reload" in late.text
    assert 'value="120"' in second.http.get("/admin/settings").text


def test_with_the_controller_away_the_page_says_so_and_nothing_is_half_done(hall: WebHall) -> None:
    m = signed_in(hall, "s001")
    fields = form_of(m.http.get("/admin/settings").text, "service.A.daily_cap")
    hall.stop_controller()
    wait_until(hall.controller_away, 15, "hallweb sees the controller away")
    r = m.http.post("/admin/settings", data={**fields, "value": "41"})
    assert r.status_code == 503 and "连不上大厅服务器" in r.text  # the session is hallweb's cached one


def test_forged_and_odd_forms_are_refused_never_a_server_error(hall: WebHall) -> None:
    m = signed_in(hall, "s001")
    page = m.http.get("/admin/settings").text
    csrf = form_of(page, "service.A.open")["_csrf"]
    odd = [
        {"key": "service.A.open", "version": "0", "value": "yes"},  # neither open nor closed: not taken as closed
        {"key": "service.A.daily_cap", "version": "zero", "value": "40"},
        {"key": "hall.name", "version": "0", "value": "x"},
        {"key": "", "version": "", "value": ""},
        {"key": "window.1.rule", "version": "0", "mode": "random", "weights": "A=x"},
        {"key": "window.1.rule", "version": "0", "mode": "random"},
        {"key": "service.A.daily_cap", "version": "0", "value": "9" * 40},
        {"key": "calendar.workdays", "version": "0", "value": "2026-02-29"},
    ]
    for fields in odd:
        r = m.http.post("/admin/settings", data={"_csrf": csrf, **fields})
        assert 400 <= r.status_code < 500, (fields, r.status_code)
    after = m.http.get("/admin/settings").text
    assert 'id="no-differ"' in after, "none of them changed anything"
