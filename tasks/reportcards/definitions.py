"""What each report card figure counts: one definition, read by the figures, the rollups and the drilldown.

Every figure is built from *counters*. A counter counts the rows of one *family*: the
suggestions, tasks or callbacks whose date field falls in the period (plus the family's
own condition), optionally narrowed by the counter's condition. A rate is one counter
over another of the same family, so numerator and denominator are the same rows:

| figure              | numerator counter    | denominator counter | family: record, date field          |
|---------------------|----------------------|---------------------|-------------------------------------|
| received            | received             |                     | suggestions by received_at          |
| assigned            | assigned             |                     | tasks by assigned_at, with a lead   |
| closed              | closed               |                     | closed tasks by closed_at           |
| closure_rate        | assigned_closed      | assigned            | tasks by assigned_at, with a lead   |
| on_time_rate        | closed_on_time       | closed              | closed tasks by closed_at           |
| overdue             | overdue              |                     | tasks on the handling clock, now    |
| timely_acceptance   | assigned_timely      | assigned            | tasks by assigned_at, with a lead   |
| same_day_assignment | registered_same_day  | registered          | suggestions by registered_at        |
| satisfaction        | callbacks_satisfied  | callbacks           | callbacks by called_at              |
| return_rate         | assigned_returned    | assigned            | tasks by assigned_at, with a lead   |
| returns_refused     | returns_refused      |                     | return requests refused, decided_at |
| assist_parts        | assists              |                     | assisting parts by task assigned_at |
| assist_on_time_rate | assists_on_time      | assists             | assisting parts by task assigned_at |
| assist_overdue      | assists_overdue      |                     | assisting parts past due, now       |

Beside each counter of an excludable family there is `<family>_excluded`: the rows left
out by approved score exclusions (核减), the "核减 N" beside a figure.

Decisions (DOMAIN.md leaves them open):

- "assigned" counts tasks whose latest assignment is in the period and which still have a
  lead department. A task returned as wrongly assigned (退回) has none until the
  supervisor reassigns it, and its new assigned_at then places it. So the departments'
  assigned tasks add up to the city's.
- "closed" counts tasks closed now whose closed_at is in the period; a task reopened by
  redo or look-back has no closed_at until it closes again (tasks.services.closing).
- "closure rate": of the tasks assigned in the period, those in state closed now.
- "on time" is Task.closed_on_time(): the reply (or, without one, the closing) no later
  than the deadline, which holds the extended deadline after an approved extension; a
  task without a deadline is on time.
- "overdue" is Task.is_overdue(now): on the handling clock (HANDLING_STATES; a pending
  return stops the clock) and past the deadline. It is "now", whatever the period.
- "on the same working day" (timely acceptance, same-day assignment): the response comes
  no later than the end of the first working day on or after the local date of the
  event. An event on a working day must be answered that same local date (a Friday
  18:00 assignment accepted on Monday is late); an event on a day off must be answered
  by the end of the next working day (a Saturday assignment accepted on Monday is on
  time; so is one on 1 October 2021 accepted on Friday 8 October, the first working day
  after the National Day holiday). Working days come from tasks.calendar (admin entries,
  then chinese-calendar, then Mon–Fri).
- "same-day assignment": the suggestion's task has a lead department and was assigned no
  later than that deadline. A suggestion merged into a task that was already assigned
  counts as assigned at once.
- "satisfaction": callbacks in the period whose result is satisfied or basically satisfied.
- "return rate" (退单率): of the tasks assigned in the period (the "assigned" figure's
  tasks), those on which their lead department has filed a return request (退单), pending,
  refused or approved. An approved return takes the task away from the department (it has
  no lead until it is reassigned), so it leaves that department's assigned tasks and this
  figure with them: the rate measures returns filed on tasks that stayed with the
  department, which is what a supervisor holds against it.
- "returns refused" (退单驳回数): return requests filed by the scope's department (for a
  township: on its tasks) that the supervisor refused, counted by the day of the refusal.
- "assisting parts" (协办): the parts of assisting departments (TaskAssist) on tasks whose
  latest assignment is in the period; they count in the assisting department's card (and
  the city's and the township's), never in the lead's. "On time": the assisting reply came
  no later than its sub-deadline (a part without a sub-deadline is on time once replied).
  A part not yet replied is not on time, so the missed list holds the late and the open ones.
  "Assisting parts overdue" is "now", like "overdue": parts neither replied nor waived whose
  sub-deadline has passed, on tasks still on the lead's handling clock (as the task page and
  the assisting desk flag them). A waived part stays in "assisting parts" and, having no
  reply, counts as not on time.
- Score exclusions (核减, tasks.models.ScoreExclusion): a record counts for a department
  through one (task, department) pair: a task and its lead department; a suggestion or a
  callback and its task's lead department; a return request and the department that filed
  it. When the supervisor has approved an exclusion of that pair, the record is left out
  of every figure that counts it: the department's, and the city's and the township's too,
  so the departments still add up to the city. An exclusion applies only while the
  department that applied leads the task: returned and reassigned, the task counts for the
  new department. "Received" is what citizens sent and is never reduced; assisting parts
  are the assisting department's own and cannot be excluded by the lead. Each excludable
  figure reports how many records it left out ("核减 N"); the drilldown lists them.

The working-day test needs no calendar table in the database. On PostgreSQL the ends of
the working days (about 250 a year) go in as one array, and width_bucket() finds, by
binary search, how many lie before the event and before the response: the response is
in time when no end lies between them. Elsewhere (SQLite: tests and the demo) it is
"same local date or earlier", or, for an event on a run of days off (about 60 a year),
a range test against the end of the working day after the run. Both forms give the
same answer; the recount tests run on both databases.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable

from django.db import connection
from django.db.models import F, Func, IntegerField, Q
from django.db.models.functions import TruncDate
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from feedback.models import Callback, CallbackResult, Suggestion
from tasks import calendar
from tasks.models import HANDLING_STATES, State, Task, TaskAssist, TaskRequest

from .conditions import assist_on_time_q, excluded_q, returned_by_lead_q
from .periods import local_midnight
from .scopes import ASSIST, CALLBACK, REQUEST, SUGGESTION, TASK

MODELS = {SUGGESTION: Suggestion, TASK: Task, CALLBACK: Callback, REQUEST: TaskRequest, ASSIST: TaskAssist}

SATISFIED_RESULTS = (CallbackResult.SATISFIED, CallbackResult.BASICALLY_SATISFIED)


# --- The working-day test in SQL ------------------------------------------------------


def day_off_runs(first: dt.date, last: dt.date) -> list[tuple[dt.date, dt.date, dt.date]]:
    """The runs of days off between `first` and `last`: (first day off, last day off, next working day)."""
    runs, start, day, one = [], None, first, dt.timedelta(days=1)
    while day <= last:
        if calendar.is_working_day(day):
            if start is not None:
                runs.append((start, day - one, day))
                start = None
        elif start is None:
            start = day
        day += one
    if start is not None:
        runs.append((start, last, calendar.next_working_day(last)))
    return runs


class Bucket(Func):
    """PostgreSQL's width_bucket(value, thresholds): how many of the sorted `thresholds` are <= value.

    A binary search over a constant array: far cheaper per row than converting every
    timestamp to a local date with AT TIME ZONE (bench/README.md).
    """

    output_field = IntegerField()

    def __init__(self, expression, thresholds: list[dt.datetime]):
        super().__init__(expression)
        self.thresholds = list(thresholds)

    def as_sql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"width_bucket({sql}, %s::timestamptz[])", (*params, self.thresholds)


def working_day_ends(first: dt.date, last: dt.date) -> list[dt.datetime]:
    """Local midnight after each working day from `first` to the first working day on or after `last`."""
    until = last if calendar.is_working_day(last) else calendar.next_working_day(last)
    ends, day, one = [], first, dt.timedelta(days=1)
    while day <= until:
        if calendar.is_working_day(day):
            ends.append(local_midnight(day + one))
        day += one
    return ends


def same_working_day_q(event: str, response: str, first: dt.date, last: dt.date) -> Q:
    """`response` is no later than the end of the first working day on or after `event`'s local date.

    Valid for events whose local date lies between `first` and `last`.
    """
    # The explicit IS NOT NULL keeps the negation (the "missed" drilldown) right for
    # rows without a response: NOT (NULL <= x) would be NULL and drop them.
    answered = Q(**{f"{response}__isnull": False})
    if connection.vendor == "postgresql":
        # The ends of working days cut time into windows, each ending with a working day
        # and holding the days off before it. The response is in time when no end lies
        # between the event and it: it falls in the event's window or an earlier one.
        ends = working_day_ends(first, last)
        return answered & Q(LessThanOrEqual(Bucket(F(response), ends), Bucket(F(event), ends)))
    tz = timezone.get_default_timezone()
    same_date_or_earlier = Q(LessThanOrEqual(TruncDate(response, tzinfo=tz), TruncDate(event, tzinfo=tz)))
    after_days_off = Q()
    for run_first, run_last, working in day_off_runs(first, last):
        after_days_off |= Q(
            **{
                f"{event}__gte": local_midnight(run_first),
                f"{event}__lt": local_midnight(run_last + dt.timedelta(days=1)),
                f"{response}__lt": local_midnight(working + dt.timedelta(days=1)),
            }
        )
    return answered & (same_date_or_earlier | after_days_off)


# --- Families and counters ------------------------------------------------------------

# A counter's condition: built for the dates of the events it may meet (the working-day
# test needs them), or None to count every row of its family.
Condition = Callable[[dt.date, dt.date], Q] | None


@dataclasses.dataclass(frozen=True)
class Family:
    """Rows of one record type whose date field falls in the period, and what is counted among them.

    In an `excludable` family every counter leaves out the rows of approved score
    exclusions, and one more counter, `excluded_counter`, counts those rows.
    """

    name: str
    record: str
    date_field: str | None  # None: not tied to the period ("now": overdue tasks and assisting parts)
    counters: dict[str, Condition]
    excludable: bool = True

    @property
    def model(self):
        return MODELS[self.record]

    @property
    def excluded_counter(self) -> str | None:
        return f"{self.name}_excluded" if self.excludable else None

    @property
    def all_counters(self) -> tuple[str, ...]:
        """The counters with, last, the count of excluded rows (what a rollup row stores)."""
        return (*self.counters, *([self.excluded_counter] if self.excludable else []))

    def where(self, now: dt.datetime | None = None) -> Q:
        """The family's own condition, beyond its period and scope."""
        if self.name == "assigned":
            return Q(lead_department__isnull=False, assigned_at__isnull=False)
        if self.name == "closed":
            return Q(state=State.CLOSED, closed_at__isnull=False)
        if self.name == "overdue":
            return Q(state__in=HANDLING_STATES, deadline__lt=now or timezone.now())
        if self.name == "returns_refused":
            return Q(kind=TaskRequest.Kind.RETURN, status=TaskRequest.Status.REFUSED, decided_at__isnull=False)
        if self.name == "assists":
            return Q(task__lead_department__isnull=False, task__assigned_at__isnull=False)
        if self.name == "assists_overdue":
            return Q(
                task__state__in=HANDLING_STATES, replied_at__isnull=True, waived_at__isnull=True,
                deadline__lt=now or timezone.now(),
            )
        return Q()

    def in_period(self, first: dt.date, end: dt.date) -> Q:
        """Rows whose date field falls in the local days [first, end)."""
        if self.date_field is None:
            return Q()
        return Q(**{f"{self.date_field}__gte": local_midnight(first), f"{self.date_field}__lt": local_midnight(end)})

    def excluded(self) -> Q | None:
        """The rows left out by approved score exclusions; None in a family that cannot be excluded."""
        return excluded_q(self.record) if self.excludable else None

    def own_condition(self, counter: str, first: dt.date, last: dt.date) -> Q | None:
        """The counter's condition among the family's rows, before exclusions."""
        build = self.counters[counter]
        return build(first, last) if build is not None else None

    def condition(self, counter: str, first: dt.date, last: dt.date) -> Q | None:
        """What `counter` counts among the family's rows: its own condition, less the excluded rows."""
        if counter == self.excluded_counter:
            return self.excluded()
        own = self.own_condition(counter, first, last)
        if not self.excludable:
            return own
        counted = ~self.excluded()
        return counted if own is None else counted & own


