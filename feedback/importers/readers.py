"""Reading a spreadsheet without the database: sniff the format, decode CSV, find the header row.

Format is decided by the file's first bytes, never by its name, so an .xlsx renamed .csv
still imports and a PNG renamed .csv is refused with a message saying what it is.
"""

import codecs
import contextlib
import csv
import dataclasses
import io
import os
import re
import unicodedata
from collections.abc import Iterator

from django.utils.translation import gettext as _

from tasks.errors import DomainError

from .columns import HeaderMap, looks_like_header, map_headers

HEAD_BYTES = 64 * 1024
# The header may sit below a title row ("2021年走访诉求登记表") or two; look this far down.
HEADER_SEARCH_ROWS = 10
DELIMITERS = (",", "\t", ";", "|")

_ZIP = b"PK\x03\x04"
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the old binary .xls
_NOT_SPREADSHEETS = (
    (b"\x89PNG", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF8", "GIF"),
    (b"%PDF", "PDF"),
    (b"\x1f\x8b", "gzip"),
    (b"Rar!", "RAR"),
    (b"7z\xbc\xaf", "7-Zip"),
    (b"MZ", "EXE"),
)


# A web page or XML saved under a spreadsheet's name ("Save as web page" .xls, a renamed .html):
# a CSV's first cell never starts with one of these tags.
_MARKUP = re.compile(
    rb"^(?:\xef\xbb\xbf)?\s*<(?:!doctype|html|head|body|script|svg|\?xml|table|iframe|meta|div|!--)", re.IGNORECASE
)


def refuse(message) -> DomainError:
    return DomainError(message, field="file")


def is_blank(cells) -> bool:
    try:
        # A CSV row is all text: one join instead of a call per cell.
        return not "".join(cells).strip()
    except TypeError:  # a spreadsheet's numbers, dates or empty cells
        return all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in cells)


@dataclasses.dataclass
class Table:
    """An opened spreadsheet: where its header is, and its data rows numbered as the user sees them."""

    path: str
    kind: str  # "csv" or "xlsx"
    header_row: int  # 1-based, as a spreadsheet program numbers rows
    header: HeaderMap
    encoding: str = ""
    delimiter: str = ""
    sheet: str = ""
    _sheet_obj: object = None

    def records(self) -> Iterator[tuple[int, list]]:
        """Every row of the file with its 1-based number, blank ones included."""
        if self.kind == "csv":
            with open(self.path, encoding=self.encoding, newline="") as handle:
                yield from enumerate(csv.reader(handle, delimiter=self.delimiter), start=1)
        else:
            # python-calamine yields from the sheet's first row (A1), empty leading rows
            # included, so the position is the row number Excel shows.
            yield from enumerate(self._sheet_obj.iter_rows(), start=1)

    def rows(self) -> Iterator[tuple[int, list]]:
        """The data rows under the header, blank rows skipped (they hold nothing to import)."""
        for number, cells in self.records():
            if number > self.header_row and not is_blank(cells):
                yield number, cells

    def count_rows(self) -> int:
        """The number of data rows: one more pass over the file, for progress bars."""
        return sum(1 for _ in self.rows())


def open_table(path, *, sheet: str | None = None) -> Table:
    """Open a CSV or spreadsheet file and match its header row; refuse anything else with a clear message."""
    path = os.fspath(path)
    size = os.path.getsize(path)
    with open(path, "rb") as handle:
        head = handle.read(HEAD_BYTES)
    if not head.strip(b" \t\r\n\xef\xbb\xbf"):
        raise refuse(_("The file is empty."))
    if head.startswith(_ZIP) or head.startswith(_OLE2):
        table = _open_workbook(path, sheet)
    else:
        for magic, kind in _NOT_SPREADSHEETS:
            if head.startswith(magic):
                raise refuse(
                    _("This file is not a spreadsheet (it is a %(kind)s file). Upload an .xlsx file or a CSV file.")
                    % {"kind": kind}
                )
        if _MARKUP.match(head):
            raise refuse(
                _("This file is not a spreadsheet (it is an HTML or XML document, whatever its name). "
                  "Upload an .xlsx file or a CSV file.")
            )
        table = _open_csv(path, head, size)
    return table


