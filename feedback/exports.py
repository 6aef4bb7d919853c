"""Streamed exports of any list to CSV (UTF-8 with BOM, for Excel) and XLSX.

A list describes its export as columns over a queryset:

    columns = [
        Column(_("Tracking number"), "tracking_number"),
        Column(_("Channel"), "channel", choices=Channel.choices),
        Column(_("Phone"), "phone", needs=("id",), value=lambda row, batch: ...),
    ]
    return csv_response(Export(queryset, columns), "suggestions")

Rows are read with `values_list(...).iterator(chunk_size)`, so at most one batch of plain
tuples is in memory whatever the number of rows. `prepare` (optional) is called once per
batch with the batch's rows (dicts) and its result is handed to every `value` function of
that batch: that is where a per-row rule (citizen masking) gets its data in one query per
batch, not one per row. `finish` (optional) is called once when the rows end, or when the
download stops early: the phone-number access log (feedback.privacy) is written there.

CSV is streamed as it is read. XLSX is written by openpyxl's write-only workbook into a
temporary file (openpyxl writes the sheet to disk as rows come and stores strings inline,
not in a shared table in memory) and then sent from that file.

Every text cell beginning with = + - @ or a tab or carriage return is prefixed with a
single quote, so a spreadsheet shows it as text instead of running it as a formula
(CSV injection). Numbers and dates are written as such and need no guard.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
import dataclasses
from dataclasses import dataclass
from itertools import islice
from typing import Any

from django.db import transaction
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.http import content_disposition_header

CHUNK_SIZE = 2000
# CSV rows joined into one piece of the response: fewer, larger writes to the socket.
CSV_ROWS_PER_PIECE = 500
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DATETIME_FORMAT = "%Y-%m-%d %H:%M"
XLSX_DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
XLSX_DATE_FORMAT = "yyyy-mm-dd"

Row = dict[str, Any]


def neutralise(text: str) -> str:
    """The text, with a leading single quote if a spreadsheet would read it as a formula."""
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


@dataclass(frozen=True)
class Column:
    """One exported column: its header, the lookup it shows, and how a row becomes its cell.

    `field`: a values_list lookup (``"township__name"``) whose value is the cell by default.
    `choices`: translate a stored code to its label. `needs`: further lookups `value` reads.
    `value(row, batch)`: the cell from the row's dict and the batch context from `prepare`.
    `width`: the column's width in the XLSX sheet, in characters (default: the header's).
    """

    header: Any
    field: str | None = None
    choices: Iterable[tuple[Any, Any]] | None = None
    needs: tuple[str, ...] = ()
    value: Callable[[Row, Any], Any] | None = None
    width: int | None = None  # in characters, for the XLSX sheet
    _labels: dict = dataclasses.field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self):
        if self.field is None and self.value is None:
            raise ValueError(f"Column {self.header!r} needs a field or a value function.")
        if self.choices is not None:
            # Labels translated now, in the request's language: the stream is read after the view returns.
            self._labels.update((code, str(text)) for code, text in self.choices)

    @property
    def lookups(self) -> tuple[str, ...]:
        return ((self.field,) if self.field else ()) + self.needs

    def cell(self, row: Row, batch: Any) -> Any:
        value = self.value(row, batch) if self.value is not None else row[self.field]
        if self._labels and value in self._labels:
            return self._labels[value]
        return value


class Export:
    """The rows of a queryset laid out by columns, read in batches; iterate `rows()` for header then data."""

    def __init__(
        self,
        queryset,
        columns: Sequence[Column],
        *,
        prepare: Callable[[list[Row]], Any] | None = None,
        finish: Callable[[], None] | None = None,
        chunk_size: int | None = None,
    ):
        self.queryset = queryset
        self.columns = list(columns)
        self.prepare = prepare
        self.finish = finish
        self.chunk_size = chunk_size or CHUNK_SIZE
        self.headers = [str(column.header) for column in self.columns]
        self.lookups = list(dict.fromkeys(lookup for column in self.columns for lookup in column.lookups))

    def batches(self) -> Iterator[list[list[Any]]]:
        """Lists of up to chunk_size rows of cell values, in the queryset's order."""
        # In a transaction PostgreSQL streams the server-side cursor. Outside one, Django
        # declares it WITH HOLD, and PostgreSQL then computes every row of the export before
        # sending the first (3 s of silence, and a temporary file, at a million rows).
        try:
            with transaction.atomic(using=self.queryset.db):
                tuples = self.queryset.values_list(*self.lookups).iterator(chunk_size=self.chunk_size)
                try:
                    while chunk := list(islice(tuples, self.chunk_size)):
                        rows = [dict(zip(self.lookups, values)) for values in chunk]
                        batch = self.prepare(rows) if self.prepare is not None else None
                        yield [[column.cell(row, batch) for column in self.columns] for row in rows]
                finally:
                    # The server-side cursor is closed inside its transaction, also when the
                    # download stops early; closed after the rollback it would fail the next statement.
                    tuples.close()
        finally:
            # Outside the read transaction, so a download cut short (GeneratorExit rolls that
            # back) still records what it had read: the access log of personal data.
            if self.finish is not None:
                self.finish()

    def rows(self) -> Iterator[list[Any]]:
        yield list(self.headers)
        for batch in self.batches():
            yield from batch


