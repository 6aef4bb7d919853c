"""Conditions on a record's (task, department) pair: approved score exclusions (核减) and return requests (退单).

A record counts for a department through one pair (tasks.reportcards.definitions): a task and
its lead department, a suggestion or callback and its task's lead department, a return
request and the department that filed it. These conditions test the pair against the
exclusions or requests with one uncorrelated subquery, which PostgreSQL hashes once per
query (both tables are far smaller than the records they are tested against).
"""

from __future__ import annotations

from django.db.models import BooleanField, Expression, F, IntegerField, Q, Subquery

from tasks.models import ScoreExclusion, TaskRequest

from .scopes import CALLBACK, REQUEST, SUGGESTION, TASK

# (task, department) of each excludable record: the pair a score exclusion names.
EXCLUSION_PATHS = {
    SUGGESTION: ("task", "task__lead_department"),
    TASK: ("pk", "lead_department"),
    CALLBACK: ("task", "task__lead_department"),
    REQUEST: ("task", "department"),
}


class PairIn(Expression):
    """COALESCE((task, department) IN (SELECT task_id, department_id ...), false): is the pair among the rows?

    One uncorrelated subquery, which PostgreSQL hashes once per query; a correlated EXISTS
    would be costed (and planned, with JIT) as a probe per row. COALESCE makes a row with a
    NULL in the pair (a suggestion without a task) "not among them" rather than unknown, so
    the negation counts it.
    """

    output_field = BooleanField()
    conditional = True

    def __init__(self, task_path: str, department_path: str, queryset):
        super().__init__()
        self.task, self.department = F(task_path), F(department_path)
        self.subquery = Subquery(queryset.values("task_id", "department_id"), output_field=IntegerField())

    def get_source_expressions(self):
        return [self.task, self.department, self.subquery]

    def set_source_expressions(self, expressions):
        self.task, self.department, self.subquery = expressions

    def as_sql(self, compiler, connection, **extra):
        task, task_params = compiler.compile(self.task)
        department, department_params = compiler.compile(self.department)
        subquery, subquery_params = compiler.compile(self.subquery)
        return f"COALESCE(({task}, {department}) IN {subquery}, false)", (
            *task_params, *department_params, *subquery_params,
        )


def pair_exists(queryset, task_path: str, department_path: str) -> Q:
    """A row of `queryset` names this record's (task, department) pair."""
    return Q(PairIn(task_path, department_path, queryset))


def excluded_q(record: str) -> Q:
    """The record's (task, department) pair has an approved score exclusion (核减)."""
    approved = ScoreExclusion.objects.filter(status=ScoreExclusion.Status.APPROVED).order_by()
    return pair_exists(approved, *EXCLUSION_PATHS[record])


def returned_by_lead_q() -> Q:
    """The task's lead department has filed a return request (退单) on it, whatever the decision."""
    returns = TaskRequest.objects.filter(kind=TaskRequest.Kind.RETURN).order_by()
    return pair_exists(returns, "pk", "lead_department")


def assist_on_time_q() -> Q:
    """An assisting department replied no later than its sub-deadline."""
    return Q(replied_at__isnull=False) & (Q(deadline__isnull=True) | Q(replied_at__lte=F("deadline")))
