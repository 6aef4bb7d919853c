"""Reads of the supervision office's dispatch queue, the same-day targets and the notification centre.

Every read starts from `tasks_visible_to(user)` (tasks.selectors) or the user's own rows,
and none counts a whole table: pages fetch one page plus one row (LazyPaginator).

Same-day targets (当天上报、当天阅批、当天转办), the decisions DOMAIN.md leaves open:

- A task's *registration working day* is the local (Asia/Shanghai) date of `created_at`
  if that is a working day, else the next working day (tasks.calendar): a task registered
  on a Saturday, or on 1 October 2021, has until the end of the next working day. This is
  the report cards' "same working day" (tasks.reportcards.definitions).
- A target is *missed* when its step (report, review, assignment) happened after the end of
  that day, or has not happened yet when that day has ended. A task still waiting is
  counted against the step it waits for, as the reminders do (tasks.reminders:
  registered → report, reported → review, reviewed → assignment); a step a task skipped
  (the supervisor may assign without reporting) is no target for it.
- "Late by" counts working days from the registration working day to the day the step was
  done (or today): registered Thursday 30 September 2021 in the evening and assigned on
  Friday 8 October, the first working day after the National Day holiday, is 1 working
  day late (and 7 days 9 hours after the target, in calendar time).
- The assignment time is the latest one (Task.assigned_at), as in the report cards: a task
  returned as wrongly assigned and reassigned later counts as assigned late.
- Merged tasks are left out: the task that absorbed them carries the work.

Time zones: every comparison is between stored instants and local midnights computed in
Python as aware datetimes, so the database never converts a time zone (no AT TIME ZONE on
PostgreSQL, no string dates on SQLite), both give the same answer, and an index on the
compared column stays usable.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from django.db.models import (
    Case,
    Count,
    DateTimeField,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from feedback.models import Suggestion

from . import calendar
from .models import UNASSIGNED_STATES, State, Task
from .models.reminders import Notification
from .selectors import tasks_visible_to
from .urgency import urgent_first

# The step a task still waits for, by its state (the reminders' same-day levels).
WAITING_FOR = {State.REGISTERED: "report", State.REPORTED: "review", State.REVIEWED: "assign"}
TARGETS = (
    ("report", "reported_at", _("Same-day report")),
    ("review", "reviewed_at", _("Same-day review")),
    ("assign", "assigned_at", _("Same-day assignment")),
)
# A longer period would make the CASE of registration windows (one per working day) long.
SAME_DAY_MAX_DAYS = 92
# The header shows "99+" beyond this: the count stops there, so a supervisor with
# 300,000 unread reminders costs the same as one with 3.
UNREAD_CAP = 99


def local_midnight(day: dt.date) -> dt.datetime:
    """The start of `day` in the project's time zone, as an aware datetime."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min), timezone.get_default_timezone())


# --- The dispatch queue ----------------------------------------------------------------


def dispatch_queue(
    user,
    *,
    state: str | None = None,
    channel: str | None = None,
    township=None,
    category: str | None = None,
    received_from: dt.date | None = None,
    received_to: dt.date | None = None,
) -> QuerySet[Task]:
    """Tasks waiting for the supervision office (registered, reported, reviewed, returned): urgent, then oldest."""
    if not user.is_authenticated or not user.is_supervisor:
        return Task.objects.none()
    tasks = tasks_visible_to(user).filter(state__in=[state] if state else UNASSIGNED_STATES)
    if channel:
        tasks = tasks.filter(channel=channel)
    if township is not None:
        tasks = tasks.filter(township=township)
    if category:
        tasks = tasks.filter(category=category)
    if received_from or received_to:
        # A subquery, not a join: a task with two suggestions in the range must appear once.
        received = Suggestion.objects.all()
        if received_from:
            received = received.filter(received_at__gte=local_midnight(received_from))
        if received_to:
            received = received.filter(received_at__lt=local_midnight(received_to + dt.timedelta(days=1)))
        tasks = tasks.filter(pk__in=received.values("task_id"))
    # Only the first suggestion of each task (a sliced prefetch: one window-function query),
    # and how many there are: a task that absorbed 300 duplicates must not load them all.
    first = Suggestion.objects.only("pk", "task_id", "tracking_number", "received_at", "content")
    count = Suggestion.objects.filter(task=OuterRef("pk")).order_by().values("task").annotate(n=Count("pk")).values("n")
    return (
        tasks.annotate(suggestion_count=Subquery(count, output_field=IntegerField()))
        .prefetch_related(
            Prefetch("suggestions", queryset=first.order_by("received_at", "pk")[:1], to_attr="first_suggestions")
        )
        .order_by(urgent_first(), "created_at", "pk")
    )