def _text(value) -> str:
    if isinstance(value, Promise):
        value = str(value)
    return value


def csv_cell(value, tz=None) -> Any:
    """A value as CSV shows it: times in `tz` (the current time zone) to the minute, text guarded against formulas."""
    # Text first: most cells are, and this runs for every cell of a million rows.
    if type(value) is str:
        return "'" + value if value.startswith(FORMULA_PREFIXES) else value
    if value is None:
        return ""
    value = _text(value)
    if isinstance(value, dt.datetime):
        if timezone.is_aware(value):
            value = value.astimezone(tz or timezone.get_current_timezone())
        return value.strftime(DATETIME_FORMAT)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, str):
        return neutralise(value)
    return value


def csv_stream(export: Export) -> Iterator[bytes]:
    """The export as UTF-8 CSV bytes, beginning with a BOM so Excel reads it as UTF-8."""
    yield "\ufeff".encode()
    # Looked up once: the current time zone is a thread-local read, a million rows read it twice each.
    tz = timezone.get_current_timezone()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([csv_cell(header) for header in export.headers])
    for batch in export.batches():
        for start in range(0, len(batch), CSV_ROWS_PER_PIECE):
            writer.writerows([csv_cell(value, tz) for value in row] for row in batch[start : start + CSV_ROWS_PER_PIECE])
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode()


def _attachment(response, filename: str):
    response["Content-Disposition"] = content_disposition_header(True, filename)
    # Exports hold personal data: no shared cache may keep a copy.
    response["Cache-Control"] = "private, no-store"
    return response


def csv_response(export: Export, filename: str) -> StreamingHttpResponse:
    """A streamed download of the export as CSV; `filename` without the extension."""
    response = StreamingHttpResponse(csv_stream(export), content_type=CSV_CONTENT_TYPE)
    return _attachment(response, filename + ".csv")


def xlsx_file(export: Export, *, sheet_title: str = "Sheet1"):
    """The export written to an open temporary .xlsx file, positioned at its start."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    # Sheet titles may not hold []:*?/\ and are at most 31 characters.
    sheet = workbook.create_sheet(title="".join(c for c in sheet_title if c not in "[]:*?/\\")[:31] or "Sheet1")
    bold = Font(bold=True)

    def header_cell(text):
        cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", text))
        cell.font = bold
        return cell

    def cell(value):
        value = _text(value)
        if isinstance(value, str):
            # Control characters (from pasted text) make the workbook unreadable; drop them.
            return neutralise(ILLEGAL_CHARACTERS_RE.sub("", value))
        if isinstance(value, dt.datetime):
            local = timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
            written = WriteOnlyCell(sheet, value=local)
            written.number_format = XLSX_DATETIME_FORMAT
            return written
        if isinstance(value, dt.date):
            written = WriteOnlyCell(sheet, value=value)
            written.number_format = XLSX_DATE_FORMAT
            return written
        return value

    for index, (column, header) in enumerate(zip(export.columns, export.headers), start=1):
        # Chinese characters are about two columns wide.
        sheet.column_dimensions[get_column_letter(index)].width = column.width or max(10, 2 * len(header) + 2)
    sheet.append([header_cell(header) for header in export.headers])
    for batch in export.batches():
        for row in batch:
            sheet.append([cell(value) for value in row])
    target = tempfile.TemporaryFile(suffix=".xlsx")
    try:
        workbook.save(target)
    except BaseException:
        target.close()
        raise
    target.seek(0)
    return target


def xlsx_response(export: Export, filename: str, *, sheet_title: str = "Sheet1") -> FileResponse:
    """A download of the export as XLSX, sent from a temporary file (closed and deleted once sent)."""
    response = FileResponse(xlsx_file(export, sheet_title=sheet_title), content_type=XLSX_CONTENT_TYPE)
    return _attachment(response, filename + ".xlsx")
