"""Reads of assisting parts (协办) for the assisting department's pages, scoped to the user's department."""

import datetime as dt

from django.db.models import Case, Count, F, IntegerField, Q, QuerySet, Value, When

from .models import FINISHED_STATES, HANDLING_STATES, TaskAssist
from .urgency import urgent_first

_OPEN = Q(replied_at__isnull=True, waived_at__isnull=True)


def assist_parts_of_department(user) -> QuerySet[TaskAssist]:
    """The user's department's parts of unfinished tasks: owed first, open urgent tasks first, then by sub-deadline."""
    if not user.is_authenticated or not user.is_active or not user.is_department_staff:
        return TaskAssist.objects.none()
    return (
        TaskAssist.objects.filter(department_id=user.department_id)
        .exclude(task__state__in=FINISHED_STATES)
        .select_related("task", "task__lead_department", "task__township")
        .annotate(owed=Case(When(_OPEN, then=Value(0)), default=Value(1), output_field=IntegerField()))
        .order_by("owed", urgent_first("task__"), F("deadline").asc(nulls_last=True), "pk")
    )


def assist_parts_owed(user) -> QuerySet[TaskAssist]:
    """The parts the department still owes a reply on, for tasks on the lead's clock, nearest sub-deadline first."""
    return assist_parts_of_department(user).filter(_OPEN, task__state__in=HANDLING_STATES)


def assist_part_counts(user, *, now: dt.datetime) -> dict:
    """Owed, not yet accepted and overdue parts of the user's department, in one query."""
    return assist_parts_owed(user).order_by().aggregate(
        owed=Count("pk"),
        to_accept=Count("pk", filter=Q(accepted_at__isnull=True)),
        overdue=Count("pk", filter=Q(deadline__lt=now)),
    )
