"""Every lifecycle action against every state and every role, checked against the rules of DOMAIN.md.

The expectations below are written out from the brief on purpose, not read from the
services' rule table: a wrong entry in the table makes these tests fail.
"""

import datetime as dt
import types

import pytest
from django.test import override_settings
from django.utils import timezone, translation

from feedback.models import Callback, CallbackResult, Suggestion
from tasks import services
from tasks.errors import DomainError
from org.models import User
from tasks.models import Outcome, State, Task, TaskAssist, TaskEvent, TaskRequest

from .. import factories
from ..factories import TaskFactory

S = State
# A Monday in the campaign; every step in these tests happens "now".
NOW = timezone.make_aware(dt.datetime(2021, 11, 1, 9, 30))

HANDLING = {S.ASSIGNED, S.ACCEPTED, S.IN_PROGRESS, S.AWAITING_APPROVAL}
WITH_DEPARTMENT = HANDLING | {S.RETURN_REQUESTED, S.REPLIED, S.CALLED_BACK, S.CLOSED}

EXPECTED_FROM = {
    "report": {S.REGISTERED},
    "review": {S.REPORTED},
    "assign": {S.REGISTERED, S.REVIEWED, S.RETURNED},
    "arbitrate": {S.RETURNED},  # only after two approved returns: see prepare()
    "accept": {S.ASSIGNED},
    "note_progress": {S.ACCEPTED, S.IN_PROGRESS},
    "reply": {S.ACCEPTED, S.IN_PROGRESS},
    "approve_reply": {S.AWAITING_APPROVAL},
    "reject_reply": {S.AWAITING_APPROVAL},
    "assist_accept": HANDLING,
    "assist_reply": HANDLING,
    "waive_assist": HANDLING,
    "record_callback": {S.REPLIED},
    "close": {S.CALLED_BACK, S.REPLIED},
    "request_return": {S.ASSIGNED, S.ACCEPTED, S.IN_PROGRESS},
    "approve_return": {S.RETURN_REQUESTED},
    "refuse_return": {S.RETURN_REQUESTED},
    "request_extension": {S.ASSIGNED, S.ACCEPTED, S.IN_PROGRESS},
    "approve_extension": HANDLING,
    "refuse_extension": HANDLING,
    "supervise": set(State) - {S.CLOSED, S.MERGED},
    "merge": {S.REGISTERED, S.REPORTED, S.REVIEWED},
    "reopen_look_back": {S.CLOSED},
}

# Where each action leads (None: the state does not change). A handler's reply awaits approval.
EXPECTED_TO = {
    "report": S.REPORTED,
    "review": S.REVIEWED,
    "assign": S.ASSIGNED,
    "arbitrate": S.ASSIGNED,
    "accept": S.ACCEPTED,
    "note_progress": S.IN_PROGRESS,
    "reply": S.AWAITING_APPROVAL,
    "approve_reply": S.REPLIED,
    "reject_reply": S.IN_PROGRESS,
    "assist_accept": None,
    "assist_reply": None,
    "waive_assist": None,
    "record_callback": S.CALLED_BACK,
    "close": S.CLOSED,
    "request_return": S.RETURN_REQUESTED,
    "approve_return": S.RETURNED,
    "refuse_return": S.IN_PROGRESS,  # the state before the request, see place()
    "request_extension": None,
    "approve_extension": None,
    "refuse_extension": None,
    "supervise": None,
    "merge": S.MERGED,
    "reopen_look_back": S.IN_PROGRESS,
}

# Who may take each action on a 住建局-led task that 城管局 assists with (cast attribute names).
LEAD = {"handler_zhujian", "head_zhujian"}
EXPECTED_USERS = {
    "report": {"supervisor"},
    "review": {"leader"},
    "assign": {"supervisor"},
    "arbitrate": {"supervisor"},
    "accept": LEAD,
    "note_progress": LEAD,
    "reply": LEAD,
    "approve_reply": {"head_zhujian"},
    "reject_reply": {"head_zhujian"},
    "assist_accept": {"handler_chengguan", "head_chengguan"},
    "assist_reply": {"handler_chengguan", "head_chengguan"},
    "waive_assist": {"supervisor"},
    "record_callback": {"supervisor"},
    "close": {"supervisor"},
    "request_return": LEAD,
    "approve_return": {"supervisor"},
    "refuse_return": {"supervisor"},
    "request_extension": LEAD,
    "approve_extension": {"supervisor"},
    "refuse_extension": {"supervisor"},
    "supervise": {"supervisor"},
    "merge": {"supervisor"},
    "reopen_look_back": {"supervisor"},
}
USERS = [
    "leader", "supervisor", "registrar", "admin",
    "head_zhujian", "handler_zhujian", "head_chengguan", "handler_chengguan",
]
ACTIONS = sorted(EXPECTED_FROM)
FAST_HASHER = "django.contrib.auth.hashers.MD5PasswordHasher"


