"""The working-day calendar's admin entries and the deadline rule table."""

from django.core.exceptions import ValidationError
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


# The longest limit a rule may set: a year of working days (the supervisor's own deadline
# has the same bound, tasks.services.dispatch.MAX_DEADLINE_DAYS), or 30 days in hours.
MAX_LIMIT = {LimitUnit.WORKING_DAYS: 250, LimitUnit.HOURS: 720}


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

    def clean(self):
        """Each limit from 1 to MAX_LIMIT of its unit; acceptance not longer than handling in the same unit.

        A 0 would make a task due the moment it is assigned (or, for handling, break the
        rule_handle_positive constraint with an unreadable message), so the admin is told
        which limit is wrong instead.
        """
        errors = {}
        limits = (
            ("accept", _("acceptance limit")), ("handle", _("handling limit")), ("callback", _("callback limit")),
        )
        for stage, label in limits:
            amount, unit = getattr(self, f"{stage}_amount"), getattr(self, f"{stage}_unit")
            if amount is None or unit not in MAX_LIMIT:
                continue  # the field's own validation reports it
            if not 1 <= amount <= MAX_LIMIT[unit]:
                errors[f"{stage}_amount"] = _(
                    "The %(limit)s must be from 1 to %(max)d %(unit)s; %(amount)d was given."
                ) % {"limit": label, "max": MAX_LIMIT[unit], "unit": LimitUnit(unit).label, "amount": amount}
        same_unit = self.accept_unit == self.handle_unit
        if "accept_amount" not in errors and "handle_amount" not in errors and same_unit and (
            self.accept_amount is not None and self.handle_amount is not None
            and self.accept_amount > self.handle_amount
        ):
            errors["accept_amount"] = _(
                "The acceptance limit (%(accept)d %(unit)s) cannot be longer than the handling limit (%(handle)d)."
            ) % {"accept": self.accept_amount, "handle": self.handle_amount, "unit": LimitUnit(self.accept_unit).label}
        if errors:
            raise ValidationError(errors)
