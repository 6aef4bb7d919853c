"""Import jobs: stored uploads, the Celery job, claims, progress counters, crashes and resuming."""

import datetime as dt

import pytest
from django.utils import timezone, translation

from feedback.importers import background
from feedback.importers.background import import_job_create, import_job_resume, import_job_run
from feedback.models import ImportJob, Suggestion
from tasks.errors import DomainError

from .test_import_helpers import (  # noqa: F401
    as_lists,
    eager_celery,
    fast_passwords,
    good_row,
    media,
    org,
    upload,
    write_csv,
    write_xlsx,
)
from .test_import_write import hundred_rows

S = ImportJob.Status


def create(tmp_path, cast, rows=None, name="in.xlsx"):
    path = write_xlsx(tmp_path / name, rows if rows is not None else hundred_rows())
    with translation.override("en"):
        return import_job_create(actor=cast.registrar, upload=upload(path))


def test_upload_is_stored_checked_and_queued_after_commit(
    tmp_path, org, cast, media, eager_celery, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as queued:
        job = create(tmp_path, cast)
    assert len(queued) == 1
    job.refresh_from_db()
    assert job.status == S.DONE and job.original_name == "in.xlsx"
    assert (job.total_rows, job.processed_rows, job.last_row) == (100, 100, 101)
    assert (job.imported, job.duplicates, job.errors) == (93, 0, 7)
    assert job.started_at <= job.finished_at and job.percent == 100
    assert [e["row"] for e in job.first_errors] == [11, 21, 31, 41, 51, 61, 71]
    assert job.error_report.name.endswith(".xlsx") and str(media) in job.error_report.path
    assert Suggestion.objects.filter(registered_by=cast.registrar).count() == 93
    assert "in.xlsx" not in job.file.name  # stored under a random name


def test_bad_file_is_refused_on_upload_and_nothing_is_kept(tmp_path, org, cast, media):
    path = tmp_path / "photo.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    with translation.override("en"), pytest.raises(DomainError, match="not a spreadsheet"):
        import_job_create(actor=cast.registrar, upload=upload(path))
    assert not ImportJob.objects.exists()
    assert not any(p.is_file() for p in media.rglob("*"))


def test_only_registering_roles_may_upload(tmp_path, org, cast, media):
    path = write_csv(tmp_path / "in.csv", as_lists([good_row(1)]))
    with translation.override("en"), pytest.raises(DomainError):
        import_job_create(actor=cast.handler_zhujian, upload=upload(path))
    assert not ImportJob.objects.exists()


def test_a_second_delivery_does_not_run_a_job_twice(tmp_path, org, cast, media):
    job = create(tmp_path, cast)
    assert import_job_run(job_id=job.pk) == S.DONE
    assert import_job_run(job_id=job.pk) == S.DONE  # finished: nothing to claim
    job.refresh_from_db()
    assert job.imported == 93 and Suggestion.objects.count() == 93
    ImportJob.objects.filter(pk=job.pk).update(status=S.RUNNING, heartbeat_at=timezone.now())
    assert import_job_run(job_id=job.pk) == "busy"  # held by a live worker


def test_refusal_at_run_time_is_recorded(tmp_path, org, cast, media):
    job = create(tmp_path, cast)
    job.file.open("wb").write(b"")  # the stored file went missing or was emptied
    with translation.override("en"):
        assert import_job_run(job_id=job.pk) == S.REFUSED
    job.refresh_from_db()
    assert job.message == "The file is empty." and job.finished_at is not None


class WorkerKilled(BaseException):
    """Stands for SIGKILL: not an Exception, so nothing in the job catches it."""


def crash_on_batch(monkeypatch, number, error=WorkerKilled):
    real = background.suggestion_import

    def wrapped(**kwargs):
        on_batch, seen = kwargs.pop("on_batch"), []

        def crashing(batch):
            on_batch(batch)  # the counters are written, then the batch dies before commit
            seen.append(batch)
            if len(seen) == number:
                raise error()

        return real(on_batch=crashing, **kwargs)

    monkeypatch.setattr(background, "suggestion_import", wrapped)


def test_killed_worker_leaves_whole_batches_and_the_redelivery_resumes(tmp_path, org, cast, media, monkeypatch):
    job = create(tmp_path, cast)
    crash_on_batch(monkeypatch, 3)
    with pytest.raises(WorkerKilled):
        import_job_run(job_id=job.pk, batch_size=20)
    job.refresh_from_db()
    # Two batches committed (rows 2-41 of the sheet); the third rolled back with its counters.
    assert (job.status, job.processed_rows, job.last_row) == (S.RUNNING, 40, 41)
    assert (job.imported, job.errors) == (36, 4) == (Suggestion.objects.count(), 4)

    monkeypatch.undo()
    assert import_job_run(job_id=job.pk, batch_size=20) == "busy"  # its lease has not run out yet
    later = timezone.now() + dt.timedelta(seconds=ImportJob.STALE_AFTER_SECONDS + 1)
    assert job.is_stale(later) and job.can_resume(later)
    assert import_job_run(job_id=job.pk, now=later, batch_size=20) == S.DONE
    job.refresh_from_db()
    assert (job.processed_rows, job.imported, job.duplicates, job.errors) == (100, 93, 0, 7)
    assert Suggestion.objects.count() == 93
    # The report holds the errors of the batches before the crash too.
    from openpyxl import load_workbook

    rows = list(load_workbook(job.error_report.path).active.iter_rows(min_row=2, values_only=True))
    assert [r[12] for r in rows] == [11, 21, 31, 41, 51, 61, 71]
    assert [e["row"] for e in job.first_errors] == [11, 21, 31, 41, 51, 61, 71]


def test_failed_job_is_resumed_by_its_uploader(
    tmp_path, org, cast, media, monkeypatch, eager_celery, django_capture_on_commit_callbacks
):
    job = create(tmp_path, cast)
    crash_on_batch(monkeypatch, 2, error=RuntimeError)
    with translation.override("en"):
        assert import_job_run(job_id=job.pk, batch_size=30) == S.FAILED
    job.refresh_from_db()
    assert "unexpected error" in job.message and job.imported == Suggestion.objects.count() == 27
    monkeypatch.undo()
    with translation.override("en"), pytest.raises(DomainError):
        import_job_resume(actor=cast.outsider, job=job)
    with django_capture_on_commit_callbacks(execute=True):
        import_job_resume(actor=cast.registrar, job=job)
    job.refresh_from_db()
    assert (job.status, job.imported, job.duplicates, job.errors) == (S.DONE, 93, 0, 7)
    with translation.override("en"), pytest.raises(DomainError, match="nothing to resume"):
        import_job_resume(actor=cast.supervisor, job=job)
