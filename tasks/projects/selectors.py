"""Reads of projects and TV episodes for pages and report cards, scoped to the user like tasks.

Department scope: supervisors, leaders and admins see everything; a handler or head sees
their own department's projects, the episodes in which their department was questioned
(or leads a problem raised in it or set up a mechanism), and within an episode only
their department's problems and mechanisms; accountability suggestions to the discipline
commission only the supervision office, leaders and admins see. Everyone else sees none.
Lists are bounded and a fixed number of queries, whatever the number of rows.
"""

import dataclasses
import datetime as dt

from django.db.models import Count, F, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from tasks.models import HANDLING_STATES, State, Task, TvEpisode
from tasks.models.projects import (
    AccountabilitySuggestion,
    Evidence,
    Indicator,
    Mechanism,
    ProgressUpdate,
    ProgressValue,
    Project,
)
from tasks.selectors import tasks_visible_to

from .status import ProjectStatus, with_status

UPDATES_SHOWN = 50
PROBLEMS_SHOWN = 200


def _reads_all(user) -> bool:
    return user.is_authenticated and user.is_active and user.sees_all_departments


def _department_of(user) -> int | None:
    """The department whose work the user sees only, or None (sees all, or nothing)."""
    if user.is_authenticated and user.is_active and user.is_department_staff:
        return user.department_id
    return None


def _count(rows: QuerySet, key: str) -> Coalesce:
    """A correlated COUNT of `rows` grouped by `key` (= OuterRef("pk") already applied), 0 when none."""
    counted = rows.order_by().values(key).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


# --- Projects -------------------------------------------------------------------------


def projects_visible_to(user) -> QuerySet[Project]:
    """Projects the user may read: all (supervisors, leaders, admins), their department's (handlers, heads), or none."""
    projects = Project.objects.select_related("department")
    if _reads_all(user):
        return projects
    department_id = _department_of(user)
    if department_id is not None:
        return projects.filter(department_id=department_id)
    return projects.none()


def _last_update():
    latest = ProgressUpdate.objects.filter(project=OuterRef("pk")).order_by("-recorded_on", "-id")
    return Subquery(latest.values("recorded_on")[:1])


def project_list(
    user, *, today: dt.date, year: int | None = None, department_id: int | None = None, status: str | None = None
) -> QuerySet[Project]:
    """The user's projects with `status` and `last_update` annotated and indicators prefetched, newest year first."""
    projects = with_status(projects_visible_to(user), today).annotate(last_update=_last_update())
    if year is not None:
        projects = projects.filter(year=year)
    if department_id is not None:
        projects = projects.filter(department_id=department_id)
    if status:
        projects = projects.filter(status=status)
    indicators = Prefetch("indicators", queryset=Indicator.objects.order_by("pk"))
    return projects.prefetch_related(indicators).order_by("-year", "department__sort_order", "department_id", "pk")


def project_years(user) -> list[int]:
    """The years the user's projects belong to, newest first (the list's year filter)."""
    return list(projects_visible_to(user).order_by("-year").values_list("year", flat=True).distinct())


def project_for(user, pk: int) -> Project | None:
    """One project the user may read, with its indicators and last update date; None when it is not theirs."""
    indicators = Prefetch("indicators", queryset=Indicator.objects.order_by("pk"))
    return (
        projects_visible_to(user)
        .annotate(last_update=_last_update())
        .prefetch_related(indicators)
        .filter(pk=pk)
        .first()
    )


def project_updates(project: Project, *, limit: int = UPDATES_SHOWN) -> list[ProgressUpdate]:
    """The project's latest progress updates with their values and evidence, newest first (three queries)."""
    values = Prefetch("values", queryset=ProgressValue.objects.select_related("indicator").order_by("indicator_id"))
    evidence = Prefetch("evidence", queryset=Evidence.objects.order_by("pk"))
    return list(
        project.updates.select_related("recorded_by")
        .prefetch_related(values, evidence)
        .order_by("-recorded_on", "-id")[:limit]
    )


