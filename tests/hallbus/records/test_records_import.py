"""Importing cases and appointments: CSV, JSON, GBK, broken rows, the upstream HTTP adapter, the CLI."""

from __future__ import annotations

import datetime as dt
import http.server
import json
import random
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from hallbus.cli import main as hallbus_main
from hallbus.config import HallConfig
from hallbus.controller.app import open_store
from hallbus.privacy import id_hash, verify_hash
from hallbus.records import idnumber
from hallbus.records.importer import ImportFault, read_records
from hallbus.records.samples import (
    APPT_CSV_FIELDS,
    CASE_CSV_FIELDS,
    generate_appointments,
    generate_cases,
    make_person,
    write_csv,
)
from hallbus.records.source import FileSource, HttpSource
from hallbus.records.workdays import WorkCalendar
from tests.hallbus.records.conftest import KEY, T0, TZ, make_importer, records_config

RNG = random.Random(11)
P = make_person(RNG)

HEADER = "case_no,item,applicant_name,id_number,status,accepted_at,promised_days,handler,department\n"


@pytest.fixture
def config(tmp_path: Path) -> HallConfig:
    return records_config(tmp_path)


def run_file(config: HallConfig, path: Path, encoding: str | None = None) -> Any:
    src = FileSource(path, encoding)
    with open_store(config.resolve(config.hall.data_dir)) as store:
        return make_importer(config).run(store.conn, src.records(), now=T0, where=src.where)


def rows(config: HallConfig, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(config.resolve(config.hall.data_dir) / "hall.db")) as db, db:
        return db.execute(sql, params).fetchall()


def test_sample_people_have_valid_check_digits() -> None:
    people = [make_person(random.Random(s)) for s in range(200)]
    assert all(idnumber.is_valid(p.id_number) for p in people)
    broken = P.id_number[:17] + ("0" if P.id_number[17] != "0" else "1")
    assert not idnumber.is_valid(broken)
    assert idnumber.check_digit("11010519491231002") == "X"  # the GB 11643 worked example


def test_bad_rows_are_reported_by_line_and_good_rows_kept(config: HallConfig, tmp_path: Path) -> None:
    good = P.id_number
    bad_check = good[:17] + ("0" if good[17] != "0" else "1")
    text = (
        HEADER
        + f"ZW2026030300001,个体工商户设立登记,张三,{good},reviewing,2026-03-03 09:00,1,李明,县市场监督管理局\n"  # line 2
        + f"ZW2026030300002,个体工商户设立登记,李四,{bad_check},reviewing,2026-03-03 09:00,1,李明,县市场监督管理局\n"  # 3
        + "ZW2026030300003,个体工商户设立登记,王五,,已受理,not-a-date,1,李明,县市场监督管理局\n"  # 4
        + "\n"  # 5 (blank)
        + "ZW2026030300004,,赵六,,reviewing,2026-03-03 09:00,1,李明,县市场监督管理局\n"  # 6
        + "ZW2026030300005,居民身份证换领,钱七,,lost,2026-03-03 09:00,15,张伟,县公安局\n"  # 7
        + "ZW2026030300001,个体工商户设立登记,张三,,done,2026-03-03 09:00,1,李明,县市场监督管理局\n"  # 8 dup
        + '"ZW2026030300006","结婚登记","孙八","","已办结","2026/03/03 10:00","0","赵敏","县民政局"\n'  # 9
    )
    path = tmp_path / "cases.csv"
    path.write_text(text, encoding="utf-8")
    report = run_file(config, path)
    errs = {(e["line"], e["field"], e["code"]) for e in report.errors}
    assert errs == {
        (3, "id_number", "bad_id_number"),
        (4, "accepted_at", "bad_date"),
        (6, "item", "missing_field"),
        (7, "status", "bad_status"),
        (8, "case_no", "duplicate"),
    }
    assert all(bad_check not in e["message"] + e["message_en"] for e in report.errors)
    assert report.cases_added == 2
    stored = rows(config, "SELECT case_no, status, open, applicant_masked, id_hash, verify_hash FROM rec_cases ORDER BY case_no")
    assert [r[0] for r in stored] == ["ZW2026030300001", "ZW2026030300006"]
    assert stored[0][3] == "张*" and stored[0][4] == id_hash(KEY, good)
    assert stored[0][5] == verify_hash(KEY, "ZW2026030300001", good[-6:])
    assert stored[1][1:3] == ("done", 0)  # Chinese status names are understood