# --- Same-day targets ------------------------------------------------------------------


def registration_working_day(created_at: dt.datetime) -> dt.date:
    """The working day whose end is the same-day targets' deadline: the registration date, or the next working day."""
    return calendar.add_working_days(timezone.localdate(created_at), 0)


def target_end(created_at: dt.datetime) -> dt.datetime:
    """The end of the registration working day (the next local midnight): a step at or after it is late."""
    return local_midnight(registration_working_day(created_at) + dt.timedelta(days=1))


def _target_end_case(first: dt.date, last: dt.date) -> Case:
    """target_end() in SQL for tasks registered from `first` to `last`: one WHEN per registration working day."""
    whens, day, one = [], first, dt.timedelta(days=1)
    while day <= last:
        working = calendar.add_working_days(day, 0)
        # Days off before a working day share its deadline: one window up to it.
        until = min(working, last)
        end = local_midnight(working + one)
        whens.append(
            When(
                created_at__gte=local_midnight(day),
                created_at__lt=local_midnight(until + one),
                then=Value(end, output_field=DateTimeField()),
            )
        )
        day = until + one
    return Case(*whens, output_field=DateTimeField())


def waiting_cutoff(now: dt.datetime) -> dt.datetime:
    """Tasks registered before this instant have seen their registration working day end by `now`."""
    previous_working_day = calendar.add_working_days(timezone.localdate(now), -1)
    return local_midnight(previous_working_day + dt.timedelta(days=1))


def _missed_conditions(now: dt.datetime) -> dict[str, Q]:
    """Per target: done after the registration working day, or still waited for after it (needs target_end)."""
    cutoff = waiting_cutoff(now)
    conditions = {}
    for key, field, _label in TARGETS:
        waiting_states = [state for state, step in WAITING_FOR.items() if step == key]
        conditions[key] = Q(**{f"{field}__gte": F("target_end")}) | Q(
            state__in=waiting_states, created_at__lt=cutoff
        )
    return conditions


def same_day_misses(
    user,
    *,
    now: dt.datetime,
    first: dt.date,
    last: dt.date,
    target: str | None = None,
    status: str | None = None,
) -> QuerySet[Task]:
    """Tasks registered from `first` to `last` (local dates) that missed a same-day target, urgent, then oldest first.

    `target` narrows to one of report, review, assign; `status` to "waiting" (the step is
    still to be done) or "late" (done, but after the registration working day).
    """
    if not user.is_authenticated or not (user.is_supervisor or user.is_leader):
        return Task.objects.none()
    conditions = _missed_conditions(now)
    waiting = Q(state__in=list(WAITING_FOR), created_at__lt=waiting_cutoff(now))
    missed = conditions[target] if target else conditions["report"] | conditions["review"] | conditions["assign"]
    if status == "waiting":
        missed &= waiting
    elif status == "late":
        late = Q()
        for key, field, _label in TARGETS:
            if target in (None, key):
                late |= Q(**{f"{field}__gte": F("target_end")})
        missed &= late
    return (
        tasks_visible_to(user)
        .exclude(state=State.MERGED)
        .filter(created_at__gte=local_midnight(first), created_at__lt=local_midnight(last + dt.timedelta(days=1)))
        .annotate(target_end=_target_end_case(first, last))
        .filter(missed)
        .order_by(urgent_first(), "created_at", "pk")
    )


def same_day_counts(user, *, now: dt.datetime, first: dt.date, last: dt.date) -> dict:
    """Of the tasks registered from `first` to `last`: how many missed each target and how many still wait (one query)."""
    if not user.is_authenticated or not (user.is_supervisor or user.is_leader):
        return {"report": 0, "review": 0, "assign": 0, "waiting": 0, "registered": 0}
    conditions = _missed_conditions(now)
    waiting = Q(state__in=list(WAITING_FOR), created_at__lt=waiting_cutoff(now))
    return (
        tasks_visible_to(user)
        .exclude(state=State.MERGED)
        .filter(created_at__gte=local_midnight(first), created_at__lt=local_midnight(last + dt.timedelta(days=1)))
        .annotate(target_end=_target_end_case(first, last))
        .order_by()
        .aggregate(
            registered=Count("pk"),
            waiting=Count("pk", filter=waiting),
            **{key: Count("pk", filter=condition) for key, condition in conditions.items()},
        )
    )


