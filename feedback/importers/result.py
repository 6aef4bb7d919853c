"""What an import did with each row: counts, and the rows that were not imported, with reasons."""

import dataclasses

from django.utils.translation import gettext as _


# Duplicates are counted exactly, but only this many are listed (a re-imported million-row
# file would otherwise hold a million entries in memory); error rows are all kept, since
# the error report needs every one.
LISTED_DUPLICATES = 10_000


@dataclasses.dataclass
class ErrorRow:
    """A row that was not imported: its number as the spreadsheet shows it, its cells as written."""

    row: int
    cells: list
    problems: list[tuple[str, str]]  # (column header as written in the file, reason)

    @property
    def reason(self) -> str:
        return "；".join(f"{column}: {message}" if column else message for column, message in self.problems)


@dataclasses.dataclass
class DuplicateRow:
    row: int
    of: str  # "row 12" or the stored suggestion's tracking number

    @property
    def reason(self) -> str:
        return _("duplicate of %(of)s") % {"of": self.of}


@dataclasses.dataclass
class Batch:
    """One committed batch: handed to the on_batch hook inside its transaction."""

    first_row: int
    last_row: int
    imported: int = 0
    duplicates: int = 0
    errors: int = 0
    error_rows: list[ErrorRow] = dataclasses.field(default_factory=list)
    duplicate_rows: list[DuplicateRow] = dataclasses.field(default_factory=list)

    @property
    def rows(self) -> int:
        return self.imported + self.duplicates + self.errors


@dataclasses.dataclass
class ImportResult:
    """Every data row of the file is counted in exactly one of imported, duplicates or errors."""

    kind: str = ""
    encoding: str = ""
    delimiter: str = ""
    sheet: str = ""
    header_row: int = 1
    headers: list[str] = dataclasses.field(default_factory=list)
    unknown_columns: list[str] = dataclasses.field(default_factory=list)
    dry_run: bool = False
    imported: int = 0
    duplicates: int = 0
    errors: int = 0
    # Rows before a resumed job's checkpoint: counted by the run that committed them.
    resumed_rows: int = 0
    error_rows: list[ErrorRow] = dataclasses.field(default_factory=list)
    duplicate_rows: list[DuplicateRow] = dataclasses.field(default_factory=list)

    @property
    def rows(self) -> int:
        return self.imported + self.duplicates + self.errors

    def add(self, batch: Batch) -> None:
        self.imported += batch.imported
        self.duplicates += batch.duplicates
        self.errors += batch.errors
        self.error_rows.extend(batch.error_rows)
        room = LISTED_DUPLICATES - len(self.duplicate_rows)
        if room > 0:
            self.duplicate_rows.extend(batch.duplicate_rows[:room])

    def summary(self) -> str:
        return f"imported={self.imported} duplicates={self.duplicates} errors={self.errors}"
