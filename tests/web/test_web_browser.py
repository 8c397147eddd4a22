"""The ticket page in real headless Chromium (Debian's, through /usr/bin/chromedriver): waiting → called live.

Also takes the phone-sized screenshots (390x844) of each page it drives, in zh_CN and English:
into a temporary folder, or with `KIOSK_SCREENS=docs/screens` into the docs' pictures (as the
terminal's screenshot test does), so a test run never changes the work tree.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.web.conftest import WebHall

CHROMIUM, DRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
SCREENS = Path(os.environ.get("KIOSK_SCREENS") or Path(tempfile.gettempdir()) / "hallkit-web-screens")
WAIT_S = 30  # generous: a loaded 2-core machine

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (CHROMIUM.exists() and DRIVER.exists()), reason="chromium and chromium-driver (apt) missing"),
]


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[webdriver.Chrome]:
    """Headless Chromium with a phone's viewport (390x844); nothing downloaded at run time."""
    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=390,844", "--hide-scrollbars", "--force-device-scale-factor=1",
                f"--user-data-dir={tmp_path / 'chromium'}"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(DRIVER)), options=opts)
    try:
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True})
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(tmp_path / "chromium", ignore_errors=True)


def page_text(driver: webdriver.Chrome) -> str:
    """The visible text of the page, its line breaks and runs of spaces as one space."""
    return " ".join(str(driver.find_element(By.TAG_NAME, "body").text).split())


def wait_text(driver: webdriver.Chrome, *parts: str) -> None:
    """Wait until the visible page says every one of `parts` (case-insensitive)."""
    # While the page is replaced (the script reloads it once a ticket is done), reading its body
    # may fail with a stale element or "Node ... does not belong to the document": read again.
    try:
        WebDriverWait(driver, WAIT_S, ignored_exceptions=(StaleElementReferenceException, WebDriverException)).until(
            lambda d: all(p.lower() in page_text(d).lower() for p in parts)
        )
    except Exception as err:
        raise AssertionError(f"page never said {parts!r}; it says:\n{page_text(driver)}") from err


def console_errors(driver: webdriver.Chrome) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def shot(driver: webdriver.Chrome, name: str) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SCREENS / f"web-{name}.png"))


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_the_page_goes_from_waiting_to_called_without_a_reload(hall: WebHall, browser: webdriver.Chrome, lang: str) -> None:
    first, mine = hall.issue("A"), hall.issue("A")
    en = lang == "en"
    browser.get(f"{hall.web}/t/{mine.ticket_id}" + ("?lang=en" if en else ""))
    wait_text(browser, mine.number, "People ahead" if en else "前面还有", "1")
    # The script is running and connected: it replaced the server's words with its own live line.
    wait_text(browser, "updates by itself" if en else "本页自动更新")
    marker = browser.execute_script("window.__same_page = true; return window.__same_page;")
    assert marker is True
    counter = hall.counter("1", "s001")
    counter.call("window.call_next", {"window": "1"}, timeout=10)  # first is called: nobody ahead of me
    wait_text(browser, "You are next" if en else "即将叫号")
    shot(browser, f"ticket-waiting-{'en' if en else 'zh'}")
    counter.call("window.finish", {"window": "1"}, timeout=10)
    counter.call("window.call_next", {"window": "1"}, timeout=10)
    wait_text(browser, "Go to Window 1" if en else "请到 1号窗口 办理", "It's your turn" if en else "轮到您了")
    assert browser.execute_script("return window.__same_page === true;"), "the page was reloaded"
    assert "status-called" in browser.find_element(By.TAG_NAME, "body").get_attribute("class")
    shot(browser, f"ticket-called-{'en' if en else 'zh'}")
    errors = console_errors(browser)
    assert errors == [], errors
    assert first.number != mine.number


def test_without_javascript_the_page_is_complete_and_leaving_asks_first(hall: WebHall, tmp_path: Path) -> None:
    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=390,844",
                f"--user-data-dir={tmp_path / 'nojs'}"):
        opts.add_argument(arg)
    opts.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
    driver = webdriver.Chrome(service=Service(str(DRIVER)), options=opts)
    try:
        t = hall.issue("A")
        driver.get(f"{hall.web}/t/{t.ticket_id}")
        wait_text(driver, t.number, "等候中", "前面还有", "预计等候", "刷新页面可查看最新状态")  # no promise of updates
        driver.find_element(By.LINK_TEXT, "我不排了（取消排队）").click()
        wait_text(driver, "确定要取消排队吗")
        driver.find_element(By.CSS_SELECTOR, "button.danger").click()
        wait_text(driver, "已取消排队")
        assert "我不排了" not in page_text(driver)
    finally:
        driver.quit()