@pytest.fixture(scope="module")
def _module_cast(django_db_setup, django_db_blocker):
    """The conftest cast, built once for this module's ~400 cases instead of once per case.

    Each case still runs in its own rolled-back transaction; only these rows outlive it,
    and they are deleted when the module is done.
    """
    R = User.Role
    make = factories.UserFactory
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=[FAST_HASHER]):
        departments = types.SimpleNamespace(
            zhujian=factories.DepartmentFactory(name="住建局", code="zhujian"),
            chengguan=factories.DepartmentFactory(name="城管局", code="chengguan"),
            supervision=factories.DepartmentFactory(
                name="问政办", code="supervision", kind=factories.Department.Kind.SUPERVISION
            ),
        )
        cast = types.SimpleNamespace(
            leader=make(username="leader", role=R.LEADER),
            supervisor=make(username="supervisor", role=R.SUPERVISOR, department=departments.supervision),
            registrar=make(username="registrar", role=R.REGISTRAR),
            admin=make(username="admin", role=R.ADMIN, is_staff=True, is_superuser=True),
            head_zhujian=make(username="head-zhujian", role=R.HEAD, department=departments.zhujian),
            handler_zhujian=make(username="handler-zhujian", role=R.HANDLER, department=departments.zhujian),
            head_chengguan=make(username="head-chengguan", role=R.HEAD, department=departments.chengguan),
            handler_chengguan=make(username="handler-chengguan", role=R.HANDLER, department=departments.chengguan),
        )
    yield departments, cast
    with django_db_blocker.unblock():
        User.objects.filter(pk__in=[user.pk for user in vars(cast).values()]).delete()
        factories.Department.objects.filter(pk__in=[d.pk for d in vars(departments).values()]).delete()


@pytest.fixture
def departments(db, _module_cast):
    return _module_cast[0]


@pytest.fixture
def cast(db, _module_cast):
    return _module_cast[1]


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def place(state, cast, departments, *, pending_extension=False, **fields) -> Task:
    """A task put straight into `state` as the services would have left it: led by 住建局, assisted by 城管局."""
    values = {"state": state, "created_at": NOW - dt.timedelta(days=3)}
    if state in WITH_DEPARTMENT:
        values.update(
            lead_department=departments.zhujian,
            assigned_at=NOW - dt.timedelta(days=2),
            accept_deadline=NOW - dt.timedelta(days=1),
            deadline=NOW + dt.timedelta(days=10),
        )
        if state != S.ASSIGNED:
            values["accepted_at"] = NOW - dt.timedelta(days=1, hours=20)
    if state in (S.REPLIED, S.CALLED_BACK, S.CLOSED):
        values.update(
            outcome=Outcome.RESOLVED, reply="路灯已修复", replied_at=NOW - dt.timedelta(days=1),
            callback_deadline=NOW + dt.timedelta(days=1),
        )
    if state == S.CLOSED:
        values["closed_at"] = NOW - dt.timedelta(hours=2)
    if state == S.MERGED:
        values["merged_into"] = TaskFactory()
    values.update(fields)
    task = TaskFactory(**values)
    if state in WITH_DEPARTMENT:
        TaskAssist.objects.create(task=task, department=departments.chengguan, deadline=NOW + dt.timedelta(days=8))
    if state == S.RETURN_REQUESTED:
        TaskRequest.objects.create(
            task=task, kind=TaskRequest.Kind.RETURN, department=departments.zhujian, reason="非本单位职责",
            previous_state=S.IN_PROGRESS, requested_by=cast.handler_zhujian, requested_at=NOW - dt.timedelta(hours=3),
        )
    if pending_extension:
        TaskRequest.objects.create(
            task=task, kind=TaskRequest.Kind.EXTENSION, department=departments.zhujian, reason="需要协调施工队",
            requested_deadline=NOW + dt.timedelta(days=20), requested_by=cast.handler_zhujian,
            requested_at=NOW - dt.timedelta(hours=3),
        )
    return task


