"""退单 with a reason code, and arbitration (仲裁) of a task returned twice: services, rules, forms and pages."""

import datetime as dt

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape

from feedback.models import Category
from tasks import deadlines, services
from tasks.errors import DomainError
from tasks.models import Action, State, Task, TaskEvent, TaskRequest

from ..factories import DepartmentFactory, TaskFactory

S = State
SHANGHAI = timezone.get_default_timezone()
T0 = dt.datetime(2021, 11, 1, 9, 30, tzinfo=SHANGHAI)  # a Monday
HOUR = dt.timedelta(hours=1)


@pytest.fixture(autouse=True)
def english(db):
    deadlines.ensure_default_rules()
    with translation.override("en"):
        yield


def snapshot():
    return (list(Task.objects.order_by("pk").values()), list(TaskEvent.objects.order_by("pk").values()),
            list(TaskRequest.objects.order_by("pk").values()))


def refused(fn, match: str) -> str:
    before = snapshot()
    with pytest.raises(DomainError) as error:
        fn()
    assert match in str(error.value), str(error.value)
    assert snapshot() == before
    return str(error.value)


def assigned(cast, department, *, now=T0) -> Task:
    task = TaskFactory(state=S.REGISTERED, category=Category.HELP)
    services.task_assign(actor=cast.supervisor, task=task, lead_department=department, now=now)
    return task


def handler_of(cast, department):
    return {"zhujian": cast.handler_zhujian, "chengguan": cast.handler_chengguan}[department.code]


def returned(cast, task, department, *, now, code="not_our_duty"):
    """`department` (which leads the task) asks to return it, and the supervisor approves."""
    services.task_request_return(actor=handler_of(cast, department), task=task, reason_code=code, reason="", now=now)
    services.task_approve_return(actor=cast.supervisor, task=task, note="同意", now=now + HOUR)


def returned_twice(cast, departments) -> Task:
    task = assigned(cast, departments.zhujian)
    returned(cast, task, departments.zhujian, now=T0 + HOUR)
    services.task_assign(actor=cast.supervisor, task=task, lead_department=departments.chengguan, now=T0 + 3 * HOUR)
    returned(cast, task, departments.chengguan, now=T0 + 4 * HOUR, code="incomplete_information")
    return task


# --- Reason codes ---------------------------------------------------------------------------------


def test_a_return_needs_a_known_reason_code_and_words_for_other(cast, departments):
    task = assigned(cast, departments.zhujian)
    ask = services.task_request_return
    common = {"actor": cast.handler_zhujian, "task": task, "now": T0 + HOUR}
    message = refused(lambda: ask(reason_code="", reason="属城管局职责", **common), "Choose the reason for the return")
    assert "not our department's duty, incomplete information, duplicate request, other" in message
    refused(lambda: ask(reason_code="weather", **common), "“weather” is not a reason for a return")
    refused(lambda: ask(reason_code="other", reason="   ", **common), "when it is “other”")

    request = ask(reason_code="duplicate", **common)  # words are optional for a listed reason
    assert (request.reason_code, request.reason, task.state) == ("duplicate", "", S.RETURN_REQUESTED)
    event = task.events.get(action=Action.REQUEST_RETURN)
    assert event.data["reason_code"] == "duplicate"


def test_other_with_words_is_a_valid_reason(cast, departments):
    task = assigned(cast, departments.zhujian)
    request = services.task_request_return(actor=cast.head_zhujian, task=task, reason_code="other",
                                           reason="应由供电公司处理", now=T0 + HOUR)
    assert (request.reason_code, request.reason) == ("other", "应由供电公司处理")


def test_only_the_lead_department_asks_and_only_the_supervisor_decides(cast, departments):
    task = assigned(cast, departments.zhujian)
    refused(lambda: services.task_request_return(actor=cast.handler_chengguan, task=task, reason_code="duplicate",
                                                 now=T0 + HOUR), "not your department's task")
    refused(lambda: services.task_request_return(actor=cast.supervisor, task=task, reason_code="duplicate",
                                                 now=T0 + HOUR), "Your role (")
    services.task_request_return(actor=cast.handler_zhujian, task=task, reason_code="duplicate", now=T0 + HOUR)
    for user in (cast.handler_zhujian, cast.head_zhujian, cast.leader):
        refused(lambda: services.task_approve_return(actor=user, task=task, now=T0 + 2 * HOUR), "Your role (")
        refused(lambda: services.task_refuse_return(actor=user, task=task, note="否", now=T0 + 2 * HOUR),
                "Your role (")


