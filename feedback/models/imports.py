"""Import jobs: a bulk import of suggestions, its progress and its error report."""

import os
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

__all__ = ["ImportJob"]


def _upload_to(job, filename: str) -> str:
    # A random name: uploaded files hold citizens' names and phone numbers.
    return timezone.now().strftime("imports/%Y/%m/") + uuid.uuid4().hex + os.path.splitext(filename)[1].lower()


def _report_to(job, filename: str) -> str:
    return timezone.now().strftime("imports/%Y/%m/") + uuid.uuid4().hex + "-errors" + os.path.splitext(filename)[1]


class ImportJob(models.Model):
    """One uploaded file imported in the background; its counters move with each committed batch."""

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting to start")
        RUNNING = "running", _("importing")
        DONE = "done", _("finished")
        REFUSED = "refused", _("refused")
        FAILED = "failed", _("stopped by an error")

    # A running job whose heartbeat is older than this lost its worker; another may resume it.
    # Generous: opening a very large workbook and counting its rows happens before the first batch.
    STALE_AFTER_SECONDS = 600

    file = models.FileField(_("file"), upload_to=_upload_to, max_length=200)
    original_name = models.CharField(_("file name"), max_length=255)
    sheet = models.CharField(_("sheet"), max_length=64, blank=True, default="")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="import_jobs", verbose_name=_("uploaded by")
    )
    created_at = models.DateTimeField(_("uploaded at"), default=timezone.now)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    total_rows = models.PositiveIntegerField(_("rows in the file"), null=True, blank=True)
    processed_rows = models.PositiveIntegerField(_("rows done"), default=0)
    # The spreadsheet row number the last committed batch ended on: a resumed job starts after it.
    last_row = models.PositiveIntegerField(_("last row done"), default=0)
    imported = models.PositiveIntegerField(_("imported"), default=0)
    duplicates = models.PositiveIntegerField(_("duplicates"), default=0)
    errors = models.PositiveIntegerField(_("errors"), default=0)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("last progress at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    message = models.TextField(_("message"), blank=True, default="")
    unknown_columns = models.JSONField(_("unknown columns"), default=list, blank=True)
    # The first errors, for the progress page: [{"row": 12, "column": "联系电话", "message": "…"}].
    first_errors = models.JSONField(_("first errors"), default=list, blank=True)
    error_report = models.FileField(_("error report"), upload_to=_report_to, max_length=200, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        indexes = [
            # The upload page's list of the user's own recent imports.
            models.Index(fields=["uploaded_by", "-id"], name="importjob_uploader_idx"),
        ]

    def __str__(self):
        return self.original_name

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.REFUSED, self.Status.FAILED)

    @property
    def percent(self) -> int:
        """Rows done of the rows in the file, 0–100."""
        if self.status == self.Status.DONE:
            return 100
        if not self.total_rows:
            return 0
        return min(100, self.processed_rows * 100 // self.total_rows)

    def is_stale(self, now=None) -> bool:
        """Running, but no batch committed for a while: its worker is gone."""
        now = now or timezone.now()
        return (
            self.status == self.Status.RUNNING
            and self.heartbeat_at is not None
            and (now - self.heartbeat_at).total_seconds() > self.STALE_AFTER_SECONDS
        )

    def can_resume(self, now=None) -> bool:
        return self.status == self.Status.FAILED or self.is_stale(now)
