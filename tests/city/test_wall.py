"""The wall `/city/` in real headless Chromium against a real `hallcity serve`, PostgreSQL and city Mosquitto.

One server and one browser for the module: the wall signs in with the token once (its cookie),
ranks the simulated halls, sorts by a column, turns a hall's card red when its longest wait
passes the threshold (published to the city broker while the page is open), shows a hall whose
bridge went down as OFFLINE with since-when, and opens one hall. The screenshot of one hall, `city-hall.png`,
goes to a temporary folder, or with `KIOSK_SCREENS=docs/screens` into the docs (the wall's own with 500
halls: test_wall500.py).
"""

from __future__ import annotations

import datetime as dt
import os
import random
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import psycopg
import pytest
from litestar.testing import TestClient
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from city.api import create_app
from city.localbroker import CityBroker
from city.pgtest import LocalPostgres
from city.sim import Publisher, SimHall
from hallbus.localbroker import end_process, free_port
from hallbus.vendor import CACHE, NODE_MODULES_ENV
from tests.city.conftest import City, city_toml, wait_for
from tests.web.test_web_admin_browser import chromium
from tests.web.test_web_browser import CHROMIUM, DRIVER, console_errors, page_text, wait_text

SCREENS = Path(os.environ.get("KIOSK_SCREENS") or Path(tempfile.gettempdir()) / "hallkit-city-screens")
TOKEN = "wall-test-token-7f3a"
HALLS = ["w-jiangbei", "w-yuzhong", "w-nanan", "w-shapingba", "w-jiulongpo", "w-beibei"]
THRESHOLDS = """[thresholds]
wait_yellow_s = 600
wait_red_s = 1200
satisfaction_yellow = 0.5
satisfaction_red = 0.2
"""

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (CHROMIUM.exists() and DRIVER.exists()), reason="chromium and chromium-driver (apt) missing"),
]


@dataclass
class Wall:
    url: str
    sims: dict[str, SimHall]
    pub: Publisher
    driver: webdriver.Chrome

    def publish(self, *messages: tuple[str, bytes, bool]) -> None:
        info = self.pub.send(list(messages))
        assert info is not None
        info.wait_for_publish(5)

    def row(self, hall: str) -> str:
        """The row's text, read in one script (the ranking is drawn again every few seconds)."""
        return str(self.driver.execute_script(
            "const r = document.querySelector(`#ranking tr[data-hall='${arguments[0]}']`); return r ? r.innerText : ''", hall))

    def attr(self, hall: str, name: str) -> str | None:
        got = self.driver.execute_script(
            "const r = document.querySelector(`#ranking tr[data-hall='${arguments[0]}']`); return r && r.getAttribute(arguments[1])",
            hall, name)
        return None if got is None else str(got)


@contextmanager
def serving(tmp: Path, write_config: Callable[[Path, CityBroker], None], instance: str) -> Iterator[tuple[str, Publisher]]:
    """A city broker, `hallcity serve` on the city.toml `write_config` writes (in its own process), a simulator's publisher."""
    broker = CityBroker(tmp / "city-broker")
    broker.start()
    cfg = tmp / "city.toml"
    write_config(cfg, broker)
    port = free_port()
    exe = Path(sys.executable).with_name("hallcity")
    proc = subprocess.Popen([str(exe), "serve", "--config", str(cfg), "--listen", f"127.0.0.1:{port}",
                             "--instance", instance], stdin=subprocess.DEVNULL, stderr=(tmp / "hallcity.log").open("wb"))
    url = f"http://127.0.0.1:{port}"
    pub = None
    try:
        wait_for(lambda: _healthy(url), 30, "hallcity serving", lambda: (tmp / "hallcity.log").read_text())
        pub = Publisher(broker.url, f"sim-{instance}")
        yield url, pub
    finally:
        if pub is not None:
            pub.close()
        end_process(proc)
        broker.stop()


