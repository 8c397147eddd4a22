"""The manager console in real headless Chromium at an office screen's 1366x768: login → home → audit → logout.

Screenshots `admin-*.png` go to a temporary folder, or with `KIOSK_SCREENS=docs/screens` into the docs.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import (
    NoAlertPresentException,
    NoSuchElementException,
    StaleElementReferenceException,
)
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from hallbus import schemas
from tests.web.conftest import WebHall
from tests.web.test_web_admin import with_roles
from tests.web.test_web_browser import CHROMIUM, DRIVER, console_errors, page_text, wait_text

SCREENS = Path(os.environ.get("KIOSK_SCREENS") or Path(tempfile.gettempdir()) / "hallkit-web-screens")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (CHROMIUM.exists() and DRIVER.exists()), reason="chromium and chromium-driver (apt) missing"),
]


@pytest.fixture
def hall_text() -> Callable[[str], str]:
    return with_wait_alert


def chromium(tmp_path: Path, width: int, height: int) -> webdriver.Chrome:
    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                f"--window-size={width},{height}", "--hide-scrollbars", "--force-device-scale-factor=1",
                f"--user-data-dir={tmp_path / f'chromium-{width}'}"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(DRIVER)), options=opts)
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
    return driver


@pytest.fixture
def office(tmp_path: Path) -> Iterator[webdriver.Chrome]:
    """Headless Chromium the size of a 1366x768 office screen."""
    driver = chromium(tmp_path, 1366, 768)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(tmp_path / "chromium-1366", ignore_errors=True)


def shot(driver: webdriver.Chrome, name: str) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SCREENS / f"admin-{name}.png"))


def sign_in(driver: webdriver.Chrome, web: str, staff: str, password: str, lang: str = "") -> None:
    driver.get(f"{web}/admin/login{lang}")
    driver.find_element(By.ID, "staff").send_keys(staff)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.ID, "sign-in").click()


def fits_width(driver: webdriver.Chrome) -> bool:
    """Nothing sticks out sideways (no horizontal scrolling at this size)."""
    return bool(driver.execute_script("return document.documentElement.scrollWidth <= window.innerWidth"))


def test_login_home_audit_logout_in_chromium(hall: WebHall, office: webdriver.Chrome) -> None:
    d = office
    d.get(f"{hall.web}/admin/")  # without a session: the login page
    wait_text(d, "管理后台登录", "工号", "密码")
    assert d.current_url.endswith("/admin/login")
    shot(d, "login")
    sign_in(d, hall.web, "s001", "wrong password")
    wait_text(d, "工号或密码不正确")
    shot(d, "login-failed")
    d.find_element(By.ID, "password").send_keys("hall001")
    d.find_element(By.ID, "sign-in").click()
    wait_text(d, "欢迎使用大厅管理后台", "李明（s001，大厅管理）", "审计", "人员账号", "设置")
    assert d.current_url.endswith("/admin/") and fits_width(d)
    assert d.find_element(By.ID, "nav-settings").get_attribute("href").endswith("/admin/settings")
    shot(d, "home")
    d.find_element(By.ID, "nav-audit").click()
    wait_text(d, "审计日志", "登录失败", "s001")
    assert fits_width(d)
    shot(d, "audit")
    d.get(f"{hall.web}/admin/audit?lang=en")
    wait_text(d, "Audit log", "failed sign-in", "Sign out")
    shot(d, "audit-en")
    d.find_element(By.ID, "logout").click()
    wait_text(d, "You have signed out.")  # the language is kept
    d.get(f"{hall.web}/admin/audit")
    wait_text(d, "管理后台登录")
    assert d.current_url.endswith("/admin/login")
    errors = [e for e in console_errors(d) if "status of 401" not in e]  # the wrong password's answer
    assert errors == []


def test_a_staff_account_and_a_tablet(hall: WebHall, tmp_path: Path) -> None:
    d = chromium(tmp_path, 800, 1280)  # a tablet upright
    try:
        sign_in(d, hall.web, "s003", "hall003", "?lang=en")
        wait_text(d, "Welcome to the hall console", "张伟 (s003", "own figures only")
        assert "李明" not in page_text(d) and fits_width(d)
        assert not d.find_elements(By.ID, "nav-audit")
        shot(d, "staff-tablet-en")
        d.get(f"{hall.web}/admin/audit")
        wait_text(d, "无权查看此页面")
    finally:
        d.quit()
        shutil.rmtree(tmp_path / "chromium-800", ignore_errors=True)


def test_a_name_with_script_is_text_in_chromium(hall: WebHall, office: webdriver.Chrome) -> None:
    sign_in(office, hall.web, "s004", "hall004")
    wait_text(office, '<script>alert("x")</script>刘洋')
    with pytest.raises(NoAlertPresentException):  # the script never ran: it is text
        office.switch_to.alert.accept()
    assert office.find_element(By.ID, "account").text.startswith('<script>alert("x")</script>刘洋')


def with_wait_alert(text: str) -> str:
    """The roles of the console tests, and service A's alert line at 3 s of waiting (the mark is seen soon)."""
    text = with_roles(text)
    return text.replace('code = "A"\n', 'code = "A"\nalert_wait_s = 3\n', 1)