FAMILIES = {
    family.name: family
    for family in (
        # What citizens sent is never reduced by a department's exclusion.
        Family("received", SUGGESTION, "received_at", {"received": None}, excludable=False),
        Family(
            "registered",
            SUGGESTION,
            "registered_at",
            {
                "registered": None,
                "registered_same_day": lambda first, last: Q(task__lead_department__isnull=False)
                & same_working_day_q("registered_at", "task__assigned_at", first, last),
            },
        ),
        Family(
            "assigned",
            TASK,
            "assigned_at",
            {
                "assigned": None,
                "assigned_closed": lambda first, last: Q(state=State.CLOSED),
                "assigned_timely": lambda first, last: same_working_day_q("assigned_at", "accepted_at", first, last),
                "assigned_returned": lambda first, last: returned_by_lead_q(),
            },
        ),
        Family(
            "closed",
            TASK,
            "closed_at",
            {
                "closed": None,
                # Task.closed_on_time() in SQL: (replied_at or closed_at) <= deadline.
                "closed_on_time": lambda first, last: Q(deadline__isnull=True)
                | Q(replied_at__isnull=False, replied_at__lte=F("deadline"))
                | Q(replied_at__isnull=True, closed_at__lte=F("deadline")),
            },
        ),
        Family(
            "callbacks",
            CALLBACK,
            "called_at",
            {"callbacks": None, "callbacks_satisfied": lambda first, last: Q(result__in=SATISFIED_RESULTS)},
        ),
        Family("returns_refused", REQUEST, "decided_at", {"returns_refused": None}),
        # An assisting part is the assisting department's own: the lead's exclusion does not reach it.
        Family(
            "assists",
            ASSIST,
            "task__assigned_at",
            {"assists": None, "assists_on_time": lambda first, last: assist_on_time_q()},
            excludable=False,
        ),
        Family("overdue", TASK, None, {"overdue": None}),
        Family("assists_overdue", ASSIST, None, {"assists_overdue": None}, excludable=False),
    )
}

