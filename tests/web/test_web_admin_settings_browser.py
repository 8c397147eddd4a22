"""Settings without a restart in real headless Chromium: a manager sets service A's cap to 40 and the terminal gets
40 tickets and no 41st; a notice with markup is text in the console and on the kiosk's retained state.

Screenshots `admin-settings.png` (1366x768), `admin-settings-refused.png` (a refusal next to its field),
`admin-settings-tablet-en.png` (a supervisor's read-only page on a tablet, in English) go to a temporary folder,
or with `KIOSK_SCREENS=docs/screens` into the docs.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import msgspec
import pytest
from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.by import By

from hallbus import schemas
from hallbus.rpc import RpcFault
from tests.hallbus.helpers import Inbox
from tests.web.conftest import WebHall
from tests.web.test_web_admin import with_roles
from tests.web.test_web_admin_browser import chromium, fits_width, office, pytestmark, shot, sign_in
from tests.web.test_web_browser import console_errors, page_text, wait_text

__all__ = ["office", "pytestmark"]
MARKUP = "<b>x</b><script>alert(1)</script>"


@pytest.fixture
def hall_text() -> Callable[[str], str]:
    return with_roles


def save(d: webdriver.Chrome, key: str) -> None:
    d.find_element(By.CSS_SELECTOR, f'form#{key.replace(".", "-")} button[type="submit"]').click()


def field(d: webdriver.Chrome, key: str, name: str = "value") -> webdriver.remote.webelement.WebElement:
    return d.find_element(By.CSS_SELECTOR, f'form#{key.replace(".", "-")} [name="{name}"]')


def test_a_cap_of_40_set_in_chromium_refuses_the_41st_ticket(hall: WebHall, office: webdriver.Chrome) -> None:
    d = office
    sign_in(d, hall.web, "s001", "hall001")
    wait_text(d, "欢迎使用大厅管理后台")
    d.find_element(By.ID, "nav-settings").click()
    wait_text(d, "设置", "每日现场号上限", "大厅提示", "节假日与调休")
    cap = field(d, "service.A.daily_cap")
    assert cap.get_attribute("value") == "400"
    cap.clear()
    cap.send_keys("40")
    save(d, "service.A.daily_cap")
    wait_text(d, "已保存，立即生效。", "已修改", "hall.toml 默认值: 400")
    assert field(d, "service.A.daily_cap").get_attribute("value") == "40"
    terminal = hall.rpc("terminal-1", "terminal")
    numbers = [terminal.call_typed(schemas.TICKET_ISSUE, {"service": "A"}, timeout=10).ticket.number for _ in range(40)]
    assert numbers[-1] == "A040"
    with pytest.raises(RpcFault) as err:
        terminal.call("ticket.issue", {"service": "A"}, timeout=10)
    assert err.value.code == "daily_cap_reached" and "每天40个" in err.value.message
    # a cap below what was issued is refused next to its field, what was typed kept
    cap = field(d, "service.A.daily_cap")
    cap.clear()
    cap.send_keys("30")
    save(d, "service.A.daily_cap")
    wait_text(d, "今天已发出40个现场号，每日上限不能低于40。")
    assert field(d, "service.A.daily_cap").get_attribute("value") == "30"
    d.execute_script("document.getElementById('service-A').scrollIntoView()")
    assert fits_width(d)
    shot(d, "settings-refused")
    d.get(f"{hall.web}/admin/settings")
    wait_text(d, "每日现场号上限")
    assert field(d, "service.A.daily_cap").get_attribute("value") == "40"
    assert [e for e in console_errors(d) if "status of 400" not in e] == []  # the refusal's answer


def test_a_notice_with_markup_is_text_in_the_console_and_reaches_the_kiosks(hall: WebHall, office: webdriver.Chrome,
                                                                            tmp_path: Path) -> None:
    d = office
    kiosk = hall.rpc("terminal-2", "terminal").bus  # what a terminal's screen follows
    seen = Inbox()
    kiosk.subscribe(kiosk.topics.hall_notice, seen)
    assert kiosk.wait_subscribed(kiosk.topics.hall_notice, 10)
    seen.wait_for(lambda t, p: msgspec.json.decode(p)["text"] == hall.config.hall.notice, 10)  # hall.toml's, retained
    sign_in(d, hall.web, "s001", "hall001")
    wait_text(d, "欢迎使用大厅管理后台")
    d.get(f"{hall.web}/admin/settings")
    notice = field(d, "hall.notice")
    notice.clear()
    notice.send_keys(MARKUP)
    save(d, "hall.notice")
    wait_text(d, "已保存，立即生效。")
    with pytest.raises(NoAlertPresentException):  # the script never ran: it is text
        d.switch_to.alert.accept()
    assert d.find_element(By.ID, "hall-notice-shown").text == MARKUP
    assert not d.find_elements(By.CSS_SELECTOR, "#hall-notice-shown b")
    got = seen.wait_for(lambda t, p: msgspec.json.decode(p)["text"] == MARKUP, 10)
    assert got is not None
    holidays = field(d, "calendar.holidays")
    holidays.send_keys("2026-10-09")
    save(d, "calendar.holidays")
    wait_text(d, "已保存，立即生效。")
    rule = field(d, "window.3.rule", "ratio")
    rule.clear()
    rule.send_keys("3:1")
    save(d, "window.3.rule")
    wait_text(d, "已保存，立即生效。")
    d.execute_script("window.scrollTo(0, 0)")
    differ = d.find_element(By.ID, "differ").text  # what differs from hall.toml, at the top of the page
    assert MARKUP in differ and "2026-10-09" in differ and "3:1" in differ and "s001" in differ
    assert fits_width(d)
    shot(d, "settings")
    t = chromium(tmp_path, 800, 1280)  # a supervisor on a tablet, upright, in English
    try:
        sign_in(t, hall.web, "s002", "hall002", "?lang=en")
        wait_text(t, "Welcome to the hall console")
        t.get(f"{hall.web}/admin/settings?lang=en")
        wait_text(t, "Settings", "can read the settings only", "changed", MARKUP)
        assert not t.find_elements(By.CSS_SELECTOR, 'form.setting button[type="submit"]')
        assert field(t, "service.A.daily_cap").get_attribute("disabled") == "true"
        assert fits_width(t), page_text(t)[:200]
        shot(t, "settings-tablet-en")
    finally:
        t.quit()
        shutil.rmtree(tmp_path / "chromium-800", ignore_errors=True)
