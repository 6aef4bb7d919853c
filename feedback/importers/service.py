"""suggestion_import: the one import used by the command, the web job and the benchmark.

Rows are read, checked and written in batches of input rows. Each batch is one
transaction: the duplicate check, the writes and the caller's on_batch hook (the web
job records its progress there) commit together or not at all, so a crash or a killed
worker leaves whole batches only, and a rerun finds the committed rows as duplicates
(or, for a job, resumes after its last committed row).

Reading and checking run in a thread of their own (pipeline.py) while the batches
before are written: the checks are Python, the writes mostly PostgreSQL's work, so the
two overlap. On PostgreSQL the batches are written on two connections at once, committed
in file order (lanes.py).

Duplicate rule (DOMAIN.md): a row with a number (编号) is a duplicate of a stored
suggestion or an earlier row with the same channel and number; a row without one is a
duplicate when the content fingerprint (content with white space removed), the
township and the local received date all match. Two different people reporting the
same words on the same day in the same township are rare enough; the supervisor can
still merge near-duplicates into one task later.

An earlier row of the same batch (or, with two writers, of the batch still being written
beside it) is found in memory ("duplicate of row N"); an earlier row of an earlier batch
is already committed, so the database finds it like any stored suggestion ("duplicate of
DZ…", the number it was given). Memory therefore does not grow with the file. A dry run
writes nothing, so it keeps every key's hash instead (seen.py: ~32 bytes a row).
"""

import collections
import contextlib
import datetime as dt
import itertools
from collections.abc import Callable

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from feedback.services import REGISTER_ROLES, task_title
from tasks.services.rules import check_role

from .lanes import LockCycle, Slot, Writers
from .pipeline import checked_chunks
from .readers import Table
from .result import Batch, DuplicateRow, ErrorRow, ImportResult
from .seen import SeenRows
from .validate import Reference, RowChecker
from .writer import begin_batch, hold_import_lock, refresh_statistics, stored_duplicates, write_rows

# Input rows per transaction: large enough that the per-batch costs (lock, duplicate
# queries, id reservation, commit) are small against the rows, small enough that a
# progress bar moves every second or so and a batch's rows stay a few MB.
BATCH_SIZE = 10_000
# A batch that hits a unique constraint (a concurrent import stored the same number, or
# a random tracking number collided) or a lock cycle with the batch before it (lanes.py)
# is checked and written again this many times.
ATTEMPTS = 3


def suggestion_import(
    *,
    table: Table,
    actor=None,
    dry_run: bool = False,
    batch_size: int = BATCH_SIZE,
    resume_after_row: int = 0,
    on_batch: Callable[[Batch], None] | None = None,
    writers: int = 2,
) -> ImportResult:
    """Import every data row of an opened file (readers.open_table): imported, duplicate or error."""
    if actor is not None:
        check_role(gettext_lazy("import suggestions"), REGISTER_ROLES, actor)
    result = ImportResult(
        kind=table.kind, encoding=table.encoding, delimiter=table.delimiter, sheet=table.sheet,
        header_row=table.header_row, headers=table.header.headers, unknown_columns=table.header.unknown,
        dry_run=dry_run,
    )
    checker = RowChecker(table.header, Reference.load(), now=timezone.now())
    run = _Run(header=table.header, actor=actor, dry_run=dry_run, on_batch=on_batch, result=result)
    # Two writers (lanes.py) on PostgreSQL, for files of more than one batch, when no
    # transaction of the caller's is open (its uncommitted rows would be invisible to
    # the writers' own connections, and its rollback could not undo their commits).
    parallel = writers > 1 and not dry_run and connection.vendor == "postgresql" and not connection.in_atomic_block
    with checked_chunks(table, checker, batch_size=batch_size, split_after=resume_after_row) as chunks:
        for chunk in chunks:
            if chunk.rows[-1][0] <= resume_after_row:
                run.replay(chunk.rows)
            elif parallel and not chunk.last:
                run.in_parallel(itertools.chain([chunk], chunks))
                break
            else:
                run.batch(chunk.rows, now=chunk.now, last=chunk.last)
    return result