def waiting_before(user, *, now: dt.datetime, first: dt.date) -> int:
    """Tasks registered before `first` still waiting to be reported, reviewed or assigned (the state index serves it)."""
    if not user.is_authenticated or not (user.is_supervisor or user.is_leader):
        return 0
    cutoff = min(local_midnight(first), waiting_cutoff(now))
    return tasks_visible_to(user).filter(state__in=list(WAITING_FOR), created_at__lt=cutoff).order_by().count()


@dataclasses.dataclass(frozen=True)
class TargetStatus:
    """One target of one task: on time, late (done after the day), waiting (still not done), or not applicable."""

    key: str
    label: str
    status: str  # "on_time", "late", "waiting", "not_due" (the day has not ended) or "none" (skipped)
    done_at: dt.datetime | None = None
    late_working_days: int | None = None
    late_by: str = ""  # calendar time after the target's end, e.g. "7 days, 9 hours"

    @property
    def missed(self) -> bool:
        return self.status in ("late", "waiting")


@dataclasses.dataclass(frozen=True)
class SameDayRow:
    """A task of the same-day list: its registration working day and the three targets."""

    task: Task
    day: dt.date
    targets: list[TargetStatus]


def same_day_rows(tasks, *, now: dt.datetime) -> list[SameDayRow]:
    """The rows of a page of same_day_misses() (computed in Python from the fetched fields: no query)."""
    return [
        SameDayRow(task=task, day=registration_working_day(task.created_at), targets=target_statuses(task, now=now))
        for task in tasks
    ]


def delay_text(delay: dt.timedelta) -> str:
    """A delay in days and hours ("7 days, 9 hours"), or minutes when under an hour."""
    minutes = max(int(delay.total_seconds() // 60), 0)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = []
    if days:
        parts.append(ngettext("%(n)d day", "%(n)d days", days) % {"n": days})
    if hours:
        parts.append(ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours})
    if not parts:
        parts.append(ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes})
    return str(_(", ")).join(parts)


def target_statuses(task: Task, *, now: dt.datetime) -> list[TargetStatus]:
    """Report, review and assignment of one task against its registration working day (no query)."""
    day = registration_working_day(task.created_at)
    end = local_midnight(day + dt.timedelta(days=1))
    waiting_for = WAITING_FOR.get(task.state)
    statuses = []
    for key, field, label in TARGETS:
        done_at = getattr(task, field)
        if done_at is not None:
            status = "late" if done_at >= end else "on_time"
        elif key == waiting_for:
            status = "waiting" if now >= end else "not_due"
        else:
            status = "none"
        when = done_at if done_at is not None else now
        missed = status in ("late", "waiting")
        statuses.append(
            TargetStatus(
                key=key,
                label=str(label),
                status=status,
                done_at=done_at,
                late_working_days=calendar.working_days_between(day, timezone.localdate(when)) if missed else None,
                late_by=delay_text(when - end) if missed else "",
            )
        )
    return statuses


# --- Notifications ---------------------------------------------------------------------


def notifications_for(user, *, unread_only: bool = False) -> QuerySet[Notification]:
    """The user's own in-app notifications, newest first, with their tasks."""
    if not user.is_authenticated:
        return Notification.objects.none()
    notifications = Notification.objects.filter(recipient=user)
    if unread_only:
        notifications = notifications.filter(read_at__isnull=True)
    return notifications.select_related("task").order_by("-created_at", "-pk")


def unread_notification_count(user, *, cap: int = UNREAD_CAP) -> int:
    """The user's unread notifications, counted up to cap + 1 (served by the partial index notification_unread_idx)."""
    if not user.is_authenticated:
        return 0
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True).order_by()
    # COUNT over a LIMIT: the index walk stops after cap + 1 entries.
    return unread.values("pk")[: cap + 1].count()