# --- Arbitration ------------------------------------------------------------------------------------


def test_a_task_returned_twice_goes_to_arbitration_instead_of_assignment(cast, departments):
    task = returned_twice(cast, departments)
    assert (task.state, task.return_count) == (S.RETURNED, 2)
    actions = services.available_actions(task, cast.supervisor)
    assert "arbitrate" in actions and "assign" not in actions
    refused(lambda: services.task_assign(actor=cast.supervisor, task=task, lead_department=departments.zhujian,
                                         now=T0 + 6 * HOUR), "returned 2 times: it goes to arbitration")
    approval = task.events.filter(action=Action.APPROVE_RETURN).latest("id")
    assert approval.data["return_count"] == 2


def test_a_task_returned_once_is_assigned_not_arbitrated(cast, departments):
    task = assigned(cast, departments.zhujian)
    returned(cast, task, departments.zhujian, now=T0 + HOUR)
    assert "assign" in services.available_actions(task, cast.supervisor)
    refused(lambda: services.task_arbitrate(actor=cast.supervisor, task=task, lead_department=departments.zhujian,
                                            note="仲裁", now=T0 + 3 * HOUR), "Only a task returned 2 times")


def test_arbitration_names_the_lead_which_then_cannot_return_it_again(cast, departments):
    task = returned_twice(cast, departments)
    refused(lambda: services.task_arbitrate(actor=cast.supervisor, task=task, lead_department=departments.zhujian,
                                            note=" ", now=T0 + 6 * HOUR), "Give the grounds of the arbitration")
    services.task_arbitrate(actor=cast.supervisor, task=task, lead_department=departments.zhujian,
                            note="经研判，路灯维护属住建局职责", now=T0 + 6 * HOUR)
    task.refresh_from_db()
    assert (task.state, task.lead_department, task.arbitrated_department) == (
        S.ASSIGNED, departments.zhujian, departments.zhujian)
    # A fresh clock from the rule table (求助: 5 working days from Mon 1 Nov 2021).
    assert task.deadline == dt.datetime(2021, 11, 8, 23, 59, 59, tzinfo=SHANGHAI)
    assert task.deadline_rule is not None
    event = task.events.latest("id")
    assert (event.action, event.actor, event.from_state, event.to_state) == (
        Action.ARBITRATE, cast.supervisor, S.RETURNED, S.ASSIGNED)
    assert event.data["lead_department"] == departments.zhujian.pk

    # The third return attempt is refused, before and after acceptance, with the reason why.
    assert "request_return" not in services.available_actions(task, cast.handler_zhujian)
    message = refused(lambda: services.task_request_return(actor=cast.handler_zhujian, task=task,
                                                           reason_code="not_our_duty", now=T0 + 7 * HOUR),
                      "named your department the lead department by arbitration")
    assert "cannot be returned again" in message
    services.task_accept(actor=cast.handler_zhujian, task=task, now=T0 + 7 * HOUR)
    refused(lambda: services.task_request_return(actor=cast.head_zhujian, task=task, reason_code="other",
                                                 reason="仍非本单位职责", now=T0 + 8 * HOUR), "by arbitration")
    # An extension stays possible.
    assert "request_extension" in services.available_actions(task, cast.handler_zhujian)


def test_only_the_supervisor_arbitrates(cast, departments):
    task = returned_twice(cast, departments)
    for user in (cast.head_zhujian, cast.leader, cast.admin):
        assert "arbitrate" not in services.available_actions(task, user)
        refused(lambda: services.task_arbitrate(actor=user, task=task, lead_department=departments.zhujian,
                                                note="仲裁", now=T0 + 6 * HOUR), "Your role (")


def test_arbitration_may_name_a_third_department(cast, departments):
    task = returned_twice(cast, departments)
    third = DepartmentFactory(name="供电公司", code="power")
    services.task_arbitrate(actor=cast.supervisor, task=task, lead_department=third, note="属供电公司",
                            deadline_days=3, now=T0 + 6 * HOUR)
    assert (task.lead_department, task.arbitrated_department, task.deadline_rule) == (third, third, None)


# --- Pages: the forms, the timeline and the supervisor's queue ------------------------------------------


def login(client, user):
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


