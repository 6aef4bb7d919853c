"""Lifecycle actions posted from the detail page: allowed ones change the task; refused or invalid ones, nothing."""

import datetime as dt

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape

from feedback.models import Callback, Suggestion
from tasks import services
from tasks.models import Outcome, State, Task, TaskAssist, TaskEvent, TaskRequest

from .test_task_detail import place

S = State


def later(days: int) -> str:
    return (timezone.localdate() + dt.timedelta(days=days)).isoformat()


# action -> (state it starts from, who takes it, the form's input, the state it leads to).
# Input may be a function of the departments fixture.
CASES = {
    "report": (S.REGISTERED, "supervisor", {"note": "请领导阅批"}, S.REPORTED),
    "review": (S.REPORTED, "leader", {"note": "请住建局尽快办理"}, S.REVIEWED),
    "assign": (
        S.REVIEWED, "supervisor",
        lambda d: {"lead_department": d.zhujian.pk, "assisting_departments": [d.chengguan.pk], "deadline_days": "5"},
        S.ASSIGNED,
    ),
    "accept": (S.ASSIGNED, "handler_zhujian", {}, S.ACCEPTED),
    "note_progress": (S.ACCEPTED, "handler_zhujian", {"note": "已到现场查看"}, S.IN_PROGRESS),
    "reply": (S.IN_PROGRESS, "handler_zhujian", {"outcome": Outcome.EXPLAINED, "reply": "已解释"}, S.AWAITING_APPROVAL),
    "approve_reply": (S.AWAITING_APPROVAL, "head_zhujian", {}, S.REPLIED),
    "reject_reply": (S.AWAITING_APPROVAL, "head_zhujian", {"note": "请附现场照片"}, S.IN_PROGRESS),
    "assist_reply": (S.IN_PROGRESS, "handler_chengguan", {"reply": "已配合断电检修"}, S.IN_PROGRESS),
    "record_callback": (S.REPLIED, "supervisor", {"result": "basically_satisfied", "note": ""}, S.CALLED_BACK),
    "close": (S.CALLED_BACK, "supervisor", {"note": ""}, S.CLOSED),
    "request_return": (S.ACCEPTED, "handler_zhujian", {"reason_code": "not_our_duty", "reason": "属城管局职责"},
                       S.RETURN_REQUESTED),
    "approve_return": (S.RETURN_REQUESTED, "supervisor", {}, S.RETURNED),
    "refuse_return": (S.RETURN_REQUESTED, "supervisor", {"note": "属于住建局职责"}, S.IN_PROGRESS),
    "request_extension": (S.IN_PROGRESS, "handler_zhujian", {"deadline": later(30), "reason": "需要协调施工队"},
                          S.IN_PROGRESS),
    "approve_extension": (S.IN_PROGRESS, "supervisor", {"deadline": "", "note": ""}, S.IN_PROGRESS),
    "refuse_extension": (S.IN_PROGRESS, "supervisor", {"note": "时限充足"}, S.IN_PROGRESS),
    "supervise": (S.IN_PROGRESS, "supervisor", {"level": "2", "note": "群众反映强烈"}, S.IN_PROGRESS),
    "merge": (S.REGISTERED, "supervisor", None, S.MERGED),  # input needs the target: see _input
    "reopen_look_back": (S.CLOSED, "supervisor", {"note": "回头看发现路灯仍不亮"}, S.IN_PROGRESS),
}
NEEDS_PENDING_EXTENSION = {"approve_extension", "refuse_extension"}

