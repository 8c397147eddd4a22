"""The ticket page in real headless Chromium (Debian's, through /usr/bin/chromedriver): waiting → called live.

Also takes the phone-sized screenshots (390x844) of each page it drives, in zh_CN and English:
into a temporary folder, or with `KIOSK_SCREENS=docs/screens` into the docs' pictures (as the
terminal's screenshot test does), so a test run never changes the work tree.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
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
# A page's words in each variant the screenshots show: (query, zh_CN?, large print?)
VARIANTS = {"zh": ("", True, False), "en": ("?lang=en", False, False), "large-zh": ("?large=1", True, True),
            "large-en": ("?lang=en&large=1", False, True)}

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


def no_script_browser(tmp_path: Path) -> webdriver.Chrome:
    """Headless Chromium with JavaScript switched off (quit it yourself)."""
    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=390,844",
                "--hide-scrollbars", f"--user-data-dir={tmp_path / 'nojs'}"):
        opts.add_argument(arg)
    opts.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
    driver = webdriver.Chrome(service=Service(str(DRIVER)), options=opts)
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True})
    return driver


def test_without_javascript_the_page_is_complete_and_leaving_asks_first(hall: WebHall, tmp_path: Path) -> None:
    driver = no_script_browser(tmp_path)
    try:
        t = hall.issue("A")
        driver.get(f"{hall.web}/t/{t.ticket_id}")
        wait_text(driver, t.number, "等候中", "前面还有", "预计等候", "刷新页面可查看最新状态")  # no promise of updates
        driver.find_element(By.LINK_TEXT, "我不排了（取消排队）").click()
        wait_text(driver, "确定要取消排队吗")
        shot(driver, "ticket-leave-zh")
        driver.find_element(By.CSS_SELECTOR, "button.danger").click()
        wait_text(driver, "已取消排队")
        assert "我不排了" not in page_text(driver)
        shot(driver, "ticket-left-zh")
        driver.get(f"{hall.web}/t/{t.ticket_id[:-4]}0000")  # a link that leads nowhere
        wait_text(driver, "没有找到这张号")
        shot(driver, "missing-zh")
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


@pytest.mark.parametrize("variant", ["zh", "en", "large-zh"])
def test_the_board_shows_the_latest_calls_and_waiting_per_service(
    hall: WebHall, browser: webdriver.Chrome, variant: str
) -> None:
    for service in "AAAK":
        hall.issue(service)
    counter = hall.counter("1", "s001")
    counter.call("window.call_next", {"window": "1"}, timeout=10)
    query, zh, _large = VARIANTS[variant]
    en = not zh
    browser.get(f"{hall.web}/q{query}")
    wait_text(browser, "Latest calls" if en else "最新叫号", "A001 → " + ("Window 1" if en else "1号窗口"))
    wait_text(browser, "General intake 2" if en else "综合受理 2", "updates by itself" if en else "自动更新")
    browser.execute_script("window.__same_page = true;")
    counter.call("window.finish", {"window": "1"}, timeout=10)
    counter.call("window.call_next", {"window": "1"}, timeout=10)
    wait_text(browser, "A002 → " + ("Window 1" if en else "1号窗口"), "General intake 1" if en else "综合受理 1")
    assert browser.execute_script("return window.__same_page === true;"), "the board was reloaded"
    shot(browser, f"board-{variant}")
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




def wait_live(driver: webdriver.Chrome) -> None:
    """Wait until the page's line says it is live (connected, the controller there), not down."""
    WebDriverWait(driver, WAIT_S, ignored_exceptions=(StaleElementReferenceException, WebDriverException)).until(
        lambda d: d.find_element(By.ID, "conn").get_attribute("class") == "conn"
    )


def scroll_to(driver: webdriver.Chrome, selector: str) -> None:
    driver.execute_script("document.querySelector(arguments[0]).scrollIntoView({block: 'start'});", selector)


