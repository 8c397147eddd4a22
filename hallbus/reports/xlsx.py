"""Reports as XLSX (openpyxl): one sheet per report, Chinese headers (English under them), the range in the file.

Each sheet: the title (hall and report), the range (统计期间) and when it was made, a blank
line, the headers in Chinese and in English, the rows, and the total row (合计) where the
report has one. Rates are numbers shown as percentages, seconds as numbers with one
decimal, an empty cell where a figure does not exist (no waits, no ratings).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from hallbus.reports.engine import KIND_NAMES, Report

FIRST_ROW = 7  # title, range, made at, a blank line, Chinese and English headers above it
FORMATS = {"rate": "0.00%", "seconds": "0.0", "int": "0"}


def workbook(reports: Sequence[Report], hall_name: str) -> Workbook:
    """A workbook with one sheet per report (write-only: rows streamed, ~2x faster than cell by cell)."""
    wb = Workbook(write_only=True)
    for report in reports:
        zh, en = KIND_NAMES[report.kind]
        ws = wb.create_sheet(title=f"{zh} {en}"[:31])
        for j, col in enumerate(report.columns, 1):
            ws.column_dimensions[get_column_letter(j)].width = max(10, min(40, 2 * len(col.zh) + 4))
        ws.freeze_panes = f"A{FIRST_ROW}"
        ws.append([_cell(ws, f"{hall_name} {zh}报表 / {en} report", Font(bold=True, size=14))])
        ws.append(["统计期间 Range", f"{report.date_from} 至 {report.date_to}"])
        ws.append(["生成时间 Made at", report.made_at])
        ws.append([])
        ws.append([_cell(ws, c.zh, Font(bold=True), Alignment(wrap_text=True)) for c in report.columns])
        ws.append([_cell(ws, c.en, Font(italic=True, color="666666")) for c in report.columns])
        formats = [FORMATS.get(c.kind) for c in report.columns]
        for values in report.rows:
            ws.append([
                _cell(ws, v, number_format=f) if f is not None and v is not None else v
                for v, f in zip(values, formats, strict=True)
            ])
        if report.total is not None:
            bold = Font(bold=True)
            ws.append([
                _cell(ws, v, bold, number_format=f if v is not None else None)
                for v, f in zip(report.total, formats, strict=True)
            ])
    wb.properties.title = f"{hall_name} reports"
    return wb


def _cell(ws: Any, value: Any, font: Font | None = None, alignment: Alignment | None = None,
          number_format: str | None = None) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws, value=value)
    if font is not None:
        cell.font = font
    if alignment is not None:
        cell.alignment = alignment
    if number_format is not None:
        cell.number_format = number_format
    return cell


def write_xlsx(path: Path | str, reports: Sequence[Report], hall_name: str) -> None:
    """Write the reports to an .xlsx file."""
    workbook(reports, hall_name).save(str(path))


def xlsx_bytes(reports: Sequence[Report], hall_name: str) -> bytes:
    """The reports as the bytes of an .xlsx file (for a download)."""
    out = io.BytesIO()
    workbook(reports, hall_name).save(out)
    return out.getvalue()