def evidence_for(user, pk: int) -> Evidence | None:
    """An evidence file of a project the user may read; None otherwise (the view answers 404)."""
    return (
        Evidence.objects.select_related("update")
        .filter(pk=pk, update__project__in=projects_visible_to(user).values("pk"))
        .first()
    )


@dataclasses.dataclass(frozen=True)
class ProjectTotals:
    """Projects by status and their indicators, for the city overview and department report cards."""

    projects: int
    done: int
    on_track: int
    behind: int
    indicators: int
    indicators_done: int


def project_totals(*, today: dt.date, year: int | None = None, department_id: int | None = None) -> ProjectTotals:
    """Projects (of a year, of a department) by status as of `today`, and their indicators; two queries."""
    projects = Project.objects.all()
    if year is not None:
        projects = projects.filter(year=year)
    if department_id is not None:
        projects = projects.filter(department_id=department_id)
    by_status = dict(
        with_status(projects, today).order_by().values_list("status").annotate(n=Count("pk")).values_list("status", "n")
    )
    indicators = Indicator.objects.filter(project__in=projects.values("pk")).aggregate(
        all=Count("pk"), done=Count("pk", filter=Q(target__lte=F("baseline")) | Q(current__gte=F("target")))
    )
    return ProjectTotals(
        projects=sum(by_status.values()),
        done=by_status.get(ProjectStatus.DONE, 0),
        on_track=by_status.get(ProjectStatus.ON_TRACK, 0),
        behind=by_status.get(ProjectStatus.BEHIND, 0),
        indicators=indicators["all"],
        indicators_done=indicators["done"],
    )


# --- TV accountability episodes ---------------------------------------------------------


def episodes_visible_to(user) -> QuerySet[TvEpisode]:
    """Episodes the user may read: all, or those that questioned the user's department or gave it work."""
    if _reads_all(user):
        return TvEpisode.objects.all()
    department_id = _department_of(user)
    if department_id is None:
        return TvEpisode.objects.none()
    questioned = TvEpisode.departments.through.objects.filter(department_id=department_id).values("tvepisode_id")
    problems = Task.objects.filter(lead_department_id=department_id, episode__isnull=False).values("episode_id")
    mechanisms = Mechanism.objects.filter(department_id=department_id).values("episode_id")
    return TvEpisode.objects.filter(Q(pk__in=questioned) | Q(pk__in=problems) | Q(pk__in=mechanisms))


def _episode_problems(user) -> QuerySet[Task]:
    department_id = _department_of(user)
    problems = Task.objects.filter(episode=OuterRef("pk"))
    return problems.filter(lead_department_id=department_id) if department_id is not None else problems


def _episode_mechanisms(user) -> QuerySet[Mechanism]:
    department_id = _department_of(user)
    mechanisms = Mechanism.objects.filter(episode=OuterRef("pk"))
    return mechanisms.filter(department_id=department_id) if department_id is not None else mechanisms


def episode_list(user) -> QuerySet[TvEpisode]:
    """The user's episodes, newest first, with the departments questioned and their (share of) figures."""
    problems = _episode_problems(user)
    episodes = episodes_visible_to(user).annotate(
        problems_raised=_count(problems, "episode"),
        problems_closed=_count(problems.filter(state=State.CLOSED), "episode"),
        mechanism_count=_count(_episode_mechanisms(user), "episode"),
    )
    if _reads_all(user):
        suggestions = AccountabilitySuggestion.objects.filter(episode=OuterRef("pk"))
        episodes = episodes.annotate(suggestion_count=_count(suggestions, "episode"))
    departments = Prefetch("departments", queryset=_departments_ordered())
    return episodes.prefetch_related(departments).order_by("-aired_on", "-pk")


def _departments_ordered():
    from org.models import Department

    return Department.objects.order_by("sort_order", "pk")


def episode_for(user, pk: int) -> TvEpisode | None:
    """One episode the user may read, with its departments questioned; None when it is not theirs."""
    departments = Prefetch("departments", queryset=_departments_ordered())
    return episodes_visible_to(user).prefetch_related(departments).filter(pk=pk).first()