@contextmanager
def signed_in(tmp: Path, url: str, token: str) -> Iterator[webdriver.Chrome]:
    """Chromium at 1920x1080 on the wall, signed in once with the token (then its cookie)."""
    driver = chromium(tmp, 1920, 1080)
    try:
        driver.get(f"{url}/city/")
        driver.find_element(By.ID, "token").send_keys(token)
        driver.find_element(By.ID, "sign-in").click()
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(tmp / "chromium-1920", ignore_errors=True)


@pytest.fixture(scope="module")
def wall(pg: LocalPostgres, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Wall]:
    tmp = tmp_path_factory.mktemp("wall")
    db_url = pg.create_database("city_wall")
    (tmp / "token").write_text(TOKEN, encoding="utf-8")

    def config(path: Path, broker: CityBroker) -> None:
        path.write_text(city_toml(db_url, broker.port, HALLS, group="wall", login=broker.toml_lines(),
                                  extra=f'[web]\ntoken_file = "{tmp / "token"}"\n\n{THRESHOLDS}'), encoding="utf-8")

    with serving(tmp, config, "wall-test") as (url, pub):
        now = dt.datetime.now(dt.UTC).astimezone() - dt.timedelta(seconds=60)  # the tests' messages come later
        sims = {h: SimHall(h, random.Random(i)) for i, h in enumerate(HALLS)}
        messages = [m for i, (h, live) in enumerate(sims.items()) for m in history(h, i, now, live)]
        messages += [m for s in sims.values() for m in s.initial(now)]
        for n in range(40):  # some people waiting, some served and rated
            messages += [m for s in sims.values() for m in s.step(now + dt.timedelta(seconds=n))]
        info = pub.send(messages)
        assert info is not None
        info.wait_for_publish(10)
        with signed_in(tmp, url, TOKEN) as driver:
            yield Wall(url, sims, pub, driver)


def history(hall: str, seed: int, now: dt.datetime, live: SimHall) -> list[tuple[str, bytes, bool]]:
    """Earlier today every 5 minutes (a morning peak) and this month's days, older than the live figures.

    The live hall goes on from the day's count served.
    """
    rng = random.Random(100 + seed)
    past = SimHall(hall, rng)
    out = []
    for day in range(1, now.day):
        past.served = rng.randint(150, 600)
        past.ratings = past.served // 2
        past.good = int(past.ratings * rng.uniform(0.88, 1.0))
        out.append(past.stats(now.replace(day=day, hour=17)))
    past.served = past.ratings = past.good = 0
    start = max(now.replace(hour=0, minute=0, second=0, microsecond=0), now - dt.timedelta(hours=9))
    t = start
    while t < now - dt.timedelta(minutes=5):
        peak = max(0.0, 1 - abs(t.hour + t.minute / 60 - 10) / 4)  # busiest about ten in the morning
        waiting = int(rng.uniform(2, 8) + 30 * peak * past.load)
        past.waiting = [waiting // 4 + (i < waiting % 4) for i in range(4)]
        past.oldest = [t - dt.timedelta(seconds=60 * w) if w else None for w in past.waiting]
        past.served += rng.randint(3, 12)
        out += [past.queue(t), past.stats(t)]
        t += dt.timedelta(minutes=5)
    live.served = past.served
    return out


def _healthy(url: str) -> bool:
    try:
        return bool(httpx.get(f"{url}/healthz", timeout=1).json().get("ingest", {}).get("subscribed"))
    except (httpx.HTTPError, ValueError):
        return False


def shot(driver: webdriver.Chrome, name: str) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SCREENS / f"{name}.png"))


# Read in one script: the ranking is drawn again every few seconds (an element found may be gone a moment later).
def rows(driver: webdriver.Chrome) -> list[str]:
    return list(driver.execute_script("return [...document.querySelectorAll('#ranking tbody tr')].map(r => r.dataset.hall)"))


def cells(driver: webdriver.Chrome, key: str) -> list[str]:
    return list(driver.execute_script(
        "return [...document.querySelectorAll(`#ranking tbody td[data-key='${arguments[0]}']`)].map(c => c.textContent)", key))


