"""The access log of citizens' personal data: every unmasked phone shown, and every export that held some."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

__all__ = ["PhoneView"]


class PhoneView(models.Model):
    """One showing of citizens' unmasked phone numbers: a click on "show" (count 1) or an export (count = rows).

    Rows are only ever added (feedback.privacy); the admin lists them read-only. The
    tracking number is copied so the entry still names the case if the suggestion goes.
    """

    class Page(models.TextChoices):
        TASK_DETAIL = "task_detail", _("task page")
        SUGGESTION_DETAIL = "suggestion_detail", _("suggestion page")
        ADMIN = "admin", _("administration site")
        EXPORT_CSV = "export_csv", _("CSV export")
        EXPORT_XLSX = "export_xlsx", _("XLSX export")

    EXPORTS = (Page.EXPORT_CSV, Page.EXPORT_XLSX)

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("viewed by")
    )
    at = models.DateTimeField(_("viewed at"), default=timezone.now)
    page = models.CharField(_("from page"), max_length=20, choices=Page.choices)
    suggestion = models.ForeignKey(
        "feedback.Suggestion", models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("suggestion")
    )
    task = models.ForeignKey(
        "tasks.Task", models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("task")
    )
    tracking_number = models.CharField(_("tracking number"), max_length=24, blank=True, default="")
    # How many unmasked phone numbers were shown: 1 on a page, the rows holding one in an export.
    count = models.PositiveIntegerField(_("phone numbers"), default=1)
    # An export's filters, as its query string: which list was taken out.
    query = models.CharField(_("filters"), max_length=500, blank=True, default="")
    address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("phone number view")
        verbose_name_plural = _("phone number views")
        indexes = [
            # The admin list, newest first, and its date drill-down.
            models.Index(fields=["-at", "-id"], name="phoneview_at_idx"),
            # The admin list filtered by one user.
            models.Index(fields=["user", "-at"], name="phoneview_user_idx"),
        ]

    def __str__(self):
        return f"{self.user} · {self.get_page_display()} · {self.tracking_number or self.count}"

    @property
    def is_export(self) -> bool:
        return self.page in self.EXPORTS
