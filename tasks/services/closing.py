"""After the reply: the callback (回访), closing (办结), redo (重办) and look-back (回头看)."""

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from feedback.models import Callback, CallbackResult, Suggestion
from org.models import User
from tasks.errors import DomainError
from tasks.models import Action, State, Task

from ._base import clean_text, copy_back, fresh_handling_deadline, iso, lock_and_authorize, record
from .assists import assists_follow_lead_deadline


def task_record_callback(
    *,
    actor: User,
    task: Task,
    result: str,
    note: str = "",
    suggestion: Suggestion | None = None,
    now: dt.datetime | None = None,
) -> Callback:
    """Record the citizen's verdict on the reply; 不满意 (unsatisfied) sends the task back for redo."""
    now = now or timezone.now()
    if result not in CallbackResult.values:
        raise DomainError(
            _("Choose the callback result: satisfied, basically satisfied or unsatisfied."), field="result"
        )
    unsatisfied = result == CallbackResult.UNSATISFIED
    note = clean_text(note, missing=_("Say what the citizen is unsatisfied with.") if unsatisfied else None)
    if suggestion is not None and suggestion.task_id != task.pk:
        raise DomainError(_("Suggestion %(number)s does not belong to this task.") % {"number": suggestion})
    with transaction.atomic():
        locked = lock_and_authorize("record_callback", task, actor)
        callback = Callback.objects.create(
            task=locked, suggestion=suggestion, result=result, note=note, called_at=now, called_by=actor
        )
        if not unsatisfied:
            locked.state = State.CALLED_BACK
            locked.save(update_fields=["state"])
        record(
            locked, action=Action.CALLBACK, actor=actor, at=now, from_state=State.REPLIED, note=note,
            data={"result": result, "callback": callback.pk},
        )
        if unsatisfied:
            # The department owes a new answer on a fresh clock; the old reply stays on the timeline.
            data = _reopen(locked, now=now)
            locked.redo_count += 1
            locked.save(update_fields=["redo_count"])
            data["redo_count"] = locked.redo_count
            record(locked, action=Action.REDO, actor=actor, at=now, from_state=State.REPLIED, note=note, data=data)
    copy_back(locked, task)
    return callback


def _reopen(task: Task, *, now) -> dict:
    """Back to in progress with a fresh handling deadline; returns what was cleared, for the timeline."""
    data = {
        "previous_deadline": iso(task.deadline),
        "previous_replied_at": iso(task.replied_at),
        "previous_closed_at": iso(task.closed_at),
    }
    task.state = State.IN_PROGRESS
    task.deadline = fresh_handling_deadline(task, now=now)
    # A reopened task is neither replied nor closed until it is again; report cards count it then.
    task.replied_at = task.callback_deadline = task.closed_at = None
    task.save(update_fields=["state", "deadline", "replied_at", "callback_deadline", "closed_at"])
    data["deadline"] = iso(task.deadline)
    data["assist_deadlines"] = assists_follow_lead_deadline(task, now=now)
    return data


def task_close(*, actor: User, task: Task, note: str = "", now: dt.datetime | None = None) -> Task:
    """Close (办结) a called-back task, or a replied one whose citizen cannot be called back (with a note)."""
    now = now or timezone.now()
    note = clean_text(note)
    with transaction.atomic():
        locked = lock_and_authorize("close", task, actor)
        if locked.state == State.REPLIED and not note:
            raise DomainError(
                _("Closing without a callback needs a note saying why (for example: citizen unreachable, anonymous).")
            )
        from_state = locked.state
        locked.state, locked.closed_at = State.CLOSED, now
        locked.save(update_fields=["state", "closed_at"])
        record(locked, action=Action.CLOSE, actor=actor, at=now, from_state=from_state, note=note)
    return copy_back(locked, task)


def task_reopen_look_back(*, actor: User, task: Task, note: str, now: dt.datetime | None = None) -> Task:
    """Reopen a closed task found not really solved in a look-back review (回头看)."""
    now = now or timezone.now()
    note = clean_text(note, missing=_("Say what the look-back review found."))
    with transaction.atomic():
        locked = lock_and_authorize("reopen_look_back", task, actor)
        data = _reopen(locked, now=now)
        record(locked, action=Action.LOOK_BACK, actor=actor, at=now, from_state=State.CLOSED, note=note, data=data)
    return copy_back(locked, task)
