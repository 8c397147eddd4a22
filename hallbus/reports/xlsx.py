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
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from hallbus.reports.engine import KIND_NAMES, Report

TITLE_ROW, RANGE_ROW, MADE_ROW, HEAD_ROW, HEAD_EN_ROW, FIRST_ROW = 1, 2, 3, 5, 6, 7
FORMATS = {"rate": "0.00%", "seconds": "0.0", "int": "0"}


def workbook(reports: Sequence[Report], hall_name: str) -> Workbook:
    """A workbook with one sheet per report."""
    wb = Workbook()
    wb.remove(wb.active)
    for report in reports:
        zh, en = KIND_NAMES[report.kind]
        ws = wb.create_sheet(title=f"{zh} {en}"[:31])
        ws.cell(TITLE_ROW, 1, f"{hall_name} {zh}报表 / {en} report").font = Font(bold=True, size=14)
        ws.cell(RANGE_ROW, 1, "统计期间 Range")
        ws.cell(RANGE_ROW, 2, f"{report.date_from} 至 {report.date_to}")
        ws.cell(MADE_ROW, 1, "生成时间 Made at")
        ws.cell(MADE_ROW, 2, report.made_at)
        for j, col in enumerate(report.columns, 1):
            ws.cell(HEAD_ROW, j, col.zh).font = Font(bold=True)
            ws.cell(HEAD_EN_ROW, j, col.en).font = Font(italic=True, color="666666")
            ws.column_dimensions[get_column_letter(j)].width = max(10, min(40, 2 * len(col.zh) + 4))
        rows: list[list[Any]] = list(report.rows)
        if report.total is not None:
            rows.append(report.total)
        for i, values in enumerate(rows, FIRST_ROW):
            for j, (col, value) in enumerate(zip(report.columns, values, strict=True), 1):
                cell = ws.cell(i, j, value)
                if col.kind in FORMATS and value is not None:
                    cell.number_format = FORMATS[col.kind]
                if report.total is not None and i == FIRST_ROW + len(report.rows):
                    cell.font = Font(bold=True)
        for cell in ws[HEAD_ROW]:
            cell.alignment = Alignment(wrap_text=True)
        ws.freeze_panes = ws.cell(FIRST_ROW, 1)
    wb.properties.title = f"{hall_name} reports"
    return wb


def write_xlsx(path: Path | str, reports: Sequence[Report], hall_name: str) -> None:
    """Write the reports to an .xlsx file."""
    workbook(reports, hall_name).save(str(path))


def xlsx_bytes(reports: Sequence[Report], hall_name: str) -> bytes:
    """The reports as the bytes of an .xlsx file (for a download)."""
    out = io.BytesIO()
    workbook(reports, hall_name).save(out)
    return out.getvalue()
