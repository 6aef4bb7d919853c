"""领导批示: a leader's instruction on a task, on its timeline and in the lead department's notifications."""

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from org.models import User
from tasks.errors import DomainError
from tasks.models import Action, LeaderInstruction, Task
from tasks.models.reminders import INSTRUCTION_LEVEL, Notification

from ._base import clean_text, lock, record


def instruction_recipients(task: Task) -> list[int]:
    """The active handlers and heads of the task's lead department (none while no department holds it)."""
    if task.lead_department_id is None:
        return []
    staff = User.objects.filter(
        department_id=task.lead_department_id, role__in=User.DEPARTMENT_ROLES, is_active=True
    )
    return list(staff.order_by("pk").values_list("pk", flat=True))


def task_instruct(*, actor: User, task: Task, text: str, now: dt.datetime | None = None) -> LeaderInstruction:
    """A leader gives an instruction (批示) on any task: shown at its top, notified to its lead department."""
    now = now or timezone.now()
    if not actor.is_leader:
        raise DomainError(_("Only leaders may give an instruction on a task."))
    text = clean_text(text, missing=_("Write the instruction."))
    with transaction.atomic():
        # The task's state does not change; the lock orders the instruction after a
        # concurrent reassignment, so it reaches the department that holds the task.
        locked = lock(task)
        if locked.merged_into_id is not None:
            raise DomainError(
                _("This task was merged into task #%(id)s; give the instruction there.") % {"id": locked.merged_into_id}
            )
        instruction = LeaderInstruction.objects.create(task=locked, author=actor, text=text, created_at=now)
        recipients = instruction_recipients(locked)
        Notification.objects.bulk_create(
            Notification(
                recipient_id=pk, task=locked, level=INSTRUCTION_LEVEL, deadline=locked.deadline or now, created_at=now
            )
            for pk in recipients
        )
        record(
            locked, action=Action.INSTRUCT, actor=actor, at=now, from_state=locked.state, note=text,
            data={"instruction": instruction.pk, "notified": len(recipients)},
        )
    return instruction