def test_gbk_export_is_detected_and_a_wrong_encoding_refused(config: HallConfig, tmp_path: Path) -> None:
    text = "办件编号,事项名称,申请人,证件号码,办件状态,受理时间,承诺时限\n" + \
        f"ZW2026030300010,不动产转移登记（二手房买卖）,欧阳娜娜,{P.id_number},审查中,2026-03-03 09:30,5\n"
    path = tmp_path / "export.csv"
    path.write_bytes(text.encode("gbk"))
    used, recs = read_records(path)
    assert used == "gb18030" and recs[0][1]["applicant_name"] == "欧阳娜娜"
    report = run_file(config, path)
    assert report.errors == [] and report.cases_added == 1
    (item, applicant, status, due_ts) = rows(config, "SELECT item, applicant_masked, status, due_ts FROM rec_cases")[0]
    assert (item, applicant, status) == ("不动产转移登记（二手房买卖）", "欧***", "reviewing")
    assert due_ts == WorkCalendar().add_workdays(T0.replace(minute=30), 5).timestamp()
    with pytest.raises(ImportFault) as info:
        run_file(config, path, encoding="utf-8")
    assert info.value.code == "bad_encoding" and info.value.line == 1  # the Chinese header
    with pytest.raises(ImportFault) as info:
        run_file(config, path, encoding="klingon")
    assert info.value.code == "bad_encoding"


def test_json_import_with_both_kinds_and_reimport_updates(config: HallConfig, tmp_path: Path) -> None:
    cases = generate_cases(12, 3, now=T0)
    appts = generate_appointments(4, 3, now=T0)
    path = tmp_path / "records.json"
    path.write_text(json.dumps({"cases": cases, "appointments": appts + [{"code": "X1", "service": "Z"}]},
                               ensure_ascii=False), encoding="utf-8")
    report = run_file(config, path)
    assert report.cases_added == 12 and report.appointments_added == 4
    assert [(e["record"], e["code"]) for e in report.errors] == [(17, "bad_code")]
    # the platform exports again later: the same cases are updated, the warning history kept
    with closing(sqlite3.connect(config.resolve(config.hall.data_dir) / "hall.db")) as db, db:
        db.execute("UPDATE rec_cases SET warned = 'notice'")
    cases[0]["status"] = "done"
    cases[0]["finished_at"] = T0.isoformat()
    path.write_text(json.dumps(cases, ensure_ascii=False), encoding="utf-8")
    report = run_file(config, path)
    assert report.cases_added == 0 and report.cases_updated == 12
    assert rows(config, "SELECT status, open, warned FROM rec_cases WHERE case_no = ?", cases[0]["case_no"])[0] == ("done", 0, "notice")


def test_a_reimport_keeps_what_the_hall_did_and_rearms_warnings_on_a_later_deadline(
    config: HallConfig, tmp_path: Path
) -> None:
    """The rules of an update, kept by the cases and appointments modules' own writes."""
    case = {"case_no": "ZW2026030300020", "item": "结婚登记", "applicant_name": "孙八", "status": "reviewing",
            "accepted_at": "2026-03-02 09:00", "promised_days": "3"}
    appt = {"code": "YY2026030300020", "service": "A", "applicant_name": "周九", "slot_start": "2026-03-03 10:00"}
    path = tmp_path / "again.json"
    path.write_text(json.dumps({"cases": [case], "appointments": [appt]}, ensure_ascii=False), encoding="utf-8")
    assert run_file(config, path).errors == []
    with closing(sqlite3.connect(config.resolve(config.hall.data_dir) / "hall.db")) as db, db:
        db.execute("UPDATE rec_cases SET warned = 'warn'")
        db.execute("UPDATE rec_appointments SET status = 'checked_in'")  # the hall checked it in
    case["promised_days"] = "10"  # the deadline moved later: warnings start over
    path.write_text(json.dumps({"cases": [case], "appointments": [appt]}, ensure_ascii=False), encoding="utf-8")
    report = run_file(config, path)
    assert (report.cases_updated, report.appointments_updated, report.errors) == (1, 1, [])
    assert rows(config, "SELECT warned FROM rec_cases") == [("none",)]
    assert rows(config, "SELECT status FROM rec_appointments") == [("checked_in",)]
    # finished without a finish time: the first import's moment stays the finish time
    case["status"] = "done"
    path.write_text(json.dumps([case], ensure_ascii=False), encoding="utf-8")
    run_file(config, path)
    first = rows(config, "SELECT finished_ts FROM rec_cases")[0][0]
    assert first == T0.timestamp()
    with open_store(config.resolve(config.hall.data_dir)) as store:
        later = T0 + dt.timedelta(hours=2)
        make_importer(config).run(store.conn, FileSource(path).records(), now=later, where="record")
    assert rows(config, "SELECT finished_ts, status FROM rec_cases") == [(first, "done")]


def test_sample_files_import_cleanly(config: HallConfig) -> None:
    root = Path(__file__).resolve().parents[3] / "assets" / "samples"
    cases = run_file(config, root / "cases.csv")
    appts = run_file(config, root / "appointments.csv")
    assert cases.errors == [] and cases.cases_added >= 50
    assert appts.errors == [] and appts.appointments_added >= 10
    statuses = {r[0] for r in rows(config, "SELECT DISTINCT status FROM rec_cases")}
    assert {"done", "reviewing", "correction_needed"} <= statuses


class _Upstream(http.server.BaseHTTPRequestHandler):
    pages: dict[str, bytes] = {}

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        body = self.pages.get(self.path)
        if body is None:
            self.send_response(404)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: Any) -> None:
        pass


@pytest.fixture
def upstream() -> Iterator[tuple[str, type[_Upstream]]]:
    handler = type("Handler", (_Upstream,), {"pages": {}})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler
    finally:
        server.shutdown()
        server.server_close()