def test_an_open_page_says_when_the_service_is_gone_and_recovers_without_a_reload(
    hall: WebHall, browser: webdriver.Chrome
) -> None:
    mine = hall.issue("A")
    browser.get(f"{hall.web}/t/{mine.ticket_id}")
    wait_text(browser, "本页自动更新")
    browser.execute_script("window.__same_page = true;")
    hall.stop_web()
    wait_text(browser, "连接中断")  # the last known state stays, and the page says it is reconnecting
    assert mine.number in page_text(browser)
    hall.start_web()
    wait_text(browser, "本页自动更新")  # EventSource reconnected by itself and got the state at once
    hall.counter("1", "s001").call("window.call_next", {"window": "1"}, timeout=10)
    wait_text(browser, "请到 1号窗口 办理")
    assert browser.execute_script("return window.__same_page === true;"), "the page was reloaded"


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_the_board_shows_the_latest_calls_and_waiting_per_service(
    hall: WebHall, browser: webdriver.Chrome, lang: str
) -> None:
    for service in "AAAK":
        hall.issue(service)
    counter = hall.counter("1", "s001")
    counter.call("window.call_next", {"window": "1"}, timeout=10)
    en = lang == "en"
    browser.get(f"{hall.web}/q" + ("?lang=en" if en else ""))
    wait_text(browser, "Latest calls" if en else "最新叫号", "A001 → " + ("Window 1" if en else "1号窗口"))
    wait_text(browser, "General intake 2" if en else "综合受理 2", "updates by itself" if en else "自动更新")
    browser.execute_script("window.__same_page = true;")
    counter.call("window.finish", {"window": "1"}, timeout=10)
    counter.call("window.call_next", {"window": "1"}, timeout=10)
    wait_text(browser, "A002 → " + ("Window 1" if en else "1号窗口"), "General intake 1" if en else "综合受理 1")
    assert browser.execute_script("return window.__same_page === true;"), "the board was reloaded"
    shot(browser, f"board-{'en' if en else 'zh'}")
    errors = console_errors(browser)
    assert errors == [], errors


def test_the_large_print_and_english_switches_keep_each_other(hall: WebHall, browser: webdriver.Chrome) -> None:
    t = hall.issue("A")
    browser.get(f"{hall.web}/t/{t.ticket_id}")
    wait_text(browser, "本页自动更新")
    normal = browser.find_element(By.ID, "number").size["height"]
    browser.find_element(By.LINK_TEXT, "大字").click()
    wait_text(browser, "标准字号", "本页自动更新")
    assert "large" in browser.find_element(By.TAG_NAME, "body").get_attribute("class").split()
    assert browser.find_element(By.ID, "number").size["height"] > normal
    shot(browser, "ticket-waiting-large-zh")
    browser.find_element(By.LINK_TEXT, "English").click()
    wait_text(browser, "Normal text", "People ahead", "updates by itself")
    assert "large" in browser.find_element(By.TAG_NAME, "body").get_attribute("class").split()
    shot(browser, "ticket-waiting-large-en")
    browser.find_element(By.LINK_TEXT, "I'm leaving the queue").click()
    wait_text(browser, "Leave the queue?")
    browser.execute_script("document.querySelector('form.confirm').scrollIntoView({block: 'end'});")
    shot(browser, "ticket-leave-large-en")
    browser.find_element(By.CSS_SELECTOR, "button.danger").click()
    wait_text(browser, "You left the queue", "Normal text")  # back on the page, still English and large
    errors = console_errors(browser)
    assert errors == [], errors


def test_after_the_service_the_page_offers_the_rating_and_takes_it(hall: WebHall, browser: webdriver.Chrome) -> None:
    mine = hall.issue("A")
    counter = hall.counter("2", "s002")
    counter.call("window.call_next", {"window": "2"}, timeout=10)
    browser.get(f"{hall.web}/t/{mine.ticket_id}")
    wait_text(browser, "请到 2号窗口 办理", "本页自动更新")
    counter.call("window.finish", {"window": "2"}, timeout=10)
    # The form came by itself (the script reloads the page once at `done`); the live line says the
    # reloaded page's stream is connected, so no other reload is coming.
    wait_text(browser, "已办结", "请为本次服务评价", "非常满意", "服务态度不好", "本页自动更新")
    shot(browser, "ticket-rate-zh")
    browser.find_element(By.CSS_SELECTOR, "input[name=level][value='2']").click()
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()  # no reason: the controller's rule says so
    wait_text(browser, "请至少选择一项不满意的原因")
    browser.find_element(By.CSS_SELECTOR, "input[name=level][value='2']").click()
    browser.find_element(By.CSS_SELECTOR, "input[name=reasons][value='attitude']").click()
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_text(browser, "感谢您的评价")
    shot(browser, "ticket-rated-zh")
    errors = console_errors(browser)
    assert errors == [], errors


def test_a_case_is_looked_up_from_the_phone(hall: WebHall, browser: webdriver.Chrome, tmp_path: Path) -> None:
    from tests.web.test_web_cases import CASE, PERSON, import_case

    import_case(hall, tmp_path)
    browser.get(f"{hall.web}/cases")
    wait_text(browser, "办件进度查询")
    browser.find_element(By.NAME, "case_no").send_keys(CASE)
    browser.find_element(By.NAME, "verify").send_keys(PERSON.id_number[-6:])
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_text(browser, "个体工商户设立登记", "审核中", "承诺办结日期")
    assert PERSON.id_number not in page_text(browser)
    shot(browser, "cases-zh")
    errors = console_errors(browser)
    assert errors == [], errors