def other_hosts(driver: webdriver.Chrome, url: str) -> list[str]:
    entries = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    here = urlsplit(url).netloc
    return [e for e in entries if urlsplit(e).netloc != here]


def test_the_wall_is_closed_without_its_cookie_and_never_shows_the_token(wall: Wall) -> None:
    with httpx.Client(base_url=wall.url, timeout=5) as c:
        assert c.get("/city/data/halls").status_code == 401
        assert c.get("/api/v1/halls").status_code == 401
        r = c.get("/city/")
        assert r.status_code in (302, 303, 307) and r.headers["location"].startswith("/city/login")
        assert c.post("/city/login", data={"token": "wrong"}).status_code == 403
        ok = c.post("/city/login", data={"token": TOKEN, "lang": "zh"})
        assert ok.status_code == 303 and ok.headers["location"] == "/city/?lang=zh"
        cookie = ok.headers["set-cookie"]
        assert "httponly" in cookie.lower() and "samesite=strict" in cookie.lower() and TOKEN not in cookie
        page = c.get("/city/")
        assert page.status_code == 200 and TOKEN not in page.text
        assert "script-src 'self'" in page.headers["content-security-policy"] and "<script>" not in page.text
        got = c.get("/city/data/halls", headers={"Accept-Encoding": "gzip"})
        assert got.status_code == 200 and got.headers["content-encoding"] == "gzip"
        body = got.json()
        assert {r[body["fields"].index("hall")] for r in body["rows"]} == set(HALLS)
        etag = got.headers["etag"]  # the same figures again: 304, nothing sent
        assert c.get("/city/data/halls", headers={"If-None-Match": etag}).status_code == 304
        js = c.get("/city/static/vendor/echarts.min.js?v=6.1.0", headers={"Accept-Encoding": "gzip"})
        assert js.status_code == 200 and js.headers["cache-control"] == CACHE
        assert js.headers["content-encoding"] == "gzip" and len(js.content) > 500_000
        assert c.get("/city/static/vendor/echarts.min.js", headers={"If-None-Match": js.headers["etag"]}).status_code == 304
        for bad in ("/city/static/vendor/package.json", "/city/static/..%2Fwall.py", "/city/halls/nowhere"):
            assert c.get(bad).status_code == 404, bad
        for _n in range(10):  # ten wrong tokens in a minute: then even the right one waits
            assert c.post("/city/login", data={"token": "guess"}).status_code == 403
        assert c.post("/city/login", data={"token": TOKEN}).status_code == 429


def test_the_wall_ranks_every_hall_and_sorts_by_a_column(wall: Wall) -> None:
    d = wall.driver
    d.get(f"{wall.url}/city/")
    WebDriverWait(d, 15).until(lambda _: len(rows(d)) == len(HALLS) and all(cells(d, "served_today")))
    want = {h: s.served for h, s in wall.sims.items()}
    WebDriverWait(d, 15).until(lambda _: {h: int(c) for h, c in zip(rows(d), cells(d, "served_today"), strict=True)} == want)
    d.find_element(By.CSS_SELECTOR, 'th[data-key="served_today"]').click()
    served = [int(c) for c in cells(d, "served_today")]
    assert served == sorted(served, reverse=True) and d.find_element(By.ID, "ranking").get_attribute("data-sort") == "served_today"
    d.find_element(By.CSS_SELECTOR, 'th[data-key="waiting"]').click()
    waiting = [int(c) for c in cells(d, "waiting")]
    assert waiting == sorted(waiting, reverse=True)
    WebDriverWait(d, 15).until(lambda _: d.find_element(By.ID, "chart-day").get_attribute("data-drawn"))
    assert "城市政务服务指挥中心" in page_text(d) and "最长等候" in page_text(d)
    Select(d.find_element(By.ID, "district")).select_by_value("东区")  # city_toml: every other hall is 东区
    east = sorted(HALLS[1::2])
    WebDriverWait(d, 15).until(lambda _: sorted(rows(d)) == east)
    assert d.current_url.endswith("?district=%E4%B8%9C%E5%8C%BA")
    Select(d.find_element(By.ID, "district")).select_by_value("")
    WebDriverWait(d, 15).until(lambda _: len(rows(d)) == len(HALLS))