def _open_workbook(path: str, sheet: str | None) -> Table:
    import python_calamine

    try:
        workbook = python_calamine.CalamineWorkbook.from_path(path)
        names = workbook.sheet_names
        if sheet:
            if sheet not in names:
                raise refuse(
                    _('The workbook has no sheet named "%(sheet)s"; its sheets are: %(sheets)s.')
                    % {"sheet": sheet, "sheets": "、".join(names)}
                )
            sheet_obj = workbook.get_sheet_by_name(sheet)
        else:
            if not names:
                raise refuse(_("The file is empty."))
            sheet_obj = workbook.get_sheet_by_index(0)
    except DomainError:
        raise
    except Exception as exc:  # calamine raises its own error types for every kind of broken file
        raise refuse(
            _("The file could not be read as a spreadsheet (%(error)s). Save it again as .xlsx or CSV.")
            % {"error": exc}
        ) from exc
    table = Table(path=path, kind="xlsx", header_row=0, header=None, sheet=sheet_obj.name, _sheet_obj=sheet_obj)
    table.header_row, table.header = _find_header(table)
    return table


def _detect_encoding(path: str, head: bytes) -> str:
    """utf-8-sig first (strict, so GBK bytes fail fast), then GB18030, a superset of GBK."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"  # Excel's "Unicode text" export: UTF-16 with tabs
    if b"\x00" in head:
        raise refuse(_("This file is not a spreadsheet (it holds binary data). Upload an .xlsx file or a CSV file."))
    for encoding in ("utf-8-sig", "gb18030"):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            # The whole file, in chunks: a GBK file can start with pure ASCII headers.
            with open(path, "rb") as handle:
                while chunk := handle.read(1 << 20):
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    raise refuse(
        _("The file is neither UTF-8 nor GBK/GB18030 text, nor an .xlsx workbook. Save it from Excel as .xlsx or CSV.")
    )


def _open_csv(path: str, head: bytes, size: int) -> Table:
    encoding = _detect_encoding(path, head)
    text = head.decode(encoding, errors="ignore") if size > len(head) else head.decode(encoding)
    controls = sum(1 for ch in text if unicodedata.category(ch) == "Cc" and ch not in "\t\r\n")
    if controls > max(2, len(text) // 100):
        raise refuse(_("This file is not a spreadsheet (it holds binary data). Upload an .xlsx file or a CSV file."))
    delimiter = _sniff_delimiter(text)
    table = Table(path=path, kind="csv", header_row=0, header=None, encoding=encoding, delimiter=delimiter)
    table.header_row, table.header = _find_header(table)
    return table


def _sniff_delimiter(text: str) -> str:
    """The delimiter under which the first rows hold the most known headers (comma on a tie)."""
    lines = text.splitlines()[:HEADER_SEARCH_ROWS]
    best, best_score = ",", 0
    for delimiter in DELIMITERS:
        try:
            rows = list(csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter))
        except csv.Error:
            continue
        score = max((looks_like_header(row) for row in rows), default=0)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _find_header(table: Table) -> tuple[int, HeaderMap]:
    """The first row holding two or more known headers; else the first non-blank row (refused as such)."""
    with contextlib.closing(table.records()) as records:
        found = _scan_for_header(records)
    return found[0], map_headers(found[1])


def _scan_for_header(records) -> tuple[int, list]:
    first = None
    seen = 0
    for number, cells in records:
        if is_blank(cells):
            continue
        if first is None:
            first = (number, cells)
        if looks_like_header(cells) >= 2:
            return number, cells
        seen += 1
        if seen >= HEADER_SEARCH_ROWS:
            break
    if first is None:
        raise refuse(_("The file is empty."))
    return first
