"""The reports page's charts in real headless Chromium: ECharts from node_modules/, drawn as SVG, nothing from elsewhere.

At an office screen's 1366x768 and on a tablet (800x1280), zh_CN and English, the page and its
printable twin (also with the print media emulated). Each chart is checked in what the browser drew:
the `<svg>` in its box, its series and points against the controller's own report of the range, the
legend and bar labels as SVG text; no console error, no request to another host.

Screenshots `admin-reports-*.png` go to a temporary folder, or with `KIOSK_SCREENS=docs/screens` into the docs.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By

from hallbus.reports.engine import Report
from tests.web.conftest import WebHall
from tests.web.test_web_admin import serve_and_rate
from tests.web.test_web_admin_browser import chromium, fits_width, office, shot, sign_in, wait_for  # noqa: F401 (office)
from tests.web.test_web_admin_browser import pytestmark as browser_marks
from tests.web.test_web_admin_reports import manager_report, with_checker
from tests.web.test_web_browser import console_errors, wait_text
from web.admin_reports import this_month
from web.report_charts import DAILY_SERIES, window_label

pytestmark = browser_marks  # slow; skipped without chromium and chromium-driver

BAR = "#0b3d8c"  # the satisfaction bars' colour (static/admin-reports.js)


@pytest.fixture
def hall_text() -> Callable[[str], str]:
    return with_checker


def drawn(d: webdriver.Chrome, chart: str) -> dict[str, Any]:
    """What the browser drew in `#chart`: once ECharts has finished, the svg's size and texts, the series' data."""
    wait_for(d, lambda: d.find_element(By.ID, chart).get_attribute("data-drawn"), f"{chart} drawn")
    got: dict[str, Any] = d.execute_script(
        """
        const el = document.getElementById(arguments[0]);
        const svg = el.querySelector("svg");
        const chart = echarts.getInstanceByDom(el);
        return {
          svg: svg ? {width: svg.getBoundingClientRect().width, height: svg.getBoundingClientRect().height} : null,
          canvas: el.querySelectorAll("canvas").length,
          texts: svg ? Array.from(svg.querySelectorAll("text")).map(t => t.textContent) : [],
          bars: svg ? Array.from(svg.querySelectorAll("path")).filter(p => p.getAttribute("fill") === arguments[1]).length : 0,
          series: chart.getOption().series.map(s => ({name: s.name, type: s.type, data: s.data})),
          drawn: el.getAttribute("data-drawn"),
          box: el.getBoundingClientRect().width,
        };
        """, chart, BAR)
    return got


def only_this_host(d: webdriver.Chrome, web: str) -> list[str]:
    """Every address the page loaded (itself and its resources), none of another host."""
    loaded: list[str] = d.execute_script(
        "return [location.href].concat(performance.getEntriesByType('resource').map(e => e.name))")
    here = urlsplit(web).netloc
    assert all(urlsplit(u).netloc == here for u in loaded), loaded
    return loaded


def check_charts(d: webdriver.Chrome, daily: Report, windows: Report, lang: str,
                 names_en: dict[str, str] | None = None) -> None:
    """Both charts drawn as SVG with the report's series and points; legend and bar labels as text."""
    col = {c.key: (c.en if lang == "en" else c.zh) for c in daily.columns}
    rows = daily.as_dicts()
    got = drawn(d, "chart-daily")
    assert got["svg"] and got["svg"]["width"] > 300 and got["svg"]["height"] > 150 and got["canvas"] == 0, got["svg"]
    assert got["svg"]["width"] <= got["box"] + 1, "the chart fits its box"
    assert got["drawn"] == f"{len(DAILY_SERIES)}x{len(rows)}"
    assert [s["name"] for s in got["series"]] == [col[k] for k in DAILY_SERIES]
    for s, key in zip(got["series"], DAILY_SERIES, strict=True):
        assert s["type"] == "line" and s["data"] == [r[key] for r in rows], key
    assert {col[k] for k in DAILY_SERIES} <= set(got["texts"]), "the legend is drawn"
    got = drawn(d, "chart-windows")
    wrows = windows.as_dicts()
    rated = [r for r in wrows if r["ratings"]]
    assert got["svg"] and got["drawn"] == f"1x{len(wrows)}"
    assert got["series"][0]["data"] == [None if r["satisfaction_rate"] is None else round(r["satisfaction_rate"] * 100, 2)
                                        for r in wrows]
    assert got["bars"] == len(rated), "one bar per window with ratings, none for the others"
    for r in rated:
        assert f"{r['satisfaction_rate'] * 100:.1f}%" in got["texts"], r
    labels = {window_label(r, names_en if lang == "en" else None) for r in wrows}
    assert labels <= set(got["texts"]), ("every window named on the axis", labels - set(got["texts"]))


