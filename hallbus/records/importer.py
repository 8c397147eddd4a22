"""Import cases and appointments from CSV/JSON files or an upstream platform (docs/import-format.md).

Every record is checked on its own: a bad record is reported with its line (CSV) or
record number (JSON) and the field at fault, and the good ones are kept. A record is one
write of the cases or appointments module (`save_case`, `save_appointment`), so it is
written whole or not at all. The
full ID number of a record becomes its HMAC (`id_hash`), a masked form and the HMAC of
case number + last 6 (`verify_hash`) right here; it is never stored or echoed, not even
in an error message.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hallbus.config import HallConfig
from hallbus.controller.clock import HallTime
from hallbus.privacy import id_hash, mask_id, mask_name, normalise_id, verify_hash
from hallbus.records import idnumber
from hallbus.records.appointments import AppointmentRecord, save_appointment
from hallbus.records.cases import OPEN_STATUSES, STATUSES, CaseRecord, save_case
from hallbus.records.workdays import WorkCalendar

CASE_NO_RE = re.compile(r"^[A-Za-z0-9-]{4,40}$")
CHUNK = 1000

# Chinese column names as found in platform exports -> our field names.
ALIASES: dict[str, str] = {
    "类型": "kind",
    "办件编号": "case_no",
    "办件号": "case_no",
    "受理编号": "case_no",
    "事项名称": "item",
    "事项编码": "item_code",
    "申请人": "applicant_name",
    "申请人姓名": "applicant_name",
    "证件号码": "id_number",
    "身份证号码": "id_number",
    "办件状态": "status",
    "状态": "status",
    "受理时间": "accepted_at",
    "承诺时限": "promised_days",
    "承诺办结时限": "promised_days",
    "到期时间": "due_at",
    "办结时间": "finished_at",
    "承办人": "handler",
    "经办人": "handler",
    "承办部门": "department",
    "部门": "department",
    "结果送达方式": "result",
    "取件窗口": "pickup_window",
    "办理过程": "timeline",
    "预约号": "code",
    "预约码": "code",
    "业务": "service",
    "预约开始": "slot_start",
    "预约结束": "slot_end",
    "可提前分钟": "early_min",
    "可迟到分钟": "late_min",
}

STATUS_ALIASES: dict[str, str] = {
    "已提交": "submitted",
    "待受理": "submitted",
    "已受理": "accepted",
    "受理": "accepted",
    "审查中": "reviewing",
    "审核中": "reviewing",
    "办理中": "reviewing",
    "已决定": "decided",
    "已办结": "done",
    "办结": "done",
    "已送达": "delivered",
    "已领取": "delivered",
    "补正": "correction_needed",
    "待补正": "correction_needed",
    "补齐补正": "correction_needed",
    "不予受理": "rejected",
    "不予许可": "rejected",
    "已退回": "rejected",
}

KIND_ALIASES = {"case": "case", "办件": "case", "appointment": "appointment", "预约": "appointment"}
APPT_STATUSES = ("booked", "cancelled")


class ImportFault(Exception):
    """A file that cannot be read at all (encoding, format): nothing was imported."""

    def __init__(self, code: str, message: str, message_en: str, line: int | None = None) -> None:
        super().__init__(message_en)
        self.code = code
        self.message = message
        self.message_en = message_en
        self.line = line


class RowError(Exception):
    """One bad record: where, which field, a code and a message (never the value of an ID number)."""

    def __init__(self, field_: str, code: str, message: str, message_en: str) -> None:
        super().__init__(message_en)
        self.field = field_
        self.code = code
        self.message = message
        self.message_en = message_en


@dataclass
class ImportReport:
    """What an import did."""

    source: str = ""
    encoding: str | None = None
    cases_added: int = 0
    cases_updated: int = 0
    appointments_added: int = 0
    appointments_updated: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def imported(self) -> int:
        """Records written."""
        return self.cases_added + self.cases_updated + self.appointments_added + self.appointments_updated

    def to_json(self) -> dict[str, Any]:
        """As printed by `hallbus cases import --json`."""
        return {
            "source": self.source,
            "encoding": self.encoding,
            "cases_added": self.cases_added,
            "cases_updated": self.cases_updated,
            "appointments_added": self.appointments_added,
            "appointments_updated": self.appointments_updated,
            "bad_rows": len(self.errors),
            "errors": self.errors,
        }


# --- reading files ---------------------------------------------------------------------


def decode_bytes(data: bytes, encoding: str | None = None) -> tuple[str, str]:
    """(text, encoding used): the given encoding, else UTF-8 (with or without BOM), else GB18030 (GBK)."""
    candidates = [encoding] if encoding else ["utf-8-sig", "gb18030"]
    first_err: UnicodeDecodeError | None = None
    for enc in candidates:
        try:
            return data.decode(enc), enc
        except LookupError as err:
            raise ImportFault(
                "bad_encoding", f"不认识的文件编码：{enc}。", f"Unknown encoding: {enc}."
            ) from err
        except UnicodeDecodeError as err:
            first_err = first_err or err
    assert first_err is not None
    line = data.count(b"\n", 0, first_err.start) + 1
    tried = "、".join(c for c in candidates if c)
    raise ImportFault(
        "bad_encoding",
        f"文件第 {line} 行不是 {tried} 编码的文字，请用 --encoding 指定正确的编码（如 gbk、utf-8）。",
        f"Line {line} is not valid {', '.join(c for c in candidates if c)} text; give the right one with --encoding (e.g. gbk, utf-8).",
        line,
    )


def read_records(path: Path, encoding: str | None = None) -> tuple[str, list[tuple[int, dict[str, Any]]]]:
    """(encoding, [(line or record number, record)]) from a CSV or JSON file."""
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        raise ImportFault("file_unreadable", f"无法读取文件 {path}：{err.strerror}。", f"Cannot read {path}: {err}") from err
    text, used = decode_bytes(data, encoding)
    stripped = text.lstrip()
    if path.suffix.lower() == ".json" or stripped.startswith(("[", "{")):
        return used, parse_json(text)
    return used, parse_csv(text)


def parse_csv(text: str) -> list[tuple[int, dict[str, Any]]]:
    """Records of a CSV text with a header row; each with the line number it starts on."""
    sample = text[:4096]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        header = next(reader)
    except StopIteration as err:
        raise ImportFault("empty_file", "文件是空的。", "The file is empty.") from err
    names = [ALIASES.get(h.strip(), h.strip().lower()) for h in header]
    out: list[tuple[int, dict[str, Any]]] = []
    line = reader.line_num + 1
    for row in reader:
        if any(cell.strip() for cell in row):
            rec: dict[str, Any] = {}
            for i, cell in enumerate(row):
                key = names[i] if i < len(names) else f"_extra{i}"
                rec[key] = cell.strip()
            if len(row) > len(names):
                rec["_too_many_columns"] = len(row)
            out.append((line, rec))
        line = reader.line_num + 1
    return out


def parse_json(text: str) -> list[tuple[int, dict[str, Any]]]:
    """Records of a JSON list, or of `{"cases": [...], "appointments": [...]}`; numbered from 1."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as err:
        raise ImportFault(
            "bad_json", f"JSON 格式错误（第 {err.lineno} 行）：{err.msg}。", f"Invalid JSON at line {err.lineno}: {err.msg}.", err.lineno
        ) from err
    items: list[Any] = []
    if isinstance(doc, list):
        items = doc
    elif isinstance(doc, dict):
        for key, kind in (("cases", "case"), ("appointments", "appointment")):
            for rec in doc.get(key) or []:
                items.append({"kind": kind, **rec} if isinstance(rec, dict) else rec)
        if not items and "case_no" in doc:
            items = [doc]
    else:
        raise ImportFault("bad_json", "JSON 应为记录列表。", "The JSON must be a list of records.")
    out: list[tuple[int, dict[str, Any]]] = []
    for i, rec in enumerate(items, start=1):
        if isinstance(rec, dict):
            out.append((i, {ALIASES.get(str(k), str(k)): v for k, v in rec.items()}))
        else:
            out.append((i, {"_not_an_object": True}))
    return out