# For each action, someone who can see the task but may not take the step, and a state it cannot be taken from.
DISALLOWED_USER = {
    "report": "leader", "review": "supervisor", "assign": "leader", "accept": "supervisor",
    "note_progress": "handler_chengguan", "reply": "handler_chengguan", "approve_reply": "handler_zhujian",
    "reject_reply": "handler_zhujian", "assist_reply": "handler_zhujian", "record_callback": "head_zhujian",
    "close": "leader", "request_return": "handler_chengguan", "approve_return": "head_zhujian",
    "refuse_return": "leader", "request_extension": "supervisor", "approve_extension": "head_zhujian",
    "refuse_extension": "handler_zhujian", "supervise": "leader", "merge": "leader", "reopen_look_back": "head_zhujian",
}
WRONG_STATE = {
    "report": S.REVIEWED, "review": S.REGISTERED, "assign": S.REPORTED, "accept": S.IN_PROGRESS,
    "note_progress": S.ASSIGNED, "reply": S.ASSIGNED, "approve_reply": S.IN_PROGRESS, "reject_reply": S.REPLIED,
    "assist_reply": S.REPLIED, "record_callback": S.IN_PROGRESS, "close": S.IN_PROGRESS,
    "request_return": S.REPLIED, "approve_return": S.IN_PROGRESS, "refuse_return": S.ACCEPTED,
    "request_extension": S.AWAITING_APPROVAL, "approve_extension": S.REPLIED, "refuse_extension": S.CLOSED,
    "supervise": S.CLOSED, "merge": S.ASSIGNED, "reopen_look_back": S.REPLIED,
}


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def snapshot() -> dict:
    """Everything an action may write, to prove a refused or invalid one wrote nothing."""
    return {
        "tasks": list(Task.objects.order_by("pk").values()),
        "events": TaskEvent.objects.count(),
        "requests": list(TaskRequest.objects.order_by("pk").values()),
        "assists": list(TaskAssist.objects.order_by("pk").values()),
        "callbacks": Callback.objects.count(),
        "suggestions": list(Suggestion.objects.order_by("pk").values_list("pk", "task_id")),
    }


def post(client, user, task, action, data):
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client.post(reverse("tasks:action", args=[task.pk, action]), data)


def _prepare(action, state, cast, departments):
    task = place(state, cast, departments, pending_extension=action in NEEDS_PENDING_EXTENSION)
    target = place(S.REGISTERED, cast, departments) if action == "merge" else None
    return task, target


def _input(action, departments, target):
    data = CASES[action][2]
    if action == "merge":
        return {"target": str(target.pk), "note": "同一路灯"}
    return data(departments) if callable(data) else data


# --- Allowed ------------------------------------------------------------------------------


@pytest.mark.parametrize("action", list(CASES))
def test_allowed_action_changes_the_state_adds_a_timeline_row_and_redirects(client, cast, departments, action):
    state, who, _, to_state = CASES[action]
    task, target = _prepare(action, state, cast, departments)
    events = TaskEvent.objects.filter(task=task).count()

    response = post(client, getattr(cast, who), task, action, _input(action, departments, target))

    assert response.status_code == 302, response.content.decode()[:2000]
    landing = target if action == "merge" else task
    assert response["Location"] == reverse("tasks:detail", args=[landing.pk])
    task.refresh_from_db()
    assert task.state == to_state
    new = TaskEvent.objects.filter(task=task).order_by("pk")[events:]
    assert len(new) == 1
    assert new[0].actor == getattr(cast, who)
    assert new[0].to_state == to_state


def test_success_message_shows_after_the_redirect(client, cast, departments):
    task = place(S.ASSIGNED, cast, departments)
    response = post(client, cast.handler_zhujian, task, "accept", {"note": "今天签收"})
    page = client.get(response["Location"])
    assert "The task was accepted." in page.text
    assert "今天签收" in page.text


def test_action_effects_reach_the_task(client, cast, departments):
    task = place(S.REVIEWED, cast, departments)
    post(client, cast.supervisor, task, "assign",
         {"lead_department": departments.zhujian.pk, "assisting_departments": [departments.chengguan.pk],
          "deadline": later(40)})
    task.refresh_from_db()
    assert task.lead_department == departments.zhujian
    assert timezone.localtime(task.deadline).date().isoformat() == later(40)
    assert list(task.assists.values_list("department_id", flat=True)) == [departments.chengguan.pk]

    post(client, cast.supervisor, task, "supervise", {"level": "3"})
    task.refresh_from_db()
    assert task.supervision_level == 3

    post(client, cast.handler_zhujian, task, "request_extension", {"deadline": later(60), "reason": "雨季施工困难"})
    post(client, cast.supervisor, task, "approve_extension", {"deadline": later(50)})
    task.refresh_from_db()
    assert timezone.localtime(task.deadline).date().isoformat() == later(50)
    assert task.extension_count == 1


def test_assign_without_a_deadline_takes_the_rule_deadline(client, cast, departments):
    task = place(S.REGISTERED, cast, departments)
    response = post(client, cast.supervisor, task, "assign", {"lead_department": departments.zhujian.pk})
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.state == S.ASSIGNED and task.deadline > timezone.now()
    assert not task.assists.exists()