@pytest.mark.parametrize("variant", ["zh", "en", "large-zh"])
def test_after_the_service_the_page_offers_the_faces_and_takes_a_rating(
    hall: WebHall, browser: webdriver.Chrome, variant: str
) -> None:
    query, zh, large = VARIANTS[variant]
    mine = hall.issue("A")
    counter = hall.counter("2", "s002")
    counter.call("window.call_next", {"window": "2"}, timeout=10)
    browser.get(f"{hall.web}/t/{mine.ticket_id}{query}")
    wait_text(browser, "请到 2号窗口 办理" if zh else "Go to Window 2", "本页自动更新" if zh else "updates by itself")
    counter.call("window.finish", {"window": "2"}, timeout=10)
    # The form came by itself (the script reloads the page once at `done`); the live line says the
    # reloaded page's stream is connected, so no other reload is coming.
    wait_text(browser, "已办结" if zh else "Finished", "请为本次服务评价" if zh else "Please rate this service",
              "非常满意" if zh else "Very satisfied", "本页自动更新" if zh else "updates by itself")
    faces = browser.find_elements(By.CSS_SELECTOR, "#rate label.face svg")
    assert len(faces) == 5 and all(f.size["width"] >= 40 for f in faces)  # drawn faces, a thumb's size
    for label in browser.find_elements(By.CSS_SELECTOR, "#rate label.face"):
        assert label.size["height"] >= 44, label.size  # tap targets
    assert not browser.find_element(By.ID, "reasons").is_displayed()  # no reasons before a bad level
    scroll_to(browser, "#rate")
    shot(browser, f"ticket-rate-{variant}")
    browser.find_element(By.CSS_SELECTOR, "#rate label.face:has(input[value='2'])").click()
    wait_text(browser, "服务态度不好" if zh else "Unfriendly attitude")
    scroll_to(browser, "#rate label.face:has(input[value='3'])")  # the chosen face and the reasons
    shot(browser, f"ticket-rate-bad-{variant}")
    browser.find_element(By.CSS_SELECTOR, "#rate label.face:has(input[value='4'])").click()
    assert not browser.find_element(By.ID, "reasons").is_displayed()  # a good level again: reasons go
    browser.find_element(By.CSS_SELECTOR, "#rate label.face:has(input[value='2'])").click()
    browser.find_element(By.CSS_SELECTOR, "#rate button[type=submit]").click()  # no reason: the rule says so
    wait_text(browser, "请至少选择一项不满意的原因" if zh else "Please choose at least one reason")
    # The refused form keeps the chosen face, so its reasons are shown at once.
    assert browser.find_element(By.CSS_SELECTOR, "input[name=level][value='2']").is_selected()
    browser.find_element(By.CSS_SELECTOR, "#reasons input[value='attitude']").click()
    browser.find_element(By.CSS_SELECTOR, "#rate button[type=submit]").click()
    wait_text(browser, "感谢您的评价" if zh else "Thank you for your rating")
    shot(browser, f"ticket-rated-{variant}")

    # Another handling, rated at the window's tablet while this page shows the form: the page says so.
    other = hall.issue("A")
    counter.call("window.call_next", {"window": "2"}, timeout=10)
    counter.call("window.finish", {"window": "2"}, timeout=10)
    browser.get(f"{hall.web}/t/{other.ticket_id}{query}")
    wait_text(browser, "请为本次服务评价" if zh else "Please rate this service", "本页自动更新" if zh else "updates by itself")
    browser.execute_script("window.__same_page = true;")
    hall.rpc("tablet-2", "tablet").call("rating.submit", {"rating_id": str(uuid.uuid4()), "window": "2", "level": 5},
                                        timeout=10)
    wait_text(browser, "已评价，谢谢" if zh else "Already rated, thank you")
    assert not browser.find_element(By.ID, "rate").is_displayed()
    assert browser.execute_script("return window.__same_page === true;"), "the page was reloaded"
    shot(browser, f"ticket-rated-before-{variant}")
    errors = console_errors(browser)
    assert errors == [], errors


def test_without_javascript_the_rating_form_works_and_says_the_reasons_are_for_a_bad_rating(
    hall: WebHall, tmp_path: Path
) -> None:
    driver = no_script_browser(tmp_path)
    try:
        mine = hall.issue("A")
        counter = hall.counter("2", "s002")
        counter.call("window.call_next", {"window": "2"}, timeout=10)
        counter.call("window.finish", {"window": "2"}, timeout=10)
        driver.get(f"{hall.web}/t/{mine.ticket_id}")
        wait_text(driver, "请为本次服务评价", "选“不满意”或“非常不满意”时，请选择原因", "服务态度不好")
        driver.find_element(By.CSS_SELECTOR, "#rate label.face:has(input[value='1'])").click()
        driver.find_element(By.CSS_SELECTOR, "#reasons input[value='asked_again']").click()
        driver.find_element(By.CSS_SELECTOR, "#rate button[type=submit]").click()
        wait_text(driver, "感谢您的评价")
    finally:
        driver.quit()


