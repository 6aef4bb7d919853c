"""紧急 first: the sort key that puts open urgent tasks before the others in every task list.

Only *open* urgent tasks go first: an urgent task closed last year would otherwise sit on
top of the task list for good. Lists of open tasks only (the dispatch queue, a
department's desk) get the same order as "urgent first". Open311 keeps its own order.

The task list's two sorts are served by expression indexes on this very key (Task.Meta:
the planner matches the index only when the query's expression is the same): at a
million tasks the first page took 500 ms with the key and no index, 0.4 ms with it.
This module imports no task model, as the Task model's indexes are built from it.
"""

from django.db.models import Case, IntegerField, Q, Value, When

from feedback.models import Urgency

# tasks.models.FINISHED_STATES (a test keeps them equal).
FINISHED = ("closed", "merged")


def urgent_open(prefix: str = "") -> Q:
    """An urgent task that is not finished (`prefix` "task__" for rows that point at a task)."""
    return Q(**{f"{prefix}urgency": Urgency.URGENT}) & ~Q(**{f"{prefix}state__in": list(FINISHED)})


def urgent_first(prefix: str = "") -> Case:
    """0 for an open urgent task, 1 otherwise: put it first in an ascending order_by()."""
    return Case(When(urgent_open(prefix), then=Value(0)), default=Value(1), output_field=IntegerField())