def test_unsatisfied_callback_reopens_the_task(client, cast, departments):
    task = place(S.REPLIED, cast, departments)
    response = post(client, cast.supervisor, task, "record_callback", {"result": "unsatisfied", "note": "路灯仍不亮"})
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.state == S.IN_PROGRESS and task.redo_count == 1
    assert list(task.events.values_list("action", flat=True)) == ["callback", "redo"]


def test_head_reply_goes_out_without_approval(client, cast, departments):
    task = place(S.IN_PROGRESS, cast, departments)
    post(client, cast.head_zhujian, task, "reply", {"outcome": Outcome.EXPLAINED, "reply": "已向群众解释政策"})
    task.refresh_from_db()
    assert task.state == S.REPLIED and task.outcome == Outcome.EXPLAINED


# --- Refused: nothing changes --------------------------------------------------------------


def _assert_refused(response, before, expected_message):
    assert response.status_code == 409
    assert snapshot() == before
    assert escape(expected_message) in response.text
    assert 'class="message message-error"' in response.text


@pytest.mark.parametrize("action", list(CASES))
def test_disallowed_user_changes_nothing_and_sees_the_refusal(client, cast, departments, action):
    state = CASES[action][0]
    task, target = _prepare(action, state, cast, departments)
    user = getattr(cast, DISALLOWED_USER[action])
    expected = services.refusal(action, task, user)
    assert expected is not None
    before = snapshot()
    _assert_refused(post(client, user, task, action, _input(action, departments, target)), before, expected)


@pytest.mark.parametrize("action", list(CASES))
def test_action_in_a_wrong_state_changes_nothing_and_sees_the_refusal(client, cast, departments, action):
    task, target = _prepare(action, WRONG_STATE[action], cast, departments)
    user = getattr(cast, CASES[action][1])
    expected = services.refusal(action, task, user)
    assert expected is not None
    before = snapshot()
    _assert_refused(post(client, user, task, action, _input(action, departments, target)), before, expected)


def test_second_click_on_accept_is_refused(client, cast, departments):
    task = place(S.ASSIGNED, cast, departments)
    assert post(client, cast.handler_zhujian, task, "accept", {}).status_code == 302
    before = snapshot()
    _assert_refused(post(client, cast.handler_zhujian, task, "accept", {}), before, "Cannot accept a task while")


def test_service_refusal_after_valid_input_is_shown_and_changes_nothing(client, cast, departments):
    # The form accepts any future date; the service wants one after the current deadline (10 days away).
    task = place(S.IN_PROGRESS, cast, departments, pending_extension=True)
    before = snapshot()
    response = post(client, cast.supervisor, task, "approve_extension", {"deadline": later(1)})
    current = timezone.localtime(task.deadline).date()
    _assert_refused(response, before, f"The new deadline must be after the current one ({current}).")
    assert 'id="action-approve_extension" data-action="approve_extension" open' in response.text


def test_other_departments_handler_gets_404_and_nothing_changes(client, cast, departments):
    task = place(S.ASSIGNED, cast, departments, assisted=False)
    before = snapshot()
    response = post(client, cast.handler_chengguan, task, "accept", {})
    assert response.status_code == 404
    assert snapshot() == before


def test_registrar_who_did_not_register_it_gets_404(client, cast, departments):
    task = place(S.REGISTERED, cast, departments)
    before = snapshot()
    assert post(client, cast.outsider, task, "report", {}).status_code == 404
    assert snapshot() == before


def test_get_on_an_action_url_is_405_and_unknown_action_404(client, cast, departments):
    task = place(S.ASSIGNED, cast, departments)
    client.force_login(cast.handler_zhujian)
    assert client.get(reverse("tasks:action", args=[task.pk, "accept"])).status_code == 405
    assert client.post(reverse("tasks:action", args=[task.pk, "explode"])).status_code == 404
    task.refresh_from_db()
    assert task.state == S.ASSIGNED