def call(action, task, actor, departments, *, target=None):
    """Take `action` with valid arguments, so that only the state and the actor can make it fail."""
    common = {"actor": actor, "task": task, "now": NOW}
    later = (NOW + dt.timedelta(days=20)).date()
    calls = {
        "report": lambda: services.task_report(**common),
        "review": lambda: services.task_review(note="请住建局尽快办理", **common),
        "assign": lambda: services.task_assign(
            lead_department=departments.zhujian, assisting_departments=[departments.chengguan], **common
        ),
        "arbitrate": lambda: services.task_arbitrate(
            lead_department=departments.zhujian, note="两次退单，经研判由住建局主办", **common
        ),
        "accept": lambda: services.task_accept(**common),
        "note_progress": lambda: services.task_note_progress(note="已到现场查看", **common),
        # Explained: a resolved reply also waits for the assisting reply (tests/tasks/test_assists.py).
        "reply": lambda: services.task_reply(outcome=Outcome.EXPLAINED, reply="已解释说明", **common),
        "approve_reply": lambda: services.task_approve_reply(**common),
        "reject_reply": lambda: services.task_reject_reply(note="请附现场照片", **common),
        "assist_accept": lambda: services.task_assist_accept(**common),
        "assist_reply": lambda: services.task_assist_reply(reply="已配合断电检修", **common),
        "waive_assist": lambda: services.task_waive_assist(
            department=departments.chengguan, reason="城管局已撤销该事项", **common
        ),
        "record_callback": lambda: services.task_record_callback(result=CallbackResult.SATISFIED, **common),
        "close": lambda: services.task_close(note="群众电话无法接通", **common),
        "request_return": lambda: services.task_request_return(reason_code="not_our_duty", **common),
        "approve_return": lambda: services.task_approve_return(**common),
        "refuse_return": lambda: services.task_refuse_return(note="属于住建局职责", **common),
        "request_extension": lambda: services.task_request_extension(deadline=later, reason="需要协调施工队", **common),
        "approve_extension": lambda: services.task_approve_extension(**common),
        "refuse_extension": lambda: services.task_refuse_extension(note="时限充足", **common),
        "supervise": lambda: services.task_supervise(level=2, note="群众反映强烈", **common),
        "merge": lambda: services.task_merge(
            actor=actor, target=target, sources=[task], now=NOW
        ),
        "reopen_look_back": lambda: services.task_reopen_look_back(note="回头看发现路灯仍不亮", **common),
    }
    return calls[action]()


def snapshot() -> dict:
    """Everything a lifecycle step may write, to prove a refused one wrote nothing."""
    return {
        "tasks": list(Task.objects.order_by("pk").values()),
        "events": list(TaskEvent.objects.order_by("pk").values()),
        "requests": list(TaskRequest.objects.order_by("pk").values()),
        "assists": list(TaskAssist.objects.order_by("pk").values()),
        "suggestions": list(Suggestion.objects.order_by("pk").values_list("pk", "task_id")),
        "callbacks": list(Callback.objects.order_by("pk").values()),
    }


def prepare(action, state, cast, departments):
    """The task in `state` plus what the action needs besides (a pending request, a merge target)."""
    extra = {"return_count": 2} if action == "arbitrate" else {}
    task = place(state, cast, departments, pending_extension=action in ("approve_extension", "refuse_extension"),
                 **extra)
    target = TaskFactory(state=S.REGISTERED) if action == "merge" else None
    return task, target


def default_actor(action, cast):
    return getattr(cast, sorted(EXPECTED_USERS[action])[0])


def test_the_rule_table_covers_exactly_the_lifecycle_actions():
    assert set(services.ACTIONS) == set(EXPECTED_FROM)
    for action in services.ACTIONS:
        assert callable(getattr(services, f"task_{action}"))


@pytest.mark.parametrize("state", list(State))
@pytest.mark.parametrize("action", ACTIONS)
def test_action_by_state(action, state, cast, departments):
    task, target = prepare(action, state, cast, departments)
    actor = default_actor(action, cast)
    allowed = state in EXPECTED_FROM[action]
    assert (action in services.available_actions(task, actor)) is allowed

    if not allowed:
        before = snapshot()
        with pytest.raises(DomainError) as refused:
            call(action, task, actor, departments, target=target)
        assert snapshot() == before
        message = str(refused.value)
        assert str(State(state).label) in message or "merged into" in message or "leader's review" in message
        return

    call(action, task, actor, departments, target=target)
    task.refresh_from_db()
    assert task.state == (EXPECTED_TO[action] or state)
    event = TaskEvent.objects.filter(task=task).latest("id")
    assert (event.actor, event.at, event.from_state, event.to_state) == (actor, NOW, state, task.state)


@pytest.mark.parametrize("who", USERS)
@pytest.mark.parametrize("action", ACTIONS)
def test_action_by_role(action, who, cast, departments):
    state = min(EXPECTED_FROM[action], key=list(State).index)
    task, target = prepare(action, state, cast, departments)
    user = getattr(cast, who)
    allowed = who in EXPECTED_USERS[action]
    assert (action in services.available_actions(task, user)) is allowed

    if allowed:
        call(action, task, user, departments, target=target)
        assert TaskEvent.objects.filter(task=task, actor=user).exists()
        return

    before = snapshot()
    with pytest.raises(DomainError) as refused:
        call(action, task, user, departments, target=target)
    assert snapshot() == before
    message = str(refused.value)
    if user.role in {getattr(cast, name).role for name in EXPECTED_USERS[action]}:
        # The right role in the wrong department.
        assert "not your department's task" in message or "leads this task" in message
    else:
        assert message.startswith(f"Your role ({user.get_role_display()}) may not")
