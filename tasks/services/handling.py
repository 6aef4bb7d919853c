"""The departments' work on a task: accept, note progress, reply, approve or send back a reply, assist."""

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from org.models import User
from tasks import deadlines
from tasks.errors import DomainError
from tasks.models import Action, Outcome, State, Task, TaskAssist

from ._base import clean_text, copy_back, iso, lapse_pending_extension, lock_and_authorize, record


def task_accept(*, actor: User, task: Task, note: str = "", now: dt.datetime | None = None) -> Task:
    """The lead department accepts (签收) an assigned task."""
    now = now or timezone.now()
    note = clean_text(note)
    with transaction.atomic():
        locked = lock_and_authorize("accept", task, actor)
        locked.state, locked.accepted_at = State.ACCEPTED, now
        locked.save(update_fields=["state", "accepted_at"])
        record(locked, action=Action.ACCEPT, actor=actor, at=now, from_state=State.ASSIGNED, note=note)
    return copy_back(locked, task)


def task_note_progress(*, actor: User, task: Task, note: str, now: dt.datetime | None = None) -> Task:
    """The lead department records what it has done so far; the task is then in progress."""
    now = now or timezone.now()
    note = clean_text(note, missing=_("Describe the progress made."))
    with transaction.atomic():
        locked = lock_and_authorize("note_progress", task, actor)
        from_state = locked.state
        locked.state = State.IN_PROGRESS
        locked.save(update_fields=["state"])
        record(locked, action=Action.PROGRESS, actor=actor, at=now, from_state=from_state, note=note)
    return copy_back(locked, task)


def _mark_replied(task: Task, *, actor, now) -> dict:
    """Set the replied state and its callback clock; returns the details for the timeline."""
    task.state = State.REPLIED
    task.replied_at = now
    task.callback_deadline = deadlines.callback_deadline(
        category=task.category, urgency=task.urgency, channel=task.channel, replied_at=now
    )
    task.save(update_fields=["state", "replied_at", "callback_deadline"])
    lapsed = lapse_pending_extension(task, actor=actor, now=now)
    return {"callback_deadline": iso(task.callback_deadline), "lapsed_extension_request": lapsed}


def task_reply(
    *, actor: User, task: Task, outcome: str, reply: str, now: dt.datetime | None = None
) -> Task:
    """The lead department answers (反馈): a handler's reply awaits the head's approval, a head's goes out."""
    now = now or timezone.now()
    if outcome not in Outcome.values:
        raise DomainError(_("Choose the outcome: resolved, explained or cannot be resolved."), field="outcome")
    missing = (
        _("Give the reason why the problem cannot be resolved.")
        if outcome == Outcome.UNRESOLVABLE
        else _("Write the reply to the citizen.")
    )
    reply = clean_text(reply, missing=missing)
    with transaction.atomic():
        locked = lock_and_authorize("reply", task, actor)
        from_state = locked.state
        locked.outcome, locked.reply = outcome, reply
        data = {"outcome": outcome}
        if actor.is_head:
            # The head's own reply needs nobody's approval.
            locked.save(update_fields=["outcome", "reply"])
            data.update(_mark_replied(locked, actor=actor, now=now))
        else:
            locked.state = State.AWAITING_APPROVAL
            locked.save(update_fields=["state", "outcome", "reply"])
        record(locked, action=Action.REPLY, actor=actor, at=now, from_state=from_state, note=reply, data=data)
    return copy_back(locked, task)


def task_approve_reply(*, actor: User, task: Task, note: str = "", now: dt.datetime | None = None) -> Task:
    """The department head approves a handler's reply, which then goes out to the citizen."""
    now = now or timezone.now()
    note = clean_text(note)
    with transaction.atomic():
        locked = lock_and_authorize("approve_reply", task, actor)
        data = _mark_replied(locked, actor=actor, now=now)
        record(
            locked, action=Action.APPROVE_REPLY, actor=actor, at=now, from_state=State.AWAITING_APPROVAL, note=note,
            data=data,
        )
    return copy_back(locked, task)


def task_reject_reply(*, actor: User, task: Task, note: str, now: dt.datetime | None = None) -> Task:
    """The department head sends a handler's reply back for more work."""
    now = now or timezone.now()
    note = clean_text(note, missing=_("Say why the reply is sent back."))
    with transaction.atomic():
        locked = lock_and_authorize("reject_reply", task, actor)
        locked.state = State.IN_PROGRESS
        locked.save(update_fields=["state"])
        record(locked, action=Action.REJECT_REPLY, actor=actor, at=now, from_state=State.AWAITING_APPROVAL, note=note)
    return copy_back(locked, task)


def task_assist_reply(*, actor: User, task: Task, reply: str, now: dt.datetime | None = None) -> TaskAssist:
    """An assisting department (协办) gives its part of the answer; the task's state does not change."""
    now = now or timezone.now()
    reply = clean_text(reply, missing=_("Write your department's reply."))
    with transaction.atomic():
        locked = lock_and_authorize("assist_reply", task, actor)
        assist = TaskAssist.objects.get(task=locked, department_id=actor.department_id)
        assist.reply, assist.replied_at = reply, now
        assist.save(update_fields=["reply", "replied_at"])
        # The timeline has no action of its own for this: it is the assisting department's progress.
        record(
            locked, action=Action.ASSIST_REPLY, actor=actor, at=now, from_state=locked.state, note=reply,
            data={"department": actor.department_id},
        )
    copy_back(locked, task)
    return assist
