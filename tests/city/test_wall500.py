"""The wall `/city/` with 500 simulated halls, in real headless Chromium against a real `hallcity serve`,
PostgreSQL and city Mosquitto.

The halls are played by `city.sim` (their retained state and a few minutes of figures), then left
still, so what the wall shows can be compared with what `/api/v1/halls` says: the band's counts,
city-wide and per district; the red halls first; every hall once across the pages; the pages
turning by themselves (waited on as the page's `wall:page` events) and pausing under the pointer;
a hall turning red moving to the first page without a reload. Screenshots `city-wall.png` (1920x1080),
`city-wall-laptop.png` and `city-wall-en.png` (1366x768) go to a temporary folder, or with `KIOSK_SCREENS=docs/screens` into the docs.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from city.localbroker import CityBroker
from city.pgtest import LocalPostgres
from city.sim import DISTRICTS, SimHall, hall_ids, write_config
from tests.city import test_wall
from tests.city.conftest import wait_for
from tests.city.test_wall import Wall, history, other_hosts, serving, shot, signed_in
from tests.web.test_web_browser import console_errors, page_text

N = 500
TOKEN = "wall500-token-1c9e"
DROPPED = 7  # halls whose bridge is down: offline, red
# Waits stay far from the thresholds while the test runs (the figures are still, but a wait grows by the second):
# only the hall the test makes wait 3 hours passes them.
THRESHOLDS = """
[thresholds]
wait_yellow_s = 5400
wait_red_s = 9000
satisfaction_yellow = 0.9
satisfaction_red = 0.8
overdue_yellow = 2
overdue_red = 4
"""

pytestmark = test_wall.pytestmark


class City500(Wall):
    def api(self) -> list[dict[str, Any]]:
        got = httpx.get(f"{self.url}/api/v1/halls", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
        got.raise_for_status()
        return list(got.json())

    def open(self, query: str = "") -> None:
        self.driver.get(f"{self.url}/city/{query}")
        WebDriverWait(self.driver, 30).until(lambda d: d.execute_script(
            "return document.querySelectorAll('#ranking tbody tr[data-hall]').length > 0"
            " && document.getElementById('band-city').dataset.halls"))


@pytest.fixture(scope="module")
def city500(pg: LocalPostgres, tmp_path_factory: pytest.TempPathFactory) -> Iterator[City500]:
    tmp = tmp_path_factory.mktemp("wall500")
    db_url = pg.create_database("city_wall500")
    (tmp / "token").write_text(TOKEN, encoding="utf-8")
    ids = hall_ids(N)

    def config(path: Path, broker: CityBroker) -> None:  # the simulator's halls: names, ten districts
        write_config(path, ids, db_url, broker.url, token_file=str(tmp / "token"), broker_login=broker.toml_lines())
        path.write_text(path.read_text(encoding="utf-8") + THRESHOLDS, encoding="utf-8")

    with serving(tmp, config, "wall500") as (url, pub):
        now = dt.datetime.now(dt.UTC).astimezone() - dt.timedelta(seconds=120)
        sims = {h: SimHall(h, random.Random(i)) for i, h in enumerate(ids)}
        messages = [m for i, (h, s) in enumerate(sims.items()) for m in history(h, i, now, s)]  # the day so far, the month
        messages += [m for s in sims.values() for m in s.initial(now)]
        for n in range(60):  # people come, wait and are served; devices fail, cases go overdue
            messages += [m for s in sims.values() for m in s.step(now + dt.timedelta(seconds=n))]
        messages += [(sims[h].bridge_topic, b"0", True) for h in ids[100:100 + DROPPED]]
        info = pub.send(messages)
        assert info is not None
        info.wait_for_publish(60)
        c = City500(url, sims, pub, driver=None)  # type: ignore[arg-type]
        wait_for(lambda: _all_heard(c), 60, "500 halls stored", lambda: Counter(h["online"] for h in c.api()))
        with signed_in(tmp, url, TOKEN) as driver:
            c.driver = driver
            yield c


def _all_heard(c: City500) -> bool:
    """Every hall stored with its last figures (the last step's count served), the dropped ones offline."""
    try:
        halls = c.api()
    except httpx.HTTPError:
        return False
    offline = [h["hall"] for h in halls if not h["online"]]
    served = {h["hall"]: h["served_today"] for h in halls if h["online"]}
    return len(offline) == DROPPED and all(served[h] == s.served for h, s in c.sims.items() if h in served)


def counts(halls: list[dict[str, Any]]) -> dict[str, int]:
    return {"halls": len(halls), "red": sum(h["card"] == "red" for h in halls),
            "yellow": sum(h["card"] == "yellow" for h in halls), "offline": sum(not h["online"] for h in halls),
            "waiting": sum(h["waiting"] or 0 for h in halls)}


def band(driver: webdriver.Chrome) -> dict[str, Any]:
    """The band's counts as the page drew them (data-* of the city and of each district)."""
    return dict(driver.execute_script("""
        const read = e => Object.fromEntries(['halls', 'red', 'yellow', 'offline', 'waiting'].map(k => [k, Number(e.dataset[k])]));
        return {city: read(document.getElementById('band-city')),
                districts: Object.fromEntries([...document.querySelectorAll('#band-districts .district')]
                                              .map(b => [b.dataset.district, read(b)]))};"""))


def pages(driver: webdriver.Chrome) -> list[list[str]]:
    """Every page's halls, turned by hand from the first in one script (no refresh in between)."""
    return list(driver.execute_script("""
        const t = document.getElementById('ranking'), out = [];
        while (t.dataset.page !== '1') { document.getElementById('page-next').click(); }
        do {
          out.push([...document.querySelectorAll('#ranking tbody tr')].map(r => r.dataset.hall));
          document.getElementById('page-next').click();
        } while (t.dataset.page !== '1');
        return out;"""))


def next_turns(driver: webdriver.Chrome, n: int, timeout: float) -> list[dict[str, Any]]:
    """The next `n` pages the wall turns to by itself (its `wall:page` events), or fewer if `timeout` passes."""
    driver.set_script_timeout(timeout + 5)
    return list(driver.execute_async_script("""
        const [n, timeout, done] = arguments, seen = [];
        const on = e => {
          if (e.detail.by !== 'auto') { return; }
          seen.push(Object.assign({halls: [...document.querySelectorAll('#ranking tbody tr')].map(r => r.dataset.hall)}, e.detail));
          if (seen.length === n) { document.removeEventListener('wall:page', on); done(seen); }
        };
        document.addEventListener('wall:page', on);
        setTimeout(() => { document.removeEventListener('wall:page', on); done(seen); }, timeout * 1000);""", n, timeout))


def test_the_band_counts_every_hall_city_wide_and_per_district(city500: City500) -> None:
    d = city500.driver
    city500.open()
    halls = city500.api()
    want = counts(halls)
    assert want["red"] >= DROPPED and want["offline"] == DROPPED
    WebDriverWait(d, 10).until(lambda _: band(d)["city"] == want)
    got = band(d)
    assert list(got["districts"]) == sorted(DISTRICTS)
    for name, figures in got["districts"].items():
        assert figures == counts([h for h in halls if h["district"] == name]), name
    text = d.find_element(By.ID, "band-city").text
    assert f"{want['red']} 红牌" in text and f"{want['yellow']} 黄牌" in text and f"{want['offline']} 离线" in text
    assert f"{want['waiting']:,}" in text.replace("\u202f", ",")
    d.find_element(By.CSS_SELECTOR, '#band-districts .district[data-district="渝北区"]').click()  # a district's tile
    yubei = [h["hall"] for h in halls if h["district"] == "渝北区"]
    WebDriverWait(d, 10).until(lambda _: d.find_element(By.ID, "ranking").get_attribute("data-rows") == str(len(yubei)))
    shown = d.execute_script("return [...document.querySelectorAll('#ranking tbody tr')].map(r => r.dataset.hall)")
    assert shown and set(shown) <= set(yubei) and d.current_url.endswith("?district=%E6%B8%9D%E5%8C%97%E5%8C%BA")
    assert band(d)["city"] == want, "the band counts the whole city whatever the ranking shows"
    assert "chosen" in str(d.find_element(By.CSS_SELECTOR, '.district[data-district="渝北区"]').get_attribute("class"))


def test_red_halls_come_first_and_every_hall_is_on_one_page(city500: City500) -> None:
    d = city500.driver
    city500.open("?turn=0&fit=1")  # still, fitted to 1920x1080
    order = [h["hall"] for h in city500.api()]
    seen = pages(d)
    assert [h for p in seen for h in p] == order, "every hall once, in the API's order: red, yellow, then by waiting"
    assert len(seen) > 10 and d.find_element(By.ID, "page-no").text == f"第 1/{len(seen)} 页"
    first = set(seen[0])
    cards = {h["hall"]: h["card"] for h in city500.api()}
    assert all(cards[h] == "red" for h in seen[0]) or all(cards[h] != "red" for h in order[len(first):])
    fits = d.execute_script("""
        const s = document.getElementById('ranking-scroll'), rows = document.querySelectorAll('#ranking tbody tr');
        return [rows[rows.length - 1].getBoundingClientRect().bottom <= s.getBoundingClientRect().bottom,
                document.querySelector('main').getBoundingClientRect().bottom <= innerHeight]""")
    assert fits == [True, True], "a page is what the panel holds; nothing cut, nothing to scroll"


def test_the_pages_turn_by_themselves_and_wait_under_the_pointer_or_a_touch(city500: City500) -> None:
    d = city500.driver
    city500.open("?turn=2")
    turns = next_turns(d, 2, 10)
    assert [t["page"] for t in turns] == [2, 3], turns
    total = turns[0]["pages"]
    assert d.find_element(By.ID, "page-no").text == f"第 3/{total} 页"
    assert "每 2 秒翻页" in d.find_element(By.ID, "page-state").text
    ActionChains(d).move_to_element(d.find_element(By.ID, "ranking")).perform()
    WebDriverWait(d, 5).until(lambda _: d.find_element(By.ID, "ranking").get_attribute("data-paused") == "true")
    assert "已暂停" in d.find_element(By.ID, "page-state").text
    assert next_turns(d, 1, 5) == [], "no page turns while the pointer is over the ranking"
    ActionChains(d).move_to_element(d.find_element(By.ID, "band-city")).perform()
    assert [t["page"] for t in next_turns(d, 1, 6)] == [4]
    x, y = d.execute_script("const r = document.getElementById('ranking').getBoundingClientRect(); return [r.right - 60, r.y + 120]")  # a figure, not a link
    d.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": True, "maxTouchPoints": 1})
    try:
        d.execute_cdp_cmd("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})
        d.execute_cdp_cmd("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
        WebDriverWait(d, 5).until(lambda _: d.find_element(By.ID, "ranking").get_attribute("data-paused") == "true")
        assert next_turns(d, 1, 5) == [], "a touch holds the page (30 s after it)"
    finally:
        d.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": False})


def test_a_hall_turning_red_moves_to_the_first_page_live(city500: City500) -> None:
    d = city500.driver
    city500.open("?turn=0")  # the wall stays on its first page
    plain = [h["hall"] for h in city500.api() if h["card"] is None]
    hall = city500.sims[plain[-1]]  # the last of the ranking: on the last page
    assert d.execute_script(f"return document.querySelector(`#ranking tbody tr[data-hall='{hall.id}']`)") is None
    d.execute_script("window.__same_page = 1")
    now = dt.datetime.now(dt.UTC).astimezone()
    hall.waiting[0] = 400  # the most people waiting of any red hall: first of the first page
    hall.oldest[0] = now - dt.timedelta(hours=3)  # past wait_red_s
    info = city500.pub.send([hall.queue(now)])
    assert info is not None
    info.wait_for_publish(5)
    d.set_script_timeout(40)
    shown = d.execute_async_script("""
        const [hall, done] = arguments;
        const on = e => {
          const r = document.querySelector(`#ranking tbody tr[data-hall='${hall}']`);
          if (e.detail.page === 1 && r && r.dataset.card === 'red') {
            document.removeEventListener('wall:page', on);
            done({by: e.detail.by, first: document.querySelector('#ranking tbody tr').dataset.hall, text: r.innerText});
          }
        };
        document.addEventListener('wall:page', on);""", hall.id)
    assert shown["first"] == hall.id and "400" in shown["text"] and "最长等候 180 分钟 ≥ 150 分钟" in shown["text"]
    assert d.execute_script("return window.__same_page") == 1, "no reload"
    hot = d.execute_script(f"return document.querySelector(`tr[data-hall='{hall.id}'] td[data-key='longest_wait_s']`).className")
    assert "hot-red" in hot
    assert not console_errors(d)
    assert not other_hosts(d, city500.url)


def test_screens_at_1920_and_1366(city500: City500) -> None:
    d = city500.driver
    city500.open()  # as the wall shows it: its pages turn every 10 s
    WebDriverWait(d, 15).until(lambda _: d.find_element(By.ID, "chart-month").get_attribute("data-drawn"))
    assert "第 1/" in page_text(d) and "每 10 秒翻页" in page_text(d)
    shot(d, "city-wall")
    d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": 1366, "height": 768, "deviceScaleFactor": 1, "mobile": False})
    d.set_window_size(1366, 768)
    try:
        city500.open()
        WebDriverWait(d, 15).until(lambda _: d.find_element(By.ID, "chart-month").get_attribute("data-drawn"))
        t = d.find_element(By.ID, "ranking")
        assert t.get_attribute("data-pages") == str(-(-N // 50)) and t.get_attribute("data-paused") is None
        layout = d.execute_script("const s = document.getElementById('ranking-scroll'); "
                                  "return [document.documentElement.scrollWidth <= innerWidth, s.scrollHeight > s.clientHeight]")
        assert layout == [True, True], "fits the laptop's width; the page of 50 halls scrolls"
        shot(d, "city-wall-laptop")
        d.find_element(By.ID, "page-next").click()
        WebDriverWait(d, 5).until(lambda _: t.get_attribute("data-page") == "2")
        assert d.find_element(By.ID, "page-no").text == f"第 2/{-(-N // 50)} 页"
        ActionChains(d).send_keys(Keys.ARROW_RIGHT).perform()  # by hand with the keyboard too
        WebDriverWait(d, 5).until(lambda _: t.get_attribute("data-page") == "3")
        ActionChains(d).send_keys(Keys.PAGE_UP).perform()
        WebDriverWait(d, 5).until(lambda _: t.get_attribute("data-page") == "2")
        city500.open("?lang=en")
        WebDriverWait(d, 15).until(lambda _: "Page 1 of" in page_text(d))
        WebDriverWait(d, 15).until(lambda _: d.find_element(By.ID, "chart-month").get_attribute("data-drawn"))
        shot(d, "city-wall-en")
    finally:
        d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": 1920, "height": 1080, "deviceScaleFactor": 1, "mobile": False})
        d.set_window_size(1920, 1080)
    assert not console_errors(d)
