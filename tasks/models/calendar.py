"""The working-day calendar's admin entries and the deadline rule table."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from feedback.models import Category, Channel, Urgency


class CalendarDay(models.Model):
    """An admin's entry that makes one date a working day or a day off.

    It overrides the chinese-calendar package, and is the only source for years the
    package does not know yet (it knows 2004–2026).
    """

    date = models.DateField(_("date"), unique=True)
    is_working_day = models.BooleanField(_("working day"))
    note = models.CharField(_("note"), max_length=64, blank=True, default="")

    class Meta:
        ordering = ["date"]
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")

    def __str__(self):
        return f"{self.date} {'working' if self.is_working_day else 'off'}"


class LimitUnit(models.TextChoices):
    WORKING_DAYS = "working_days", _("working days")
    HOURS = "hours", _("hours")


class DeadlineRule(models.Model):
    """How long each stage may take for a category (and optionally a channel and urgency)."""

    category = models.CharField(_("category"), max_length=16, choices=Category.choices)
    urgency = models.CharField(_("urgency"), max_length=8, choices=Urgency.choices, default=Urgency.NORMAL)
    # Blank: any channel. A rule for one channel wins over the general one.
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices, blank=True, default="")
    accept_amount = models.PositiveSmallIntegerField(_("acceptance limit"))
    accept_unit = models.CharField(_("unit"), max_length=16, choices=LimitUnit.choices, default=LimitUnit.WORKING_DAYS)
    handle_amount = models.PositiveSmallIntegerField(_("handling limit"))
    handle_unit = models.CharField(_("unit"), max_length=16, choices=LimitUnit.choices, default=LimitUnit.WORKING_DAYS)
    callback_amount = models.PositiveSmallIntegerField(_("callback limit"))
    callback_unit = models.CharField(
        _("unit"), max_length=16, choices=LimitUnit.choices, default=LimitUnit.WORKING_DAYS
    )

    class Meta:
        ordering = ["category", "urgency", "channel"]
        verbose_name = _("deadline rule")
        verbose_name_plural = _("deadline rules")
        constraints = [
            models.UniqueConstraint(fields=["category", "urgency", "channel"], name="rule_unique_scope"),
            models.CheckConstraint(condition=Q(handle_amount__gt=0), name="rule_handle_positive"),
        ]

    def __str__(self):
        return f"{self.get_category_display()} / {self.get_urgency_display()} / {self.channel or '*'}"
