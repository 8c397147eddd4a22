"""The reports as a controller module: the day's archive at the roll-over, and `report.query` off the writer.

- `close_day`: the roll-over closed a hall day; its figures per group go into `report_days`
  in the same transaction (`hallbus.reports.daybook.archive_day`).
- `report.query` (the web service only): the report is built by the RPC server's worker
  thread (`preparers`) on a read-only connection of its own, never in the writer's batch;
  the handler then only hands the finished rows (at most `REPORT_MAX_ROWS` from `offset`,
  and no more than `REPORT_MAX_BYTES` of them) to the reply; `fetch_report` asks page by page. The controller stays the only writer and is never held up by a report.
  The later pages (`offset` > 0) of a report come from the build its first page made, kept for
  `PAGES_KEEP_S` per caller, kind and range: one report is one snapshot however many pages it
  takes, and a year's 7,000 follow-ups are built once, not once per page of 500.
- Whom for: the request names the console session it serves (`session`), checked in the
  handler against the acting account (`AdminModule.acting`, lent by `lend_acting`):
  managers and supervisors get any report; a `staff` account only its own row of the
  `staff` report and the follow-ups about itself, never a colleague's figures, whatever
  hallweb asks.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection, Mapping
from contextlib import closing
from typing import Any

import msgspec

from hallbus import schemas
from hallbus.controller.module import ControllerModule, ModuleContext, Tx, TxHandler
from hallbus.controller.store import open_readonly
from hallbus.reports.daybook import REPORTS_MIGRATIONS, archive_day
from hallbus.reports.engine import Column, Report, ReportEngine, ReportError
from hallbus.rpc import Request, RpcClient, RpcFault
from hallbus.schemas.admin import AdminAccount
from hallbus.schemas.requests import REPORT_MAX_ROWS

log = logging.getLogger(__name__)

# The rows of one reply at most (encoded): with the columns and the total row the reply stays
# far below the broker's 128 KiB message limit, which would end the controller's own connection.
# 500 follow-ups with 200-character comments would be ~400 KB.
REPORT_MAX_BYTES = 64 * 1024
PAGES_KEEP_S = 60.0  # a report's later pages come from its first page's build this long
PAGES_KEPT = 8  # builds kept at most (the newest)


def _forbidden(node: str | None) -> RpcFault:
    return RpcFault(
        "forbidden", "只有大厅的网页服务可以查询报表。",
        f"Only the hall's web service may ask for reports (the request came from {node or 'an unnamed node'}).",
    )


READS_ALL = ("manager", "supervisor")  # every report; `staff`: only its own (OWN_KINDS)
OWN_KINDS = ("staff", "followups")


def _not_own(kind: str) -> RpcFault:
    return RpcFault(
        "forbidden", f"工作人员账号只能查看本人的数据，不能查看“{kind[:40]}”报表。",
        f"A staff account sees only its own figures, not the “{kind[:40]}” report.",
    )


class ReportsModule(ControllerModule):
    """`report_days` (the archive of each hall day's figures) and `report.query`."""

    name = "reports"
    migrations = REPORTS_MIGRATIONS
    takes_acting = True  # `lend_acting` gives it the admin module's session check

    def __init__(self, ctx: ModuleContext) -> None:
        self.ctx = ctx
        self._built: dict[tuple[str, str, str, str], tuple[float, Report]] = {}  # for the later pages
        self._lock = threading.Lock()  # preparers may run on more than one worker thread
        self.acting: Callable[[Tx, str, Collection[str] | None], AdminAccount] | None = None

    def close_day(self, tx: Tx, day: str) -> None:
        """Archive the figures of the day just closed, per service, window and staff member."""
        n = archive_day(tx.conn, day, tx.now_iso)
        log.info("day %s archived for reports: %d rows", day, n)

    def handlers(self) -> Mapping[str, TxHandler]:
        """`report.query`."""
        return {"report.query": self.query}

    def preparers(self) -> Mapping[str, Callable[[Request], None]]:
        """The report is built on the RPC server's worker thread, on its own read-only connection."""
        return {"report.query": self.prepare}

    def _allowed(self, req: Request) -> bool:
        node = self.ctx.config.node(req.caller) if req.caller else None
        return node is not None and node.role == "web"

    def prepare(self, req: Request) -> None:
        """Build the report (worker thread) and leave it, or the reason it cannot be made, in `req.prepared`."""
        b = req.body
        assert isinstance(b, schemas.ReportQueryReq)
        if not self._allowed(req):
            req.prepared = {"fault": _forbidden(req.caller)}
            return
        key = (req.caller or "", b.kind, b.date_from, b.date_to)
        if b.offset > 0:
            with self._lock:
                kept = self._built.get(key)
            if kept is not None and time.monotonic() - kept[0] < PAGES_KEEP_S:
                req.prepared = {"report": kept[1]}
                return
        try:
            with closing(open_readonly(self.ctx.data_dir)) as conn:
                report = ReportEngine(conn, self.ctx.config).build(b.kind, b.date_from, b.date_to, self.ctx.clock())
        except ReportError as err:
            req.prepared = {"fault": err}
            return
        with self._lock:
            self._built.pop(key, None)
            self._built[key] = (time.monotonic(), report)
            while len(self._built) > PAGES_KEPT:
                del self._built[next(iter(self._built))]  # the oldest
        req.prepared = {"report": report}

    def query(self, req: Request, tx: Tx) -> Mapping[str, Any]:
        """Hand over the report the worker built: `limit` rows (at most REPORT_MAX_ROWS) from `offset`."""
        b = req.body
        assert isinstance(b, schemas.ReportQueryReq)
        if not self._allowed(req):
            raise _forbidden(req.caller)
        if self.acting is None:  # a controller without the console's module knows no sessions
            raise RpcFault("forbidden", "此大厅服务器未启用管理后台。", "This hall controller has no console sessions.")
        acc = self.acting(tx, b.session, None)
        if acc.role not in READS_ALL and b.kind not in OWN_KINDS:
            raise _not_own(b.kind)
        got = req.prepared or {}
        if "fault" in got:
            raise got["fault"]
        report = got.get("report")
        if not isinstance(report, Report):  # no RPC server in front ran the preparation: never built in the writer
            raise RpcFault("busy", "报表暂时无法生成，请稍后再试。", "The report could not be made just now; try again.")
        if b.offset < 0 or not 1 <= b.limit <= REPORT_MAX_ROWS:
            raise RpcFault(
                "bad_request", f"offset 不能为负，limit 应在 1 到 {REPORT_MAX_ROWS} 之间。",
                f"offset must not be negative and limit must be 1 to {REPORT_MAX_ROWS}.",
            )
        if acc.role not in READS_ALL:
            report = own_only(report, acc.id, tx)
        return report_reply(report, b.offset, b.limit)


def own_only(report: Report, staff_id: str, tx: Tx) -> Report:
    """The part of a `staff` or `followups` report about one staff member: their row, their follow-ups."""
    if report.kind == "staff":
        rows = [r for r in report.rows if r and r[0] == staff_id]
        return Report(report.kind, report.date_from, report.date_to, report.columns, rows, None, report.made_at)
    mine = {int(i) for (i,) in tx.execute("SELECT id FROM rec_followups WHERE staff = ?", (staff_id,))}
    rows = [r for r in report.rows if r and r[0] in mine]
    return Report(report.kind, report.date_from, report.date_to, report.columns, rows, None, report.made_at)


def report_reply(report: Report, offset: int = 0, limit: int = REPORT_MAX_ROWS) -> dict[str, Any]:
    """A report as `report.query`'s reply data (`ReportReply`): `limit` rows from `offset`, fewer when
    they would pass REPORT_MAX_BYTES (at least one row, while any is left)."""
    rows: list[list[Any]] = []
    size = 0
    for row in report.rows[offset:offset + limit]:
        size += len(msgspec.json.encode(row)) + 1
        if rows and size > REPORT_MAX_BYTES:
            break
        rows.append(row)
    return {
        "kind": report.kind, "from": report.date_from, "to": report.date_to,
        "columns": [{"key": c.key, "zh": c.zh, "en": c.en, "kind": c.kind} for c in report.columns],
        "rows": rows, "offset": offset, "total_rows": len(report.rows),
        "total": report.total, "made_at": report.made_at,
    }


def report_of_reply(data: schemas.ReportReply, rows: list[list[Any]]) -> Report:
    """The Report a `report.query` reply describes, with all its rows (gathered page by page)."""
    columns = [Column(c.key, c.zh, c.en, c.kind) for c in data.columns]
    return Report(data.kind, data.date_from, data.date_to, columns, rows, data.total, data.made_at)


def fetch_report(
    rpc: RpcClient, kind: str, date_from: str, date_to: str, *, session: str, client: str = "", timeout: float = 30.0
) -> Report:
    """A whole report over the bus for a console session (the web service's way): `report.query` page by page;
    raises RpcFault."""
    rows: list[list[Any]] = []
    while True:
        got = rpc.call_typed(schemas.REPORT_QUERY, {"kind": kind, "from": date_from, "to": date_to, "session": session,
                                                    "client": client, "offset": len(rows)}, timeout=timeout)
        rows += got.rows
        if not got.rows or len(rows) >= got.total_rows:
            return report_of_reply(got, rows)
