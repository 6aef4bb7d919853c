"""Issue 9's steps on the pages: another department gets 404, a role that may not decide gets 409 with the reason,
and neither writes anything (task, timeline, requests, assisting parts, exclusions, instructions).

Each step is posted with data that would be valid for the right person, so the answer is
about who asks, not about the form.
"""

import pytest
from django.conf import settings
from django.urls import reverse

from feedback.models import Category
from org.models import User
from tasks import deadlines, services
from tasks.models import LeaderInstruction, ScoreExclusion, State, Task, TaskAssist, TaskEvent, TaskRequest
from tasks.services.exclusions import task_request_exclusion

from ..factories import DepartmentFactory, TaskFactory, UserFactory

S = State


@pytest.fixture(autouse=True)
def rules(db):
    deadlines.ensure_default_rules()


def snapshot():
    return tuple(
        list(model.objects.order_by("pk").values())
        for model in (Task, TaskEvent, TaskRequest, TaskAssist, ScoreExclusion, LeaderInstruction)
    )


def post(client, user, task, action, data=None):
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client.post(reverse("tasks:action", args=[task.pk, action]), data or {})


@pytest.fixture
def stranger(departments):
    """A handler and a head of 水利局, which neither leads nor assists with the task."""
    shuili = DepartmentFactory(name="水利局", code="shuili")
    return [UserFactory(role=User.Role.HANDLER, department=shuili), UserFactory(role=User.Role.HEAD, department=shuili)]


def with_assist(cast, departments, **fields):
    """A 住建局 task, accepted, with 城管局 assisting."""
    task = TaskFactory(state=S.REGISTERED, category=Category.HELP, **fields)
    services.task_assign(actor=cast.supervisor, task=task, lead_department=departments.zhujian,
                         assisting_departments=[departments.chengguan])
    services.task_accept(actor=cast.handler_zhujian, task=task)
    return task


def return_requested(cast, departments):
    task = with_assist(cast, departments)
    services.task_request_return(actor=cast.handler_zhujian, task=task, reason_code="not_our_duty")
    return task


def returned_twice(cast, departments):
    task = TaskFactory(state=S.REGISTERED)
    for department, handler in ((departments.zhujian, cast.handler_zhujian),
                                (departments.chengguan, cast.handler_chengguan)):
        services.task_assign(actor=cast.supervisor, task=task, lead_department=department)
        services.task_request_return(actor=handler, task=task, reason_code="duplicate")
        services.task_approve_return(actor=cast.supervisor, task=task)
    return task


STEPS = {
    # action: (how to set the task up, valid data)
    "request_return": (with_assist, {"reason_code": "not_our_duty", "reason": "不属本单位"}),
    "request_extension": (with_assist, {"deadline": "2099-01-01", "reason": "需协调"}),
    "assist_accept": (with_assist, {}),
    "assist_reply": (with_assist, {"reply": "已配合"}),
    "reply": (with_assist, {"outcome": "explained", "reply": "已答复"}),
    "approve_return": (return_requested, {}),
    "refuse_return": (return_requested, {"note": "属本单位职责"}),
    "waive_assist": (with_assist, None),  # the department is filled in below
    "arbitrate": (returned_twice, None),
}


def data_for(action, departments, data):
    if action == "waive_assist":
        return {"department": departments.chengguan.pk, "reason": "已撤销"}
    if action == "arbitrate":
        return {"lead_department": departments.zhujian.pk, "note": "属住建局职责"}
    return data


@pytest.mark.parametrize("action", list(STEPS))
def test_a_department_that_neither_leads_nor_assists_gets_404_and_writes_nothing(client, cast, departments, stranger,
                                                                                action):
    setup, data = STEPS[action]
    task = setup(cast, departments)
    before = snapshot()
    for user in stranger:
        assert post(client, user, task, action, data_for(action, departments, data)).status_code == 404
    assert snapshot() == before


SUPERVISORS_ONLY = ("approve_return", "refuse_return", "waive_assist", "arbitrate")


@pytest.mark.parametrize("action", SUPERVISORS_ONLY)
def test_the_departments_own_staff_cannot_take_the_supervisors_decisions(client, cast, departments, action):
    setup, data = STEPS[action]
    task = setup(cast, departments)
    users = [cast.handler_zhujian, cast.head_zhujian, cast.handler_chengguan, cast.leader]
    before = snapshot()
    if action == "arbitrate":
        # Returned, the task has no department: the departments that returned it no longer see it.
        for user in users[:3]:
            assert post(client, user, task, action, data_for(action, departments, data)).status_code == 404
        users = [cast.leader]
    for user in users:
        response = post(client, user, task, action, data_for(action, departments, data))
        assert response.status_code == 409, (user, response.status_code)
        assert "may not" in response.text
    assert snapshot() == before


def test_an_assisting_department_cannot_take_the_leads_steps(client, cast, departments):
    task = with_assist(cast, departments)
    before = snapshot()
    for action in ("request_return", "request_extension", "reply"):
        _setup, data = STEPS[action]
        response = post(client, cast.handler_chengguan, task, action, data)
        assert response.status_code == 409, action
        assert "not your department" in response.text
    assert snapshot() == before


def test_another_department_cannot_apply_for_or_decide_a_score_exclusion(client, cast, departments, stranger):
    task = with_assist(cast, departments)
    exclusion = task_request_exclusion(actor=cast.handler_zhujian, task=task, reason="unreasonable", text="不合理")
    before = snapshot()
    for user in stranger:
        client.force_login(user)
        assert client.post(reverse("tasks:exclusion_request", args=[task.pk]),
                           {"reason": "unreasonable", "text": "x"}).status_code == 404
        assert client.post(reverse("tasks:exclusion_decide", args=[exclusion.pk]),
                           {"decision": "approve"}).status_code == 404
    # The assisting department reads the task but not the lead's application, and cannot apply.
    client.force_login(cast.handler_chengguan)
    decide = reverse("tasks:exclusion_decide", args=[exclusion.pk])
    assert client.post(decide, {"decision": "approve"}).status_code == 404
    assert client.post(reverse("tasks:exclusion_request", args=[task.pk]),
                       {"reason": "unreasonable", "text": "x"}).status_code == 409
    assert snapshot() == before
