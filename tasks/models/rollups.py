"""Daily report card rollups: the counters of tasks.reportcards, summed per local day and unit.

Rebuilt as a whole by tasks.reportcards.rollups.rollups_refresh() (every few minutes);
read by tasks.reportcards.figures when fresh. Fields, indexes and the refresh record only.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = ["ReportCardDay", "ReportCardRefresh"]


class ReportCardDay(models.Model):
    """One local day's counters for the city, one department, or one township."""

    class Grain(models.TextChoices):
        CITY = "city", _("city")
        DEPARTMENT = "department", _("department")
        TOWNSHIP = "township", _("township")

    grain = models.CharField(_("grain"), max_length=12, choices=Grain.choices)
    day = models.DateField(_("day"))
    department = models.ForeignKey(
        "org.Department", models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("department")
    )
    township = models.ForeignKey(
        "org.Township", models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("township")
    )
    # The counters of tasks.reportcards.definitions, by name.
    received = models.PositiveIntegerField(default=0)
    registered = models.PositiveIntegerField(default=0)
    registered_same_day = models.PositiveIntegerField(default=0)
    assigned = models.PositiveIntegerField(default=0)
    assigned_closed = models.PositiveIntegerField(default=0)
    assigned_timely = models.PositiveIntegerField(default=0)
    closed = models.PositiveIntegerField(default=0)
    closed_on_time = models.PositiveIntegerField(default=0)
    callbacks = models.PositiveIntegerField(default=0)
    callbacks_satisfied = models.PositiveIntegerField(default=0)
    assigned_returned = models.PositiveIntegerField(default=0)
    returns_refused = models.PositiveIntegerField(default=0)
    assists = models.PositiveIntegerField(default=0)
    assists_on_time = models.PositiveIntegerField(default=0)
    # Rows of each family left out by approved score exclusions (核减).
    registered_excluded = models.PositiveIntegerField(default=0)
    assigned_excluded = models.PositiveIntegerField(default=0)
    closed_excluded = models.PositiveIntegerField(default=0)
    callbacks_excluded = models.PositiveIntegerField(default=0)
    returns_refused_excluded = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("report card day")
        verbose_name_plural = _("report card days")
        indexes = [
            # The city card and trend: city rows of a range of days.
            models.Index(fields=["grain", "day"], name="rcday_grain_day_idx"),
            # A department's card and trend.
            models.Index(fields=["department", "day"], name="rcday_department_day_idx"),
            # A township's card and trend.
            models.Index(fields=["township", "day"], name="rcday_township_day_idx"),
        ]


class ReportCardRefresh(models.Model):
    """When the rollups were last rebuilt: their figures are as of `as_of`."""

    as_of = models.DateTimeField(_("as of"))
    finished_at = models.DateTimeField(_("finished at"))
    seconds = models.FloatField(_("seconds"))
    rows = models.PositiveIntegerField(_("rows"))

    class Meta:
        ordering = ["-as_of"]
        get_latest_by = "as_of"
        verbose_name = _("report card refresh")
        verbose_name_plural = _("report card refreshes")