@pytest.mark.parametrize("variant", ["zh", "en", "large-zh", "large-en"])
def test_called_recalled_and_missed_are_said_plainly(hall: WebHall, browser: webdriver.Chrome, variant: str) -> None:
    query, zh, _large = VARIANTS[variant]
    mine = hall.issue("A")
    browser.get(f"{hall.web}/t/{mine.ticket_id}{query}")
    wait_text(browser, "本页自动更新" if zh else "updates by itself")
    counter = hall.counter("1", "s001")
    counter.call("window.call_next", {"window": "1"}, timeout=10)
    wait_text(browser, "请到 1号窗口 办理" if zh else "Go to Window 1")
    go = browser.find_element(By.ID, "go-window")
    assert go.location["x"] >= 0 and go.location["x"] + go.size["width"] <= 390, "the window's name is cut"
    if variant.startswith("large"):
        shot(browser, f"ticket-called-{variant}")
    counter.call("window.recall", {"window": "1"}, timeout=10)
    wait_text(browser, "第 2 次叫号" if zh else "Called 2 times")
    shot(browser, f"ticket-recall-{variant}")
    counter.call("window.no_show", {"window": "1"}, timeout=10)
    wait_text(browser, "已过号" if zh else "Missed")
    shot(browser, f"ticket-noshow-{variant}")
    errors = console_errors(browser)
    assert errors == [], errors


@pytest.mark.parametrize("variant", ["zh", "large-en"])
def test_an_open_page_says_when_the_controller_is_away_and_recovers_by_itself(
    hall: WebHall, browser: webdriver.Chrome, variant: str
) -> None:
    query, zh, _large = VARIANTS[variant]
    mine = hall.issue("A")
    away = "暂时连不上大厅服务器" if zh else "cannot be reached"
    browser.get(f"{hall.web}/t/{mine.ticket_id}{query}")
    wait_live(browser)
    browser.execute_script("window.__same_page = true;")
    hall.stop_controller()  # its presence says offline; hallweb and the broker stay up
    wait_text(browser, away, "最后已知的状态" if zh else "last known state", mine.number)
    assert browser.find_element(By.ID, "conn").get_attribute("class") == "conn down"
    shot(browser, f"ticket-away-{variant}")
    browser.get(f"{hall.web}/q{query}")  # the board too, rendered while the controller is away
    wait_text(browser, away)
    shot(browser, f"board-away-{variant}")
    browser.get(f"{hall.web}/t/{mine.ticket_id}{query}")
    wait_text(browser, away, mine.number)  # a page opened meanwhile: the last known state, said so
    browser.execute_script("window.__same_page = true;")
    proc = hall.start_controller_process()  # the real controller process, on the same data
    wait_live(browser)
    hall.counter("1", "s001").call("window.call_next", {"window": "1"}, timeout=10)
    wait_text(browser, "请到 1号窗口 办理" if zh else "Go to Window 1")
    proc.kill()  # a death: the broker sends its last will (`lost`)
    proc.wait(10)
    wait_text(browser, away)
    hall.start_controller_process()
    wait_live(browser)
    assert away not in page_text(browser)
    assert browser.execute_script("return window.__same_page === true;"), "the page was reloaded"
    errors = console_errors(browser)
    assert errors == [], errors


@pytest.mark.parametrize("variant", ["zh", "en", "large-zh"])
def test_a_case_is_looked_up_from_the_phone(hall: WebHall, browser: webdriver.Chrome, tmp_path: Path, variant: str) -> None:
    from tests.web.test_web_cases import CASE, PERSON, import_case

    query, zh, _large = VARIANTS[variant]
    import_case(hall, tmp_path)
    browser.get(f"{hall.web}/cases{query}")
    wait_text(browser, "办件进度查询" if zh else "Check a case")
    shot(browser, f"cases-form-{variant}")

    def look_up(case_no: str, verify: str) -> None:
        browser.find_element(By.NAME, "case_no").clear()
        browser.find_element(By.NAME, "case_no").send_keys(case_no)
        browser.find_element(By.NAME, "verify").send_keys(verify)
        browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()

    look_up(CASE, PERSON.id_number[-6:])
    # As at the terminal: the status, the deadline in words, the timeline; masked, no handler's name.
    wait_text(browser, "个体工商户设立登记", "审核中" if zh else "Under review",
              "距承诺办结还有" if zh else "working day(s) left", "办理进度" if zh else "Progress",
              "受理" if zh else "Accepted")
    text = page_text(browser)
    assert PERSON.id_number not in text and PERSON.name not in text and "李明" not in text
    scroll_to(browser, "section.case")
    shot(browser, f"cases-result-{variant}")
    for i in range(6):  # wrong digits, again and again: this phone waits, told how long
        guess = f"ZW2026GUESS{i:04d}"
        look_up(guess, "123456")
        WebDriverWait(browser, WAIT_S, ignored_exceptions=(StaleElementReferenceException, WebDriverException)).until(
            lambda d, g=guess: d.find_element(By.NAME, "case_no").get_attribute("value") == g
            and d.find_elements(By.CSS_SELECTOR, "p.error")
        )
        if i < 5:
            wait_text(browser, "没有找到该办件" if zh else "No such case")
    wait_text(browser, "秒后再试" if zh else "try again in")
    shot(browser, f"cases-throttled-{variant}")
    errors = [e for e in console_errors(browser) if "429" not in e and "404" not in e]  # the answers' own status
    assert errors == [], errors