# The period-bound families, which the daily rollups store.
DATED_FAMILIES = tuple(f for f in FAMILIES.values() if f.date_field is not None)
# The families counted "now", whatever the period: never stored in the rollups.
NOW_FAMILIES = tuple(f for f in FAMILIES.values() if f.date_field is None)
COUNTER_FAMILY = {counter: family for family in FAMILIES.values() for counter in family.all_counters}
DATED_COUNTERS = tuple(counter for family in DATED_FAMILIES for counter in family.all_counters)


# --- Figures --------------------------------------------------------------------------

COUNT, RATE = "count", "rate"


@dataclasses.dataclass(frozen=True)
class FigureDef:
    code: str
    label: str
    kind: str
    numerator: str
    denominator: str | None = None

    @property
    def family(self) -> Family:
        return COUNTER_FAMILY[self.numerator]

    @property
    def base(self) -> str:
        """The counter whose rows the figure considers: a rate's denominator, a count's own."""
        return self.denominator or self.numerator

    @property
    def excludable(self) -> bool:
        return self.family.excludable


FIGURES = {
    f.code: f
    for f in (
        FigureDef("received", _("suggestions received"), COUNT, "received"),
        FigureDef("assigned", _("tasks assigned"), COUNT, "assigned"),
        FigureDef("closed", _("tasks closed"), COUNT, "closed"),
        FigureDef("closure_rate", _("closure rate"), RATE, "assigned_closed", "assigned"),
        FigureDef("on_time_rate", _("on-time closure rate"), RATE, "closed_on_time", "closed"),
        FigureDef("overdue", _("overdue and still open"), COUNT, "overdue"),
        FigureDef("timely_acceptance", _("timely acceptance rate"), RATE, "assigned_timely", "assigned"),
        FigureDef("same_day_assignment", _("same-day assignment rate"), RATE, "registered_same_day", "registered"),
        FigureDef("satisfaction", _("satisfaction rate"), RATE, "callbacks_satisfied", "callbacks"),
        FigureDef("return_rate", _("return rate"), RATE, "assigned_returned", "assigned"),
        FigureDef("returns_refused", _("returns refused"), COUNT, "returns_refused"),
        FigureDef("assist_parts", _("assisting parts assigned"), COUNT, "assists"),
        FigureDef("assist_on_time_rate", _("assisting replies on time"), RATE, "assists_on_time", "assists"),
        FigureDef("assist_overdue", _("assisting parts overdue"), COUNT, "assists_overdue"),
    )
}
FIGURE_CODES = tuple(FIGURES)
