"""suggestion_import: the one import used by the command, the web job and the benchmark.

Rows are read, checked and written in batches of input rows. Each batch is one
transaction: the duplicate check, the writes and the caller's on_batch hook (the web
job records its progress there) commit together or not at all, so a crash or a killed
worker leaves whole batches only, and a rerun finds the committed rows as duplicates
(or, for a job, resumes after its last committed row).

Duplicate rule (DOMAIN.md): a row with a number (编号) is a duplicate of a stored
suggestion or an earlier row with the same channel and number; a row without one is a
duplicate when the content fingerprint (content with white space removed), the
township and the local received date all match. Two different people reporting the
same words on the same day in the same township are rare enough; the supervisor can
still merge near-duplicates into one task later.
"""

import contextlib
import datetime as dt
from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from feedback.services import REGISTER_ROLES, task_title
from tasks.services.rules import check_role

from .readers import Table
from .result import Batch, DuplicateRow, ErrorRow, ImportResult
from .validate import Reference, validate_row
from .writer import lock_imports, refresh_statistics, stored_duplicates, write_rows

BATCH_SIZE = 2000
# Statistics are refreshed after the first batch and then every this many batches.
ANALYZE_EVERY = 50
# A batch that hits a unique constraint (a concurrent import stored the same number, or
# a random tracking number collided) is checked and written again this many times.
ATTEMPTS = 3


def suggestion_import(
    *,
    table: Table,
    actor=None,
    dry_run: bool = False,
    batch_size: int = BATCH_SIZE,
    resume_after_row: int = 0,
    on_batch: Callable[[Batch], None] | None = None,
) -> ImportResult:
    """Import every data row of an opened file (readers.open_table): imported, duplicate or error."""
    if actor is not None:
        check_role(gettext_lazy("import suggestions"), REGISTER_ROLES, actor)
    result = ImportResult(
        kind=table.kind, encoding=table.encoding, delimiter=table.delimiter, sheet=table.sheet,
        header_row=table.header_row, headers=table.header.headers, unknown_columns=table.header.unknown,
        dry_run=dry_run,
    )
    run = _Run(table=table, actor=actor, dry_run=dry_run, on_batch=on_batch, result=result)
    pending: list = []
    for number, cells in table.rows():
        if number <= resume_after_row:
            run.replay(number, cells)
            continue
        pending.append((number, cells))
        if len(pending) >= batch_size:
            run.batch(pending)
            pending = []
    if pending:
        run.batch(pending)
    return result


class _Run:
    def __init__(self, *, table, actor, dry_run, on_batch, result):
        self.header = table.header
        self.actor = actor
        self.dry_run = dry_run
        self.on_batch = on_batch
        self.result = result
        self.reference = Reference.load()
        # hash(duplicate key) -> the number of the first row that had it. The hash, not the
        # key, so that a million-row file costs ~90 MB here rather than ~250 MB; two
        # different keys sharing a 64-bit hash (odds ~1e-8 at a million rows) would show
        # as "duplicate of row N" in the report, never vanish silently.
        self.seen: dict[int, int] = {}
        self.batches = 0

    def _error(self, number, cells, problems) -> ErrorRow:
        return ErrorRow(number, list(cells), [(self.header.header_of(f) if f else "", m) for f, m in problems])

    def replay(self, number: int, cells) -> None:
        """A row a crashed run of this job already committed: remember it, write nothing, count nothing."""
        row, problems = validate_row(number, cells, self.header, self.reference, now=timezone.now())
        self.result.resumed_rows += 1
        if row is None:
            self.result.error_rows.append(self._error(number, cells, problems))
        else:
            self.seen.setdefault(hash(row.duplicate_key()), number)

    def batch(self, pending: list) -> None:
        now = timezone.now()
        checked = [(n, cells, *validate_row(n, cells, self.header, self.reference, now=now)) for n, cells in pending]
        for attempt in range(1, ATTEMPTS + 1):
            try:
                batch, seen = self._commit(checked, now=now)
            except IntegrityError:
                if attempt == ATTEMPTS:
                    raise
                now = timezone.now()
                continue
            self.seen.update(seen)
            self.result.add(batch)
            self.batches += 1
            if not self.dry_run and self.batches % ANALYZE_EVERY == 1:
                refresh_statistics()
            return

    def _commit(self, checked: list, *, now: dt.datetime) -> tuple[Batch, dict]:
        batch = Batch(first_row=checked[0][0], last_row=checked[-1][0])
        seen: dict[int, int] = {}
        fresh = []
        with contextlib.nullcontext() if self.dry_run else transaction.atomic():
            if not self.dry_run:
                lock_imports()
            stored = stored_duplicates([row for _n, _c, row, _p in checked if row is not None])
            for number, cells, row, problems in checked:
                if row is None:
                    batch.errors += 1
                    batch.error_rows.append(self._error(number, cells, problems))
                    continue
                key = row.duplicate_key()
                earlier = self.seen.get(hash(key)) or seen.get(hash(key))
                if earlier:
                    batch.duplicates += 1
                    batch.duplicate_rows.append(DuplicateRow(number, _("row %(row)d") % {"row": earlier}))
                elif key in stored:
                    batch.duplicates += 1
                    batch.duplicate_rows.append(DuplicateRow(number, stored[key]))
                else:
                    seen[hash(key)] = number
                    fresh.append(row)
            batch.imported = len(fresh)
            if not self.dry_run:
                write_rows(fresh, user=self.actor, now=now, title=task_title)
            if self.on_batch is not None:
                self.on_batch(batch)
        return batch, seen