def test_the_charts_are_drawn_from_node_modules_at_the_office_and_on_a_tablet(
    hall: WebHall, office: webdriver.Chrome, tmp_path: Path  # noqa: F811
) -> None:
    serve_and_rate(hall, "1", "s002", 5)
    serve_and_rate(hall, "3", "s003", 4)
    serve_and_rate(hall, "3", "s003", 2)
    first, today = this_month(hall.config)
    ref = hall.rpc("web-check", "web")
    daily, windows = manager_report(ref, "daily", first, today), manager_report(ref, "windows", first, today)
    d = office
    sign_in(d, hall.web, "s001", "hall001")
    wait_text(d, "欢迎使用大厅管理后台")
    d.get(f"{hall.web}/admin/reports")
    wait_text(d, "每日接待量", "各窗口满意率", "全厅 66.67%", "合计")
    check_charts(d, daily, windows, "zh_CN")
    loaded = only_this_host(d, hall.web)
    assert any("/static/vendor/echarts.min.js?v=" in u for u in loaded), loaded
    assert fits_width(d)
    # the figures are also text: the chart's table under it, opened
    d.find_element(By.CSS_SELECTOR, "#charts details summary").click()
    cells = [td.text for td in d.find_elements(By.CSS_SELECTOR, "#chart-daily-figures tbody tr:last-child td")]
    assert cells == [today, *[str(daily.as_dicts()[-1][k]) for k in DAILY_SERIES]]
    d.find_element(By.CSS_SELECTOR, "#charts details summary").click()
    shot(d, "reports-charts")

    # another range and kind (one day, by staff): the charts follow the range, the table the kind
    d.get(f"{hall.web}/admin/reports?kind=staff&from={today}&to={today}&lang=en")
    wait_text(d, "Daily counts", "Satisfaction by window", "Staff id")
    check_charts(d, manager_report(ref, "daily", today, today), manager_report(ref, "windows", today, today), "en",
                 {w.id: w.name_en for w in hall.config.windows if w.name_en})
    shot(d, "reports-en")

    # the printable page, on screen and as the printer sees it (A4 landscape, the SVG scaled to the paper)
    d.get(f"{hall.web}/admin/reports?kind=windows&from={first}&to={today}&print=1")
    wait_text(d, "返回报表", "每日接待量", "合计")
    check_charts(d, daily, windows, "zh_CN")
    d.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    d.execute_script("window.dispatchEvent(new Event('beforeprint'))")
    wait_for(d, lambda: not d.find_element(By.ID, "back").is_displayed(), "the print rules applied")
    assert not d.find_element(By.CSS_SELECTOR, ".chart-figures").is_displayed(), "on paper the table below says it all"
    check_charts(d, daily, windows, "zh_CN")
    pdf = d.execute_cdp_cmd("Page.printToPDF", {"landscape": True, "paperWidth": 11.69, "paperHeight": 8.27})
    printed = base64.b64decode(pdf["data"])
    assert printed.startswith(b"%PDF") and len(printed) > 10_000
    (tmp_path / "report-print.pdf").write_bytes(printed)  # to look at: pytest --basetemp=DIR, then pdftoppm
    d.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    assert console_errors(d) == []

    tablet = chromium(tmp_path, 800, 1280)  # a tablet upright: the charts one above the other, as wide as the page
    try:
        sign_in(tablet, hall.web, "s001", "hall001")
        wait_text(tablet, "欢迎使用大厅管理后台")
        tablet.get(f"{hall.web}/admin/reports?kind=windows")
        wait_text(tablet, "每日接待量", "各窗口满意率")
        check_charts(tablet, daily, windows, "zh_CN")
        boxes = tablet.execute_script(
            "return Array.from(document.querySelectorAll('.chart')).map(e => e.getBoundingClientRect().toJSON())")
        assert boxes[1]["top"] >= boxes[0]["bottom"] and boxes[0]["width"] > 600, boxes
        assert fits_width(tablet)
        only_this_host(tablet, hall.web)
        assert console_errors(tablet) == []
        shot(tablet, "reports-tablet")
    finally:
        tablet.quit()


def test_a_long_range_draws_every_day(hall: WebHall, office: webdriver.Chrome) -> None:  # noqa: F811
    """A whole year: 365 points a line, the labels thinned by ECharts, the page still one screen wide."""
    serve_and_rate(hall, "2", "s002", 1)
    _first, today = this_month(hall.config)
    start = (dt.date.fromisoformat(today) - dt.timedelta(days=364)).isoformat()
    ref = hall.rpc("web-check", "web")
    sign_in(office, hall.web, "s001", "hall001")
    wait_text(office, "欢迎使用大厅管理后台")
    office.get(f"{hall.web}/admin/reports?kind=ratings&from={start}&to={today}")
    wait_text(office, "每日接待量", "全厅 0.00%")
    check_charts(office, manager_report(ref, "daily", start, today), manager_report(ref, "ratings", start, today), "zh_CN")
    assert fits_width(office) and console_errors(office) == []