def test_the_monitor_updates_without_a_reload(hall: WebHall, office: webdriver.Chrome) -> None:
    d = office
    sign_in(d, hall.web, "s001", "hall001")
    wait_text(d, "欢迎使用大厅管理后台")
    d.find_element(By.ID, "nav-monitor").click()
    wait_text(d, "实时监控", "实时更新中", "今日数据", "设备状态")
    d.execute_script("window.stillThisPage = 'yes'")  # gone if the page reloads
    assert text_of(d, "#window-1 td:nth-child(2)") == "未开窗"
    ticket = hall.issue("A")
    wait_for(d, lambda: text_of(d, "#service-A td:nth-child(2)") == "1", "A's waiting")
    assert ticket.number
    # the longest wait passes service A's alert line (3 s): marked without a push
    wait_for(d, lambda: "over" in class_of(d, "#service-A"), "A marked")
    assert "超过提醒线" in text_of(d, "#service-A")
    shot(d, "monitor-waiting")
    counter = hall.counter("1", "s002")
    counter.call("window.call_next", {"window": "1"}, timeout=10)
    wait_for(d, lambda: text_of(d, "#window-1 td:nth-child(4)") == ticket.number, "called")
    row = text_of(d, "#window-1")
    assert "王芳" in row and "办理中" in row
    wait_for(d, lambda: text_of(d, "#service-A td:nth-child(2)") == "0", "A's queue empty")
    wait_for(d, lambda: text_of(d, "#stat-tickets_issued") == "1", "today's figures")
    # a printer runs out of paper at terminal-1: the device board says so, with since when
    term = hall.rpc("terminal-1", "terminal")
    term.bus.publish_devices(schemas.NodeDevices(printer=schemas.DeviceHealth(state="paper_out")))
    wait_for(d, lambda: "打印机 缺纸 自" in text_of(d, "#node-terminal-1"), "paper out shown")
    assert "在线" in text_of(d, "#node-terminal-1")
    assert d.execute_script("return window.stillThisPage") == "yes", "no reload"
    shot(d, "monitor")
    assert [e for e in console_errors(d) if "status of 401" not in e] == []


def text_of(driver: webdriver.Chrome, css: str) -> str:
    """The text of one element, read in one script run: the monitor rebuilds its tables on every
    push, so an element found by one WebDriver call may be gone by the next (a stale element)."""
    return str(driver.execute_script("var e = document.querySelector(arguments[0]); return e ? e.innerText : '';", css))


def class_of(driver: webdriver.Chrome, css: str) -> str:
    return str(driver.execute_script("var e = document.querySelector(arguments[0]); return e ? e.className : '';", css))


def wait_for(driver: webdriver.Chrome, check: Callable[[], bool], what: str) -> None:
    try:
        WebDriverWait(driver, 30, ignored_exceptions=(StaleElementReferenceException, NoSuchElementException)).until(
            lambda _d: check()
        )
    except Exception as err:
        raise AssertionError(f"{what}: not within 30 s; the page says:\n{page_text(driver)}") from err
