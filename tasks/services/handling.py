"""The lead department's work on a task: accept, note progress, reply, approve or send back a reply.

The assisting departments' part (协办) is in tasks.services.assists.
"""

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from org.models import User
from tasks import deadlines
from tasks.errors import DomainError
from tasks.models import Action, Outcome, State, Task

from ._base import clean_text, copy_back, iso, lapse_pending_extension, lock_and_authorize, record
from .rules import resolved_reply_refusal


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


def _check_assists_replied(task: Task, outcome: str) -> None:
    # 协办: a resolved answer waits for every assisting reply, or the supervisor's waiver of it.
    if outcome == Outcome.RESOLVED:
        refused = resolved_reply_refusal(task)
        if refused is not None:
            raise DomainError(refused, field="outcome")


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
        _check_assists_replied(locked, outcome)
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
        _check_assists_replied(locked, locked.outcome)
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