def test_anonymous_post_goes_to_login(client, cast, departments):
    task = place(S.ASSIGNED, cast, departments)
    response = client.post(reverse("tasks:action", args=[task.pk, "accept"]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    task.refresh_from_db()
    assert task.state == S.ASSIGNED


# --- Invalid input: field errors, nothing changes -----------------------------------------

INVALID = [
    ("request_return", S.ACCEPTED, "handler_zhujian", {"reason": "  "}, "reason_code",
     "Choose the reason for the return."),
    ("request_return", S.ACCEPTED, "handler_zhujian", {"reason_code": "weather", "reason": "x"}, "reason_code",
     "Choose one of the listed reasons for the return."),
    ("request_return", S.ACCEPTED, "handler_zhujian", {"reason_code": "other", "reason": "  "}, "reason",
     "Describe the reason for the return when it is “other”."),
    ("request_extension", S.IN_PROGRESS, "handler_zhujian", {"deadline": "2021-13-45", "reason": "施工"}, "deadline",
     "Enter a valid date"),
    ("request_extension", S.IN_PROGRESS, "handler_zhujian", {"deadline": "2020-01-02", "reason": "施工"}, "deadline",
     "This date has already passed"),
    ("request_extension", S.IN_PROGRESS, "handler_zhujian", {"deadline": later(2), "reason": "施工"}, "deadline",
     "The new deadline must be after the current one"),
    ("request_extension", S.IN_PROGRESS, "handler_zhujian", {"deadline": later(30), "reason": ""}, "reason",
     "An extension request needs a reason."),
    ("assign", S.REVIEWED, "supervisor", {"deadline_days": "3"}, "lead_department", "Choose the lead department."),
    ("assign", S.REVIEWED, "supervisor", "both", "deadline_days",
     "Give either a deadline date or a number of working days, not both."),
    ("assign", S.REVIEWED, "supervisor", "days0", "deadline_days", "At least 1 working day."),
    ("assign", S.REVIEWED, "supervisor", "lead-assists", "assisting_departments",
     "The lead department cannot also assist."),
    ("reply", S.IN_PROGRESS, "handler_zhujian", {"reply": "已修复"}, "outcome", "Choose the outcome"),
    ("reply", S.IN_PROGRESS, "handler_zhujian", {"outcome": Outcome.UNRESOLVABLE, "reply": ""}, "reply",
     "Give the reason why the problem cannot be resolved."),
    ("record_callback", S.REPLIED, "supervisor", {"result": "unsatisfied"}, "note",
     "Say what the citizen is unsatisfied with."),
    ("record_callback", S.REPLIED, "supervisor", {"result": "happy"}, "result", "Select a valid choice."),
    ("close", S.REPLIED, "supervisor", {"note": ""}, "note", "Closing without a callback needs a note"),
    ("supervise", S.IN_PROGRESS, "supervisor", {"level": "9"}, "level", "Select a valid choice."),
    ("note_progress", S.ACCEPTED, "handler_zhujian", {}, "note", "Describe the progress made."),
    ("refuse_extension", S.IN_PROGRESS, "supervisor", {}, "note", "Give the reason for refusing the extension."),
    ("reopen_look_back", S.CLOSED, "supervisor", {"note": ""}, "note", "Say what the look-back review found."),
    ("merge", S.REGISTERED, "supervisor", {"target": "999999"}, "target", "There is no task #999999."),
    ("assist_reply", S.IN_PROGRESS, "handler_chengguan", {"reply": ""}, "reply", "Write your department's reply."),
]


def _invalid_data(data, departments):
    if data == "both":
        return {"lead_department": departments.zhujian.pk, "deadline": later(20), "deadline_days": "5"}
    if data == "days0":
        return {"lead_department": departments.zhujian.pk, "deadline_days": "0"}
    if data == "lead-assists":
        return {"lead_department": departments.zhujian.pk, "assisting_departments": [departments.zhujian.pk]}
    return data


@pytest.mark.parametrize("action, state, who, data, field, message", INVALID)
def test_invalid_input_shows_field_error_and_changes_nothing(client, cast, departments, action, state, who, data,
                                                             field, message):
    task = place(state, cast, departments, pending_extension=action in NEEDS_PENDING_EXTENSION)
    before = snapshot()
    response = post(client, getattr(cast, who), task, action, _invalid_data(data, departments))
    assert response.status_code == 400
    assert snapshot() == before
    # The error sits under its field, inside the action's form, which stays open.
    assert f'id="action-{action}" data-action="{action}" open' in response.text
    block = field_html(response.text, action, field)
    assert 'class="field-error"' in block
    assert escape(message) in block


def field_html(text: str, action: str, field: str) -> str:
    """The markup of one field of one action's form."""
    form = text[text.index(f'id="action-form-{action}"'):]
    form = form[:form.index("</form>")]
    start = form.index(f'data-field="{field}"')
    end = form.find('data-field="', start + 1)
    return form[start:end if end != -1 else None]
