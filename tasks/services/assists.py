"""主办/协办: the assisting departments' own part of a task.

Each assisting department (a TaskAssist row, "part") has its own sub-deadline, accepts
(签收) and replies for its part; the supervision office may waive a part. The rules:

- Sub-deadline: by default the end of the second working day before the lead's deadline
  (tasks.deadlines.assist_deadline; the lead's own when that is already past). The
  supervisor may choose another one when assigning: in the future, and not after the lead's.
- Acceptance: the part's handler or head accepts it ("accept as assisting department").
  A reply without an earlier acceptance accepts it implicitly, at the reply's time: a
  department that answered has obviously taken the part on, and making it click twice
  would only add a step. The timeline entry of the reply says so.
- A part ends once, replied or waived: it cannot be replied twice (the first reply's time is
  its on-time record) or replied after a waiver, nor waived after its reply.
- The lead may not reply "resolved" while a part is open (rules.resolved_reply_refusal);
  "explained" and "cannot be resolved" answers are not blocked.
- When the lead's deadline moves (an approved extension, a redo or look-back's fresh
  clock), each open part's sub-deadline follows (assists_follow_lead_deadline): it becomes
  at least the default for the new lead deadline and never later than it, so a later lead
  deadline never shortens a part's time and a supervisor's later choice is kept. Replied
  and waived parts keep theirs: it is the record of when they were due. The reminder
  claims are keyed on the sub-deadline, so the levels start again for a moved one.
"""

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from org.models import Department, User
from tasks.errors import DomainError
from tasks.models import Action, Task, TaskAssist

from ._base import as_deadline, assist_deadline_for, clean_text, copy_back, iso, lock_and_authorize, record


def assist_sub_deadline(
    *, lead_deadline: dt.datetime, now: dt.datetime, chosen: dt.date | dt.datetime | None = None
) -> dt.datetime:
    """The assisting parts' sub-deadline at assignment: the supervisor's choice, checked, or the default."""
    if chosen is None:
        return assist_deadline_for(lead_deadline, now=now)
    when = as_deadline(chosen, now=now)
    if when > lead_deadline:
        raise DomainError(
            _("The assisting departments' deadline must not be after the lead department's (%(deadline)s).")
            % {"deadline": timezone.localtime(lead_deadline).strftime("%Y-%m-%d %H:%M")},
            field="assist_deadline",
        )
    return when


def assists_follow_lead_deadline(task: Task, *, now: dt.datetime) -> dict:
    """Move the open parts' sub-deadlines after the lead's deadline changed (call under the task's lock).

    Returns {department id: new sub-deadline (ISO)} of the parts that moved, for the timeline.
    """
    if task.deadline is None:
        return {}
    default = assist_deadline_for(task.deadline, now=now)
    moved = {}
    for assist in TaskAssist.objects.filter(task=task, replied_at__isnull=True, waived_at__isnull=True):
        new = default if assist.deadline is None else min(max(assist.deadline, default), task.deadline)
        if new != assist.deadline:
            TaskAssist.objects.filter(pk=assist.pk).update(deadline=new)
            moved[str(assist.department_id)] = iso(new)
    return moved


def _own_part(task: Task, actor: User) -> TaskAssist:
    # The rule table checked, under the task's row lock, that this part exists.
    return TaskAssist.objects.get(task=task, department_id=actor.department_id)


def task_assist_accept(*, actor: User, task: Task, note: str = "", now: dt.datetime | None = None) -> TaskAssist:
    """An assisting department accepts (签收) its part of the task; the task's state does not change."""
    now = now or timezone.now()
    note = clean_text(note)
    with transaction.atomic():
        locked = lock_and_authorize("assist_accept", task, actor)
        assist = _own_part(locked, actor)
        assist.accepted_at, assist.accepted_by = now, actor
        assist.save(update_fields=["accepted_at", "accepted_by"])
        record(
            locked, action=Action.ASSIST_ACCEPT, actor=actor, at=now, from_state=locked.state, note=note,
            data={"department": actor.department_id, "assist_deadline": iso(assist.deadline)},
        )
    copy_back(locked, task)
    return assist


def task_assist_reply(*, actor: User, task: Task, reply: str, now: dt.datetime | None = None) -> TaskAssist:
    """An assisting department (协办) gives its part of the answer, accepting the part if it had not yet."""
    now = now or timezone.now()
    reply = clean_text(reply, missing=_("Write your department's reply."))
    with transaction.atomic():
        locked = lock_and_authorize("assist_reply", task, actor)
        assist = _own_part(locked, actor)
        implicit = assist.accepted_at is None
        if implicit:
            assist.accepted_at, assist.accepted_by = now, actor
        assist.reply, assist.replied_at = reply, now
        assist.save(update_fields=["reply", "replied_at", "accepted_at", "accepted_by"])
        record(
            locked, action=Action.ASSIST_REPLY, actor=actor, at=now, from_state=locked.state, note=reply,
            data={
                "department": actor.department_id,
                "accepted_with_reply": implicit,
                "assist_deadline": iso(assist.deadline),
                "on_time": assist.deadline is None or now <= assist.deadline,
            },
        )
    copy_back(locked, task)
    return assist


def task_waive_assist(
    *, actor: User, task: Task, department: Department, reason: str, now: dt.datetime | None = None
) -> TaskAssist:
    """The supervision office waives an assisting department's missing reply, so the lead may resolve without it."""
    now = now or timezone.now()
    reason = clean_text(reason, missing=_("Give the reason for waiving the assisting reply."))
    if department is None:
        raise DomainError(_("Choose the assisting department whose reply is waived."), field="department")
    with transaction.atomic():
        locked = lock_and_authorize("waive_assist", task, actor)
        assist = TaskAssist.objects.filter(task=locked, department=department).first()
        if assist is None:
            raise DomainError(
                _("%(department)s is not assisting with this task.") % {"department": department}, field="department"
            )
        if not assist.is_open:
            raise DomainError(
                _("%(department)s has already replied, or its reply was already waived.") % {"department": department},
                field="department",
            )
        assist.waived_at, assist.waived_by, assist.waive_reason = now, actor, reason
        assist.save(update_fields=["waived_at", "waived_by", "waive_reason"])
        record(
            locked, action=Action.WAIVE_ASSIST, actor=actor, at=now, from_state=locked.state, note=reason,
            data={"department": department.pk, "assist_deadline": iso(assist.deadline)},
        )
    copy_back(locked, task)
    return assist
