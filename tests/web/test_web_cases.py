"""Case lookup from a phone (`POST /api/v1/cases/query`, `/cases`): masked answers, failures throttled with 429."""

from __future__ import annotations

import datetime as dt
import json
import random
import subprocess
import sys
from pathlib import Path

import httpx

from hallbus.records.samples import make_person
from tests.web.conftest import REPO, WebHall

PERSON = make_person(random.Random(18))
CASE = "ZW2026WEB000001"


def import_case(hall: WebHall, tmp_path: Path) -> None:
    now = dt.datetime.now().astimezone()
    record = {"case_no": CASE, "item": "个体工商户设立登记", "item_code": "scjg-gtgsh-sl", "applicant_name": PERSON.name,
              "id_number": PERSON.id_number, "status": "reviewing", "accepted_at": (now - dt.timedelta(days=3)).isoformat(),
              "promised_days": 15, "handler": "李明", "department": "县市场监督管理局", "pickup_window": "3号窗口"}
    path = tmp_path / "case.json"
    path.write_text(json.dumps([record], ensure_ascii=False), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "hallbus", "cases", "import", str(path), "--config", str(hall.config_path),
                           "--data", str(tmp_path / "data")], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_a_case_is_found_masked_and_wrong_guesses_are_throttled(hall: WebHall, tmp_path: Path) -> None:
    import_case(hall, tmp_path)
    url = hall.web + "/api/v1/cases/query"
    got = httpx.post(url, json={"case_no": CASE.lower(), "verify": PERSON.id_number[-6:]}, timeout=15)
    assert got.status_code == 200, got.text
    (case,) = got.json()["cases"]
    assert case["case_no"] == CASE and case["status"] == "reviewing"
    assert PERSON.name not in got.text and PERSON.id_number not in got.text and case["applicant_masked"]
    # Wrong digits and unknown numbers answer alike (whether a number exists is not told) ...
    wrong = httpx.post(url, json={"case_no": CASE, "verify": "000000"}, timeout=15)
    unknown = httpx.post(url, json={"case_no": "ZW2026NOSUCH0001", "verify": "000000"}, timeout=15)
    assert wrong.status_code == unknown.status_code == 404 and wrong.json() == unknown.json()
    # ... and after a few, this client waits, told how long.
    answers = [httpx.post(url, json={"case_no": f"ZW2026GUESS{i:04d}", "verify": "123456"}, timeout=15) for i in range(6)]
    assert answers[-1].status_code == 429 and int(answers[-1].headers["Retry-After"]) > 0
    assert answers[-1].json()["error"]["code"] == "too_many_attempts"
    for junk in ({"case_no": CASE}, {"case_no": CASE, "verify": "12"}, {"case_no": "x" * 500, "verify": "123456"}):
        assert httpx.post(url, json=junk, timeout=15).status_code == 400


def test_the_case_page_works_without_javascript(hall: WebHall, tmp_path: Path) -> None:
    import_case(hall, tmp_path)
    form = httpx.get(hall.web + "/cases", timeout=15)
    assert form.status_code == 200 and "办件进度查询" in form.text
    found = httpx.post(hall.web + "/cases", data={"case_no": CASE, "verify": PERSON.id_number[-6:]}, timeout=15)
    assert found.status_code == 200 and "个体工商户设立登记" in found.text and "审核中" in found.text
    assert PERSON.id_number not in found.text and PERSON.name not in found.text
    missed = httpx.post(hall.web + "/cases?lang=en", data={"case_no": CASE, "verify": "000000"}, timeout=15)
    assert missed.status_code == 404 and "No such case" in missed.text