def test_the_return_form_posts_a_reason_code(client, cast, departments):
    task = assigned(cast, departments.zhujian, now=timezone.now() - HOUR)
    login(client, cast.handler_zhujian)
    page = client.get(reverse("tasks:detail", args=[task.pk]))
    assert 'id="action-form-request_return"' in page.text
    for i, code in enumerate(TaskRequest.ReturnReason.values):
        assert f'id="id_request_return_reason_code_{i}"' in page.text and f'value="{code}"' in page.text
    assert 'id="id_request_return_reason"' in page.text

    bad = client.post(reverse("tasks:action", args=[task.pk, "request_return"]), {"reason_code": "other"})
    assert bad.status_code == 400
    assert escape("Describe the reason for the return when it is “other”.") in bad.text
    good = client.post(reverse("tasks:action", args=[task.pk, "request_return"]),
                       {"reason_code": "incomplete_information", "reason": "地址不详"})
    assert good.status_code == 302
    task.refresh_from_db()
    assert task.state == S.RETURN_REQUESTED
    page = client.get(reverse("tasks:detail", args=[task.pk]))
    assert "reason: incomplete information" in page.text  # on the timeline
    assert "handling clock stopped" in page.text
    assert 'data-reason-code="incomplete_information"' in page.text  # in the requests panel


def test_the_supervisors_queue_shows_the_reason_code(client, cast, departments):
    task = assigned(cast, departments.zhujian, now=timezone.now() - HOUR)
    services.task_request_return(actor=cast.handler_zhujian, task=task, reason_code="not_our_duty", reason="")
    login(client, cast.supervisor)
    page = client.get(reverse("home"))
    assert page.status_code == 200
    row = page.text[page.text.index(f'data-request-id="{task.requests.get().pk}"'):]
    row = row[:row.index("</tr>")]
    assert 'data-reason-code="not_our_duty"' in row and "not our department&#x27;s duty" in row


def test_the_arbitration_form_replaces_the_assignment_form(client, cast, departments):
    now = timezone.now()
    task = assigned(cast, departments.zhujian, now=now - 5 * HOUR)
    returned(cast, task, departments.zhujian, now=now - 4 * HOUR)
    services.task_assign(actor=cast.supervisor, task=task, lead_department=departments.chengguan, now=now - 2 * HOUR)
    returned(cast, task, departments.chengguan, now=now - 90 * dt.timedelta(minutes=1))
    login(client, cast.supervisor)
    page = client.get(reverse("tasks:detail", args=[task.pk]))
    assert 'id="action-form-arbitrate"' in page.text and 'id="action-form-assign"' not in page.text
    assert 'id="id_arbitrate_lead_department"' in page.text and 'id="id_arbitrate_note"' in page.text
    assert "goes to arbitration" in page.text  # the second approval on the timeline

    url = reverse("tasks:action", args=[task.pk, "arbitrate"])
    missing = client.post(url, {"lead_department": departments.zhujian.pk})
    assert missing.status_code == 400
    assert "Give the grounds of the arbitration" in missing.text
    assert client.post(url, {"lead_department": departments.zhujian.pk, "note": "属住建局职责"}).status_code == 302
    task.refresh_from_db()
    assert (task.state, task.arbitrated_department) == (S.ASSIGNED, departments.zhujian)
    assert "lead department by arbitration: 住建局" in client.get(reverse("tasks:detail", args=[task.pk])).text

    login(client, cast.handler_zhujian)
    page = client.get(reverse("tasks:detail", args=[task.pk]))
    assert 'id="action-form-request_return"' not in page.text
    refusal = client.post(reverse("tasks:action", args=[task.pk, "request_return"]), {"reason_code": "duplicate"})
    assert refusal.status_code == 409 and "by arbitration" in refusal.text


def test_the_dispatch_queue_marks_a_task_to_arbitrate_and_bulk_assignment_refuses_it(client, cast, departments):
    task = returned_twice(cast, departments)
    once = assigned(cast, departments.zhujian)
    returned(cast, once, departments.zhujian, now=T0 + HOUR)
    client.force_login(cast.supervisor)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get(reverse("tasks:dispatch")).text
    row = page[page.index(f'<tr data-task-id="{task.pk}"'):]
    row = row[:row.index("</tr>")]
    assert 'data-arbitration="true"' in row and "to arbitrate" in row
    other = page[page.index(f'<tr data-task-id="{once.pk}"'):]
    assert 'data-arbitration' not in other[:other.index("</tr>")]
    before = snapshot()
    response = client.post(reverse("tasks:dispatch"), {"action": "assign", "tasks": [once.pk, task.pk],
                                                      "lead_department": departments.zhujian.pk})
    assert response.status_code == 409
    [message] = [str(m) for m in response.context["messages"]]
    assert f"Task #{task.pk}" in message and "it goes to arbitration" in message
    assert snapshot() == before
