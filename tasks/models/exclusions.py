"""考核核减: a department asks to leave a task out of its report card; the supervision office decides."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

__all__ = ["ScoreExclusion"]


class ScoreExclusion(models.Model):
    """One application by a department to exclude one task from its figures, and the supervisor's decision.

    An approved one removes the task (and its suggestions, callbacks and return requests)
    from the report card figures while that department leads it (tasks.reportcards.definitions).
    """

    class Reason(models.TextChoices):
        UNREASONABLE = "unreasonable", _("unreasonable demand")
        MALICIOUS_DUPLICATE = "malicious_duplicate", _("malicious duplicate")
        BEYOND_POLICY = "beyond_policy", _("beyond policy")
        OTHER = "other", _("other")

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        APPROVED = "approved", _("approved")
        REFUSED = "refused", _("refused")

    task = models.ForeignKey("tasks.Task", models.CASCADE, related_name="score_exclusions", verbose_name=_("task"))
    department = models.ForeignKey("org.Department", models.PROTECT, related_name="+", verbose_name=_("department"))
    reason = models.CharField(_("reason"), max_length=24, choices=Reason.choices)
    text = models.TextField(_("explanation"))
    # Stored by tasks.projects.files under a random name; served only by a permission-checking view.
    evidence = models.FileField(_("evidence"), upload_to="exclusions/%Y/%m/", max_length=200, blank=True)
    evidence_name = models.CharField(_("evidence file name"), max_length=255, blank=True, default="")
    # Detected from the file's first bytes, not from its name or the browser's claim.
    evidence_type = models.CharField(_("evidence content type"), max_length=64, blank=True, default="")
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.PENDING)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("requested by")
    )
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("decided by")
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True, default="")

    class Meta:
        ordering = ["-requested_at", "-id"]
        verbose_name = _("score exclusion")
        verbose_name_plural = _("score exclusions")
        constraints = [
            # One open application per task and department, and nothing to apply for once approved.
            models.UniqueConstraint(
                fields=["task", "department"],
                condition=Q(status__in=["pending", "approved"]),
                name="exclusion_one_open_per_department",
            )
        ]
        indexes = [
            # The report cards' test "is this task excluded for this department" and the supervisor's queue.
            models.Index(fields=["task", "department"], condition=Q(status="approved"), name="exclusion_approved_idx"),
            models.Index(fields=["status", "requested_at"], name="exclusion_status_idx"),
        ]

    def __str__(self):
        return f"#{self.task_id} {self.get_reason_display()}"

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING
