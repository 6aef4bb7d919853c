"""Reads of tasks for pages, exports and reports, each already scoped to the user.

Every function starts from `tasks_visible_to(user)` (or the same rule for related rows),
so no page can forget the department scope. Figures are computed in the database.
"""

import datetime as dt

from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from feedback.models import Callback, CallbackResult, Suggestion

from .models import HANDLING_STATES, UNASSIGNED_STATES, State, Task, TaskAssist, TaskRequest
from .urgency import urgent_first

# What a department still has to act on: on its clock, or waiting for a return decision.
DEPARTMENT_OPEN_STATES = (*HANDLING_STATES, State.RETURN_REQUESTED)


def tasks_visible_to(user) -> QuerySet[Task]:
    """Tasks the user may read: all (supervisors, leaders, admins), own department's, own registrations', or none."""
    tasks = Task.objects.select_related("township", "lead_department")
    if not user.is_authenticated or not user.is_active:
        return tasks.none()
    if user.sees_all_departments:
        return tasks
    if user.is_department_staff:
        # A subquery, not a join on assists: a join would repeat a task once per assisting department.
        assisted = TaskAssist.objects.filter(department_id=user.department_id).values("task_id")
        return tasks.filter(Q(lead_department_id=user.department_id) | Q(pk__in=assisted))
    if user.is_registrar:
        registered = Suggestion.objects.filter(registered_by=user).values("task_id")
        return tasks.filter(pk__in=registered)
    return tasks.none()


def task_list(user) -> QuerySet[Task]:
    """The task list's rows: the user's visible tasks, open urgent ones first, then newest, without the long texts."""
    # Newest first by id (the table's sort, tasks.tables.TaskListTable, keeps urgent first).
    return tasks_visible_to(user).defer("review_note", "reply").order_by(urgent_first(), "-id")


def _suggestions_visible_to(user) -> QuerySet[Suggestion]:
    """Suggestions under the tasks the user may read."""
    if user.is_authenticated and user.is_active and user.sees_all_departments:
        return Suggestion.objects.all()
    return Suggestion.objects.filter(task__in=tasks_visible_to(user).values("pk"))


def _requests_visible_to(user) -> QuerySet[TaskRequest]:
    """Extension and return requests on the tasks the user may read."""
    requests = TaskRequest.objects.select_related("task", "task__township", "department", "requested_by")
    if user.is_authenticated and user.is_active and user.sees_all_departments:
        return requests
    return requests.filter(task__in=tasks_visible_to(user).values("pk"))


def _callbacks_visible_to(user) -> QuerySet[Callback]:
    """Callbacks on the tasks the user may read."""
    if user.is_authenticated and user.is_active and user.sees_all_departments:
        return Callback.objects.all()
    return Callback.objects.filter(task__in=tasks_visible_to(user).values("pk"))


def _local_midnight(now: dt.datetime) -> dt.datetime:
    """The start of the local (Asia/Shanghai) day containing `now`."""
    return timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)


# --- A department's desk (handlers and heads) ------------------------------------------


def department_open_tasks(user) -> QuerySet[Task]:
    """The open tasks the user's department leads or assists with, urgent first, then nearest deadline first."""
    if not user.is_authenticated or not user.is_department_staff:
        return Task.objects.none()
    return (
        tasks_visible_to(user)
        .filter(state__in=DEPARTMENT_OPEN_STATES)
        .order_by(urgent_first(), F("deadline").asc(nulls_last=True), "pk")
    )


def department_overdue_tasks(user, *, now: dt.datetime) -> QuerySet[Task]:
    """The department's tasks past their handling deadline, most overdue first."""
    return department_open_tasks(user).filter(state__in=HANDLING_STATES, deadline__lt=now)


def department_task_counts(user, *, now: dt.datetime) -> dict:
    """Open, to accept (and late to accept), overdue, due today, led and awaiting-approval counts, in one query."""
    end_of_today = _local_midnight(now) + dt.timedelta(days=1)
    on_clock = Q(state__in=HANDLING_STATES)
    return department_open_tasks(user).order_by().aggregate(
        open=Count("pk"),
        to_accept=Count("pk", filter=Q(state=State.ASSIGNED)),
        # The acceptance clock: led tasks not accepted by their acceptance deadline (2 hours for 紧急).
        accept_late=Count("pk", filter=Q(state=State.ASSIGNED, lead_department_id=user.department_id,
                                         accept_deadline__lt=now)),
        overdue=Count("pk", filter=on_clock & Q(deadline__lt=now)),
        due_today=Count("pk", filter=on_clock & Q(deadline__gte=now, deadline__lt=end_of_today)),
        lead=Count("pk", filter=Q(lead_department_id=user.department_id)),
        awaiting_approval=Count("pk", filter=Q(state=State.AWAITING_APPROVAL)),
    )


