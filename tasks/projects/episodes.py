"""Writes on TV accountability episodes (电视问政): the episode, its problems, mechanisms and accountability suggestions.

A problem raised in an episode is not a record of its own: it is registered as a
suggestion from the TV channel and assigned to the questioned department through the
normal lifecycle (feedback.services.suggestion_register, tasks.services.task_assign), so
it has a deadline, reminders, a timeline, and counts in the department's report card.
The task carries the episode (Task.episode).
"""

import datetime as dt
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from feedback.models import Category, Channel, Urgency
from org.models import Department, Township, User
from tasks.errors import DomainError
from tasks.models import Task
from tasks.models.projects import AccountabilitySuggestion, Mechanism, TvEpisode
from tasks.services.rules import check_role

from . import files

SUPERVISORS = (User.Role.SUPERVISOR,)
MAX_TITLE = 128
MAX_TEXT = 5000
# When the show airs: problems raised that evening are "received" then.
AIR_TIME = dt.time(20, 0)


def _text(value, *, field: str, label: str, max_length: int, required: bool = True) -> str:
    text = (value or "").strip()
    if required and not text:
        raise DomainError(_("The %(field)s is empty.") % {"field": label}, field=field)
    if len(text) > max_length:
        raise DomainError(
            _("The %(field)s is too long: %(length)d characters, at most %(max)d.")
            % {"field": label, "length": len(text), "max": max_length},
            field=field,
        )
    return text


def _date(value, *, field: str, missing: str) -> dt.date:
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise DomainError(missing, field=field)
    return value


def _handling(department: Department) -> Department:
    if not department.is_active:
        raise DomainError(_("%(department)s is no longer active.") % {"department": department}, field="department")
    if department.kind == Department.Kind.SUPERVISION:
        raise DomainError(
            _("%(department)s runs the show and cannot be questioned in it.") % {"department": department},
            field="department",
        )
    return department


def _questioned(episode: TvEpisode, department: Department | None) -> Department:
    if department is None:
        raise DomainError(_("Choose the department."), field="department")
    if not episode.departments.filter(pk=department.pk).exists():
        raise DomainError(
            _("%(department)s was not questioned in “%(episode)s”.") % {"department": department, "episode": episode},
            field="department",
        )
    return department


def episode_create(
    *, actor: User, aired_on: dt.date, title: str, departments: Iterable[Department], now: dt.datetime | None = None
) -> TvEpisode:
    """Record an episode of the TV accountability show: its date, title and the departments questioned."""
    check_role(gettext_lazy("record TV accountability episodes"), SUPERVISORS, actor)
    aired_on = _date(aired_on, field="aired_on", missing=_("Give the date the episode aired."))
    title = _text(title, field="title", label=_("title"), max_length=MAX_TITLE)
    chosen = {department.pk: _handling(department) for department in departments}
    if not chosen:
        raise DomainError(_("Choose at least one department questioned."), field="departments")
    with transaction.atomic():
        if TvEpisode.objects.filter(aired_on=aired_on).exists():
            raise DomainError(
                _("An episode aired on %(date)s is already recorded.") % {"date": aired_on.isoformat()},
                field="aired_on",
            )
        episode = TvEpisode.objects.create(aired_on=aired_on, title=title)
        episode.departments.set(list(chosen.values()))
    return episode


def episode_raise_problem(
    *,
    actor: User,
    episode: TvEpisode,
    department: Department,
    township: Township | None,
    content: str,
    category: str = Category.COMPLAINT,
    urgency: str = Urgency.NORMAL,
    deadline: dt.date | dt.datetime | None = None,
    deadline_days: int | None = None,
    note: str = "",
    now: dt.datetime | None = None,
) -> Task:
    """A problem raised in the episode: registered from the TV channel and assigned to the questioned department."""
    from feedback.services import suggestion_register
    from tasks.services import task_assign

    now = now or timezone.now()
    check_role(gettext_lazy("raise problems from TV accountability episodes"), SUPERVISORS, actor)
    department = _handling(_questioned(episode, department))
    if township is None and department.township_id is not None:
        township = department.township  # a township office's problem is in its own area
    if township is None:
        raise DomainError(_("Choose the township the problem is in."), field="township")
    today = timezone.localdate(now)
    if episode.aired_on > today:
        raise DomainError(
            _("The episode airs on %(date)s; its problems can be raised from that day.")
            % {"date": episode.aired_on.isoformat()}
        )
    aired = timezone.make_aware(dt.datetime.combine(episode.aired_on, AIR_TIME))
    with transaction.atomic():
        suggestion = suggestion_register(
            actor=actor, channel=Channel.TV, received_at=min(aired, now), township=township, content=content,
            category=category, urgency=urgency, now=now,
        )
        task = suggestion.task
        Task.objects.filter(pk=task.pk).update(episode=episode)
        task.episode = episode
        task = task_assign(
            actor=actor, task=task, lead_department=department, deadline=deadline, deadline_days=deadline_days,
            note=note or _("Raised in the TV accountability episode “%(episode)s”.") % {"episode": episode.title},
            now=now,
        )
    return task


