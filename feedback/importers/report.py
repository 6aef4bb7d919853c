"""The error report: the rows that were not imported, cells as written plus the reason.

Staff fix the cells and import the report itself again: its two extra columns are
recognised and skipped (columns.REPORT_*_HEADERS). CSV is written as Excel opens it
(UTF-8 with BOM); cells that Excel would run as a formula (= + - @) are written as text:
a string cell in XLSX, a leading apostrophe in CSV, which the importer strips again.
"""

import csv
import datetime as dt
import os

from django.utils.translation import gettext as _

from .cells import as_text
from .result import ErrorRow

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def report_headers(headers: list[str]) -> list[str]:
    return [*headers, _("Source row"), _("Error reason")]


def _padded(row: ErrorRow, width: int) -> list:
    cells = list(row.cells[:width])
    cells += [""] * (width - len(cells))
    # Cells past the header row (a stray unquoted comma) are kept, not dropped.
    return cells + list(row.cells[width:])


def write_error_report(path, *, headers: list[str], rows: list[ErrorRow]) -> str:
    """Write the report as .xlsx or .csv, chosen by the path's extension; returns the path."""
    path = os.fspath(path)
    if path.lower().endswith(".xlsx"):
        _write_xlsx(path, headers, rows)
    else:
        _write_csv(path, headers, rows)
    return path


def _csv_cell(value) -> str:
    text = as_text(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _write_csv(path: str, headers: list[str], rows: list[ErrorRow]) -> None:
    width = len(headers)
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(report_headers(headers))
        for row in rows:
            cells = [_csv_cell(v) for v in _padded(row, width)]
            writer.writerow([*cells[:width], row.row, _csv_cell(row.reason), *cells[width:]])


def _write_xlsx(path: str, headers: list[str], rows: list[ErrorRow]) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Errors"))

    def cell(value):
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # 13812345678, not 1.38E+10
        if isinstance(value, (dt.date, int, float)) and not isinstance(value, bool):
            return value
        text = as_text(value)
        out = WriteOnlyCell(sheet, value=text)
        out.data_type = "s"  # never a formula, whatever the citizen typed
        return out

    width = len(headers)
    sheet.append([cell(h) for h in report_headers(headers)])
    for row in rows:
        cells = [cell(v) for v in _padded(row, width)]
        sheet.append([*cells[:width], row.row, cell(row.reason), *cells[width:]])
    workbook.save(path)
