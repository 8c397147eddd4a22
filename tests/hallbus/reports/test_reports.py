"""Reports (SPEC 12.2): the day's archive at the roll-over, the engine's figures, `report.query`, the CLI's XLSX.

A day of a real controller (tickets, calls, a transfer, a no-show, tablet ratings, a bad one
with its follow-up) is reported on live, rolled over, and reported on again from the archive:
every figure of every kind must be the same, and the same as `stats.today` said that day.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gzip
import hashlib
import json
import secrets
import sqlite3
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pytest

from hallbus.config import HallConfig, parse_config
from hallbus.controller.app import build_controller, feature_module_factories
from hallbus.controller.clock import ManualClock
from hallbus.controller.controller import Controller
from hallbus.controller.store import open_readonly
from hallbus.reports.engine import KINDS, MAX_DAYS, Report, ReportEngine, ReportError, p90
from hallbus.rpc import RpcFault
from tests.hallbus.controller.helpers import (
    T0,
    call,
    id_card,
    issue,
    login,
    make_config,
    request,
    window_call,
)

REPO = Path(__file__).resolve().parents[3]
DUMPS = REPO / "tests" / "hallbus" / "records" / "data"
DAY = "2026-03-03"
NEXT = T0.replace(day=4, hour=3, minute=0, second=1)


@pytest.fixture
def config(tmp_path: Path) -> HallConfig:
    """The all-day test hall with s001 a manager (the reports are asked for a manager's console session)."""
    make_config(tmp_path)
    path = tmp_path / "hall.toml"
    text = path.read_text(encoding="utf-8").replace('id = "s001"\nname = "李明"', 'id = "s001"\nname = "李明"\nrole = "manager"')
    path.write_text(text, encoding="utf-8")
    return parse_config(text, path)


@pytest.fixture
def ctl(config: HallConfig, clock: ManualClock, tmp_path: Path) -> Iterator[Controller]:
    """A controller with every feature module (ratings, cases, reports), state refreshed inline."""
    c = build_controller(config, tmp_path / "data", clock=clock, hall_key=b"k" * 32,
                         factories=feature_module_factories(), refresh_async=False)
    try:
        yield c
    finally:
        c.close()


def rate(ctl: Controller, window: str, level: int, **body: Any) -> dict[str, Any]:
    return call(ctl, "rating.submit", {"rating_id": str(uuid.uuid4()), "level": level, **body},
                caller=f"tablet-{window}")


def a_day(ctl: Controller, clock: ManualClock) -> None:
    """Seven tickets over three services, two windows, a transfer, a no-show, four served, three ratings (one bad)."""
    login(ctl, "1", "s001")
    login(ctl, "3", "s003")
    for service, card in (("A", "p1"), ("A", None), ("A", None), ("A", None), ("B", "p1"), ("B", "p2"), ("C", "p3")):
        issue(ctl, service, **({"id_card": id_card(card)} if card else {}))
    clock.advance(60)
    window_call(ctl, "call_next", "1")  # A001 waited 60 s
    clock.advance(120)
    window_call(ctl, "finish", "1")
    rate(ctl, "1", 5)
    clock.advance(30)
    window_call(ctl, "call_next", "1")  # A002: 210 s
    clock.advance(45)
    window_call(ctl, "no_show", "1")
    window_call(ctl, "call_next", "3")  # B001: 255 s
    clock.advance(200)
    window_call(ctl, "finish", "3")
    rate(ctl, "3", 1, reasons=["attitude"])
    window_call(ctl, "call_next", "1")  # A003: 455 s
    clock.advance(10)
    window_call(ctl, "transfer", "1", to_service="B")  # to the end of B's queue, behind B002
    window_call(ctl, "call_next", "3")  # B002: 465 s
    clock.advance(100.5)
    window_call(ctl, "finish", "3")
    rate(ctl, "3", 4)
    window_call(ctl, "call_next", "3")  # A003, now a B ticket, at window 3 (its first call counts: 455 s)
    clock.advance(80)  # handled 80 s: from this call
    window_call(ctl, "finish", "3")
    # A004 and C001 still wait at the roll-over: they expire


def reports(conn: sqlite3.Connection, config: HallConfig, now: dt.datetime, day: str = DAY) -> dict[str, Report]:
    engine = ReportEngine(conn, config)
    return {kind: engine.build(kind, day, day, now) for kind in KINDS}


def figures(rep: dict[str, Report]) -> dict[str, Any]:
    """What must be equal live and from the archive: every row and total of every kind (not `made_at`)."""
    return {k: (r.rows, r.total) for k, r in rep.items()}


def test_a_past_day_reports_what_its_live_figures_said(ctl: Controller, clock: ManualClock, config: HallConfig,
                                                       tmp_path: Path) -> None:
    a_day(ctl, clock)
    clock.set(T0.replace(hour=23))
    stats = call(ctl, "stats.today")["stats"]
    with contextlib.closing(open_readonly(tmp_path / "data")) as conn:
        live = reports(conn, config, clock())
    daily = live["daily"].as_dicts()[0]
    # the live report is `stats.today` where both have a figure
    assert daily["visitors"] == stats["visitors"] == 6  # p1 took two tickets
    assert daily["tickets"] == stats["tickets_issued"] == 7
    assert (daily["served"], daily["no_show"]) == (stats["served"], stats["no_show"]) == (4, 1)
    assert daily["avg_wait_s"] == stats["avg_wait_s"] == round((60 + 210 + 255 + 455 + 465) / 5, 1)
    assert daily["avg_service_s"] == stats["avg_service_s"] == round((120 + 200 + 100.5 + 80) / 4, 1)
    assert daily["p90_wait_s"] == 465  # waits 60, 210, 255, 455, 465: the ⌈4.5⌉ = 5th
    assert (daily["ratings"], daily["satisfaction_rate"]) == (stats["ratings"], stats["satisfaction_rate"]) == (3, 0.6667)
    assert (daily["bad_ratings"], daily["followups"], daily["followups_on_time"]) == (1, 1, 0)
    windows = {r["key"]: r for r in live["windows"].as_dicts()}
    for wid, fig in stats["served_by_window"].items():
        assert (windows[wid]["served"], windows[wid]["avg_service_s"]) == (fig["served"], fig["avg_service_s"])
    for wid, fig in stats["ratings_by_window"].items():
        assert (windows[wid]["ratings"], windows[wid]["satisfaction_rate"]) == (fig["ratings"], fig["satisfaction_rate"])
    staff = {r["key"]: r for r in live["staff"].as_dicts()}
    for sid, fig in stats["ratings_by_staff"].items():
        assert staff[sid]["ratings"] == fig["ratings"]
    services = {r["key"]: r for r in live["services"].as_dicts()}
    # A003 was transferred: it counts for B, the service it ended in, with its first call's wait
    assert (services["A"]["tickets"], services["B"]["tickets"], services["C"]["tickets"]) == (3, 3, 1)
    assert services["B"]["p90_wait_s"] == 465 and services["A"]["p90_wait_s"] == 210
    assert (services["B"]["ratings"], services["B"]["bad_ratings"], services["A"]["ratings"]) == (2, 1, 1)
    assert windows["3"]["followups"] == 1 and staff["s003"]["followups"] == 1

    clock.set(NEXT)
    ctl.tick()  # the roll-over: A004 and C001 expire, the day is archived
    with contextlib.closing(open_readonly(tmp_path / "data")) as conn:
        assert conn.execute("SELECT COUNT(*) FROM report_days WHERE day = ?", (DAY,)).fetchone()[0] > 4
        archived = reports(conn, config, clock())
    assert figures(archived) == figures(live)
    # read from the archive, not the tickets: rows taken out of the tickets table change no queue or
    # rating figure (only a follow-up's service, which is looked up through its ticket as it stands)
    with contextlib.closing(sqlite3.connect(tmp_path / "data" / "hall.db")) as db:
        db.execute("DELETE FROM tickets WHERE day = ?", (DAY,))
        db.commit()
    with contextlib.closing(open_readonly(tmp_path / "data")) as conn:
        gone = figures(reports(conn, config, clock()))
    assert {k: v for k, v in gone.items() if k != "services"} == {k: v for k, v in figures(live).items() if k != "services"}
    cols = [c.key for c in live["services"].columns]
    queue_cols = [i for i, c in enumerate(cols) if not c.startswith("followups")]
    assert [[r[i] for i in queue_cols] for r in gone["services"][0]] == [
        [r[i] for i in queue_cols] for r in live["services"].rows
    ]


def test_tickets_and_handlings_are_kept_after_the_roll_over(ctl: Controller, clock: ManualClock) -> None:
    a_day(ctl, clock)
    clock.set(NEXT + dt.timedelta(days=30))
    ctl.tick()
    conn = ctl.store.conn
    assert conn.execute("SELECT COUNT(*) FROM tickets WHERE day = ?", (DAY,)).fetchone()[0] == 7
    # every finish's handling (the rating request the ratings and follow-ups point to) is still there
    assert conn.execute("SELECT COUNT(*) FROM rec_rating_requests").fetchone()[0] == 4


def test_a_range_adds_the_days_up_and_takes_the_percentile_over_all_waits(ctl: Controller, clock: ManualClock,
                                                                         config: HallConfig) -> None:
    waits = {}
    for day in (3, 4, 5):
        clock.set(T0.replace(day=day))
        login(ctl, "9", "s009")  # the roll-over logged everybody out
        for _ in range(day):  # 3, 4 and 5 tickets, the k-th called after 10·k·day seconds
            issue(ctl, "E")
        for _ in range(day):
            clock.advance(10 * day)
            window_call(ctl, "call_next", "9")
            window_call(ctl, "finish", "9")
        waits[day] = [10 * day * (k + 1) for k in range(day)]
    clock.set(T0.replace(day=5, hour=12))
    engine = ReportEngine(ctl.store.conn, config)
    rep = engine.build("daily", "2026-03-02", "2026-03-05", clock())
    rows = rep.as_dicts()
    assert [r["date"] for r in rows] == ["2026-03-02", "2026-03-03", "2026-03-04", "2026-03-05"]
    assert [r["tickets"] for r in rows] == [0, 3, 4, 5]
    assert rows[0]["avg_wait_s"] is None and rows[0]["p90_wait_s"] is None
    every = sorted(w for ws in waits.values() for w in ws)
    total = rep.total_dict()
    assert total is not None and total["tickets"] == 12 and total["served"] == 12
    assert total["p90_wait_s"] == every[11 - 1]  # ⌈0.9·12⌉ = 11th smallest
    assert total["avg_wait_s"] == round(sum(every) / 12, 1)
    # days 3 and 4 are archived, day 5 is live: the same totals either way
    assert {r[0] for r in ctl.store.conn.execute("SELECT DISTINCT day FROM report_days")} == {"2026-03-03", "2026-03-04"}
    staff = engine.build("staff", "2026-03-03", "2026-03-05", clock()).as_dicts()
    assert next(r for r in staff if r["key"] == "s009")["p90_wait_s"] == total["p90_wait_s"]


def test_p90_is_the_nearest_rank() -> None:
    assert p90(np.array([], dtype="<u4")) is None
    assert p90(np.array([7], dtype="<u4")) == 7
    assert p90(np.arange(1, 11, dtype="<u4")) == 9  # ⌈9⌉ = 9th of 1..10
    assert p90(np.arange(1, 12, dtype="<u4")) == 10  # ⌈9.9⌉ = 10th of 1..11
    assert p90(np.array([5, 1, 100, 3, 2, 4, 7, 6, 9, 8], dtype="<u4")) == 9


@pytest.mark.parametrize(("date_from", "date_to", "words"), [
    ("2026-03-05", "2026-03-01", "晚于结束日期"),
    ("2020-01-01", "2026-03-01", "最多统计 5 年"),
    ("2026-3-1", "2026-03-01", "YYYY-MM-DD"),
    ("2026-02-30", "2026-03-01", "YYYY-MM-DD"),
    ("", "2026-03-01", "YYYY-MM-DD"),
    ("9999-12-31", "9999-12-31", "超出可统计的范围"),  # the day after it is no date: once a crash in the worker
    ("0001-01-01", "0001-01-01", "超出可统计的范围"),
])
def test_a_bad_range_is_refused_in_words(ctl: Controller, config: HallConfig, date_from: str, date_to: str,
                                         words: str) -> None:
    with pytest.raises(ReportError) as info:
        ReportEngine(ctl.store.conn, config).build("daily", date_from, date_to, T0)
    assert info.value.code == "bad_range" and words in info.value.message and info.value.message_en


def test_the_longest_range_is_taken(ctl: Controller, config: HallConfig) -> None:
    first = dt.date(2021, 3, 4)
    last = first + dt.timedelta(days=MAX_DAYS - 1)
    rep = ReportEngine(ctl.store.conn, config).build("daily", first.isoformat(), last.isoformat(), T0)
    assert len(rep.rows) == MAX_DAYS
    with pytest.raises(ReportError):
        ReportEngine(ctl.store.conn, config).build("daily", first.isoformat(), (last + dt.timedelta(days=1)).isoformat(), T0)


def manager_session(ctl: Controller) -> str:
    """A console session of s001, a manager in this module's hall (report.query checks the acting session)."""
    token = secrets.token_urlsafe(32)
    req = request("admin.login", {"staff": "s001", "password": "hall001",
                                  "session_hash": hashlib.sha256(token.encode()).hexdigest()}, caller="web")
    work = ctl.slow_work(req)
    assert work is not None
    work()  # the password is checked off the writer, as the RPC server does
    assert ctl.handle_batch([req])[0].ok
    ctl.after_replies()
    return token


def query(ctl: Controller, body: dict[str, Any], caller: str = "web") -> dict[str, Any]:
    """`report.query` as the RPC server runs it for a manager's session: the slow work on another thread, then the batch."""
    req = request("report.query", {"session": manager_session(ctl), **body}, caller=caller)
    work = ctl.slow_work(req)
    assert work is not None
    worker = threading.Thread(target=work)
    worker.start()
    worker.join(10)
    reply = ctl.handle_batch([req])[0]
    if not reply.ok:
        assert reply.error is not None
        raise RpcFault(reply.error.code, reply.error.message, reply.error.message_en)
    return dict(reply.data or {})


def test_report_query_is_built_beside_a_busy_writer_and_only_for_the_web_service(
    ctl: Controller, clock: ManualClock
) -> None:
    a_day(ctl, clock)
    req = request("report.query", {"kind": "windows", "from": DAY, "to": DAY, "session": manager_session(ctl)},
                  caller="web")
    work = ctl.slow_work(req)
    assert work is not None
    # the writer holds an open write transaction meanwhile: the report does not wait for it
    with ctl.store.lock:
        ctl.store.conn.execute("BEGIN IMMEDIATE")
        ctl.store.conn.execute("UPDATE tickets SET status = 'done' WHERE number = 'C001'")
        worker = threading.Thread(target=work)
        worker.start()
        worker.join(10)
        assert not worker.is_alive()
        ctl.store.conn.execute("ROLLBACK")
    got = dict(ctl.handle_batch([req])[0].data or {})
    assert (got["kind"], got["from"], got["to"], got["total_rows"], got["offset"]) == ("windows", DAY, DAY, 12, 0)
    keys = [c["key"] for c in got["columns"]]
    w3 = dict(zip(keys, got["rows"][2], strict=True))
    assert (w3["key"], w3["served"], w3["ratings"], w3["bad_ratings"]) == ("3", 3, 2, 1)
    page = query(ctl, {"kind": "windows", "from": DAY, "to": DAY, "offset": 10, "limit": 5})
    assert [r[0] for r in page["rows"]] == ["11", "12"] and page["total_rows"] == 12
    for caller in ("terminal-1", "counter-1", None):
        with pytest.raises(RpcFault) as info:
            query(ctl, {"kind": "daily", "from": DAY, "to": DAY}, caller=caller or "")
        assert info.value.code == "forbidden"
    with pytest.raises(RpcFault) as info:
        query(ctl, {"kind": "daily", "from": "2026-03-05", "to": DAY})
    assert info.value.code == "bad_range" and "晚于" in info.value.message
    with pytest.raises(RpcFault) as info:
        query(ctl, {"kind": "monthly", "from": DAY, "to": DAY})
    assert info.value.code == "bad_kind"
    with pytest.raises(RpcFault) as info:
        query(ctl, {"kind": "daily", "from": DAY, "to": DAY, "limit": 501})
    assert info.value.code == "bad_request"


def hallbus(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The real `hallbus` command line on the test hall's config and data."""
    return subprocess.run(
        [sys.executable, "-m", "hallbus", *args, "--config", str(tmp_path / "hall.toml"), "--data", str(tmp_path / "data")],
        cwd=REPO, capture_output=True, timeout=60, text=True,
    )


WINDOW_HEAD = ["窗口", "名称", "接待人数", "取号数", "办结数", "过号数", "平均等候(秒)", "90%等候(秒)", "平均办理(秒)",
               "评价数", "满意率", "差评数", "整改任务", "按时整改", "按时整改率", "超期未结"]


def test_the_command_line_exports_every_kind_to_xlsx_read_back_cell_by_cell(
    ctl: Controller, clock: ManualClock, tmp_path: Path
) -> None:
    a_day(ctl, clock)
    clock.set(NEXT)
    ctl.tick()
    ctl.close()
    out = tmp_path / "march.xlsx"
    done = hallbus(tmp_path, "stats", "--from", DAY, "--to", DAY, "--kind", "all", "--xlsx", str(out))
    assert done.returncode == 0, done.stderr
    assert "已写入" in done.stdout
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["每日汇总 Daily", "按事项 By service", "按窗口 By window", "按人员 By staff",
                             "好差评 Ratings", "差评整改 Follow-ups"]
    ws = wb["按窗口 By window"]
    assert ws["A1"].value == "某某县政务服务中心 按窗口报表 / By window report"
    assert (ws["A2"].value, ws["B2"].value) == ("统计期间 Range", "2026-03-03 至 2026-03-03")
    assert ws["A3"].value == "生成时间 Made at" and str(ws["B3"].value).startswith("20")
    assert [c.value for c in ws[5]] == WINDOW_HEAD
    assert [c.value for c in ws[6]][:4] == ["Window", "Name", "Visitors", "Tickets"]
    # window 3 (row 9): B001, B002 and the transferred A003; waits 255, 465, 455; one bad rating, still open
    # (its deadline in March has passed: the command line reads the follow-ups as they stand now)
    assert [c.value for c in ws[9]] == ["3", "3号窗口", 3, 3, 3, 0, 391.7, 465, 126.8, 2, 0.5, 1, 1, 0, 0, 1]
    assert ws["K9"].number_format == "0.00%" and ws["G9"].number_format == "0.0"
    assert [c.value for c in ws[7]][:9] == ["1", "1号窗口", 2, 2, 1, 1, 135.0, 210, 120.0]  # A003 left it by transfer
    assert [c.value for c in ws[8]][2:] == [0, 0, 0, 0, None, None, None, 0, None, 0, 0, 0, None, 0]
    total = [c.value for c in ws[7 + 12]]
    assert total[:9] == ["合计 Total", None, 6, 7, 4, 1, 289.0, 465, 125.1]  # an empty text is an empty cell and ws.cell(19, 1).font.bold
    assert ws.max_row == 19
    daily = wb["每日汇总 Daily"]
    assert [c.value for c in daily[7]][:10] == ["2026-03-03", 6, 7, 4, 1, 289.0, 465, 125.1, 3, 0.6667]
    fu = wb["差评整改 Follow-ups"]
    assert [c.value for c in fu[5]] == ["编号", "差评时间", "评价", "原因", "意见", "窗口", "人员", "状态", "整改期限",
                                         "办结时间", "按时"]
    row = [c.value for c in fu[7]]
    assert row[2:8] == ["非常不满意", "服务态度不好", None, "3号窗口", "张伟", "待核实"]  # s003 and row[10] == "超期 overdue"
    assert fu.max_row == 7
    # a table on the terminal, JSON, and a bad range refused in both languages
    lines = hallbus(tmp_path, "stats", "--from", DAY, "--to", DAY, "--kind", "windows").stdout.splitlines()
    assert lines[0] == "按窗口 2026-03-03 至 2026-03-03" and lines[1].split("\t") == WINDOW_HEAD
    assert lines[4].split("\t")[:12] == ["3", "3号窗口", "3", "3", "3", "0", "391.7", "465", "126.8", "2", "50.00%", "1"]
    done = hallbus(tmp_path, "stats", "--from", DAY, "--to", DAY, "--kind", "services", "--json")
    rep = json.loads(done.stdout)
    assert [r["tickets"] for r in rep["rows"]][:3] == [3, 3, 1] and rep["total"]["tickets"] == 7
    done = hallbus(tmp_path, "stats", "--from", "2026-03-04", "--to", DAY)
    assert done.returncode == 2 and "晚于结束日期" in done.stderr and "starts (2026-03-04) after it ends" in done.stderr


def test_a_database_from_before_the_reports_is_reported_live_then_archived(tmp_path: Path, config: HallConfig) -> None:
    """The old controller's dump (two waiting tickets of 2026-03-03, no archive): migrated, reported, rolled over."""
    data = tmp_path / "data"
    data.mkdir()
    with contextlib.closing(sqlite3.connect(data / "hall.db")) as db:
        db.executescript(gzip.decompress((DUMPS / "hall-db-01c7308-controller.sql.gz").read_bytes()).decode("utf-8"))
    clock = ManualClock(T0.replace(hour=18))
    c = build_controller(config, data, clock=clock, hall_key=b"k" * 32, factories=feature_module_factories(),
                         refresh_async=False)
    try:
        assert ("reports", 1) in c.store.applied
        before = ReportEngine(c.store.conn, config).build("services", DAY, DAY, clock())
        assert before.as_dicts()[0]["tickets"] == 2 and before.total_dict() == before.total_dict() | {"tickets": 2}
        clock.set(NEXT)
        c.tick()
        after = ReportEngine(c.store.conn, config).build("services", DAY, DAY, clock())
        assert (after.rows, after.total) == (before.rows, before.total)
        assert c.store.conn.execute("SELECT COUNT(*) FROM report_days WHERE day = ?", (DAY,)).fetchone()[0] == 2
    finally:
        c.close()


def test_the_roll_over_archives_the_closing_days_cases_not_the_new_days(ctl: Controller, clock: ManualClock,
                                                                        config: HallConfig) -> None:
    """`days.figures` counted the cases of the day the roll-over ran on (the new one); now the closed day's."""
    finished = T0.replace(hour=16).timestamp()
    ctl.store.conn.execute(
        "INSERT INTO rec_cases(case_no, item, applicant_masked, status, open, accepted_ts, due_ts, finished_ts, "
        "handler, updated_ts) VALUES ('ZW1', '个体工商户设立登记', '张*', 'done', 0, ?, ?, ?, '张伟', ?)",
        (finished - 86400, finished + 3600, finished, finished),
    )
    clock.set(NEXT)
    ctl.tick()
    figures = json.loads(ctl.store.conn.execute("SELECT figures FROM days WHERE day = ?", (DAY,)).fetchone()[0])
    assert (figures["cases_done"], figures["on_time_rate"]) == (1, 1.0)
    engine = ReportEngine(ctl.store.conn, config)
    assert engine.build("daily", DAY, DAY, clock()).as_dicts()[0]["cases_done"] == 1
    staff = {r["key"]: r for r in engine.build("staff", DAY, DAY, clock()).as_dicts()}
    assert (staff["s003"]["cases_done"], staff["s003"]["on_time_rate"]) == (1, 1.0)  # 张伟 is s003 by name