def replies_awaiting_approval(user) -> QuerySet[Task]:
    """Replies of the head's own department waiting for the head's approval, urgent first, then oldest first."""
    if not user.is_authenticated or not user.is_head:
        return Task.objects.none()
    return (
        tasks_visible_to(user)
        .filter(state=State.AWAITING_APPROVAL, lead_department_id=user.department_id)
        .order_by(urgent_first(), F("replied_at").asc(nulls_last=True), "pk")
    )


# --- The supervision office's dispatch picture -------------------------------------------


def dispatch_counts(user, *, now: dt.datetime) -> dict:
    """Unassigned tasks by state and overdue tasks, counted in one query."""
    counts = {state.value: Count("pk", filter=Q(state=state)) for state in UNASSIGNED_STATES}
    overdue = Q(state__in=HANDLING_STATES, deadline__lt=now)
    # Filtering on state first lets the (state, deadline) index skip the closed majority.
    return (
        tasks_visible_to(user)
        .filter(Q(state__in=UNASSIGNED_STATES) | overdue)
        .order_by()
        .aggregate(**counts, overdue=Count("pk", filter=overdue))
    )


def pending_requests(user) -> QuerySet[TaskRequest]:
    """Extension and return requests waiting for a supervisor's decision, urgent tasks' first, then oldest first."""
    pending = _requests_visible_to(user).filter(status=TaskRequest.Status.PENDING)
    return pending.order_by(urgent_first("task__"), "requested_at", "pk")


def pending_request_counts(user) -> dict:
    """Pending extension and return requests, counted in one query."""
    Kind = TaskRequest.Kind
    return (
        _requests_visible_to(user)
        .filter(status=TaskRequest.Status.PENDING)
        .order_by()
        .aggregate(
            extension=Count("pk", filter=Q(kind=Kind.EXTENSION)),
            **{"return": Count("pk", filter=Q(kind=Kind.RETURN))},
        )
    )


def overdue_by_department(user, *, now: dt.datetime) -> QuerySet:
    """Overdue tasks counted per lead department, largest first (rows of department id, name, count)."""
    return (
        tasks_visible_to(user)
        .filter(state__in=HANDLING_STATES, deadline__lt=now, lead_department__isnull=False)
        .values("lead_department_id", "lead_department__name")
        .annotate(overdue=Count("pk"))
        .order_by("-overdue", "lead_department__name")
    )


def tasks_awaiting_review(user) -> QuerySet[Task]:
    """Tasks reported to the leaders and not yet reviewed (阅批), urgent first, then oldest report first."""
    reported = tasks_visible_to(user).filter(state=State.REPORTED)
    return reported.order_by(urgent_first(), F("reported_at").asc(nulls_last=True), "pk")


# --- Leaders' headline ------------------------------------------------------------------


def campaign_figures(user, *, now: dt.datetime) -> dict:
    """The campaign to date: received, closed, closure rate, overdue now, awaiting review, satisfaction."""
    tasks = tasks_visible_to(user).order_by().aggregate(
        closed=Count("pk", filter=Q(state=State.CLOSED)),
        assigned=Count("pk", filter=Q(assigned_at__isnull=False)),
        assigned_closed=Count("pk", filter=Q(assigned_at__isnull=False, state=State.CLOSED)),
        overdue=Count("pk", filter=Q(state__in=HANDLING_STATES, deadline__lt=now)),
        awaiting_review=Count("pk", filter=Q(state=State.REPORTED)),
    )
    received = _suggestions_visible_to(user).order_by().aggregate(n=Count("pk"))["n"]
    callbacks = _callbacks_visible_to(user)
    satisfied = (CallbackResult.SATISFIED, CallbackResult.BASICALLY_SATISFIED)
    calls = callbacks.order_by().aggregate(total=Count("pk"), satisfied=Count("pk", filter=Q(result__in=satisfied)))
    return {
        "received": received,
        "closed": tasks["closed"],
        "assigned": tasks["assigned"],
        "closure_rate": _share(tasks["assigned_closed"], tasks["assigned"]),
        "overdue": tasks["overdue"],
        "awaiting_review": tasks["awaiting_review"],
        "callbacks": calls["total"],
        "satisfaction": _share(calls["satisfied"], calls["total"]),
    }


def _share(part: int, whole: int) -> float | None:
    """part / whole as a percentage, or None when there is nothing to divide."""
    return round(part * 100 / whole, 1) if whole else None


# --- Registrars ---------------------------------------------------------------------------


def suggestions_registered_by(user) -> QuerySet[Suggestion]:
    """The suggestions the user registered, newest first."""
    if not user.is_authenticated:
        return Suggestion.objects.none()
    return Suggestion.objects.filter(registered_by=user).select_related("township", "task").order_by("-pk")


def registration_counts(user, *, now: dt.datetime) -> dict:
    """How many suggestions the user registered in all, today and this week (from Monday), in one query."""
    today = _local_midnight(now)
    monday = today - dt.timedelta(days=today.weekday())
    return suggestions_registered_by(user).order_by().aggregate(
        total=Count("pk"),
        today=Count("pk", filter=Q(registered_at__gte=today)),
        week=Count("pk", filter=Q(registered_at__gte=monday)),
    )
