"""Reads of suggestions for the list, detail and export pages, each scoped to the user.

Who sees which suggestion (feedback pages):
- supervisors, leaders, admins: all;
- handlers and heads: those of the tasks their department leads or assists (the task scope);
- registrars: those they registered themselves.

Whose citizen (name, phone) is shown in full is a separate question, answered by the task
detail page's rule (`tasks.views.detail.works_on`) plus "a registrar sees in full what they
registered"; `citizens_in_full` evaluates it for a whole page or export batch at once.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Prefetch, Q, QuerySet

from tasks import search
from tasks.models import Task, TaskAssist
from tasks.selectors import _suggestions_visible_to, tasks_visible_to

from .models import Suggestion


def suggestions_visible_to(user) -> QuerySet[Suggestion]:
    """Suggestions the user may open on the feedback pages (see the module docstring)."""
    if not user.is_authenticated or not user.is_active:
        return Suggestion.objects.none()
    if user.sees_all_departments:
        return _suggestions_visible_to(user)
    if user.is_department_staff:
        # The task scope (tasks_visible_to: led or assisted by the department), written as two
        # id sets: PostgreSQL hashes them once and probes each suggestion walked newest first.
        # Through tasks_visible_to it looked up every walked suggestion's task by index
        # instead: 90 ms against 21 ms for a first page at a million suggestions.
        led = Task.objects.filter(lead_department_id=user.department_id).values("pk")
        assisted = TaskAssist.objects.filter(department_id=user.department_id).values("task_id")
        return Suggestion.objects.filter(Q(task_id__in=led) | Q(task_id__in=assisted))
    if user.is_registrar:
        # Served by the (registered_by, -id) index. The task scope would also let a
        # registrar reach other people's suggestions merged into their task.
        return Suggestion.objects.filter(registered_by=user)
    return Suggestion.objects.none()


def suggestion_list(user) -> QuerySet[Suggestion]:
    """The list's rows: visible suggestions newest first, with their place and task in the same query."""
    # Newest first by id: the primary key (or the registrar's index) serves it without a sort.
    return (
        suggestions_visible_to(user)
        .select_related("township", "village", "task")
        .defer("content_fingerprint", "task__review_note", "task__reply")
        .order_by("-id")
    )


def suggestion_detail(user, pk) -> Suggestion | None:
    """One visible suggestion with its place, registrar and task (and the task's departments), or None."""
    assists = Prefetch("task__assists", queryset=TaskAssist.objects.select_related("department").order_by("pk"))
    return (
        suggestions_visible_to(user)
        .select_related("township", "village", "registered_by", "task", "task__lead_department")
        .prefetch_related(assists)
        .filter(pk=pk)
        .first()
    )


def suggestions_merged_with(suggestion: Suggestion) -> list[Suggestion]:
    """The other suggestions of the same task (duplicates merged into it), oldest received first."""
    return list(
        Suggestion.objects.filter(task_id=suggestion.task_id)
        .exclude(pk=suggestion.pk)
        .select_related("township", "village")
        .order_by("received_at", "pk")
    )


def visible_ids(user, ids: Iterable[int]) -> set[int]:
    """Of these suggestion ids, those the user may open (one query)."""
    ids = list(ids)
    if not ids:
        return set()
    return set(suggestions_visible_to(user).filter(pk__in=ids).values_list("pk", flat=True))


def task_visible(user, task_id) -> bool:
    """Whether the user may open the task's page."""
    return tasks_visible_to(user).filter(pk=task_id).exists()


class _Assists(tuple):
    """A task's assisting departments as works_on reads them (`task.assists.all()`)."""

    def all(self):
        return self


@dataclass(frozen=True)
class _TaskFacts:
    """The facts of a task that works_on reads: its lead department and assisting departments."""

    lead_department_id: int | None
    assists: _Assists


@dataclass(frozen=True)
class _Assist:
    department_id: int


def tasks_worked_on(user, leads: dict[int, int | None]) -> set[int]:
    """Of these tasks (id -> lead department id), the ids the user works on, by `works_on`, in at most one query."""
    # Imported here: the task views import forms and services that import this app's models.
    from tasks.views.detail import works_on

    if not leads:
        return set()
    assisting: dict[int, list[int]] = defaultdict(list)
    for task_id, department_id in TaskAssist.objects.filter(task_id__in=list(leads)).values_list(
        "task_id", "department_id"
    ):
        assisting[task_id].append(department_id)
    # works_on itself decides, once per distinct (lead, assisting departments): an export
    # batch of thousands of tasks has a few dozen, and building a Task per row with its
    # prefetched assists cost more than the rest of the export together.
    decided: dict[tuple, bool] = {}
    worked_on = set()
    for pk, lead in leads.items():
        key = (lead, tuple(sorted(assisting.get(pk, ()))))
        if key not in decided:
            facts = _TaskFacts(lead_department_id=lead, assists=_Assists(_Assist(d) for d in key[1]))
            decided[key] = works_on(facts, user)
        if decided[key]:
            worked_on.add(pk)
    return worked_on


def citizens_in_full(user, rows: Iterable[tuple[int, int, int | None, int | None]]) -> set[int]:
    """Of rows (suggestion id, task id, lead department id, registered by id), the suggestion ids whose citizen the user sees unmasked.

    The user works on the task (works_on), or is the registrar who typed the citizen's details in.
    """
    rows = list(rows)
    worked_on = tasks_worked_on(user, {task_id: lead for _, task_id, lead, _ in rows})
    own = user.is_registrar
    return {pk for pk, task_id, _, by in rows if task_id in worked_on or (own and by == user.pk)}


def suggestions_matching(suggestions: QuerySet[Suggestion], text: str) -> QuerySet[Suggestion]:
    """Narrow `suggestions` to those whose content contains every word of `text` (or the tracking number typed)."""
    for word in search.search_words(text):
        if search.TRACKING_NUMBER.fullmatch(word):
            suggestions = suggestions.filter(tracking_number=word.upper())
            continue
        # tasks.search decides how to find the word (bigram index for a rare one on
        # PostgreSQL). A list means it found the few tasks holding it: the suggestions are
        # among theirs, and the LIKE keeps only the ones that hold it themselves (a task's
        # other suggestions may not). A subquery means a common word: a plain LIKE walked
        # newest first stops after a page, where the subquery would scan every match.
        task_ids = search.suggestion_task_ids(word, using=suggestions.db)
        if isinstance(task_ids, list):
            suggestions = suggestions.filter(task_id__in=task_ids)
        suggestions = suggestions.filter(content__contains=word)
    return suggestions
