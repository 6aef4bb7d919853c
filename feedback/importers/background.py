"""Import jobs: an upload stored and checked at once, then imported by a Celery worker.

The job's counters and checkpoint (last_row) are updated inside each batch's
transaction, so they always match what is committed. A worker killed mid-import
leaves whole batches and a checkpoint; the redelivered task (acks_late) or a "resume"
click continues after it, replaying the rows before it only to rebuild the duplicate
keys and the error report.
"""

import datetime as dt
import logging
import os
import tempfile

from django.core.files import File
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from feedback.models import ImportJob
from feedback.services import REGISTER_ROLES
from tasks.errors import DomainError
from tasks.services.rules import check_role

from .readers import open_table
from .report import write_error_report
from .service import BATCH_SIZE, suggestion_import

log = logging.getLogger(__name__)

FIRST_ERRORS = 50
MAX_UPLOAD_BYTES = 200 * 1024 * 1024
Status = ImportJob.Status


def _start_later(job_id: int) -> None:
    from feedback.jobs import run_import_job

    transaction.on_commit(lambda: run_import_job.delay(job_id))


def import_job_create(*, actor, upload, sheet: str = "") -> ImportJob:
    """Store an uploaded file as an import job, refuse a bad file at once, and queue the import."""
    check_role(gettext_lazy("import suggestions"), REGISTER_ROLES, actor)
    if upload.size > MAX_UPLOAD_BYTES:
        raise DomainError(
            _("The file is larger than %(max)d MB; split it into smaller files.") % {"max": MAX_UPLOAD_BYTES >> 20},
            field="file",
        )
    sheet = (sheet or "").strip()
    job = ImportJob(uploaded_by=actor, original_name=os.path.basename(upload.name)[:255], sheet=sheet)
    job.file.save(upload.name, upload, save=False)
    try:
        # Headers, format and encoding are checked now, so the registrar reads a refusal on
        # the form instead of on a progress page.
        table = open_table(job.file.path, sheet=sheet or None)
    except DomainError:
        job.file.delete(save=False)
        raise
    job.unknown_columns = table.header.unknown
    with transaction.atomic():
        job.save()
        _start_later(job.pk)
    return job


def import_job_resume(*, actor, job: ImportJob, now: dt.datetime | None = None) -> ImportJob:
    """Queue a failed or stalled job again; it continues after its last committed batch."""
    now = now or timezone.now()
    if not (actor.pk == job.uploaded_by_id or actor.is_supervisor):
        raise DomainError(_("Only the person who uploaded the file or a supervisor may resume its import."))
    stale = now - dt.timedelta(seconds=ImportJob.STALE_AFTER_SECONDS)
    with transaction.atomic():
        resumed = ImportJob.objects.filter(
            Q(status=Status.FAILED) | Q(status=Status.RUNNING, heartbeat_at__lt=stale), pk=job.pk
        ).update(status=Status.PENDING, message="")
        if not resumed:
            raise DomainError(_("This import is not stopped, so there is nothing to resume."))
        _start_later(job.pk)
    job.refresh_from_db()
    return job


def import_job_run(*, job_id: int, now: dt.datetime | None = None, batch_size: int = BATCH_SIZE) -> str:
    """Run (or continue) an import job; "busy" when another worker holds it, else the final status."""
    now = now or timezone.now()
    stale = now - dt.timedelta(seconds=ImportJob.STALE_AFTER_SECONDS)
    # The claim: only one worker may move a job to running; a second delivery of the
    # same message finds it taken (or finished) and does nothing.
    claimed = ImportJob.objects.filter(
        Q(status=Status.PENDING) | Q(status=Status.RUNNING, heartbeat_at__lt=stale), pk=job_id
    ).update(status=Status.RUNNING, heartbeat_at=now, started_at=Coalesce(F("started_at"), now))
    job = ImportJob.objects.filter(pk=job_id).first()
    if job is None:
        return "missing"
    if not claimed:
        return "busy" if job.status == Status.RUNNING else job.status
    try:
        _run(job, batch_size=batch_size)
    except DomainError as exc:
        _finish(job, Status.REFUSED, message=str(exc))
    except Exception:
        log.exception("Import job %s stopped", job_id)
        _finish(job, Status.FAILED, message=_(
            "The import stopped because of an unexpected error. The rows imported so far are kept; "
            "resume it to continue after them."
        ))
    return job.status


def _run(job: ImportJob, *, batch_size: int) -> None:
    table = open_table(job.file.path, sheet=job.sheet or None)
    if job.total_rows is None:
        job.total_rows = table.count_rows()
        ImportJob.objects.filter(pk=job.pk).update(total_rows=job.total_rows, heartbeat_at=timezone.now())

    def on_batch(batch):
        # Inside the batch's transaction: the counters commit with the rows, or not at all.
        # first_errors is read here, not kept in memory, so a batch that is rolled back and
        # retried does not list its errors twice.
        first_errors = ImportJob.objects.filter(pk=job.pk).values_list("first_errors", flat=True).get()
        for error in batch.error_rows:
            for column, message in error.problems:
                if len(first_errors) < FIRST_ERRORS:
                    first_errors.append({"row": error.row, "column": column, "message": message})
        ImportJob.objects.filter(pk=job.pk).update(
            processed_rows=F("processed_rows") + batch.rows,
            imported=F("imported") + batch.imported,
            duplicates=F("duplicates") + batch.duplicates,
            errors=F("errors") + batch.errors,
            last_row=batch.last_row,
            heartbeat_at=timezone.now(),
            first_errors=first_errors,
        )

    result = suggestion_import(
        table=table, actor=job.uploaded_by, resume_after_row=job.last_row, on_batch=on_batch, batch_size=batch_size
    )
    job.refresh_from_db()
    if job.error_report:
        job.error_report.delete(save=False)  # a resumed job writes the whole report again
    if result.error_rows:
        # Errors are reported in the format they came in, so staff fix them in the same program.
        extension = ".xlsx" if table.kind == "xlsx" else ".csv"
        with tempfile.TemporaryDirectory() as folder:
            path = write_error_report(
                os.path.join(folder, "errors" + extension), headers=result.headers, rows=result.error_rows
            )
            with open(path, "rb") as handle:
                job.error_report.save("errors" + extension, File(handle), save=False)
    _finish(job, Status.DONE)


def _finish(job: ImportJob, status: str, *, message: str = "") -> None:
    job.status, job.message, job.finished_at = status, message, timezone.now()
    ImportJob.objects.filter(pk=job.pk).update(
        status=status, message=message, finished_at=job.finished_at, error_report=job.error_report.name or ""
    )


def may_import(user) -> bool:
    """Registrars and supervisors import suggestions (not admins: the rows are citizens' personal data)."""
    return user.is_authenticated and user.role in REGISTER_ROLES


def import_jobs_visible_to(user):
    """Import jobs this user may follow: their own; a supervisor's, everyone's (error reports hold personal data)."""
    jobs = ImportJob.objects.all()
    if getattr(user, "is_supervisor", False):
        return jobs
    return jobs.filter(uploaded_by_id=user.pk)
