"""`hallbus cases ...` and `hallbus ratings ...`: imports, overdue cases and bad-rating follow-ups.

They work on the controller's database directly (WAL with a busy timeout, so a running
controller only delays them briefly); the controller notices the changes on its next scan.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

from hallbus.cli_common import Context
from hallbus.controller.app import open_store
from hallbus.controller.clock import HallTime
from hallbus.privacy import load_hall_key
from hallbus.records import receipt
from hallbus.records.cases import CaseBook
from hallbus.records.followups import FollowupError, get_followup, list_followups, move_followup
from hallbus.records.guide import Guide
from hallbus.records.importer import Importer, ImportFault, ImportReport
from hallbus.records.ratings import STATES, rating_figures
from hallbus.records.source import FileSource, HttpSource, RecordSource
from hallbus.records.workdays import WorkCalendar


def _common(p: argparse.ArgumentParser) -> None:
    # Repeated on each sub-command so `hallbus cases overdue --json` works; SUPPRESS keeps
    # the value given before the sub-command when it is not repeated after it.
    p.add_argument("--config", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--broker", help=argparse.SUPPRESS)
    p.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--json", action="store_true", help="JSON on stdout")
    p.add_argument("-v", "--verbose", action="store_true", help=argparse.SUPPRESS)


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    """Sub-commands of `hallbus cases` and `hallbus ratings`."""
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    sub.required = True
    if name == "cases":
        p = sub.add_parser("import", help="import cases/appointments from CSV or JSON", argument_default=argparse.SUPPRESS)
        p.add_argument("file", type=Path)
        p.add_argument("--encoding", help="file encoding (default: detect UTF-8 or GBK/GB18030)")
        p.add_argument("--kind", choices=("case", "appointment"), help="kind of records when the file has no kind column")
        _common(p)
        p.set_defaults(func=cmd_import)
        p = sub.add_parser("sync", help="import from an upstream HTTP JSON platform", argument_default=argparse.SUPPRESS)
        p.add_argument("--mapping", type=Path, required=True, help="JSON file: url, items_path, fields, values")
        p.add_argument("--url", help="override the mapping's url")
        _common(p)
        p.set_defaults(func=cmd_sync)
        p = sub.add_parser("overdue", help="open cases past their deadline", argument_default=argparse.SUPPRESS)
        _common(p)
        p.set_defaults(func=cmd_overdue)
        p = sub.add_parser("receipt", help="the receipt QR text of a case", argument_default=argparse.SUPPRESS)
        p.add_argument("case_no")
        _common(p)
        p.set_defaults(func=cmd_receipt)
    else:
        sub.required = False  # plain `hallbus ratings` lists the follow-ups
        parser.set_defaults(func=cmd_ratings_list)
        p = sub.add_parser("list", help="follow-up tasks of bad ratings", argument_default=argparse.SUPPRESS)
        p.add_argument("--state", choices=STATES)
        _common(p)
        p.set_defaults(func=cmd_ratings_list)
        p = sub.add_parser("show", help="one follow-up task with its history", argument_default=argparse.SUPPRESS)
        p.add_argument("id", type=int)
        _common(p)
        p.set_defaults(func=cmd_ratings_show)
        p = sub.add_parser("move", help="move a follow-up task to a new state", argument_default=argparse.SUPPRESS)
        p.add_argument("id", type=int)
        p.add_argument("state", choices=STATES)
        p.add_argument("--note", required=True, help="what was done (recorded in the history)")
        p.add_argument("--by", help="who did it")
        _common(p)
        p.set_defaults(func=cmd_ratings_move)
        p = sub.add_parser("stats", help="today's rating figures per window and staff", argument_default=argparse.SUPPRESS)
        _common(p)
        p.set_defaults(func=cmd_ratings_stats)


def _out(ctx: Context, args: argparse.Namespace) -> bool:
    return bool(ctx.json or getattr(args, "json", False))


def _print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")


def _fail(ctx: Context, args: argparse.Namespace, code: str, message: str, message_en: str, rc: int = 2) -> int:
    if _out(ctx, args):
        _print_json({"ok": False, "error": {"code": code, "message": message, "message_en": message_en}})
    else:
        print(f"错误：{message}\nerror: {message_en}", file=sys.stderr)
    return rc


def _importer(ctx: Context, source: str) -> Importer:
    cfg = ctx.config
    key = load_hall_key(cfg.resolve(cfg.privacy.key_file), create=True)
    try:
        days = Guide.load().promised_days()
    except Exception:  # the guide is a help here, never a reason to refuse an import
        days = {}
    return Importer(cfg, key, WorkCalendar.from_config(cfg.calendar), HallTime.of(cfg), source, days)


def _run_import(ctx: Context, args: argparse.Namespace, src: RecordSource, kind: str | None) -> int:
    importer = _importer(ctx, src.name)
    report = ImportReport(source=src.name)
    try:
        records = src.records()
    except ImportFault as err:
        return _fail(ctx, args, err.code, err.message, err.message_en)
    report.encoding = getattr(src, "used_encoding", None)
    store = open_store(ctx.data_dir)
    conn = store.conn
    try:
        now = dt.datetime.now(importer.clock.tz)
        importer.run(conn, records, now=now, kind=kind, where=src.where, report=report)
    finally:
        store.close()
    if _out(ctx, args):
        _print_json({"ok": not report.errors, **report.to_json()})
    else:
        print(
            f"{src.name}: 办件 新增 {report.cases_added}、更新 {report.cases_updated}；"
            f"预约 新增 {report.appointments_added}、更新 {report.appointments_updated}；"
            f"错误 {len(report.errors)} 条"
            + (f"（编码 {report.encoding}）" if report.encoding else "")
        )
        for e in report.errors:
            print(f"  {e['message']}  [{e['code']}]", file=sys.stderr)
    return 1 if report.errors else 0


def cmd_import(args: argparse.Namespace, ctx: Context) -> int:
    """`hallbus cases import FILE`."""
    src = FileSource(args.file, getattr(args, "encoding", None))
    return _run_import(ctx, args, src, getattr(args, "kind", None))


def cmd_sync(args: argparse.Namespace, ctx: Context) -> int:
    """`hallbus cases sync --mapping FILE`: one pull from the upstream platform."""
    try:
        src = HttpSource.from_file(args.mapping, getattr(args, "url", None))
    except ImportFault as err:
        return _fail(ctx, args, err.code, err.message, err.message_en)
    return _run_import(ctx, args, src, src.kind)


def cmd_overdue(args: argparse.Namespace, ctx: Context) -> int:
    """`hallbus cases overdue`: open cases past their deadline, most overdue first."""
    cfg = ctx.config
    clock = HallTime.of(cfg)
    book = CaseBook(WorkCalendar.from_config(cfg.calendar), clock)
    store = open_store(ctx.data_dir)
    conn = store.conn
    try:
        rows = book.overdue(conn, dt.datetime.now(clock.tz))
    finally:
        store.close()
    if _out(ctx, args):
        for r in rows:
            _print_json(r)
        return 0
    if not rows:
        print("没有超期办件。")
        return 0
    print(f"超期办件 {len(rows)} 件：")
    for r in rows:
        print(
            f"  {r['case_no']}  {r['item']}  承办人 {r['handler'] or '-'}  {r['department'] or '-'}  "
            f"到期 {r['due_at']}  超期 {-r['days_left']} 个工作日  状态 {r['status']}"
        )
    return 0


def cmd_receipt(args: argparse.Namespace, ctx: Context) -> int:
    """`hallbus cases receipt CASE_NO`: the QR text to print on its acceptance receipt."""
    key = load_hall_key(ctx.config.resolve(ctx.config.privacy.key_file), create=True)
    text = receipt.receipt_qr(key, args.case_no)
    if _out(ctx, args):
        _print_json({"case_no": args.case_no, "qr": text})
    else:
        print(text)
    return 0


def _followup_line(f: dict[str, Any]) -> str:
    return (
        f"#{f['id']:<4} {f['state_name']:<4} {f['level_name']:<5} 窗口 {f['window'] or '-':<3} "
        f"人员 {f['staff'] or '-':<5} 到期 {f['due_at']}  原因 {'、'.join(f['reasons'])}"
    )


def cmd_ratings_list(args: argparse.Namespace, ctx: Context) -> int:
    """`hallbus ratings list`."""
    clock = HallTime.of(ctx.config)
    store = open_store(ctx.data_dir)
    conn = store.conn
    try:
        rows = list_followups(conn, clock, getattr(args, "state", None))
    finally:
        store.close()
    if _out(ctx, args):
        for r in rows:
            _print_json(r)
    else:
        print(f"整改任务 {len(rows)} 件" + ("：" if rows else "。"))
        for r in rows:
            print("  " + _followup_line(r))
    return 0


def cmd_ratings_show(args: argparse.Namespace, ctx: Context) -> int:
    """`hallbus ratings show ID`."""
    store = open_store(ctx.data_dir)
    conn = store.conn
    try:
        f = get_followup(conn, HallTime.of(ctx.config), args.id)
    except FollowupError as err:
        return _fail(ctx, args, err.code, err.message, err.message_en, 1)
    finally:
        store.close()
    if _out(ctx, args):
        _print_json(f)
    else:
        print(_followup_line(f))
        if f["comment"]:
            print(f"  意见：{f['comment']}")
        for h in f["history"]:
            print(f"  {h['at']}  {h['state']}  {h['note']}  ({h['by']})")
    return 0


def cmd_ratings_move(args: argparse.Namespace, ctx: Context) -> int:
    """`hallbus ratings move ID STATE --note TEXT`."""
    clock = HallTime.of(ctx.config)
    store = open_store(ctx.data_dir)
    conn = store.conn
    try:
        f = move_followup(
            conn, clock, args.id, args.state, args.note, dt.datetime.now(clock.tz), getattr(args, "by", None) or "cli"
        )
    except FollowupError as err:
        return _fail(ctx, args, err.code, err.message, err.message_en, 1)
    finally:
        store.close()
    if _out(ctx, args):
        _print_json(f)
    else:
        print("已更新：" + _followup_line(f))
    return 0


def cmd_ratings_stats(args: argparse.Namespace, ctx: Context) -> int:
    """`hallbus ratings stats`: today's rating figures (also part of `hallbus stats`)."""
    clock = HallTime.of(ctx.config)
    now = dt.datetime.now(clock.tz)
    store = open_store(ctx.data_dir)
    conn = store.conn
    try:
        figs = rating_figures(conn, clock.business_day(now).isoformat(), now.timestamp())
    finally:
        store.close()
    if _out(ctx, args):
        _print_json(figs)
        return 0
    rate = figs["satisfaction_rate"]
    print(f"今日评价 {figs['ratings']} 次，满意率 {'-' if rate is None else f'{rate:.1%}'}；"
          f"整改任务未办结 {figs['followups_open']} 件（超期 {figs['followups_overdue']} 件）")
    for title, key in (("窗口", "ratings_by_window"), ("人员", "ratings_by_staff")):
        for k, v in figs[key].items():
            r = v["satisfaction_rate"]
            print(f"  {title} {k}: {v['ratings']} 次，满意率 {'-' if r is None else f'{r:.1%}'}，平均 {v['avg_level']}")
    return 0
