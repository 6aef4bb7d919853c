"""A project's status (on track / behind / done) from its indicators' progress against time elapsed.

The same rule twice: in Python for a project whose indicators are loaded
(`project_status`, using Indicator.is_behind), and in the database for lists and totals
(`with_status`), so a page of projects or the city's totals never loop over rows.

An indicator is done when its current value reaches the target. Otherwise it is behind
when its gain over the baseline is a smaller share of the way to the target than the
share of days elapsed from the project's start to the indicator's deadline: compared
exactly as gain × days in all < span × days elapsed, with days elapsed held within
0..days in all (so before the start nothing is behind, and after the deadline every
unfinished indicator is). A project is done when all its indicators are, behind when
any one is, and on track otherwise (also while it has no indicator yet).
"""

import datetime as dt

from django.db import models
from django.db.models import Case, DecimalField, Exists, ExpressionWrapper, F, Func, IntegerField, OuterRef, QuerySet
from django.db.models import Value, When
from django.db.models.functions import Greatest, Least
from django.utils.translation import gettext_lazy as _

from tasks.models import Indicator, Project


class ProjectStatus(models.TextChoices):
    ON_TRACK = "on_track", _("on track")
    BEHIND = "behind", _("behind")
    DONE = "done", _("done")


class DaysBetween(Func):
    """Whole days from the second date to the first (first − second), on PostgreSQL and SQLite."""

    arity = 2
    output_field = IntegerField()
    # PostgreSQL: date − date is an integer number of days.
    template = "(%(expressions)s)"
    arg_joiner = " - "

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler, connection, template="CAST(julianday(%(expressions)s) AS INTEGER)",
            arg_joiner=") - julianday(", **extra_context
        )


def project_status(project: Project, today: dt.date) -> str:
    """ProjectStatus of a project from its indicators (prefetch them for lists), as of `today`."""
    indicators = list(project.indicators.all())
    if not indicators:
        return ProjectStatus.ON_TRACK
    if all(indicator.is_done for indicator in indicators):
        return ProjectStatus.DONE
    if any(indicator.is_behind(today) for indicator in indicators):
        return ProjectStatus.BEHIND
    return ProjectStatus.ON_TRACK


def project_percent(project: Project) -> float | None:
    """The mean of the indicators' progress percentages (prefetched), or None without indicators."""
    indicators = list(project.indicators.all())
    if not indicators:
        return None
    return sum(indicator.progress_percent for indicator in indicators) / len(indicators)


def _open_indicators() -> QuerySet:
    """The outer project's indicators that have not reached their target."""
    return Indicator.objects.filter(project=OuterRef("pk"), target__gt=F("baseline"), current__lt=F("target"))


def _behind_indicators(today: dt.date) -> QuerySet:
    """The outer project's unfinished indicators whose progress lags the time elapsed at `today`."""
    total = Greatest(DaysBetween(F("due_on"), OuterRef("starts_on")), Value(1))
    elapsed = Least(Greatest(DaysBetween(Value(today), OuterRef("starts_on")), Value(0)), total)
    number = DecimalField(max_digits=30, decimal_places=2)
    return (
        _open_indicators()
        .annotate(
            gain_days=ExpressionWrapper((F("current") - F("baseline")) * total, output_field=number),
            span_days=ExpressionWrapper((F("target") - F("baseline")) * elapsed, output_field=number),
        )
        .filter(gain_days__lt=F("span_days"))
    )


def with_status(projects: QuerySet, today: dt.date) -> QuerySet:
    """The projects annotated with `status` (a ProjectStatus value) as of `today`, computed in the database."""
    return projects.annotate(
        status=Case(
            When(~Exists(Indicator.objects.filter(project=OuterRef("pk"))), then=Value(ProjectStatus.ON_TRACK.value)),
            When(~Exists(_open_indicators()), then=Value(ProjectStatus.DONE.value)),
            When(Exists(_behind_indicators(today)), then=Value(ProjectStatus.BEHIND.value)),
            default=Value(ProjectStatus.ON_TRACK.value),
            output_field=models.CharField(),
        )
    )


__all__ = ["DaysBetween", "ProjectStatus", "project_percent", "project_status", "with_status"]