def test_a_red_card_appears_live_when_a_halls_wait_passes_the_threshold(wall: Wall) -> None:
    d = wall.driver
    hall = wall.sims["w-nanan"]
    before = d.execute_script("window.__same_page = 1; return 1")
    now = dt.datetime.now(dt.UTC).astimezone()
    hall.waiting[0] = max(hall.waiting[0], 3)
    hall.oldest[0] = now - dt.timedelta(minutes=45)  # past wait_red_s = 20 min
    wall.publish(hall.queue(now), hall.alert(now, "queue_threshold", "urgent", "A 类事项等候超过 45 分钟"))
    WebDriverWait(d, 15).until(lambda _: wall.attr("w-nanan", "data-card") == "red")
    assert "最长等候 45 分钟 ≥ 20 分钟" in wall.row("w-nanan")
    wait_text(d, "A 类事项等候超过 45 分钟")
    assert d.execute_script("return window.__same_page") == before, "no reload"


def test_a_silent_hall_shows_offline_with_since_when_never_as_nobody_waiting(wall: Wall) -> None:
    d = wall.driver
    hall = wall.sims["w-beibei"]
    wall.publish((hall.bridge_topic, b"0", True))
    WebDriverWait(d, 15).until(lambda _: "离线 自" in wall.row("w-beibei"))
    assert wall.attr("w-beibei", "data-card") == "red"
    assert len(cells(d, "waiting")) == len(HALLS) - 1, "no figure of a silent hall"
    since = str(d.execute_script("return document.querySelector(`tr[data-hall='w-beibei'] td.offline-cell`).textContent"))
    assert since.startswith("离线 自 ") and since[-5:-3].isdigit() and since[-3] == ":", since
    d.find_element(By.CSS_SELECTOR, 'th[data-key="card"]').click()
    WebDriverWait(d, 5).until(lambda _: set(rows(d)[:2]) == {"w-beibei", "w-nanan"})  # red cards first
    WebDriverWait(d, 15).until(lambda _: d.find_element(By.ID, "chart-month").get_attribute("data-drawn"))
    d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": 1366, "height": 768, "deviceScaleFactor": 1, "mobile": False})
    d.set_window_size(1366, 768)
    d.refresh()
    WebDriverWait(d, 15).until(lambda _: len(rows(d)) == len(HALLS))
    WebDriverWait(d, 15).until(lambda _: d.find_element(By.ID, "chart-month").get_attribute("data-drawn"))
    assert d.execute_script("return document.documentElement.scrollWidth <= window.innerWidth"), "fits the laptop"
    d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": 1920, "height": 1080, "deviceScaleFactor": 1, "mobile": False})
    d.set_window_size(1920, 1080)
    d.get(f"{wall.url}/city/halls/w-beibei")  # its own page: offline since when, and what it last said
    wait_text(d, "离线 自", "离线前最后数据", str(wall.sims["w-beibei"].served))
    assert d.find_element(By.ID, "status").get_attribute("data-online") == "false"
    d.get(f"{wall.url}/city/")
    wall.publish((hall.bridge_topic, b"1", True))
    WebDriverWait(d, 15).until(lambda _: "离线" not in wall.row("w-beibei"))


