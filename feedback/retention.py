"""Retention of citizens' personal data: erase the name and phone of cases closed long ago.

The rule: a suggestion is anonymised when its task (a merged duplicate's suggestions live on
the task that absorbed it) is closed, and was closed before the cutoff, N years before now
(settings.PERSONAL_DATA_RETENTION_YEARS, 3 by default). A task reopened by a look-back is no
longer closed and keeps its citizens until it is closed again and the years have passed.
Name and phone become empty and `anonymised_at` is set; the content, place and figures stay,
so report cards do not change. Uploaded import files (and their error reports) of finished
imports older than the cutoff hold the same names and phones and are deleted too.

Batches of `batch_size` rows, each in its own transaction, re-checked under the update's own
WHERE, so a second run, or two at once, changes nothing twice. A dry run only counts.
"""

import dataclasses
import datetime as dt

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from tasks.models import State

from .models import ImportJob, Suggestion

BATCH_SIZE = 1000


@dataclasses.dataclass
class AnonymiseResult:
    """What a run changed (or, in a dry run, would change)."""

    cutoff: dt.datetime
    dry_run: bool
    suggestions: int = 0
    names: int = 0
    phones: int = 0
    tasks: int = 0
    import_files: int = 0

    def summary(self) -> str:
        return (
            f"cutoff={timezone.localtime(self.cutoff):%Y-%m-%d %H:%M} suggestions={self.suggestions} "
            f"names={self.names} phones={self.phones} tasks={self.tasks} import_files={self.import_files}"
            + (" dry_run=1" if self.dry_run else "")
        )


def retention_cutoff(*, years: int, now: dt.datetime) -> dt.datetime:
    """`years` calendar years before `now` (29 February goes to the 28th)."""
    local = timezone.localtime(now)
    try:
        return local.replace(year=local.year - years)
    except ValueError:
        return local.replace(year=local.year - years, day=28)


def _due(cutoff) -> "Q":
    return Q(task__state=State.CLOSED, task__closed_at__lt=cutoff) & (~Q(citizen_name="") | ~Q(phone=""))


def _counts(rows) -> dict:
    return rows.aggregate(
        suggestions=Count("pk"),
        names=Count("pk", filter=~Q(citizen_name="")),
        phones=Count("pk", filter=~Q(phone="")),
    )


def closed_cases_anonymise(
    *, years: int | None = None, now: dt.datetime | None = None, dry_run: bool = False, batch_size: int = BATCH_SIZE
) -> AnonymiseResult:
    """Erase the citizen's name and phone of every suggestion whose task was closed more than `years` years ago."""
    now = now or timezone.now()
    years = settings.PERSONAL_DATA_RETENTION_YEARS if years is None else years
    if years < 1:
        raise ValueError("years must be at least 1")
    cutoff = retention_cutoff(years=years, now=now)
    result = AnonymiseResult(cutoff=cutoff, dry_run=dry_run)
    due = Suggestion.objects.filter(_due(cutoff))
    jobs = _old_import_jobs(cutoff)
    if dry_run:
        counts = _counts(due)
        result.suggestions, result.names, result.phones = counts["suggestions"], counts["names"], counts["phones"]
        result.tasks = due.values("task_id").distinct().count()
        result.import_files = sum(bool(job.file) + bool(job.error_report) for job in jobs)
        return result
    tasks, last = set(), 0
    while ids := list(due.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:batch_size]):
        last = ids[-1]
        with transaction.atomic():
            # Locked first: a second run at the same time waits, then finds them done and counts nothing.
            list(Suggestion.objects.select_for_update().filter(pk__in=ids).values_list("pk", flat=True))
            batch = Suggestion.objects.filter(_due(cutoff), pk__in=ids)
            counts = _counts(batch)
            tasks.update(batch.values_list("task_id", flat=True))
            batch.update(citizen_name="", phone="", anonymised_at=now)
        result.suggestions += counts["suggestions"]
        result.names += counts["names"]
        result.phones += counts["phones"]
    result.tasks = len(tasks)
    result.import_files = _import_files_delete(jobs)
    return result


def _old_import_jobs(cutoff) -> list[ImportJob]:
    finished = (ImportJob.Status.DONE, ImportJob.Status.REFUSED, ImportJob.Status.FAILED)
    return list(
        ImportJob.objects.filter(created_at__lt=cutoff, status__in=finished)
        .exclude(file="", error_report="")
        .only("pk", "file", "error_report")
    )


def _import_files_delete(jobs) -> int:
    """Delete the stored upload and error report of these jobs; their rows (counts) stay."""
    deleted = 0
    for job in jobs:
        for field in (job.file, job.error_report):
            if field:
                try:
                    default_storage.delete(field.name)
                except OSError:
                    pass
                deleted += 1
        ImportJob.objects.filter(pk=job.pk).update(file="", error_report="")
    return deleted
