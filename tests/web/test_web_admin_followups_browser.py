"""The console's 好差评 follow-up in real headless Chromium at 1366x768: a bad rating's task moved to closed.

Screenshots `admin-followups.png` (the list, one task overdue in red) and `admin-followup.png`
(a closed task with its history and callback) go to a temporary folder, or with
`KIOSK_SCREENS=docs/screens` into the docs.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from hallbus.controller.store import db_path
from tests.web.conftest import WebHall
from tests.web.test_web_admin import serve_and_rate, with_roles
from tests.web.test_web_admin_browser import fits_width, office, pytestmark, shot, sign_in, wait_for
from tests.web.test_web_browser import console_errors, wait_text

__all__ = ["office", "pytestmark"]  # the 1366x768 Chromium fixture; slow, and skipped without Chromium


@pytest.fixture
def hall_text() -> Callable[[str], str]:
    return with_roles


def task_ids(d: webdriver.Chrome) -> list[int]:
    return [int(m) for m in re.findall(r'<tr id="fu-(\d+)"', d.page_source)]


def move(d: webdriver.Chrome, to_state: str, note: str) -> None:
    Select(d.find_element(By.ID, "to-state")).select_by_value(to_state)
    d.find_element(By.ID, "note").send_keys(note)


def test_a_bad_rating_followed_to_closed_in_chromium(hall: WebHall, office: webdriver.Chrome) -> None:
    d = office
    serve_and_rate(hall, "2", "s002", 1)
    serve_and_rate(hall, "3", "s003", 2)
    sign_in(d, hall.web, "s001", "hall001")
    wait_text(d, "欢迎使用大厅管理后台")
    d.find_element(By.ID, "nav-followups").click()
    wait_for(d, lambda: len(task_ids(d)) == 2 or bool(d.refresh()), "both bad ratings' tasks on the list")
    late, fid = task_ids(d)  # newest first: the second rating's task, then the first's
    # the second task was opened long ago: past its deadline (as the ratings module would have left it)
    conn = sqlite3.connect(db_path(hall.controller.data_dir), timeout=30)
    with conn:
        conn.execute("UPDATE rec_followups SET due_ts = due_ts - 30 * 86400 WHERE id = ?", (late,))
    conn.close()
    d.refresh()
    wait_text(d, "好差评整改", "已超期", "服务态度不好")
    row = d.find_element(By.ID, f"fu-{late}")
    assert "overdue" in (row.get_attribute("class") or "")
    assert row.find_element(By.TAG_NAME, "td").value_of_css_property("color") == "rgba(192, 0, 0, 1)", "in red"
    other = d.find_element(By.ID, f"fu-{fid}").find_element(By.TAG_NAME, "td")
    assert other.value_of_css_property("color") != "rgba(192, 0, 0, 1)"
    assert fits_width(d)
    shot(d, "followups")

    d.find_element(By.CSS_SELECTOR, f'a[href="/admin/followups/{fid}"]').click()
    wait_text(d, f"整改任务 #{fid}", "待核实", "差评自动生成整改任务")
    d.execute_script("document.getElementById('move').scrollIntoView()")
    shot(d, "followup-open")  # the move form
    for to_state, note, shown in (("verified", "已调取录像，情况属实", "已核实"),
                                  ("rectified", "已约谈并组织培训", "已整改")):
        move(d, to_state, note)
        d.find_element(By.ID, "move-save").click()
        wait_text(d, "已保存。", note)
        assert d.find_element(By.ID, "fu-state").text == shown
    move(d, "closed", "已回访群众，表示满意")
    d.execute_script("arguments[0].value = '2026-01-05T10:30'", d.find_element(By.ID, "callback-at"))
    d.find_element(By.ID, "callback-by").send_keys("李明")
    d.find_element(By.ID, "callback-outcome").send_keys("群众表示满意")
    d.find_element(By.ID, "move-save").click()
    wait_text(d, "已保存。", "任务已办结，不能再变更。", "2026-01-05 10:30 · 李明 · 群众表示满意")
    assert d.find_element(By.ID, "fu-state").text == "已办结" and fits_width(d)
    shot(d, "followup")
    d.find_element(By.ID, "nav-audit").click()
    wait_text(d, "整改任务状态变更", f"followup-{fid}")
    assert d.page_source.count(f"<td>followup-{fid}</td>") == 3
    assert console_errors(d) == []