def test_a_click_opens_one_hall_and_english_is_a_click_away(wall: Wall) -> None:
    d = wall.driver
    d.get(f"{wall.url}/city/")
    WebDriverWait(d, 15).until(lambda _: len(rows(d)) == len(HALLS))
    d.execute_script("document.querySelector(`tr[data-hall='w-nanan'] td.name a`).click()")  # drawn again every 3 s
    WebDriverWait(d, 15).until(lambda _: d.find_element(By.ID, "windows").get_attribute("data-rows") == "6")
    assert d.current_url.startswith(f"{wall.url}/city/halls/w-nanan")
    assert d.find_element(By.ID, "services").get_attribute("data-rows") == "4"
    WebDriverWait(d, 15).until(lambda _: d.find_element(By.ID, "chart-today").get_attribute("data-drawn"))
    wait_text(d, "w-nanan 政务服务中心", "红牌", "最长等候 45 分钟", "A 类事项等候超过 45 分钟")
    shot(d, "city-hall")
    d.find_element(By.ID, "lang").click()
    wait_text(d, "All halls", "Windows", "longest wait 45 min ≥ 20 min")
    d.find_element(By.ID, "back").click()
    WebDriverWait(d, 15).until(lambda _: len(rows(d)) == len(HALLS))
    wait_text(d, "City command centre", "Served today")
    assert not other_hosts(d, wall.url)
    assert not console_errors(d)


def test_without_the_chart_library_the_wall_says_what_to_run_and_the_api_goes_on(
        make_city: Callable[..., City], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A `git pull` without `./hall setup` on the city's server: the wall explains, ingest and the API carry on."""
    city = make_city(["v-one"])
    monkeypatch.setenv(NODE_MODULES_ENV, str(tmp_path / "node_modules"))
    with TestClient(create_app(city.cfg, city.pool)) as client:
        page = client.get("/city/")
        assert page.status_code == 503
        assert "hallcity 找不到网页图表库 echarts" in page.text and "./hall setup" in page.text
        assert "hallcity cannot find the browser library echarts" in client.get("/city/?lang=en").text
        assert client.get("/city/static/vendor/echarts.min.js").status_code == 404
        assert [h["hall"] for h in client.get("/api/v1/halls").json()] == ["v-one"]


def test_with_the_database_away_the_wall_keeps_its_figures_and_says_they_are_delayed(wall: Wall, pg: LocalPostgres) -> None:
    d = wall.driver
    d.get(f"{wall.url}/city/")
    WebDriverWait(d, 15).until(lambda _: len(rows(d)) == len(HALLS))

    def connections(allowed: bool) -> None:
        with psycopg.connect(pg.url, autocommit=True) as admin:
            admin.execute(f"ALTER DATABASE city_wall ALLOW_CONNECTIONS {str(allowed).lower()}")
            if not allowed:
                admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'city_wall'")

    connections(False)
    try:
        wait_text(d, "数据延迟")
        assert len(rows(d)) == len(HALLS), "the last figures stay, under the banner"
    finally:
        connections(True)
    WebDriverWait(d, 20).until(lambda _: not d.find_element(By.ID, "delayed").is_displayed())


def test_odd_requests_to_the_wall_get_4xx_never_5xx(wall: Wall) -> None:
    signed_in = {"hallcity_wall": str(wall.driver.get_cookie("hallcity_wall")["value"])}  # the wall's (logins are throttled)
    with httpx.Client(base_url=wall.url, timeout=10, cookies=signed_in) as c:
        assert c.get("/city/data/halls").status_code == 200
        odd = ["%00", "%0A%0D", "'; DROP TABLE city_hall; --", "东区" * 500, "../../etc/passwd", "%ZZ", "<script>"]
        for v in odd:
            for path in (f"/city/?district={v}", f"/city/data/halls?district={v}", f"/city/data/trends?district={v}",
                         f"/city/halls/{v}", f"/city/data/halls/{v}", f"/city/static/{v}", f"/city/static/vendor/{v}",
                         f"/city/?lang={v}"):
                r = c.get(path)
                assert r.status_code < 500, (path, r.status_code, r.text[:200])
        for body, kind in ((b"token=%ZZ&lang=\x00", "application/x-www-form-urlencoded"), (b'{"token": 1}', "application/json"),
                           (b"--x\r\n", "multipart/form-data; boundary=x"), (b"\xff" * 100_000, "application/octet-stream")):
            r = c.post("/city/login", content=body, headers={"Content-Type": kind})
            assert r.status_code < 500, (body[:20], kind, r.status_code)
        page = c.get("/city/halls/<script>")
        assert page.status_code == 404 and "<script>" not in page.text