def mechanism_add(
    *,
    actor: User,
    episode: TvEpisode,
    department: Department,
    title: str,
    established_on: dt.date,
    document=None,
    now: dt.datetime | None = None,
) -> Mechanism:
    """Record a long-term mechanism (长效机制) a department set up after an episode, with its document if any."""
    now = now or timezone.now()
    if department is None:
        raise DomainError(_("Choose the department."), field="department")
    if not (actor.is_supervisor or (actor.is_head and actor.works_for(department.pk))):
        raise DomainError(
            _("Only the supervision office or the head of %(department)s records its mechanisms.")
            % {"department": department}
        )
    title = _text(title, field="title", label=_("title"), max_length=200)
    established_on = _date(established_on, field="established_on", missing=_("Give the date it was established."))
    if established_on > timezone.localdate(now):
        raise DomainError(
            _("The date %(date)s is in the future.") % {"date": established_on.isoformat()}, field="established_on"
        )
    checked = files.files_check([document])[0] if document is not None else None
    stored: list[str] = []
    try:
        with transaction.atomic():
            mechanism = Mechanism(episode=episode, department=department, title=title, established_on=established_on)
            if checked is not None:
                stored.append(files.file_store(checked, folder="mechanisms", now=now))
                mechanism.document = stored[-1]
                mechanism.document_name = checked.name
                mechanism.document_type = checked.content_type
            mechanism.save()
    except BaseException:
        files.files_delete(stored)
        raise
    return mechanism


def accountability_suggest(
    *,
    actor: User,
    episode: TvEpisode,
    department: Department,
    text: str,
    task: Task | None = None,
    now: dt.datetime | None = None,
) -> AccountabilitySuggestion:
    """Propose to the discipline commission that a department (or its handling of one task) be held to account."""
    now = now or timezone.now()
    check_role(gettext_lazy("send accountability suggestions"), SUPERVISORS, actor)
    if department is None:
        raise DomainError(_("Choose the department."), field="department")
    text = _text(text, field="text", label=_("suggestion"), max_length=MAX_TEXT)
    if task is not None and task.lead_department_id != department.pk:
        raise DomainError(
            _("Task #%(id)s is not led by %(department)s.") % {"id": task.pk, "department": department}, field="task"
        )
    return AccountabilitySuggestion.objects.create(
        episode=episode, department=department, task=task, text=text, created_by=actor, created_at=now
    )


def accountability_suggestion_decide(
    *, actor: User, suggestion: AccountabilitySuggestion, status: str, note: str = "", now: dt.datetime | None = None
) -> AccountabilitySuggestion:
    """Record the discipline commission's answer: accepted or declined, with a note."""
    now = now or timezone.now()
    check_role(gettext_lazy("record the discipline commission's answer"), SUPERVISORS, actor)
    Status = AccountabilitySuggestion.Status
    if status not in (Status.ACCEPTED, Status.DECLINED):
        raise DomainError(_("The answer must be “accepted” or “declined”."), field="status")
    note = _text(note, field="note", label=_("note"), max_length=MAX_TEXT, required=False)
    # Conditional on still being submitted: two supervisors answering at once record one answer.
    done = AccountabilitySuggestion.objects.filter(pk=suggestion.pk, status=Status.SUBMITTED).update(
        status=status, decided_at=now, decision_note=note
    )
    if not done:
        raise DomainError(_("The commission's answer to this suggestion is already recorded."))
    suggestion.refresh_from_db()
    return suggestion


__all__ = [
    "accountability_suggest",
    "accountability_suggestion_decide",
    "episode_create",
    "episode_raise_problem",
    "mechanism_add",
]
