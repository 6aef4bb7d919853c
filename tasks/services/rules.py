"""The lifecycle's rule table: who may take which step from which state, read by services and views alike."""

import dataclasses
import enum
from collections.abc import Callable

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from org.models import User
from tasks.errors import DomainError
from tasks.models import HANDLING_STATES, State, TaskRequest

R = User.Role
S = State
Kind = TaskRequest.Kind


class Scope(enum.Enum):
    """Which tasks a role may act on."""

    ALL = "all"  # supervisors and leaders: every department's tasks
    LEAD = "lead"  # handlers and heads: tasks their department leads
    ASSIST = "assist"  # handlers and heads: tasks their department assists with


@dataclasses.dataclass(frozen=True)
class Rule:
    label: str  # the verb, as in "Only supervisors may <label>."
    states: frozenset
    roles: frozenset
    scope: Scope
    needs_pending: str | None = None  # a pending request of this kind must exist
    forbids_pending: str | None = None  # no pending request of this kind may exist
    # A further condition on the task's own rows: (task, user) -> a refusal message or None.
    check: Callable | None = None


def _rule(label, states, roles, scope=Scope.ALL, **kwargs) -> Rule:
    return Rule(label=label, states=frozenset(states), roles=frozenset(roles), scope=scope, **kwargs)


_DEPT = (R.HANDLER, R.HEAD)
_UNASSIGNED = (S.REGISTERED, S.REPORTED, S.REVIEWED)
_WORKING = (S.ASSIGNED, S.ACCEPTED, S.IN_PROGRESS)
UNFINISHED_STATES = tuple(s for s in S if s not in (S.CLOSED, S.MERGED))

# A task returned (退单 approved) this many times goes to the supervisor's arbitration (仲裁).
RETURNS_BEFORE_ARBITRATION = 2


def _awaits_arbitration(task) -> bool:
    return task.state == S.RETURNED and task.return_count >= RETURNS_BEFORE_ARBITRATION


def _check_assign(task, user) -> str | None:
    if _awaits_arbitration(task):
        return _(
            "This task has been returned %(count)d times: it goes to arbitration, where you name the lead "
            "department, which may then not return it again."
        ) % {"count": task.return_count}
    return None


def _check_arbitrate(task, user) -> str | None:
    if not _awaits_arbitration(task):
        return _("Only a task returned %(count)d times goes to arbitration; assign this one instead.") % {
            "count": RETURNS_BEFORE_ARBITRATION
        }
    return None


def _check_return(task, user) -> str | None:
    if task.arbitrated_department_id is not None and task.arbitrated_department_id == task.lead_department_id:
        return _(
            "The supervision office named your department the lead department by arbitration after the task "
            "had been returned %(count)d times; it cannot be returned again."
        ) % {"count": task.return_count}
    return None


