"""The cases page, a staff member's own page and the phone pages in real headless Chromium.

A red and a yellow card on /admin/cases at an office screen's 1366x768 (and in English), a
handler's name with a script shown as text; s003's own figures; a service and a window
whose names hold markup shown as text on the ticket page (also after a live update) and the
queue board. Screenshots `admin-cases*.png`, `admin-me*.png` with `KIOSK_SCREENS=docs/screens`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.by import By

from tests.web.conftest import WebHall
from tests.web.test_web_admin import serve_and_rate
from tests.web.test_web_admin_browser import fits_width, office, shot, sign_in, text_of, wait_for  # noqa: F401 (office: a fixture)
from tests.web.test_web_admin_browser import pytestmark as browser_marks
from tests.web.test_web_admin_cases import OTHERS, XSS_HANDLER, import_cases
from tests.web.test_web_admin_reports import with_checker
from tests.web.test_web_browser import console_errors, page_text, wait_text

pytestmark = browser_marks
SERVICE = "<i>综合</i>受理<img src=x onerror=alert(2)>"
WINDOW = "<b>3号</b>窗口<script>alert(3)</script>"


@pytest.fixture
def hall_text() -> Callable[[str], str]:
    def with_markup(text: str) -> str:
        text = with_checker(text)
        text = text.replace('code = "A"\nname = "综合受理"', f"code = \"A\"\nname = '{SERVICE}'", 1)
        text = text.replace('id = "3"\nname = "3号窗口"', f"id = \"3\"\nname = '{WINDOW}'", 1)
        assert SERVICE in text and WINDOW in text
        return text

    return with_markup


def no_alert(d: webdriver.Chrome) -> None:
    """No script of the data ran (an alert would be open)."""
    with pytest.raises(NoAlertPresentException):
        d.switch_to.alert.accept()


def test_red_and_yellow_cards_in_chromium(hall: WebHall, office: webdriver.Chrome, tmp_path: Path) -> None:  # noqa: F811
    import_cases(hall, tmp_path)
    d = office
    sign_in(d, hall.web, "s001", "hall001")
    wait_text(d, "欢迎使用大厅管理后台")
    d.find_element(By.ID, "nav-cases").click()
    wait_text(d, "办件督办", "红牌", "黄牌", "县市场监督管理局", "县人力资源和社会保障局")
    red = d.find_element(By.ID, "case-ZW2026RED00001")
    yellow = d.find_element(By.ID, "case-ZW2026YEL00002")
    assert "card-red" in str(red.get_attribute("class")) and "card-yellow" in str(yellow.get_attribute("class"))
    assert "红牌" in red.text and "已超期" in red.text and "黄牌" in yellow.text and "紧急" in yellow.text
    # the card marks are coloured: red and yellow as drawn
    colour = d.execute_script(
        "return getComputedStyle(document.querySelector(arguments[0])).backgroundColor", "#case-ZW2026RED00001 .card-mark")
    assert colour == "rgb(192, 0, 0)"
    assert XSS_HANDLER in yellow.text
    no_alert(d)
    assert fits_width(d)
    shot(d, "cases")
    # filter by card: the red one only
    d.find_element(By.CSS_SELECTOR, "#f-card option[value='red']").click()
    d.find_element(By.CSS_SELECTOR, "#filters button").click()
    wait_for(d, lambda: "card=red" in d.current_url and not d.find_elements(By.ID, "case-ZW2026YEL00002"), "red only")
    d.get(f"{hall.web}/admin/cases?lang=en")
    wait_text(d, "Cases to chase", "Red card", "Yellow card", "urgent", "working days left then")
    assert fits_width(d)
    shot(d, "cases-en")
    assert console_errors(d) == []


def test_a_staff_members_own_page_in_chromium(hall: WebHall, office: webdriver.Chrome) -> None:  # noqa: F811
    serve_and_rate(hall, "2", "s003", 5)
    serve_and_rate(hall, "2", "s003", 2)
    serve_and_rate(hall, "1", "s002", 1)
    d = office
    sign_in(d, hall.web, "s003", "hall003")
    wait_text(d, "欢迎使用大厅管理后台", "本人数据")
    d.find_element(By.ID, "nav-me").click()
    wait_text(d, "本人数据", "张伟", "今日", "统计期间", "关于本人的差评整改")
    wait_for(d, lambda: text_of(d, "#today-served") == "2", "s003's two served")
    assert text_of(d, "#today-satisfaction_rate") == "50.00%"
    assert not any(n in page_text(d) for n in OTHERS) and fits_width(d)
    assert not d.find_elements(By.ID, "nav-cases") and not d.find_elements(By.ID, "nav-reports")
    shot(d, "me")
    d.get(f"{hall.web}/admin/cases")
    wait_text(d, "无权查看此页面")
    d.get(f"{hall.web}/admin/me?lang=en")
    wait_text(d, "My figures", "Follow-ups of bad ratings about me")
    shot(d, "me-en")


def test_markup_in_service_and_window_names_is_text_on_the_phone_pages(hall: WebHall, office: webdriver.Chrome) -> None:  # noqa: F811
    t = hall.issue("A")
    d = office
    d.get(f"{hall.web}/t/{t.ticket_id}")
    wait_for(d, lambda: text_of(d, "#service") == SERVICE, "the service's name as text")
    counter = hall.counter("3", "s003")
    counter.call("window.call_next", {"window": "3"}, timeout=10)
    wait_for(d, lambda: WINDOW in page_text(d), "the window's name as text after the live update")
    no_alert(d)
    assert not d.find_elements(By.CSS_SELECTOR, "main img, main script:not([type]), main b, main i")
    d.get(f"{hall.web}/q")
    wait_text(d, SERVICE)
    no_alert(d)
    assert not d.find_elements(By.CSS_SELECTOR, "main img, main b, main i")
    html = hall.get("/q").text + hall.get(f"/t/{t.ticket_id}").text
    assert "<img src=x" not in html and "<script>alert(3)" not in html and "&lt;b&gt;3号&lt;/b&gt;" in html
