"""Reads the report pages need beyond the report card engine: data range, channels, projects, TV, overdue rows.

Each is a fixed number of queries, whatever the number of rows or units, and returns
evaluated values, so templates run no query.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from django.db.models import Count, Max, Min, Prefetch, Q
from django.utils import timezone

from feedback.models import Channel, Suggestion
from tasks.models import Indicator, Mechanism, Project, State, Task, TvEpisode
from tasks.reportcards import Period, Scope, records_for

# Lists on a page are bounded; the figure beside them gives the total.
PROJECT_LIMIT = 50
OVERDUE_LIMIT = 50


def data_range() -> tuple[dt.date | None, dt.date | None]:
    """The local dates of the first and last suggestion received (None, None without data); one indexed query."""
    bounds = Suggestion.objects.order_by().aggregate(first=Min("received_at"), last=Max("received_at"))
    if bounds["first"] is None:
        return None, None
    return timezone.localdate(bounds["first"]), timezone.localdate(bounds["last"])


def channel_counts(period: Period) -> list[tuple[str, str, int]]:
    """Suggestions received in the period per channel: (code, label, count) for every channel, in one query."""
    rows = (
        Suggestion.objects.filter(received_at__gte=period.start, received_at__lt=period.end)
        .order_by()
        .values("channel")
        .annotate(n=Count("pk"))
    )
    counts = {row["channel"]: row["n"] for row in rows}
    return [(channel.value, str(channel.label), counts.get(channel.value, 0)) for channel in Channel]


def projects_progress(period: Period, *, department_id: int | None = None) -> list[Project]:
    """The practical-task projects of the period's years (of one department), with their indicators; two queries."""
    projects = Project.objects.filter(year__gte=period.first.year, year__lte=period.last.year)
    if department_id is not None:
        projects = projects.filter(department_id=department_id)
    indicators = Prefetch("indicators", queryset=Indicator.objects.order_by("pk"))
    return list(
        projects.select_related("department").prefetch_related(indicators).order_by("year", "pk")[:PROJECT_LIMIT]
    )


@dataclasses.dataclass(frozen=True)
class TvTotals:
    """The TV accountability show in a period: episodes aired, departments questioned, problems, mechanisms."""

    episodes: int
    departments: int
    problems_raised: int
    problems_solved: int
    mechanisms: int


def tv_totals(period: Period) -> TvTotals:
    """Totals of the episodes aired in the period, their problems (tasks) and their mechanisms; four queries."""
    aired = Q(aired_on__gte=period.first, aired_on__lte=period.last)
    episodes = TvEpisode.objects.filter(aired).order_by()
    # Each (episode, department) pair is one questioning: the article's "21 departments" over 7 episodes.
    questioned = TvEpisode.departments.through.objects.filter(
        tvepisode__aired_on__gte=period.first, tvepisode__aired_on__lte=period.last
    )
    problems = (
        Task.objects.filter(episode__aired_on__gte=period.first, episode__aired_on__lte=period.last)
        .order_by()
        .aggregate(raised=Count("pk"), solved=Count("pk", filter=Q(state=State.CLOSED)))
    )
    mechanisms = Mechanism.objects.filter(
        episode__aired_on__gte=period.first, episode__aired_on__lte=period.last
    ).order_by()
    return TvTotals(
        episodes=episodes.count(),
        departments=questioned.count(),
        problems_raised=problems["raised"],
        problems_solved=problems["solved"],
        mechanisms=mechanisms.count(),
    )


def overdue_tasks(scope: Scope, *, now: dt.datetime) -> list[Task]:
    """The scope's first overdue tasks, most overdue first: the rows the overdue figure counts, bounded."""
    rows = records_for("overdue", scope, None, now=now)
    return list(
        rows.select_related("township", "lead_department").defer("review_note", "reply").order_by("deadline", "pk")[
            :OVERDUE_LIMIT
        ]
    )