def episode_problems(user, episode: TvEpisode, *, limit: int = PROBLEMS_SHOWN) -> list[Task]:
    """The episode's problems (tasks) the user may read, nearest deadline first, bounded."""
    rows = tasks_visible_to(user).filter(episode=episode).defer("review_note", "reply")
    return list(rows.order_by("lead_department__sort_order", "deadline", "pk")[:limit])


def episode_problem_counts(user, episode: TvEpisode, *, now: dt.datetime) -> dict:
    """Raised, closed and overdue counts of the episode's problems the user may read, in one query."""
    return (
        tasks_visible_to(user)
        .filter(episode=episode)
        .order_by()
        .aggregate(
            raised=Count("pk"),
            closed=Count("pk", filter=Q(state=State.CLOSED)),
            overdue=Count("pk", filter=Q(state__in=HANDLING_STATES, deadline__lt=now)),
        )
    )


def episode_mechanisms(user, episode: TvEpisode) -> list[Mechanism]:
    """The episode's long-term mechanisms the user may read (their department's, or all)."""
    mechanisms = Mechanism.objects.filter(episode=episode).select_related("department")
    department_id = _department_of(user)
    if department_id is not None:
        mechanisms = mechanisms.filter(department_id=department_id)
    elif not _reads_all(user):
        return []
    return list(mechanisms.order_by("established_on", "pk"))


def episode_accountability(user, episode: TvEpisode) -> list[AccountabilitySuggestion]:
    """The episode's accountability suggestions, for the supervision office, leaders and admins only."""
    if not _reads_all(user):
        return []
    rows = AccountabilitySuggestion.objects.filter(episode=episode).select_related("department", "task", "created_by")
    return list(rows.order_by("pk"))


def mechanism_for(user, pk: int) -> Mechanism | None:
    """A mechanism the user may read (for its document); None otherwise."""
    mechanisms = Mechanism.objects.filter(pk=pk)
    if _reads_all(user):
        return mechanisms.first()
    department_id = _department_of(user)
    if department_id is None:
        return None
    return mechanisms.filter(department_id=department_id).first()


@dataclasses.dataclass(frozen=True)
class EpisodeTotals:
    """The TV accountability show in figures: the article's 7 episodes, 21 departments, 107 problems, 17 mechanisms."""

    episodes: int
    departments_questioned: int
    problems_raised: int
    problems_closed: int
    mechanisms: int
    accountability_suggestions: int


def episode_totals(
    *, first: dt.date | None = None, last: dt.date | None = None, department_id: int | None = None
) -> EpisodeTotals:
    """Totals of the episodes aired from `first` to `last` (inclusive), for one department or all; five queries.

    A department questioned in two episodes counts twice (the article's "21 departments
    questioned" over 7 episodes counts questionings); problems are the tasks raised in
    those episodes, by their lead department when one is given.
    """
    aired = Q()
    if first is not None:
        aired &= Q(aired_on__gte=first)
    if last is not None:
        aired &= Q(aired_on__lte=last)
    episodes = TvEpisode.objects.filter(aired)
    questioned = TvEpisode.departments.through.objects.filter(tvepisode__in=episodes.values("pk"))
    problems = Task.objects.filter(episode__in=episodes.values("pk"))
    mechanisms = Mechanism.objects.filter(episode__in=episodes.values("pk"))
    suggestions = AccountabilitySuggestion.objects.filter(episode__in=episodes.values("pk"))
    if department_id is not None:
        episodes = episodes.filter(pk__in=questioned.filter(department_id=department_id).values("tvepisode_id"))
        questioned = questioned.filter(department_id=department_id)
        problems = problems.filter(lead_department_id=department_id)
        mechanisms = mechanisms.filter(department_id=department_id)
        suggestions = suggestions.filter(department_id=department_id)
    counted = problems.order_by().aggregate(raised=Count("pk"), closed=Count("pk", filter=Q(state=State.CLOSED)))
    return EpisodeTotals(
        episodes=episodes.count(),
        departments_questioned=questioned.count(),
        problems_raised=counted["raised"],
        problems_closed=counted["closed"],
        mechanisms=mechanisms.count(),
        accountability_suggestions=suggestions.count(),
    )
