"""Staff accounts in real headless Chromium: a manager adds a member who then signs in at a counter, then disables them.

The counter is a real bus client of role `counter` (as the counter kiosk is); the console
is hallweb in its own process; the controller runs in this process. Screenshots
`admin-staff-accounts*.png` go to a temporary folder, or with `KIOSK_SCREENS=docs/screens`
into the docs.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.by import By

from hallbus import schemas
from hallbus.rpc import RpcFault
from tests.web.conftest import WebHall, wait_until
from tests.web.test_web_admin import XSS_NAME, with_roles
from tests.web.test_web_admin_browser import chromium, fits_width, office, shot, sign_in
from tests.web.test_web_browser import CHROMIUM, DRIVER, console_errors, page_text, wait_text

__all__ = ["office"]  # the 1366x768 Chromium fixture

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (CHROMIUM.exists() and DRIVER.exists()), reason="chromium and chromium-driver (apt) missing"),
]

PASSWORD = "Kaimen-2026"


@pytest.fixture
def hall_text() -> Callable[[str], str]:
    return with_roles


def fill(d: webdriver.Chrome, values: dict[str, str]) -> None:
    for key, value in values.items():
        box = d.find_element(By.ID, f"f-{key}")
        box.clear()
        box.send_keys(value)


def test_a_manager_adds_a_member_who_signs_in_at_a_counter_until_disabled(
    hall: WebHall, office: webdriver.Chrome
) -> None:
    d = office
    sign_in(d, hall.web, "s001", "hall001")
    wait_text(d, "欢迎使用大厅管理后台")
    d.find_element(By.ID, "nav-staff").click()
    wait_text(d, "人员账号", "李明", "hall.toml", "刘洋")
    with pytest.raises(NoAlertPresentException):  # s004's name holds a script: shown as text, never run
        d.switch_to.alert.accept()
    assert XSS_NAME in d.find_element(By.ID, "staff-s004").text
    assert fits_width(d)

    d.find_element(By.ID, "staff-add").click()
    wait_text(d, "新增人员", "工号", "再次输入密码")
    fill(d, {"id": "s101", "name": "周新", "title": "科员", "department": "综合窗口", "photo": "javascript:alert(1)",
             "password": PASSWORD, "password2": PASSWORD})
    d.find_element(By.ID, "staff-create").click()
    wait_text(d, "照片应为 http(s):// 开头的网址")
    assert d.find_element(By.ID, "e-photo").is_displayed()
    assert d.find_element(By.ID, "f-photo").get_attribute("aria-invalid") == "true"
    assert d.find_element(By.ID, "f-name").get_attribute("value") == "周新", "what was typed is kept"
    shot(d, "staff-accounts-add-error")
    fill(d, {"photo": "photos/s101.png", "password": PASSWORD, "password2": PASSWORD})
    d.find_element(By.ID, "staff-create").click()
    wait_text(d, "已保存", "周新（s101）", "重设密码", "停用账号")
    shot(d, "staff-accounts-member")

    # the new member signs in at counter window 1, as the counter kiosk does, and the window shows them
    counter = hall.rpc("counter-1", "counter")
    state = counter.call_typed(schemas.WINDOW_LOGIN, {"window": "1", "staff": "s101", "password": PASSWORD},
                               timeout=10).window
    assert state.staff is not None and (state.staff.id, state.staff.name, state.staff.title) == ("s101", "周新", "科员")
    d.get(f"{hall.web}/admin/monitor")
    wait_text(d, "实时监控", "周新")  # the retained window state, as every screen gets it
    counter.call("window.logout", {"window": "1"}, timeout=10)

    # disabled: the next counter login is refused
    d.get(f"{hall.web}/admin/settings/staff/s101")
    wait_text(d, "周新（s101）")
    d.find_element(By.ID, "staff-disable").click()
    wait_text(d, "已保存", "已停用", "重新启用")
    with pytest.raises(RpcFault) as refused:
        counter.call("window.login", {"window": "1", "staff": "s101", "password": PASSWORD}, timeout=10)
    assert refused.value.code == "login_failed"
    # a hall.toml member's title changed: the list says what differs from hall.toml
    d.get(f"{hall.web}/admin/settings/staff/s005")
    fill(d, {"title": "副科长"})
    d.find_element(By.ID, "staff-save").click()
    wait_text(d, "已保存", "与 hall.toml 不同：职务")
    d.get(f"{hall.web}/admin/settings/staff")
    wait_text(d, "周新", "已停用", "后台新增", "已改：职务")
    assert "off" in str(d.find_element(By.ID, "staff-s101").get_attribute("class"))
    shot(d, "staff-accounts")
    d.execute_script("window.scrollTo(0, document.body.scrollHeight)")
    shot(d, "staff-accounts-disabled")
    d.get(f"{hall.web}/admin/audit")
    wait_text(d, "新增人员", "停用人员账号", "staff-s101")
    assert PASSWORD not in page_text(d) and "pbkdf2" not in page_text(d)
    # anyone's own password, from the navigation
    d.find_element(By.ID, "nav-password").click()
    wait_text(d, "修改密码", "原密码", "新密码")
    fill(d, {"old_password": "hall001", "password": PASSWORD, "password2": PASSWORD + "x"})
    d.find_element(By.ID, "own-save").click()
    wait_text(d, "两次输入的密码不一致")
    assert d.find_element(By.ID, "e-password2").is_displayed() and fits_width(d)
    shot(d, "staff-accounts-own-password")
    assert [e for e in console_errors(d) if "status of 400" not in e] == []  # the refused photo's answer


def test_the_list_in_english_and_on_a_tablet(hall: WebHall, tmp_path: Path) -> None:
    d = chromium(tmp_path, 800, 1280)  # a tablet upright
    try:
        sign_in(d, hall.web, "s001", "hall001", "?lang=en")
        wait_text(d, "Welcome to the hall console")
        d.get(f"{hall.web}/admin/settings/staff?lang=en")
        wait_text(d, "Staff accounts", "Add a member", "hall.toml", "enabled")
        assert fits_width(d)
        edge = "return document.querySelector('#staff-s014 td:last-child a').getBoundingClientRect().right"
        assert d.execute_script(edge) <= 800, "each row's link is on the screen, not scrolled away"
        shot(d, "staff-accounts-tablet-en")
        d.get(f"{hall.web}/admin/settings/staff/s002?lang=en")
        wait_text(d, "Profile", "New password", "Disable the account")
        wait_until(lambda: fits_width(d), 5, "the member page fits the tablet")
        shot(d, "staff-accounts-member-tablet-en")
    finally:
        d.quit()
        shutil.rmtree(tmp_path / "chromium-800", ignore_errors=True)