class _Run:
    def __init__(self, *, header, actor, dry_run, on_batch, result):
        self.header = header
        self.actor = actor
        self.dry_run = dry_run
        self.on_batch = on_batch
        self.result = result
        # Dry runs only (see the module's docstring): hash(duplicate key) -> the first row
        # that had it. The hash, not the key, in flat arrays: ~32 bytes a row; two keys
        # sharing a 64-bit hash (odds ~1e-8 at a million rows) would show as "duplicate of
        # row N" in the report, never vanish silently.
        self.seen = SeenRows()
        self.batches = 0

    def _error(self, number, cells, problems) -> ErrorRow:
        return ErrorRow(number, list(cells), [(self.header.header_of(f) if f else "", m) for f, m in problems])

    def replay(self, checked: list) -> None:
        """Rows a crashed run of this job committed: their errors are reported again, nothing is written or counted."""
        for number, cells, row, problems in checked:
            self.result.resumed_rows += 1
            if row is None:
                self.result.error_rows.append(self._error(number, cells, problems))

    def batch(self, checked: list, *, now: dt.datetime, last: bool, slot: Slot | None = None) -> Batch:
        """Check and write one batch in one transaction, again on a unique-constraint clash."""
        for attempt in range(1, ATTEMPTS + 1):
            try:
                batch = self._commit(checked, now=now, last=last, slot=slot)
            except (IntegrityError, LockCycle):
                if attempt == ATTEMPTS:
                    raise
                now = timezone.now()
                continue
            if slot is None:
                self._done(batch)
            return batch

    def _done(self, batch: Batch) -> None:
        self.result.add(batch)
        self.batches += 1
        # After batches 1, 2, 4, 8...: whenever this import has doubled what it added, so
        # the planner's row counts are never off by more than half (each ANALYZE samples a
        # fixed 30,000 rows: ~0.3 s, seven times for a million rows).
        if not self.dry_run and self.batches & (self.batches - 1) == 0:
            refresh_statistics()

    def in_parallel(self, chunks) -> None:
        """The batches on two writers (lanes.py), counted here in file order as each commits.

        This connection holds the import lock for the whole run instead of each batch's
        transaction taking it: the writers' batches overlap, and another import must still
        not check for duplicates while this one writes.
        """
        pending: collections.deque = collections.deque()
        with hold_import_lock():
            writers = Writers()
            try:
                for chunk in chunks:
                    if len(pending) == 2:
                        self._done(pending.popleft().result())
                    slot = Slot(previous=pending[-1].slot if pending else None)
                    future = writers.submit(lambda chunk=chunk, slot=slot: self._in_lane(chunk, slot))
                    future.slot = slot
                    pending.append(future)
                while pending:
                    self._done(pending.popleft().result())
            finally:
                # Before the lock goes: a batch still being written when the reading failed
                # commits (whole, in order) while no other import can be checking.
                writers.close()

    def _in_lane(self, chunk, slot: Slot) -> Batch:
        try:
            batch = self.batch(chunk.rows, now=chunk.now, last=chunk.last, slot=slot)
        except BaseException:
            slot.finish(failed=True)
            raise
        slot.finish(failed=False)
        return batch

    def _commit(self, checked: list, *, now: dt.datetime, last: bool, slot: Slot | None) -> Batch:
        batch = Batch(first_row=checked[0][0], last_row=checked[-1][0])
        # Rows of this batch by key; for a dry run, every earlier row's too.
        earlier: dict = {}
        seen = self.seen if self.dry_run else {}
        fresh = []
        with contextlib.nullcontext() if self.dry_run else transaction.atomic():
            if not self.dry_run:
                begin_batch(durable=last, lock=slot is None)
            if slot is not None:
                slot.backend_pid = connection.connection.get_backend_pid()
            stored = stored_duplicates([row for _n, _c, row, _p in checked if row is not None])
            # The batch before, when a second writer still has it uncommitted: its rows by key.
            before = slot.previous_keys() if slot is not None else {}
            for number, cells, row, problems in checked:
                if row is None:
                    batch.errors += 1
                    batch.error_rows.append(self._error(number, cells, problems))
                    continue
                key = row.duplicate_key()
                first = earlier.get(key) or before.get(key) or seen.get(hash(key))
                if first:
                    batch.duplicates += 1
                    batch.duplicate_rows.append(DuplicateRow(number, _("row %(row)d") % {"row": first}))
                elif key in stored:
                    batch.duplicates += 1
                    batch.duplicate_rows.append(DuplicateRow(number, stored[key]))
                else:
                    earlier[key] = number
                    fresh.append(row)
            if slot is not None:
                slot.publish_keys(earlier)
            batch.imported = len(fresh)
            if not self.dry_run:
                write_rows(fresh, user=self.actor, now=now, title=task_title)
            if slot is not None:
                slot.wait_previous_commit(_holds_up)
            if self.on_batch is not None:
                self.on_batch(batch)
        if self.dry_run:
            for key, number in earlier.items():
                self.seen.add(hash(key), number)
        return batch


def _holds_up(pid: int) -> bool:
    """Whether this connection's transaction holds a lock the backend `pid` waits for."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid() = ANY(pg_blocking_pids(%s))", [pid])
        return cursor.fetchone()[0]
