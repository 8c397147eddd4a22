"""`hallbus tickets`, `hallbus stats`, `hallbus windows`: read the hall database (read-only, beside a running controller).

`hallbus stats --from D [--to D] [--kind KIND|all] [--xlsx FILE]` gives the reports of SPEC 12.2
over a day range (`hallbus.reports`), as text, JSON or an XLSX file.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sqlite3
import sys
from typing import Any

import msgspec

from hallbus import schemas
from hallbus.cli_common import Context
from hallbus.controller.clock import HallTime, system_clock
from hallbus.controller.module import Tx
from hallbus.controller.queue import QueueModule
from hallbus.controller.staff_directory import effective_staff
from hallbus.controller.store import StoreError, open_readonly
from hallbus.controller.ticket_ids import ticket_key
from hallbus.records import modules as records
from hallbus.reports.engine import KIND_NAMES, KINDS, ReportEngine, ReportError
from hallbus.reports.xlsx import write_xlsx
from hallbus.topics import Topics

STATUS_ZH = {
    "waiting": "等候", "called": "已叫号", "held": "挂起", "done": "办结", "no_show": "过号", "expired": "过期",
}


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    """Options of the three read-only admin commands."""
    if name in ("tickets", "stats"):
        parser.add_argument("--date", default=None, help="hall day YYYY-MM-DD (default: today)")
    if name == "stats":
        parser.add_argument("--from", dest="date_from", default=None,
                            help="a report over a day range from this hall day YYYY-MM-DD (SPEC 12.2)")
        parser.add_argument("--to", dest="date_to", default=None, help="the range's last day (default: today)")
        parser.add_argument("--kind", default="daily", choices=[*KINDS, "all"],
                            help="the report: daily, services, windows, staff, ratings, followups, or all of them")
        parser.add_argument("--xlsx", default=None, metavar="FILE", help="write the report(s) to an XLSX file")
    parser.set_defaults(func={"tickets": cmd_tickets, "stats": cmd_stats, "windows": cmd_windows}[name])


def _open(ctx: Context) -> sqlite3.Connection | None:
    try:
        conn = open_readonly(ctx.data_dir)
        # A database made only by an older `hallbus cases import` (before the one migration runner) has no queue tables.
        if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'days'").fetchone() is None:
            conn.close()
            print(f"hallbus: the hall database in {ctx.data_dir} has no queue yet: "
                  "start `hallbus serve` with this --data once", file=sys.stderr)
            return None
        return conn
    except (StoreError, sqlite3.Error) as err:
        print(f"hallbus: {err}", file=sys.stderr)
        return None


def _day(ctx: Context, text: str | None) -> str | None:
    if text is None:
        return HallTime.of(ctx.config).today(system_clock(ctx.config.hall.timezone)).isoformat()
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        print(f"hallbus: --date must look like 2026-03-03, got {text!r}", file=sys.stderr)
        return None


def _json(obj: Any) -> str:
    return msgspec.json.encode(obj).decode()


def cmd_tickets(args: argparse.Namespace, ctx: Context) -> int:
    """The day's tickets; with --json one object per line (`number`, `service`, `status`, `issued_at`, ...)."""
    day = _day(ctx, args.date)
    conn = _open(ctx)
    if day is None or conn is None:
        return 2
    with conn:
        rows = conn.execute(
            "SELECT number, service, status, issued_at, id, channel, COALESCE(window, target_window) "
            "FROM tickets WHERE day = ? ORDER BY issued_ts, rowid",
            (day,),
        ).fetchall()
    out = sys.stdout
    if ctx.json:
        for number, service, status, issued_at, tid, channel, window in rows:
            out.write(_json({
                "number": number, "service": service, "status": status, "issued_at": issued_at,
                "ticket_id": tid, "channel": channel, "window": window,
            }) + "\n")
        return 0
    out.write(f"{day}：共 {len(rows)} 个号 / {len(rows)} tickets\n")
    for number, service, status, issued_at, _tid, channel, window in rows:
        where = f"  {window}号窗口" if window else ""
        out.write(f"{number:6} {service}  {STATUS_ZH.get(status, status):4} {issued_at[11:19]}  {channel}{where}\n")
    return 0


