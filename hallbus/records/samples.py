"""Made-up people, cases and appointments for the demo, the tests and the benchmark.

Every ID number made here is invented but has a valid GB 11643 check digit, so it
passes the importer's checks. `python -m hallbus.records.samples --out assets/samples`
writes the sample files relative to a reference moment (default: now).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import random
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hallbus.records import idnumber
from hallbus.records.guide import Guide
from hallbus.records.workdays import WorkCalendar

TZ = ZoneInfo("Asia/Shanghai")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
GIVEN = (
    "伟 芳 娜 秀英 敏 静 丽 强 磊 军 洋 勇 艳 杰 娟 涛 明 超 秀兰 霞 平 刚 桂英 建华 文 华 红 玉兰 "
    "志强 建国 海燕 晓东 雪梅 子涵 浩然 欣怡 宇轩 梓萱 俊杰 思远 佳怡 晨阳 雨桐 一鸣 诗琪"
).split()
REGIONS = ("330106", "330110", "320102", "340104", "360102", "420106", "430102", "510104", "370102", "410105")
HANDLERS = ("李明", "王芳", "张伟", "刘洋", "陈静", "杨磊", "赵敏", "黄强", "周婷", "吴刚", "徐丽", "孙浩")
PICKUP = {"B": "3号窗口", "C": "5号窗口", "D": "7号窗口", "E": "9号窗口", "F": "10号窗口", "G": "11号窗口", "H": "12号窗口", "K": "1号窗口"}


@dataclass(frozen=True)
class Person:
    """A made-up applicant: name and a valid-looking (fictitious) ID number."""

    name: str
    id_number: str


def make_person(rng: random.Random) -> Person:
    """One invented person with a GB 11643-valid ID number."""
    born = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 55))
    first17 = f"{rng.choice(REGIONS)}{born:%Y%m%d}{rng.randrange(0, 1000):03d}"
    return Person(rng.choice(SURNAMES) + rng.choice(GIVEN), idnumber.complete(first17))


def _timeline(
    status: str, accepted: dt.datetime, finished: dt.datetime | None, handler: str, now: dt.datetime
) -> list[dict[str, str]]:
    nodes = [{"node": "受理", "at": accepted.isoformat(timespec="seconds"), "handler": handler, "opinion": "材料齐全，予以受理"}]
    step = min(accepted + dt.timedelta(hours=3), finished or now, now)
    if status in ("reviewing", "correction_needed", "decided", "done", "delivered", "rejected"):
        nodes.append({"node": "审查", "at": step.isoformat(timespec="seconds"), "handler": handler, "opinion": "审查中"})
    if status == "correction_needed":
        nodes.append({"node": "补正告知", "at": min(step + dt.timedelta(hours=1), now).isoformat(timespec="seconds"),
                      "handler": handler, "opinion": "请补充提交经营场所使用证明原件（一次性告知）"})
    if finished is not None:
        label = {"rejected": "不予许可", "decided": "决定", "done": "办结", "delivered": "办结"}[status]
        opinion = "不符合法定条件，不予许可，已告知理由及救济途径" if status == "rejected" else "准予许可"
        nodes.append({"node": label, "at": finished.isoformat(timespec="seconds"), "handler": handler, "opinion": opinion})
        if status == "delivered":
            nodes.append({"node": "送达", "at": min(finished + dt.timedelta(hours=2), now).isoformat(timespec="seconds"),
                          "handler": handler, "opinion": "EMS 邮寄送达，运单号 1180" + str(zlib.crc32(accepted.isoformat().encode()) % 10**9).zfill(9)})
    return nodes


def generate_cases(
    n: int, seed: int = 1, *, now: dt.datetime | None = None, calendar: WorkCalendar | None = None,
    guide: Guide | None = None, people: list[Person] | None = None,
) -> list[dict[str, Any]]:
    """`n` case records in the import format, spread over the guide's items, around `now`.

    About 40% finished (a few late), 45% open with various days left, the rest overdue,
    waiting for correction (补正) or just submitted.
    """
    rng = random.Random(seed)
    now = (now or dt.datetime.now(TZ)).replace(microsecond=0)
    cal = calendar or WorkCalendar()
    items = [i for i in (guide or Guide.load()).items.values() if i.promised_days]
    people = people or [make_person(rng) for _ in range(max(1, n * 2 // 3))]
    out = []
    for k in range(n):
        item = items[k % len(items)] if k < len(items) else rng.choice(items)
        person = rng.choice(people)
        promised = item.promised_days or 1
        handler = rng.choice(HANDLERS)
        r = rng.random()
        if r < 0.40:
            status = rng.choice(("done", "done", "delivered", "decided", "rejected"))
            back = rng.randint(promised, promised + 30)
        elif r < 0.85:
            status = rng.choice(("accepted", "reviewing", "reviewing"))
            back = rng.randint(0, max(0, promised - 1))
        elif r < 0.93:
            status = "reviewing"
            back = promised + rng.randint(1, 4)  # overdue
        elif r < 0.97:
            status = "correction_needed"
            back = rng.randint(0, promised)
        else:
            status = "submitted"
            back = 0
        day = now.date()
        for _ in range(back):
            day = day - dt.timedelta(days=1)
            while not cal.is_workday(day):
                day -= dt.timedelta(days=1)
        accepted = dt.datetime.combine(day, dt.time(rng.randint(8, 16), rng.choice((0, 10, 20, 30, 40, 50))), TZ)
        accepted = min(accepted, now - dt.timedelta(minutes=5))
        due = cal.add_workdays(accepted, promised)
        finished = None
        if status in ("done", "delivered", "decided", "rejected"):
            late = rng.random() < 0.1
            span = (due - accepted) * (1.05 if late else rng.uniform(0.3, 0.95))
            finished = min(accepted + span, now - dt.timedelta(minutes=1))
        case_no = f"ZW{accepted:%Y%m%d}{k + 1:05d}"
        rec = {
            "kind": "case",
            "case_no": case_no,
            "item": item.name,
            "item_code": item.item,
            "applicant_name": person.name,
            "id_number": person.id_number,
            "status": status,
            "accepted_at": "" if status == "submitted" else accepted.isoformat(timespec="seconds"),
            "promised_days": promised,
            "finished_at": finished.isoformat(timespec="seconds") if finished else "",
            "handler": handler,
            "department": item.department,
            "result": "窗口领取" if rng.random() < 0.6 else "邮寄送达",
            "pickup_window": PICKUP.get(item.service or "", "1号窗口"),
            "timeline": [] if status == "submitted" else _timeline(status, accepted, finished, handler, now),
        }
        out.append(rec)
    return out


def generate_appointments(
    n: int, seed: int = 2, *, now: dt.datetime | None = None, services: tuple[str, ...] = ("B", "C", "D", "F", "G", "H"),
    people: list[Person] | None = None, guide: Guide | None = None,
) -> list[dict[str, Any]]:
    """`n` appointments for today and tomorrow in half-hour slots, in the import format."""
    rng = random.Random(seed)
    now = (now or dt.datetime.now(TZ)).replace(second=0, microsecond=0)
    g = guide or Guide.load()
    by_service: dict[str, list[str]] = {}
    for i in g.items.values():
        if i.service:
            by_service.setdefault(i.service, []).append(i.name)
    people = people or [make_person(rng) for _ in range(n)]
    out = []
    for k in range(n):
        service = services[k % len(services)]
        day = now.date() + dt.timedelta(days=0 if k < n * 2 // 3 else 1)
        slot = dt.datetime.combine(day, dt.time(8, 30), TZ) + dt.timedelta(minutes=30 * rng.randrange(0, 16))
        person = people[k % len(people)]
        out.append({
            "kind": "appointment",
            "code": f"YY{day:%Y%m%d}{k + 1:04d}",
            "service": service,
            "item": rng.choice(by_service.get(service, [""])),
            "applicant_name": person.name,
            "id_number": person.id_number,
            "slot_start": slot.isoformat(timespec="minutes"),
            "slot_end": (slot + dt.timedelta(minutes=30)).isoformat(timespec="minutes"),
            "status": "booked",
        })
    return out


CASE_CSV_FIELDS = (
    "case_no", "item", "item_code", "applicant_name", "id_number", "status", "accepted_at", "promised_days",
    "finished_at", "handler", "department", "result", "pickup_window", "timeline",
)
APPT_CSV_FIELDS = ("code", "service", "item", "applicant_name", "id_number", "slot_start", "slot_end", "status")


def write_csv(path: Path, records: list[dict[str, Any]], fields: tuple[str, ...], encoding: str = "utf-8") -> None:
    """Write records as CSV with a header (timeline as JSON text)."""
    with Path(path).open("w", encoding=encoding, newline="") as f:
        w = csv.writer(f)
        w.writerow(fields)
        for rec in records:
            row = []
            for k in fields:
                v = rec.get(k, "")
                row.append(json.dumps(v, ensure_ascii=False) if isinstance(v, list) else v)
            w.writerow(row)


def case_rows_fast(
    n: int, key: bytes, *, seed: int = 7, now: dt.datetime | None = None, calendar: WorkCalendar | None = None,
) -> Iterator[tuple[Any, ...]]:
    """Rows for `rec_cases` straight away (benchmark): ~3 cases per applicant, hashes computed once per person."""
    from hallbus.privacy import id_hash, mask_id, mask_name, verify_hash

    rng = random.Random(seed)
    now = now or dt.datetime.now(TZ)
    cal = calendar or WorkCalendar()
    items = [i for i in Guide.load().items.values() if i.promised_days]
    base = now.timestamp()
    pool: list[tuple[str, str, str, str]] = []
    for k in range(n):
        if k % 3 == 0 or not pool:
            p = make_person(rng)
            pool.append((mask_name(p.name), id_hash(key, p.id_number), mask_id(p.id_number), p.id_number[-6:]))
        masked, h, idm, last6 = pool[-1] if rng.random() < 0.7 else rng.choice(pool)
        item = items[rng.randrange(len(items))]
        accepted_ts = base - rng.randrange(0, 400 * 86400)
        accepted = dt.datetime.fromtimestamp(accepted_ts, TZ)
        due_ts = cal.add_workdays(accepted, item.promised_days or 1).timestamp()
        done = due_ts < base - 86400 * 5 or rng.random() < 0.3
        case_no = f"ZW{accepted:%Y%m%d}{k:07d}"
        timeline = json.dumps([{"node": "受理", "at": accepted.isoformat(timespec="seconds"), "handler": "李明", "opinion": ""}],
                              ensure_ascii=False)
        yield (
            case_no, item.name, item.item, masked, h, idm, verify_hash(key, case_no, last6),
            "done" if done else "reviewing", 0 if done else 1, accepted_ts, item.promised_days, due_ts,
            min(due_ts, base) - 3600 if done else None, "李明", item.department, "窗口领取", "3号窗口", timeline,
            "none", "bench", base,
        )


FAST_COLUMNS = (
    "case_no, item, item_code, applicant_masked, id_hash, id_masked, verify_hash, status, open, accepted_ts, "
    "promised_days, due_ts, finished_ts, handler, department, result, pickup_window, timeline, warned, source, updated_ts"
)


def main(argv: list[str] | None = None) -> int:
    """Write assets/samples/cases.csv, cases.json and appointments.csv relative to a moment."""
    ap = argparse.ArgumentParser(prog="python -m hallbus.records.samples", description=__doc__)
    ap.add_argument("--out", type=Path, default=Path("assets/samples"))
    ap.add_argument("--now", default=None, help="reference moment, ISO-8601 (default: now)")
    ap.add_argument("--cases", type=int, default=50)
    ap.add_argument("--appointments", type=int, default=20)
    args = ap.parse_args(argv)
    now = dt.datetime.fromisoformat(args.now).astimezone(TZ) if args.now else dt.datetime.now(TZ)
    args.out.mkdir(parents=True, exist_ok=True)
    cases = generate_cases(args.cases, 1, now=now)
    write_csv(args.out / "cases.csv", cases, CASE_CSV_FIELDS)
    appts = generate_appointments(args.appointments, 2, now=now)
    write_csv(args.out / "appointments.csv", appts, APPT_CSV_FIELDS)
    (args.out / "records.json").write_text(
        json.dumps({"cases": cases[:5], "appointments": appts[:3]}, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    print(f"wrote {len(cases)} cases and {len(appts)} appointments to {args.out} (reference {now:%Y-%m-%d %H:%M})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
