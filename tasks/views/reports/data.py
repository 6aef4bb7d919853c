"""Reads the report pages need beyond the report card engine: data range, channels, projects, TV, overdue rows.

Each is a fixed number of queries, whatever the number of rows or units, and returns
evaluated values, so templates run no query.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from django.core.cache import cache
from django.db.models import Count, Max, Min, Prefetch, Q
from django.utils import timezone

from feedback.models import Channel, Suggestion, Urgency
from tasks.models import HANDLING_STATES, Indicator, Mechanism, Project, State, Task, TvEpisode
from tasks.reportcards import MAX_STALENESS, Period, Scope, records_for

# Lists on a page are bounded; the figure beside them gives the total.
PROJECT_LIMIT = 50
OVERDUE_LIMIT = 50


def data_range() -> tuple[dt.date | None, dt.date | None]:
    """The local dates of the first and last suggestion received (None, None without data); one indexed query."""
    bounds = Suggestion.objects.order_by().aggregate(first=Min("received_at"), last=Max("received_at"))
    if bounds["first"] is None:
        return None, None
    return timezone.localdate(bounds["first"]), timezone.localdate(bounds["last"])


def channel_counts(period: Period, *, refresh=None) -> list[tuple[str, str, int]]:
    """Suggestions received in the period per channel: (code, label, count) for every channel, in one query.

    The rollups hold no channel, and this GROUP BY reads every suggestion of the period
    (about 120 ms for a year at a million). With a rollup `refresh`, the counts are kept
    in the cache under that refresh, so they are recounted once per rebuild (every few
    minutes) and never outlive it by more than rollups.MAX_STALENESS, like the figures.
    """
    if refresh is not None:
        key = f"reports:channels:{period.code}:{refresh.pk}:{refresh.as_of.timestamp()}"
        counts = cache.get(key)
        if counts is None:
            counts = _count_channels(period)
            cache.set(key, counts, timeout=MAX_STALENESS.total_seconds())
    else:
        counts = _count_channels(period)
    return [(channel.value, str(channel.label), counts.get(channel.value, 0)) for channel in Channel]


def _count_channels(period: Period) -> dict[str, int]:
    rows = (
        Suggestion.objects.filter(received_at__gte=period.start, received_at__lt=period.end)
        .order_by()
        .values("channel")
        .annotate(n=Count("pk"))
    )
    return {row["channel"]: row["n"] for row in rows}


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
    """The scope's first overdue tasks, most overdue first: the rows the overdue figure counts, bounded.

    One query per handling state: each walks the (state, deadline) index in deadline
    order and stops at the limit, where one query over all four states would sort every
    overdue task of the city (45,000 at a million tasks: 190 ms against a few ms).
    """
    rows = records_for("overdue", scope, None, now=now).select_related("township", "lead_department")
    rows = rows.defer("review_note", "reply")
    first = []
    for state in HANDLING_STATES:
        first += rows.filter(state=state).order_by("deadline", "pk")[:OVERDUE_LIMIT]
    # Open urgent tasks first, as in every task list (tasks.urgency); every row here is open.
    return sorted(first, key=lambda task: (task.urgency != Urgency.URGENT, task.deadline, task.pk))[:OVERDUE_LIMIT]
