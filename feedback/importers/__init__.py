"""Bulk import of suggestions from CSV and spreadsheet files (DOMAIN.md "Bulk import template").

open_table() reads and refuses (no database); suggestion_import() checks every row and
writes in batches; report.write_error_report() gives staff a file to fix and re-import.
"""

from .readers import Table, open_table
from .result import Batch, DuplicateRow, ErrorRow, ImportResult
from .service import BATCH_SIZE, suggestion_import

__all__ = [
    "BATCH_SIZE",
    "Batch",
    "DuplicateRow",
    "ErrorRow",
    "ImportResult",
    "Table",
    "open_table",
    "suggestion_import",
]
