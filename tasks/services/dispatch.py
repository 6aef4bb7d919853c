"""The supervision office's side before and around the departments' work: report, review, assign, supervise, merge."""

import datetime as dt
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from feedback.models import Suggestion
from org.models import Department, User
from tasks import deadlines
from tasks.errors import DomainError
from tasks.models import Action, State, SupervisionLevel, Task, TaskAssist

from ._base import as_deadline, clean_text, copy_back, iso, lock_and_authorize, record
from .assists import assist_sub_deadline
from .rules import RULES, authorize, check_role

MAX_DEADLINE_DAYS = 250


def task_report(*, actor: User, task: Task, note: str = "", now: dt.datetime | None = None) -> Task:
    """Report a registered task to the leader (当天上报)."""
    now = now or timezone.now()
    note = clean_text(note)
    with transaction.atomic():
        locked = lock_and_authorize("report", task, actor)
        locked.state, locked.reported_at = State.REPORTED, now
        locked.save(update_fields=["state", "reported_at"])
        record(locked, action=Action.REPORT, actor=actor, at=now, from_state=State.REGISTERED, note=note)
    return copy_back(locked, task)


def task_review(*, actor: User, task: Task, note: str = "", now: dt.datetime | None = None) -> Task:
    """The leader reviews (阅批) a reported task; the note is the leader's instruction."""
    now = now or timezone.now()
    note = clean_text(note)
    with transaction.atomic():
        locked = lock_and_authorize("review", task, actor)
        locked.state, locked.reviewed_at, locked.review_note = State.REVIEWED, now, note
        locked.save(update_fields=["state", "reviewed_at", "review_note"])
        record(locked, action=Action.REVIEW, actor=actor, at=now, from_state=State.REPORTED, note=note)
    return copy_back(locked, task)


def _check_department(department: Department | None, *, missing: str) -> Department:
    if department is None:
        raise DomainError(missing)
    if not department.is_active:
        raise DomainError(_("%(department)s is no longer active.") % {"department": department})
    if department.kind == Department.Kind.SUPERVISION:
        raise DomainError(
            _("%(department)s dispatches tasks and cannot handle them; choose a handling department.")
            % {"department": department}
        )
    return department


def _assisting(lead: Department, assisting: Iterable[Department]) -> list[Department]:
    chosen: dict[int, Department] = {}
    for department in assisting:
        _check_department(department, missing=_("Choose the assisting department."))
        if department.pk == lead.pk:
            raise DomainError(_("%(department)s cannot both lead and assist.") % {"department": department})
        chosen[department.pk] = department
    return list(chosen.values())


def task_assign(
    *,
    actor: User,
    task: Task,
    lead_department: Department,
    assisting_departments: Iterable[Department] = (),
    deadline: dt.date | dt.datetime | None = None,
    deadline_days: int | None = None,
    assist_deadline: dt.date | dt.datetime | None = None,
    note: str = "",
    now: dt.datetime | None = None,
) -> Task:
    """Assign (交办) a task to a lead department and any assisting ones, with deadlines from the rule table.

    `assist_deadline` is the supervisor's own sub-deadline for the assisting departments
    (tasks.services.assists); blank means the default, two working days before the lead's.
    """
    return _assign(
        "assign", actor=actor, task=task, lead_department=lead_department, assisting_departments=assisting_departments,
        deadline=deadline, deadline_days=deadline_days, assist_deadline=assist_deadline, note=clean_text(note),
        now=now,
    )


def task_arbitrate(
    *,
    actor: User,
    task: Task,
    lead_department: Department,
    assisting_departments: Iterable[Department] = (),
    deadline: dt.date | dt.datetime | None = None,
    deadline_days: int | None = None,
    assist_deadline: dt.date | dt.datetime | None = None,
    note: str,
    now: dt.datetime | None = None,
) -> Task:
    """Arbitrate (仲裁) a task returned twice: assign it to the lead department named, which may not return it again."""
    note = clean_text(note, missing=_("Give the grounds of the arbitration: why this department leads the task."))
    return _assign(
        "arbitrate", actor=actor, task=task, lead_department=lead_department,
        assisting_departments=assisting_departments, deadline=deadline, deadline_days=deadline_days,
        assist_deadline=assist_deadline, note=note, now=now,
    )