def test_upstream_http_platform_with_field_mapping(config: HallConfig, tmp_path: Path, upstream: Any) -> None:
    base, handler = upstream

    def theirs(no: str, state: str) -> dict[str, Any]:
        return {"bjbh": no, "sxxx": {"sxmc": "住房公积金提取（购买自住住房）"}, "sqr": {"xm": "周九", "zjhm": P.id_number},
                "blzt": state, "slsj": "2026-03-02 10:00:00", "cnsx": 3, "cbr": "吴刚"}

    handler.pages["/api/cases?page=1"] = json.dumps(
        {"code": 0, "data": {"list": [theirs("GJJ2026030201", "02"), theirs("GJJ2026030202", "09")]}}
    ).encode()
    handler.pages["/api/cases?page=2"] = json.dumps({"code": 0, "data": {"list": [theirs("GJJ2026030203", "77")]}}).encode()
    handler.pages["/api/cases?page=3"] = json.dumps({"code": 0, "data": {"list": []}}).encode()
    mapping = {
        "url": base + "/api/cases?page={page}",
        "items_path": "data.list",
        "kind": "case",
        "fields": {"case_no": "bjbh", "item": "sxxx.sxmc", "applicant_name": "sqr.xm", "id_number": "sqr.zjhm",
                   "status": "blzt", "accepted_at": "slsj", "promised_days": "cnsx", "handler": "cbr"},
        "values": {"status": {"02": "reviewing", "09": "done"}},
    }
    mpath = tmp_path / "upstream.json"
    mpath.write_text(json.dumps(mapping), encoding="utf-8")
    src = HttpSource.from_file(mpath)
    with open_store(config.resolve(config.hall.data_dir)) as store:
        report = make_importer(config, src.name).run(store.conn, src.records(), now=T0, where=src.where)
    assert report.cases_added == 2
    assert [(e["record"], e["code"]) for e in report.errors] == [(3, "bad_status")]
    got = rows(config, "SELECT case_no, status, applicant_masked, id_hash, source FROM rec_cases ORDER BY case_no")
    assert got[0] == ("GJJ2026030201", "reviewing", "周*", id_hash(KEY, P.id_number), src.name)
    assert got[1][1] == "done"

    broken = HttpSource(url=base + "/nowhere")
    with pytest.raises(ImportFault) as info:
        broken.records()
    assert info.value.code == "upstream_error"
    with pytest.raises(ImportFault) as info:
        HttpSource(url="http://127.0.0.1:9/x", timeout=1).records()
    assert info.value.code == "upstream_unreachable"


def test_cli_import_overdue_and_ratings(config: HallConfig, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    now = dt.datetime.now(TZ)
    cases = generate_cases(30, 5, now=now)
    csv_path = tmp_path / "cases.csv"
    write_csv(csv_path, cases, CASE_CSV_FIELDS, encoding="gbk")
    appt_path = tmp_path / "appts.csv"
    write_csv(appt_path, generate_appointments(5, 5, now=now), APPT_CSV_FIELDS)
    data = str(config.resolve(config.hall.data_dir))
    base = ["--config", str(config.path), "--data", data]
    assert hallbus_main(["cases", "import", str(csv_path), *base, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["encoding"] == "gb18030" and out["cases_added"] == 30
    assert hallbus_main(["cases", "import", str(appt_path), "--kind", "appointment", *base]) == 0
    assert "预约 新增 5" in capsys.readouterr().out

    assert hallbus_main(["cases", "overdue", *base, "--json"]) == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    expected = rows(config, "SELECT case_no FROM rec_cases WHERE open = 1 AND due_ts < ? AND status != 'correction_needed'",
                    dt.datetime.now().timestamp())
    assert sorted(r["case_no"] for r in listed) == sorted(r[0] for r in expected)
    assert all(r["warning"] == "overdue" and r["days_left"] < 0 for r in listed)

    # follow-ups: made by a bad rating in the store, moved by the CLI
    with closing(sqlite3.connect(Path(data) / "hall.db")) as db, db:
        db.execute(
            "INSERT INTO rec_followups(rating_id, state, level, reasons, window, staff, opened_ts, due_ts, history, updated_ts) "
            "VALUES ('r1', 'open', 1, '[\"attitude\"]', '1', 's001', 0, 1, '[]', 0)"
        )
    assert hallbus_main(["ratings", "list", *base, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["state"] == "open"
    assert hallbus_main(["ratings", "move", "1", "closed", "--note", "跳过", *base]) == 1
    assert "不能改为" in capsys.readouterr().err
    assert hallbus_main(["ratings", "move", "1", "verified", "--note", "已调取录像核实", *base, "--json"]) == 0
    moved = json.loads(capsys.readouterr().out)
    assert moved["state"] == "verified" and moved["history"][-1]["note"] == "已调取录像核实"
    assert hallbus_main(["ratings", "show", "9", *base]) == 1
    assert hallbus_main(["cases", "receipt", "ZW1234", *base]) == 0
    assert capsys.readouterr().out.startswith("ZWFW:CASE:ZW1234:")