# --- one record -------------------------------------------------------------------------


def _text(rec: Mapping[str, Any], key: str) -> str:
    v = rec.get(key)
    if v is None:
        return ""
    return v.strip() if isinstance(v, str) else str(v)


def _required(rec: Mapping[str, Any], key: str, zh: str) -> str:
    v = _text(rec, key)
    if not v:
        raise RowError(key, "missing_field", f"缺少{zh}（{key}）。", f"{key} is missing.")
    return v


@dataclass
class Importer:
    """Checks records and writes them into the records' tables."""

    config: HallConfig
    hall_key: bytes
    calendar: WorkCalendar
    clock: HallTime
    source: str = "import"
    item_days: Mapping[str, int] = field(default_factory=dict)  # guide item id or name -> promised days

    def moment(self, rec: Mapping[str, Any], key: str, zh: str, *, required: bool = False) -> dt.datetime | None:
        """A date-time field in the hall's zone."""
        v = _text(rec, key)
        if not v:
            if required:
                raise RowError(key, "missing_field", f"缺少{zh}（{key}）。", f"{key} is missing.")
            return None
        try:
            return self.clock.parse(v)
        except ValueError as err:
            raise RowError(
                key, "bad_date",
                f"{zh}（{key}）不是有效的时间，应为 2025-03-01 09:30 这样的格式。",
                f"{key} is not a valid date-time; expected e.g. 2025-03-01 09:30.",
            ) from err

    def _int(self, rec: Mapping[str, Any], key: str, zh: str, lo: int, hi: int) -> int | None:
        v = _text(rec, key)
        if not v:
            return None
        try:
            n = int(float(v)) if re.fullmatch(r"\d+(\.0+)?", v) else int(v)
        except ValueError as err:
            raise RowError(key, "bad_number", f"{zh}（{key}）应为整数。", f"{key} must be a whole number.") from err
        if not lo <= n <= hi:
            raise RowError(key, "bad_number", f"{zh}（{key}）应在 {lo} 到 {hi} 之间。", f"{key} must be between {lo} and {hi}.")
        return n

    def identity(self, rec: Mapping[str, Any], case_no: str | None) -> tuple[str | None, str | None, str | None]:
        """(id_hash, id_masked, verify_hash) from the record's ID number; the number itself goes no further."""
        raw = _text(rec, "id_number")
        if not raw:
            return None, None, None
        number = normalise_id(raw)
        if not idnumber.is_valid(number):
            raise RowError(
                "id_number", "bad_id_number",
                "证件号码无效（位数或校验码不对），请核对。",
                "The ID number is not valid (length or GB 11643 check digit).",
            )
        vh = verify_hash(self.hall_key, case_no, number[-6:]) if case_no else None
        return id_hash(self.hall_key, number), mask_id(number), vh

    def kind_of(self, rec: Mapping[str, Any], default: str | None) -> str:
        """`case` or `appointment`: the record's `kind`, else the default, else by its fields."""
        k = _text(rec, "kind")
        if k:
            kind = KIND_ALIASES.get(k.lower()) or KIND_ALIASES.get(k)
            if kind is None:
                raise RowError("kind", "bad_kind", "类型（kind）应为 case（办件）或 appointment（预约）。", "kind must be case or appointment.")
            return kind
        if default:
            return default
        return "appointment" if "code" in rec and "case_no" not in rec else "case"

    def case_row(self, rec: Mapping[str, Any], now: dt.datetime) -> CaseRecord:
        """The case of one record (raises RowError)."""
        case_no = _required(rec, "case_no", "办件编号")
        if not CASE_NO_RE.match(case_no):
            raise RowError("case_no", "bad_case_no", "办件编号只能包含字母、数字和“-”（4到40位）。", "case_no must be 4-40 letters, digits or '-'.")
        item = _required(rec, "item", "事项名称")
        status_text = _required(rec, "status", "办件状态")
        status = STATUS_ALIASES.get(status_text, status_text.lower())
        if status not in STATUSES:
            raise RowError(
                "status", "bad_status",
                f"办件状态“{status_text}”不认识，应为：{'、'.join(STATUSES)}。",
                f"Unknown status {status_text!r}; expected one of {', '.join(STATUSES)}.",
            )
        name = _text(rec, "applicant_name")
        applicant = mask_name(name) if name else _text(rec, "applicant_masked")
        if not applicant:
            raise RowError("applicant_name", "missing_field", "缺少申请人（applicant_name）。", "applicant_name is missing.")
        hashed, masked, vh = self.identity(rec, case_no)
        accepted = self.moment(rec, "accepted_at", "受理时间", required=status != "submitted")
        item_code = _text(rec, "item_code") or None
        promised = self._int(rec, "promised_days", "承诺时限", 0, 365)
        if promised is None:
            promised = self.item_days.get(item_code or "") or self.item_days.get(item)
        due = self.moment(rec, "due_at", "到期时间")
        if due is None and accepted is not None and promised is not None:
            due = self.calendar.add_workdays(accepted, promised)
        finished = self.moment(rec, "finished_at", "办结时间")
        timeline = self.timeline(rec)
        is_open = status in OPEN_STATUSES
        if not is_open and finished is None:
            finished = _last_node_time(timeline, self.clock)  # else kept from before, or now (in _write)
        if is_open:
            finished = None
        if not timeline:
            timeline = _default_timeline(status, accepted, _text(rec, "handler"))
        return CaseRecord(
            case_no=case_no,
            item=item,
            item_code=item_code,
            applicant_masked=applicant,
            id_hash=hashed,
            id_masked=masked,
            verify_hash=vh,
            status=status,
            open=1 if is_open else 0,
            accepted_ts=accepted.timestamp() if accepted else None,
            promised_days=promised,
            due_ts=due.timestamp() if due else None,
            finished_ts=finished.timestamp() if finished else None,
            handler=_text(rec, "handler"),
            department=_text(rec, "department"),
            result=_text(rec, "result") or None,
            pickup_window=_text(rec, "pickup_window") or None,
            timeline=json.dumps(timeline, ensure_ascii=False),
            source=self.source,
            updated_ts=now.timestamp(),
        )

    def timeline(self, rec: Mapping[str, Any]) -> list[dict[str, str]]:
        """The `timeline` field: a JSON list (or JSON text in a CSV cell) of {node, at, handler, opinion}."""
        v = rec.get("timeline")
        if v in (None, ""):
            return []
        try:
            nodes = json.loads(v) if isinstance(v, str) else v
            if not isinstance(nodes, list):
                raise ValueError("not a list")
            out = []
            for n in nodes:
                if not isinstance(n, dict) or not n.get("node") or not n.get("at"):
                    raise ValueError("node without node/at")
                at = self.clock.parse(str(n["at"])).isoformat(timespec="seconds")
                out.append({
                    "node": str(n["node"]),
                    "at": at,
                    "handler": str(n.get("handler") or ""),
                    "opinion": str(n.get("opinion") or ""),
                })
            return out
        except (ValueError, TypeError) as err:
            raise RowError(
                "timeline", "bad_timeline",
                "办理过程（timeline）应为 JSON 列表，每项含 node 和 at（时间）。",
                "timeline must be a JSON list of {node, at, handler, opinion}.",
            ) from err

    def appointment_row(self, rec: Mapping[str, Any], now: dt.datetime) -> AppointmentRecord:
        """The appointment of one record (raises RowError)."""
        code = _required(rec, "code", "预约码")
        if not CASE_NO_RE.match(code):
            raise RowError("code", "bad_code", "预约码只能包含字母、数字和“-”（4到40位）。", "code must be 4-40 letters, digits or '-'.")
        service = _required(rec, "service", "业务").upper()
        if self.config.service(service) is None:
            known = "、".join(s.code for s in self.config.services)
            raise RowError("service", "unknown_service", f"业务“{service}”不存在，应为：{known}。", f"Unknown service {service!r}; expected one of {known}.")
        start = self.moment(rec, "slot_start", "预约开始", required=True)
        assert start is not None
        end = self.moment(rec, "slot_end", "预约结束") or start + dt.timedelta(minutes=30)
        if end < start:
            raise RowError("slot_end", "bad_date", "预约结束时间早于开始时间。", "slot_end is before slot_start.")
        status = (_text(rec, "status") or "booked").lower()
        status = {"已预约": "booked", "已取消": "cancelled"}.get(status, status)
        if status not in APPT_STATUSES:
            raise RowError("status", "bad_status", "预约状态应为 booked（已预约）或 cancelled（已取消）。", "status must be booked or cancelled.")
        name = _text(rec, "applicant_name")
        hashed, masked, _vh = self.identity(rec, None)
        return AppointmentRecord(
            code=code,
            service=service,
            item=_text(rec, "item"),
            id_hash=hashed,
            name_masked=mask_name(name) if name else None,
            id_masked=masked,
            slot_start=start.timestamp(),
            slot_end=end.timestamp(),
            early_min=self._int(rec, "early_min", "可提前分钟", 0, 720),
            late_min=self._int(rec, "late_min", "可迟到分钟", 0, 720),
            status=status,
            source=self.source,
            updated_ts=now.timestamp(),
        )

    # --- writing ----------------------------------------------------------------------

    def run(
        self,
        conn: sqlite3.Connection,
        records: Iterable[tuple[int, dict[str, Any]]],
        *,
        now: dt.datetime,
        kind: str | None = None,
        where: str = "line",
        report: ImportReport | None = None,
    ) -> ImportReport:
        """Check and write every record; bad ones go into the report, good ones are committed in chunks."""
        report = report or ImportReport(source=self.source)
        seen: dict[str, int] = {}
        pending = 0
        conn.execute("BEGIN IMMEDIATE")
        try:
            for line, rec in records:
                try:
                    if rec.get("_not_an_object"):
                        raise RowError("", "bad_record", "这条记录不是 JSON 对象。", "The record is not a JSON object.")
                    if rec.get("_too_many_columns"):
                        raise RowError("", "bad_columns", "这一行的列数多于表头。", "This row has more columns than the header.")
                    k = self.kind_of(rec, kind)
                    row = self.case_row(rec, now) if k == "case" else self.appointment_row(rec, now)
                    ident = f"{k}:{row.case_no if isinstance(row, CaseRecord) else row.code}"
                    if ident in seen:
                        raise RowError(
                            "case_no" if k == "case" else "code", "duplicate",
                            f"与第 {seen[ident]} 条重复（同一编号在文件中出现两次），本条未导入。",
                            f"Same number as {where} {seen[ident]}; this one was not imported.",
                        )
                    seen[ident] = line
                    if isinstance(row, CaseRecord):
                        added = save_case(conn, row)
                        report.cases_added += added
                        report.cases_updated += not added
                    else:
                        added = save_appointment(conn, row)
                        report.appointments_added += added
                        report.appointments_updated += not added
                except RowError as err:
                    report.errors.append({
                        where: line, "field": err.field, "code": err.code,
                        "message": f"第 {line} {'行' if where == 'line' else '条'}：{err.message}",
                        "message_en": f"{where} {line}: {err.message_en}",
                    })
                    continue
                pending += 1
                if pending >= CHUNK:  # let a running controller in between chunks
                    conn.execute("COMMIT")
                    conn.execute("BEGIN IMMEDIATE")
                    pending = 0
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return report


def _last_node_time(timeline: list[dict[str, str]], clock: HallTime) -> dt.datetime | None:
    if not timeline:
        return None
    return max(clock.parse(n["at"]) for n in timeline)


def _default_timeline(status: str, accepted: dt.datetime | None, handler: str) -> list[dict[str, str]]:
    if accepted is None:
        return []
    nodes = [{"node": "受理", "at": accepted.isoformat(timespec="seconds"), "handler": handler, "opinion": ""}]
    return nodes


def records_of(items: Iterable[Mapping[str, Any]]) -> Iterator[tuple[int, dict[str, Any]]]:
    """Number plain dict records from 1 (for pushes and upstream sources)."""
    for i, rec in enumerate(items, start=1):
        yield i, {ALIASES.get(str(k), str(k)): v for k, v in rec.items()} if isinstance(rec, Mapping) else {"_not_an_object": True}