def cmd_stats(args: argparse.Namespace, ctx: Context) -> int:
    """The figures of today (computed) or of an archived day; with --from/--to the reports over a range."""
    if args.date_from is not None or args.date_to is not None or args.xlsx is not None:
        return _reports(args, ctx)
    day = _day(ctx, args.date)
    conn = _open(ctx)
    if day is None or conn is None:
        return 2
    with conn:
        archived = conn.execute("SELECT figures FROM days WHERE day = ?", (day,)).fetchone()
        if archived is not None:
            stats: dict[str, Any] = dict(msgspec.json.decode(archived[0]))
        else:
            queue = QueueModule(ctx.config)
            now = system_clock(ctx.config.hall.timezone)()
            tx = Tx(conn, config=ctx.config, topics=Topics(ctx.config.hall.id), hall_key=b"", now=now)
            stats = {"date": day}
            queue.contribute_stats(tx, stats)
            records.contribute_stats(ctx.config, tx, stats)  # cases, ratings, follow-ups
            stats = schemas.to_builtins(msgspec.convert(stats, schemas.StatsToday)) | stats
            stats.pop("ts", None)
            stats.pop("v", None)
    if ctx.json:
        sys.stdout.write(_json(stats) + "\n")
        return 0
    labels = [
        ("visitors", "接待人数 visitors"), ("tickets_issued", "取号 tickets"), ("served", "办结 served"),
        ("no_show", "过号 no-show"), ("expired", "过期 expired"), ("avg_wait_s", "平均等候 avg wait (s)"),
        ("avg_service_s", "平均办理 avg service (s)"), ("ratings", "评价 ratings"),
        ("satisfaction_rate", "满意率 satisfaction"), ("cases_done", "办结办件 cases done"),
        ("on_time_rate", "按时办结率 on-time rate"), ("overdue_cases", "超期办件 overdue cases"),
        ("followups_open", "差评整改未结 follow-ups open"),
    ]
    sys.stdout.write(f"{stats.get('date', day)}\n")
    for key, label in labels:
        if key in stats:
            sys.stdout.write(f"  {label}: {stats[key]}\n")
    return 0


def _reports(args: argparse.Namespace, ctx: Context) -> int:
    """`hallbus stats --from D --to D --kind K [--xlsx FILE]`: reports over a day range."""
    today = _day(ctx, None) or ""
    kinds = list(KINDS) if args.kind == "all" else [args.kind]
    conn = _open(ctx)
    if conn is None:
        return 2
    try:
        engine = ReportEngine(conn, ctx.config)
        now = system_clock(ctx.config.hall.timezone)()
        reports = [engine.build(k, args.date_from or today, args.date_to or today, now) for k in kinds]
    except ReportError as err:
        print(f"hallbus: {err.message} / {err.message_en}", file=sys.stderr)
        return 2
    finally:
        conn.close()
    if args.xlsx:
        write_xlsx(args.xlsx, reports, ctx.config.hall.name)
        print(f"已写入 {args.xlsx}（{'、'.join(KIND_NAMES[k][0] for k in kinds)}，{reports[0].date_from} 至 "
              f"{reports[0].date_to}） / wrote {args.xlsx}")
        return 0
    for rep in reports:
        if ctx.json:
            sys.stdout.write(_json({"kind": rep.kind, "from": rep.date_from, "to": rep.date_to,
                                    "rows": rep.as_dicts(), "total": rep.total_dict()}) + "\n")
            continue
        sys.stdout.write(f"{KIND_NAMES[rep.kind][0]} {rep.date_from} 至 {rep.date_to}\n")
        sys.stdout.write("\t".join(c.zh for c in rep.columns) + "\n")
        for row in [*rep.rows, *([rep.total] if rep.total is not None else [])]:
            sys.stdout.write("\t".join(_cell(v, c.kind) for v, c in zip(row, rep.columns, strict=True)) + "\n")
    return 0


def _cell(value: Any, kind: str) -> str:
    if value is None:
        return "-"
    if kind == "rate":
        return f"{value:.2%}"
    return str(value)


def cmd_windows(args: argparse.Namespace, ctx: Context) -> int:
    """Every window: status, who sits there, the current ticket."""
    conn = _open(ctx)
    if conn is None:
        return 2
    with conn:
        rows = {
            str(r[0]): r
            for r in conn.execute("SELECT id, status, staff, pause_reason, since, ticket_id FROM windows")
        }
        staff = {s.id: s for s in effective_staff(conn, ctx.config)}
    for win in ctx.config.windows:
        r = rows.get(win.id)
        status = str(r[1]) if r else "closed"
        sid = r[2] if r else None
        if sid is None:
            status = "closed"
        elif r is not None and r[5] is not None:
            status = "serving"
        key = ticket_key(r[5]) if r is not None and r[5] is not None else None
        item = {
            "window": win.id, "name": win.name, "status": status, "services": win.services,
            "staff": sid, "staff_name": staff[sid].name if sid in staff else None,
            "ticket": key[1] if key else None, "pause_reason": r[3] if r and status == "paused" else None,
            "since": r[4] if r else None,
        }
        if ctx.json:
            sys.stdout.write(_json(item) + "\n")
        else:
            who = f"{item['staff_name']}({sid})" if sid else "-"
            cur = item["ticket"] or ""
            sys.stdout.write(f"{win.name:8} {status:8} {who:16} {cur:6} {','.join(win.services)}\n")
    return 0
