"""The console's reports in real headless Chromium at 1366x768: the nav link, the form, the table, the printable page.

Screenshots `admin-reports*.png` go to a temporary folder, or with `KIOSK_SCREENS=docs/screens` into the docs.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from tests.web.conftest import WebHall
from tests.web.test_web_admin import serve_and_rate
from tests.web.test_web_admin_browser import fits_width, office, shot, sign_in, wait_for  # noqa: F401 (office: a fixture)
from tests.web.test_web_admin_browser import pytestmark as browser_marks
from tests.web.test_web_admin_reports import manager_report, with_checker
from tests.web.test_web_browser import console_errors, wait_text
from web.admin_reports import this_month

pytestmark = browser_marks  # slow; skipped without chromium and chromium-driver


@pytest.fixture
def hall_text() -> Callable[[str], str]:
    return with_checker


def test_the_reports_page_shows_the_table_in_chromium(hall: WebHall, office: webdriver.Chrome) -> None:  # noqa: F811
    serve_and_rate(hall, "1", "s002", 5)
    serve_and_rate(hall, "3", "s003", 4)
    serve_and_rate(hall, "3", "s003", 2)
    first, today = this_month(hall.config)
    d = office
    sign_in(d, hall.web, "s001", "hall001")
    wait_text(d, "欢迎使用大厅管理后台")
    d.find_element(By.ID, "nav-reports").click()
    wait_text(d, "报表", "每日汇总", "接待人数", "合计")
    assert d.find_element(By.ID, "from").get_attribute("value") == first
    assert d.find_element(By.ID, "to").get_attribute("value") == today
    Select(d.find_element(By.ID, "kind")).select_by_value("windows")
    d.find_element(By.ID, "show").click()
    wait_for(d, lambda: "kind=windows" in d.current_url, "the windows report asked for")
    ref = manager_report(hall.rpc("web-check", "web"), "windows", first, today)
    rows = d.find_elements(By.CSS_SELECTOR, "#report tbody tr")
    assert len(rows) == len(ref.rows)
    heads = [th.text for th in d.find_elements(By.CSS_SELECTOR, "#report thead th")]
    assert heads == [c.zh for c in ref.columns]
    window3 = next(r for r in rows if r.find_element(By.CSS_SELECTOR, "td").text == "3")
    cells = [td.text for td in window3.find_elements(By.CSS_SELECTOR, "td")]
    keys = [c.key for c in ref.columns]
    assert cells[keys.index("ratings")] == "2" and cells[keys.index("satisfaction_rate")] == "50.00%"
    total = [td.text for td in d.find_elements(By.CSS_SELECTOR, "#report-total td")]
    assert total[0].startswith("合计") and total[keys.index("served")] == "3"
    assert fits_width(d), "the table scrolls inside its box, the page does not"
    assert d.find_element(By.ID, "export").get_attribute("href").endswith(f"/admin/reports/windows.xlsx?from={first}&to={today}")
    shot(d, "reports")
    d.find_element(By.ID, "print").click()
    wait_text(d, "返回报表", "合计")
    assert not d.find_elements(By.ID, "nav-reports") and not d.find_elements(By.ID, "logout")
    shot(d, "reports-print")
    d.get(f"{hall.web}/admin/reports?kind=windows&from=2026-03-09&to=2026-03-01&lang=en")
    wait_text(d, "Reports", "The range starts (2026-03-09) after it ends (2026-03-01).")
    assert not d.find_elements(By.ID, "report")
    assert [e for e in console_errors(d) if "status of 400" not in e] == []
