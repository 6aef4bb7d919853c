"""What the public may know about a case: a coarse stage, the department, dated milestones, the published reply.

Shared by the progress lookup and the Open311 API. Nothing here reads a citizen's name or
phone, an official's name, or a note written on the timeline: those stay inside.
"""

import dataclasses
import datetime as dt

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from org.models import Department
from tasks.models import Action, Outcome, State, Task, TaskEvent


class Stage:
    """The four stages a citizen sees; the lifecycle's thirteen states are internal."""

    RECEIVED = "received"
    HANDLING = "handling"
    REPLIED = "replied"
    CLOSED = "closed"

    LABELS = {
        RECEIVED: _("Received, waiting to be assigned"),
        HANDLING: _("Being handled"),
        REPLIED: _("Replied"),
        CLOSED: _("Closed"),
    }


STAGE_OF_STATE = {
    State.REGISTERED: Stage.RECEIVED,
    State.REPORTED: Stage.RECEIVED,
    State.REVIEWED: Stage.RECEIVED,
    State.RETURNED: Stage.RECEIVED,
    # A suggestion never points at a merged task (merging moves it); were one to, it waits like new.
    State.MERGED: Stage.RECEIVED,
    State.ASSIGNED: Stage.HANDLING,
    State.ACCEPTED: Stage.HANDLING,
    State.IN_PROGRESS: Stage.HANDLING,
    # A handler's reply is not out until the head approves it.
    State.AWAITING_APPROVAL: Stage.HANDLING,
    State.RETURN_REQUESTED: Stage.HANDLING,
    State.REPLIED: Stage.REPLIED,
    State.CALLED_BACK: Stage.REPLIED,
    State.CLOSED: Stage.CLOSED,
}

# Reply texts go out only once the lead department's answer is final.
PUBLISHED_REPLY_STATES = frozenset({State.REPLIED, State.CALLED_BACK, State.CLOSED})
# States in which a department holds the case (or did, to the end).
DEPARTMENT_STATES = frozenset(s for s, stage in STAGE_OF_STATE.items() if stage != Stage.RECEIVED)

MILESTONE_LABELS = {
    Action.REGISTER: pgettext_lazy("milestone", "Registered"),
    Action.ASSIGN: pgettext_lazy("milestone", "Assigned to %(department)s"),
    # Arbitration (仲裁) is, for the public, an assignment like any other.
    Action.ARBITRATE: pgettext_lazy("milestone", "Assigned to %(department)s"),
    Action.ACCEPT: pgettext_lazy("milestone", "Accepted by the department"),
    Action.REPLY: pgettext_lazy("milestone", "Replied"),
    Action.APPROVE_REPLY: pgettext_lazy("milestone", "Replied"),
    Action.APPROVE_EXTENSION: pgettext_lazy("milestone", "Deadline extended"),
    Action.APPROVE_RETURN: pgettext_lazy("milestone", "Sent back for reassignment"),
    Action.CALLBACK: pgettext_lazy("milestone", "Callback made"),
    Action.REDO: pgettext_lazy("milestone", "Reopened for further handling"),
    Action.CLOSE: pgettext_lazy("milestone", "Closed"),
    Action.LOOK_BACK: pgettext_lazy("milestone", "Reopened for a look-back review"),
}


def stage_of(state: str) -> str:
    return STAGE_OF_STATE.get(state, Stage.RECEIVED)


def stage_label(state: str) -> str:
    return str(Stage.LABELS[stage_of(state)])


def published_reply(task: Task) -> tuple[str, str]:
    """(outcome label, reply text) once the reply has gone out; ("", "") before."""
    if task.state not in PUBLISHED_REPLY_STATES or not task.reply:
        return "", ""
    outcome = str(Outcome(task.outcome).label) if task.outcome in Outcome.values else ""
    return outcome, task.reply


def handled_by(task: Task) -> Department | None:
    """The lead department, once the case is with one."""
    return task.lead_department if task.state in DEPARTMENT_STATES else None


@dataclasses.dataclass(frozen=True)
class Milestone:
    at: dt.datetime
    action: str
    label: str


def milestones(task: Task) -> list[Milestone]:
    """The public steps of the task's timeline, oldest first: dates and what happened, never notes or names."""
    events = list(
        TaskEvent.objects.filter(task=task, action__in=list(MILESTONE_LABELS))
        .order_by("at", "id")
        .values("at", "action", "to_state", "data")
    )
    assigning = (Action.ASSIGN, Action.ARBITRATE)
    department_ids = {e["data"].get("lead_department") for e in events if e["action"] in assigning}
    names = dict(Department.objects.filter(pk__in=department_ids - {None}).values_list("pk", "name"))
    steps = []
    for event in events:
        # A handler's reply awaits the head's approval: it is not out yet.
        if event["action"] == Action.REPLY and event["to_state"] != State.REPLIED:
            continue
        label = MILESTONE_LABELS[event["action"]]
        if event["action"] in assigning:
            department = names.get(event["data"].get("lead_department"), "")
            label = label % {"department": department} if department else pgettext_lazy("milestone", "Assigned")
        steps.append(Milestone(at=event["at"], action=event["action"], label=str(label)))
    return steps
