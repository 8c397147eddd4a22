"""`report.query` on the real controller over the broker: a report too big for one message comes page by page.

The broker ends a connection that sends a message over 128 KiB (the controller's own too), so a
reply carries at most 64 KiB of rows; `fetch_report` asks from where the last page ended.
"""

from __future__ import annotations

import hashlib

from hallbus import schemas
from hallbus.controller.app import open_store
from hallbus.reports.module import REPORT_MAX_BYTES, fetch_report
from hallbus.rpc import RpcFault
from tests.hallbus.records.conftest import T0, Hall

COMMENT = "窗口工作人员态度冷淡，材料要求前后不一致，" * 10  # 200 characters, the most a rating's comment has


def test_a_year_of_long_follow_ups_comes_page_by_page_within_the_message_limit(hall: Hall) -> None:
    day = T0.date().isoformat()
    with open_store(hall.data_dir) as store:  # 600 bad ratings' follow-ups of today, each with the longest comment
        store.conn.executemany(
            "INSERT INTO rec_followups(rating_id, state, level, reasons, comment, window, staff, opened_ts, due_ts, "
            "updated_ts) VALUES (?, 'open', 1, '[\"attitude\", \"efficiency\"]', ?, '3', 's003', ?, ?, ?)",
            [(f"r{i}", COMMENT, T0.timestamp() + i, T0.timestamp() + 86400 * 5, T0.timestamp() + i) for i in range(600)],
        )
    web = hall.client("web", "web")
    token = "m" * 43  # s001's console session (a manager in the records' hall)
    web.call("admin.login", {"staff": "s001", "password": "hall001",
                             "session_hash": hashlib.sha256(token.encode()).hexdigest()})
    report = fetch_report(web, "followups", day, day, session=token)
    assert len(report.rows) == 600 and [r[0] for r in report.rows] == list(range(1, 601))
    assert all(r[4] == COMMENT and r[3] == "服务态度不好、办事慢或超时" for r in report.rows)
    prefix = f"hall/v1/{hall.config.hall.id}/reply/web/"
    pages = [r["data"] for r in hall.wire.wait_until(
        lambda got: sum(len(m["data"]["rows"]) for m in got if m.get("ok") and "total_rows" in (m.get("data") or {}))
        >= 600, timeout=10,
    ) if r.get("ok") and "total_rows" in (r.get("data") or {})]
    assert len(pages) >= 4 and [p["offset"] for p in pages][:2] == [0, len(pages[0]["rows"])]
    sizes = [len(p) for t, p in hall.wire.messages if t.startswith(prefix) and b'"total_rows"' in p]  # not the login's
    assert len(sizes) == len(pages) and max(sizes) < REPORT_MAX_BYTES + 16 * 1024  # columns, total, envelope
    # a terminal is refused, in words
    try:
        fetch_report(hall.client("terminal-1"), "daily", day, day, session=token)
    except RpcFault as err:
        assert err.code == "forbidden" and "网页服务" in err.message
    else:
        raise AssertionError("a terminal got a report")


def add_followups(hall: Hall, first: int, n: int) -> None:
    with open_store(hall.data_dir) as store:
        store.conn.executemany(
            "INSERT INTO rec_followups(rating_id, state, level, reasons, comment, window, staff, opened_ts, due_ts, "
            "updated_ts) VALUES (?, 'open', 1, '[\"attitude\"]', ?, '3', 's003', ?, ?, ?)",
            [(f"r{i}", COMMENT, T0.timestamp() + i, T0.timestamp() + 86400 * 5, T0.timestamp() + i)
             for i in range(first, first + n)],
        )


def test_the_later_pages_of_a_report_come_from_its_first_build(hall: Hall) -> None:
    """One report is one snapshot: follow-ups opened between two pages are in the next report, not in this one."""
    day = T0.date().isoformat()
    add_followups(hall, 0, 600)
    web = hall.client("web", "web")
    token = "m" * 43  # s001's console session (a manager in the records' hall)
    web.call("admin.login", {"staff": "s001", "password": "hall001",
                             "session_hash": hashlib.sha256(token.encode()).hexdigest()})
    ask = {"kind": "followups", "from": day, "to": day, "session": token}
    first = web.call_typed(schemas.REPORT_QUERY, {**ask, "offset": 0}, timeout=10)
    assert first.total_rows == 600 and 0 < len(first.rows) < 600
    add_followups(hall, 600, 300)  # while the manager's browser fetches the rest
    rest = web.call_typed(schemas.REPORT_QUERY, {**ask, "offset": len(first.rows)}, timeout=10)
    assert rest.total_rows == 600 and rest.made_at == first.made_at
    assert rest.rows[0][0] == len(first.rows) + 1
    assert len(fetch_report(web, "followups", day, day, session=token).rows) == 900, "a new report (offset 0) is built afresh"
