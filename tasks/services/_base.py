"""Plumbing shared by the lifecycle services: row locks, the timeline, text and date checks."""

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext as _

from tasks import deadlines
from tasks.errors import DomainError
from tasks.models import Task, TaskEvent, TaskRequest

from .rules import authorize

MAX_TEXT = 5000


def lock(task: Task) -> Task:
    """The task's row, re-read under a row lock (call inside transaction.atomic()).

    The caller's instance may be stale: a second click waits here for the first to commit
    and then sees the state the first one left, so the rule check below refuses it.
    """
    return Task.objects.select_for_update().get(pk=task.pk)


def lock_and_authorize(action: str, task: Task, actor) -> Task:
    """Lock the row and check the rule table against the locked state."""
    locked = lock(task)
    authorize(action, locked, actor)
    return locked


def copy_back(locked: Task, task: Task) -> Task:
    """Refresh the caller's instance from the saved row without another query."""
    if task is not locked:
        for field in Task._meta.concrete_fields:
            setattr(task, field.attname, getattr(locked, field.attname))
    return task


def record(task: Task, *, action, actor, at, from_state, note="", data=None) -> TaskEvent:
    """Write one timeline entry: who, when, from which state to the task's current one."""
    return TaskEvent.objects.create(
        task=task,
        action=action,
        actor=actor,
        at=at,
        from_state=from_state,
        to_state=task.state,
        note=note,
        data=data or {},
    )


def clean_text(value, *, missing: str | None = None) -> str:
    """Stripped text; `missing` is the message when it is required and blank."""
    text = (value or "").strip()
    if not text and missing is not None:
        raise DomainError(missing)
    if len(text) > MAX_TEXT:
        raise DomainError(
            _("The text is too long: %(length)d characters, at most %(max)d.") % {"length": len(text), "max": MAX_TEXT}
        )
    return text


def iso(value) -> str | None:
    """A datetime for the timeline's JSON details, in local time as people read it."""
    return timezone.localtime(value).isoformat() if value is not None else None


def as_deadline(value, *, now) -> dt.datetime:
    """A deadline given as a date (end of that day, local time) or an aware datetime; must be in the future."""
    if isinstance(value, dt.datetime):
        when = value if timezone.is_aware(value) else timezone.make_aware(value)
    elif isinstance(value, dt.date):
        when = deadlines.deadline_from_date(value)
    else:
        raise DomainError(_("The deadline must be a date."))
    if when <= now:
        raise DomainError(
            _("The deadline %(deadline)s has already passed.") % {"deadline": timezone.localtime(when).date()}
        )
    return when


def fresh_handling_deadline(task: Task, *, now) -> dt.datetime:
    """The rule's handling deadline counted from `now` (redo and look-back restart the clock)."""
    stages = deadlines.stage_deadlines(category=task.category, urgency=task.urgency, channel=task.channel, start=now)
    return stages.handle


def assist_deadline_for(lead_deadline: dt.datetime, *, now) -> dt.datetime:
    """An assisting department's sub-deadline; the lead's own when the default one would already be past."""
    sub = deadlines.assist_deadline(lead_deadline=lead_deadline, start=now)
    return sub if sub > now else lead_deadline


def lapse_pending_extension(task: Task, *, actor, now) -> int | None:
    """Close a pending extension request when the task leaves the department (reply or return).

    Left pending, it would block the next request after a redo, and a late approval would
    move the deadline of a task already answered (and so its on-time figure).
    """
    pending = TaskRequest.objects.filter(task=task, kind=TaskRequest.Kind.EXTENSION, status=TaskRequest.Status.PENDING)
    request_id = pending.values_list("pk", flat=True).first()
    if request_id is not None:
        pending.update(
            status=TaskRequest.Status.REFUSED,
            decided_by=actor,
            decided_at=now,
            decision_note=_("Lapsed: the task left the department before a decision."),
        )
    return request_id