def _when(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def own_assist(task, user):
    """The user's department's assisting part (TaskAssist) of the task, or None."""
    # .all() serves a prefetch_related("assists") when the caller made one.
    return next((a for a in task.assists.all() if a.department_id == user.department_id), None)


def open_assists(task) -> list:
    """The assisting parts still owing a reply: neither replied nor waived."""
    return [assist for assist in task.assists.all() if assist.is_open]


def _waived(part) -> str:
    return _("The supervision office waived your department's assisting reply on %(when)s.") % {
        "when": _when(part.waived_at)
    }


def _check_assist_accept(task, user) -> str | None:
    part = own_assist(task, user)
    if part is not None and part.waived_at is not None:
        return _waived(part)
    if part is not None and part.accepted_at is not None:
        return _("Your department already accepted its assisting part on %(when)s.") % {"when": _when(part.accepted_at)}
    return None


def _check_assist_reply(task, user) -> str | None:
    part = own_assist(task, user)
    if part is not None and part.waived_at is not None:
        return _waived(part)
    if part is not None and part.replied_at is not None:
        return _("Your department already replied on %(when)s.") % {"when": _when(part.replied_at)}
    return None


def _check_waive_assist(task, user) -> str | None:
    if not open_assists(task):
        return _("No assisting reply is missing on this task.")
    return None


def resolved_reply_refusal(task) -> str | None:
    """Why the lead may not answer "resolved" now (an assisting reply is missing), or None.

    Only the resolved outcome waits for the assisting departments: "explained" and "cannot
    be resolved" answers do not claim the joint work is done (issue 9, item 4).
    """
    missing = open_assists(task)
    if not missing:
        return None
    return _(
        "Cannot reply as resolved: the assisting reply of %(departments)s is missing. "
        "Wait for it, or ask the supervision office to waive it."
    ) % {"departments": _join(assist.department.name for assist in missing)}


# action -> rule. Each action is the service `task_<action>` in tasks.services.
RULES: dict[str, Rule] = {
    "report": _rule(gettext_lazy("report a task to the leader"), [S.REGISTERED], [R.SUPERVISOR]),
    "review": _rule(gettext_lazy("review a reported task"), [S.REPORTED], [R.LEADER]),
    "assign": _rule(
        gettext_lazy("assign a task"), [S.REGISTERED, S.REVIEWED, S.RETURNED], [R.SUPERVISOR], check=_check_assign
    ),
    # Assignment of a task returned twice: the supervisor names the lead department for good.
    "arbitrate": _rule(
        gettext_lazy("arbitrate a returned task"), [S.RETURNED], [R.SUPERVISOR], check=_check_arbitrate
    ),
    "accept": _rule(gettext_lazy("accept a task"), [S.ASSIGNED], _DEPT, Scope.LEAD),
    "note_progress": _rule(gettext_lazy("note progress"), [S.ACCEPTED, S.IN_PROGRESS], _DEPT, Scope.LEAD),
    "reply": _rule(gettext_lazy("reply to a task"), [S.ACCEPTED, S.IN_PROGRESS], _DEPT, Scope.LEAD),
    "approve_reply": _rule(gettext_lazy("approve a reply"), [S.AWAITING_APPROVAL], [R.HEAD], Scope.LEAD),
    "reject_reply": _rule(gettext_lazy("send a reply back"), [S.AWAITING_APPROVAL], [R.HEAD], Scope.LEAD),
    # 协办: each assisting department accepts and replies for its own part (tasks.services.assists).
    "assist_accept": _rule(
        gettext_lazy("accept as an assisting department"), HANDLING_STATES, _DEPT, Scope.ASSIST,
        check=_check_assist_accept,
    ),
    "assist_reply": _rule(
        gettext_lazy("reply as an assisting department"), HANDLING_STATES, _DEPT, Scope.ASSIST,
        check=_check_assist_reply,
    ),
    "record_callback": _rule(gettext_lazy("record a callback"), [S.REPLIED], [R.SUPERVISOR]),
    "close": _rule(gettext_lazy("close a task"), [S.CALLED_BACK, S.REPLIED], [R.SUPERVISOR]),
    "request_return": _rule(
        gettext_lazy("ask to return a task"), _WORKING, _DEPT, Scope.LEAD, forbids_pending=Kind.RETURN,
        check=_check_return,
    ),
    "approve_return": _rule(
        gettext_lazy("approve a return"), [S.RETURN_REQUESTED], [R.SUPERVISOR], needs_pending=Kind.RETURN
    ),
    "refuse_return": _rule(
        gettext_lazy("refuse a return"), [S.RETURN_REQUESTED], [R.SUPERVISOR], needs_pending=Kind.RETURN
    ),
    "request_extension": _rule(
        gettext_lazy("ask for an extension"), _WORKING, _DEPT, Scope.LEAD, forbids_pending=Kind.EXTENSION
    ),
    # A pending extension lapses when the task leaves the department (reply or return), so
    # the supervisor decides it only while the task is on the handling clock.
    "approve_extension": _rule(
        gettext_lazy("approve an extension"), HANDLING_STATES, [R.SUPERVISOR], needs_pending=Kind.EXTENSION
    ),
    "refuse_extension": _rule(
        gettext_lazy("refuse an extension"), HANDLING_STATES, [R.SUPERVISOR], needs_pending=Kind.EXTENSION
    ),
    "waive_assist": _rule(
        gettext_lazy("waive an assisting reply"), HANDLING_STATES, [R.SUPERVISOR], check=_check_waive_assist
    ),
    "supervise": _rule(gettext_lazy("supervise a task"), UNFINISHED_STATES, [R.SUPERVISOR]),
    "merge": _rule(gettext_lazy("merge tasks"), _UNASSIGNED, [R.SUPERVISOR]),
    "reopen_look_back": _rule(gettext_lazy("reopen a task in a look-back review"), [S.CLOSED], [R.SUPERVISOR]),
}
ACTIONS = tuple(RULES)

# 考核核减 (tasks.services.exclusions): steps on a task's score, not on its lifecycle, so they
# are kept out of RULES (and of the detail page's lifecycle actions) but read the same way.
_LED = (S.ASSIGNED, S.ACCEPTED, S.IN_PROGRESS, S.AWAITING_APPROVAL, S.REPLIED, S.CALLED_BACK, S.CLOSED)
EXCLUSION_RULES: dict[str, Rule] = {
    "request_exclusion": _rule(gettext_lazy("apply for a score exclusion"), _LED, _DEPT, Scope.LEAD),
    # Decided whatever became of the task since: an exclusion only counts while its
    # department leads the task (tasks.reportcards.definitions).
    "decide_exclusion": _rule(gettext_lazy("decide a score exclusion"), [*UNFINISHED_STATES, S.CLOSED], [R.SUPERVISOR]),
}


def _state_label(state) -> str:
    return str(State(state).label)


def _join(labels) -> str:
    return _(", ").join(str(label) for label in labels)


def _state_refusal(action: str, rule: Rule, task) -> str:
    if task.state == S.MERGED:
        return _("This task was merged into task #%(id)s; act on that task instead.") % {"id": task.merged_into_id}
    if action == "assign" and task.state == S.REPORTED:
        return _("Cannot assign this task yet: it is awaiting the leader's review.")
    if action == "close" and task.state in HANDLING_STATES + (S.RETURN_REQUESTED,):
        return _("Cannot close this task: it is “%(state)s” and the department has not replied yet.") % {
            "state": _state_label(task.state)
        }
    allowed = _join(_state_label(s) for s in State if s in rule.states)
    return _("Cannot %(action)s while it is “%(state)s”; only when it is %(allowed)s.") % {
        "action": rule.label,
        "state": _state_label(task.state),
        "allowed": allowed,
    }


def _assisting_department_ids(task) -> set:
    # .all() serves a prefetch_related("assists") when the caller made one.
    return {assist.department_id for assist in task.assists.all()}


def _role_refusal(label, roles, user) -> str:
    return _("Your role (%(role)s) may not %(action)s; allowed roles: %(roles)s.") % {
        "roles": _join(User.Role(role).label for role in User.Role if role in roles),
        "action": label,
        "role": User.Role(user.role).label,
    }


def pending_request_kinds(task) -> set:
    """The kinds of request (extension, return) awaiting the supervisor's decision on this task."""
    return set(task.requests.filter(status=TaskRequest.Status.PENDING).values_list("kind", flat=True))


def refusal(action: str, task, user, *, pending_kinds=None) -> str | None:
    """Why `user` may not take `action` on `task` now (a readable message), or None when allowed."""
    rule = RULES[action] if action in RULES else EXCLUSION_RULES[action]
    if user.role not in rule.roles:
        return _role_refusal(rule.label, rule.roles, user)
    if rule.scope is not Scope.ALL and task.lead_department_id is None and task.state not in rule.states:
        # No department holds the task yet (or any more): its state is the real reason.
        return _state_refusal(action, rule, task)
    if rule.scope is Scope.LEAD and not user.works_for(task.lead_department_id):
        return _("This is not your department's task.")
    if rule.scope is Scope.ASSIST and user.department_id not in _assisting_department_ids(task):
        if user.works_for(task.lead_department_id):
            return _("Your department leads this task: reply to it as the lead department.")
        return _("This is not your department's task: your department is not assisting with it.")
    if task.state not in rule.states:
        return _state_refusal(action, rule, task)
    if rule.needs_pending or rule.forbids_pending:
        if pending_kinds is None:
            pending_kinds = pending_request_kinds(task)
        if rule.needs_pending and rule.needs_pending not in pending_kinds:
            return _("There is no pending %(kind)s request on this task.") % {
                "kind": Kind(rule.needs_pending).label
            }
        if rule.forbids_pending and rule.forbids_pending in pending_kinds:
            return _("A %(kind)s request is already pending on this task; wait for the supervisor's decision.") % {
                "kind": Kind(rule.forbids_pending).label
            }
    if rule.check is not None:
        return rule.check(task, user)
    return None


def authorize(action: str, task, user) -> None:
    """Raise DomainError unless `user` may take `action` on `task` in its current (locked) state."""
    message = refusal(action, task, user)
    if message is not None:
        raise DomainError(message)


def can(action: str, task, user) -> bool:
    """True when `user` may take `action` on `task` now."""
    return refusal(action, task, user) is None


def available_actions(task, user, *, pending_kinds=None) -> list[str]:
    """The actions `user` may take on `task` now, in the table's order (at most two small queries)."""
    candidates = [action for action, rule in RULES.items() if user.role in rule.roles and task.state in rule.states]
    if pending_kinds is None and any(RULES[a].needs_pending or RULES[a].forbids_pending for a in candidates):
        pending_kinds = pending_request_kinds(task)
    return [action for action in candidates if refusal(action, task, user, pending_kinds=pending_kinds) is None]


def check_role(action_label, roles, user) -> None:
    """The role check of the table for steps outside it (registering a suggestion)."""
    if user.role not in roles:
        raise DomainError(_role_refusal(action_label, roles, user))


__all__ = [
    "ACTIONS", "EXCLUSION_RULES", "RETURNS_BEFORE_ARBITRATION", "RULES", "Rule", "Scope", "authorize",
    "available_actions", "can", "open_assists", "own_assist", "refusal", "resolved_reply_refusal",
]