def _assign(
    step: str, *, actor, task, lead_department, assisting_departments, deadline, deadline_days, assist_deadline, note,
    now,
):
    """Assignment and arbitration: the same fresh clock from the rule table; `step` is the rule checked."""
    now = now or timezone.now()
    lead = _check_department(lead_department, missing=_("Choose the lead department."))
    assisting = _assisting(lead, assisting_departments)
    if deadline is not None and deadline_days is not None:
        raise DomainError(_("Give either a deadline date or a number of working days, not both."))
    whole = isinstance(deadline_days, int) and not isinstance(deadline_days, bool)
    if deadline_days is not None and not (whole and 1 <= deadline_days <= MAX_DEADLINE_DAYS):
        raise DomainError(
            _("The number of working days must be a whole number from 1 to %(max)d.") % {"max": MAX_DEADLINE_DAYS}
        )
    custom = as_deadline(deadline, now=now) if deadline is not None else None
    if assist_deadline is not None and not assisting:
        raise DomainError(_("A deadline for assisting departments needs an assisting department."),
                          field="assist_deadline")

    with transaction.atomic():
        locked = lock_and_authorize(step, task, actor)
        stages = deadlines.stage_deadlines(
            category=locked.category, urgency=locked.urgency, channel=locked.channel, start=now
        )
        if deadline_days is not None:
            custom = deadlines.deadline_in_working_days(start=now, days=deadline_days)
        handle = custom or stages.handle
        from_state = locked.state
        locked.state = State.ASSIGNED
        locked.lead_department = lead
        locked.assigned_at = now
        locked.accepted_at = None
        locked.deadline = handle
        # A supervisor's short deadline must not leave more time to accept than to finish.
        locked.accept_deadline = min(stages.accept, handle)
        locked.deadline_rule = None if custom else stages.rule
        # A fresh clock: nothing paused yet for this department.
        locked.clock_paused_at, locked.paused_seconds = None, 0
        if step == "arbitrate":
            locked.arbitrated_department = lead
        locked.save(
            update_fields=["state", "lead_department", "assigned_at", "accepted_at", "deadline", "accept_deadline",
                           "deadline_rule", "clock_paused_at", "paused_seconds", "arbitrated_department"]
        )
        # A task back from a return was stripped of its assists; this is only a safety net.
        TaskAssist.objects.filter(task=locked).delete()
        sub = assist_sub_deadline(lead_deadline=handle, now=now, chosen=assist_deadline)
        TaskAssist.objects.bulk_create(TaskAssist(task=locked, department=d, deadline=sub) for d in assisting)
        record(
            locked,
            action=Action.ARBITRATE if step == "arbitrate" else Action.ASSIGN,
            actor=actor,
            at=now,
            from_state=from_state,
            note=note,
            data={
                "lead_department": lead.pk,
                "assisting_departments": [d.pk for d in assisting],
                "deadline": iso(handle),
                "accept_deadline": iso(locked.accept_deadline),
                "assist_deadline": iso(sub) if assisting else None,
                "custom_assist_deadline": assist_deadline is not None,
                "deadline_rule": stages.rule.pk if locked.deadline_rule else None,
                "custom_deadline": custom is not None,
                # The limits the rule had at this assignment: an admin's later edit does not rewrite them.
                "deadline_limits": None if custom else stages.record(),
            },
        )
    return copy_back(locked, task)


def task_supervise(
    *, actor: User, task: Task, level: int, note: str = "", now: dt.datetime | None = None
) -> Task:
    """Flag a task for supervision (督办) at a level from 0 (none) to 3 (listed)."""
    now = now or timezone.now()
    note = clean_text(note)
    if level not in SupervisionLevel.values:
        raise DomainError(
            _("The supervision level must be one of %(levels)s.")
            % {"levels": ", ".join(map(str, SupervisionLevel.values))}
        )
    with transaction.atomic():
        locked = lock_and_authorize("supervise", task, actor)
        previous = locked.supervision_level
        locked.supervision_level = level
        locked.save(update_fields=["supervision_level"])
        record(
            locked, action=Action.SUPERVISE, actor=actor, at=now, from_state=locked.state, note=note,
            data={"level": level, "previous_level": previous},
        )
    return copy_back(locked, task)


def task_merge(
    *, actor: User, target: Task, sources: Iterable[Task], note: str = "", now: dt.datetime | None = None
) -> Task:
    """Merge duplicate tasks into `target`: their suggestions move to it and they become merged."""
    now = now or timezone.now()
    note = clean_text(note)
    check_role(RULES["merge"].label, RULES["merge"].roles, actor)
    source_ids = sorted({source.pk for source in sources})
    if not source_ids:
        raise DomainError(_("Choose at least one task to merge into task #%(id)s.") % {"id": target.pk})
    if target.pk in source_ids:
        raise DomainError(_("Task #%(id)s cannot be merged into itself.") % {"id": target.pk})
    with transaction.atomic():
        # Lock every row in id order, so two overlapping merges cannot deadlock.
        rows = Task.objects.select_for_update().filter(pk__in=[target.pk, *source_ids]).order_by("pk")
        locked = {row.pk: row for row in rows}
        missing = [pk for pk in source_ids if pk not in locked]
        if missing:
            raise DomainError(_("Task #%(id)s no longer exists.") % {"id": missing[0]})
        for pk in [target.pk, *source_ids]:
            try:
                authorize("merge", locked[pk], actor)
            except DomainError as exc:
                raise DomainError(_("Task #%(id)s: %(reason)s") % {"id": pk, "reason": exc}) from exc
        into = locked[target.pk]
        moved: dict[int, list[int]] = {pk: [] for pk in source_ids}
        for suggestion_id, task_id in Suggestion.objects.filter(task_id__in=source_ids).values_list("pk", "task_id"):
            moved[task_id].append(suggestion_id)
        Suggestion.objects.filter(task_id__in=source_ids).update(task=into)
        # Tasks merged into a source earlier now point at the surviving task.
        Task.objects.filter(merged_into_id__in=source_ids).update(merged_into=into)
        for pk in source_ids:
            source = locked[pk]
            from_state = source.state
            source.state, source.merged_into = State.MERGED, into
            source.save(update_fields=["state", "merged_into"])
            record(
                source, action=Action.MERGE, actor=actor, at=now, from_state=from_state, note=note,
                data={"merged_into": into.pk, "suggestions": moved[pk]},
            )
        record(
            into, action=Action.MERGE, actor=actor, at=now, from_state=into.state, note=note,
            data={"merged": source_ids, "suggestions": [s for pk in source_ids for s in moved[pk]]},
        )
    return copy_back(into, target)
