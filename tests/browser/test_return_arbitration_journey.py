"""Issue 9's journey: a handler returns a task with a reason code, the clock stops; the supervisor
approves; after a second return the supervisor arbitrates; the named lead department cannot return it
again, accepts it and replies from a reply template; the timeline shows every step."""

import re

import pytest

from tasks import services
from tasks.models import Action, ReplyTemplate, State, Task, TaskEvent

from ..factories import PASSWORD, TaskFactory, TownshipFactory

pytestmark = pytest.mark.browser


def _log_in(page, username):
    page.context.clear_cookies()
    page.goto(page.base_url + "/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("#login-button")
    page.wait_for_url(page.base_url + "/")


def _open(page, action):
    """Open an action's panel (the page opens its first step already)."""
    if page.locator(f"#action-{action}").get_attribute("open") is None:
        page.click(f"#action-{action} > summary")


def _state(page) -> str:
    return page.locator("#task-detail").get_attribute("data-state")


def test_return_with_reason_arbitration_and_a_templated_reply(page, cast, departments, screenshot):
    task = TaskFactory(
        title="村口排水沟堵塞，雨天积水", township=TownshipFactory(name="留早镇", short_name="留早"),
        suggestion__citizen_name="李四",
    )  # fmt: skip
    services.task_assign(actor=cast.supervisor, task=task, lead_department=departments.chengguan)
    template = ReplyTemplate.objects.create(
        title="已疏通", body="{citizen}您好：{township}排水沟已疏通，请监督。", department=departments.zhujian
    )
    detail_url = f"{page.base_url}/tasks/{task.pk}/"

    # 1. 城管局's handler returns the task: not the department's duty. The handling clock stops.
    _log_in(page, "handler-chengguan")
    page.goto(detail_url)
    assert page.locator("#task-clock").get_attribute("data-clock-status") == "running"
    _open(page, "request_return")
    page.check('#action-form-request_return input[name="reason_code"][value="not_our_duty"]')
    page.fill("#id_request_return_reason", "排水沟属住建局管护范围")
    page.click("#action-submit-request_return")
    page.wait_for_url(detail_url)
    assert _state(page) == State.RETURN_REQUESTED
    assert page.locator("#task-clock").get_attribute("data-clock-status") == "paused"
    screenshot(page, "return-requested-clock-paused")

    # 2. The supervisor approves: back in the dispatch queue, no clock until the next assignment.
    _log_in(page, "supervisor")
    page.goto(detail_url)
    _open(page, "approve_return")
    page.click("#action-submit-approve_return")
    page.wait_for_url(detail_url)
    assert _state(page) == State.RETURNED
    assert page.locator("#task-clock").get_attribute("data-clock-status") == "none"

    # A second round, through the services: 住建局 gets it and returns it too.
    task.refresh_from_db()
    services.task_assign(actor=cast.supervisor, task=task, lead_department=departments.zhujian)
    services.task_request_return(
        actor=cast.handler_zhujian, task=task, reason_code="not_our_duty", reason="应由城管局负责"
    )
    services.task_approve_return(actor=cast.supervisor, task=task)

    # 3. Returned twice: the supervisor may only arbitrate, naming 住建局 with grounds.
    page.goto(detail_url)
    assert page.locator("#action-assign").count() == 0
    _open(page, "arbitrate")
    page.select_option("#id_arbitrate_lead_department", str(departments.zhujian.pk))
    page.fill("#id_arbitrate_note", "排水沟建设和管护属住建局职责")
    screenshot(page, "arbitration-form")
    page.click("#action-submit-arbitrate")
    page.wait_for_url(detail_url)
    assert _state(page) == State.ASSIGNED
    assert page.locator("#task-clock").get_attribute("data-clock-status") == "running"

    # 4. 住建局 may not return it again; it accepts and replies from its template, edited.
    _log_in(page, "handler-zhujian")
    page.goto(detail_url)
    assert page.locator("#action-request_return").count() == 0
    page.fill("#id_accept_note", "已签收")
    page.click("#action-submit-accept")
    page.wait_for_url(detail_url)
    assert page.locator("#action-request_return").count() == 0
    _open(page, "reply")
    page.select_option("#reply-template", str(template.pk))
    box = page.locator("#id_reply_reply")
    assert box.input_value() == "李四您好：留早镇排水沟已疏通，请监督。"
    box.fill(box.input_value() + "（已清淤40米）")
    page.check('#action-form-reply input[name="outcome"][value="resolved"]')
    page.click("#action-submit-reply")
    page.wait_for_url(detail_url)
    assert _state(page) == State.AWAITING_APPROVAL

    task = Task.objects.get(pk=task.pk)
    assert task.arbitrated_department == departments.zhujian and task.return_count == 2
    assert task.reply == "李四您好：留早镇排水沟已疏通，请监督。（已清淤40米）"
    steps = page.locator("#timeline li[data-event-id]")
    assert [steps.nth(i).get_attribute("data-action") for i in range(steps.count())] == [
        Action.ASSIGN, Action.REQUEST_RETURN, Action.APPROVE_RETURN,
        Action.ASSIGN, Action.REQUEST_RETURN, Action.APPROVE_RETURN,
        Action.ARBITRATE, Action.ACCEPT, Action.REPLY,
    ]  # fmt: skip
    timeline = page.inner_text("#timeline")
    assert "排水沟属住建局管护范围" in timeline and "排水沟建设和管护属住建局职责" in timeline
    assert re.search("非本单位职责", timeline)
    assert TaskEvent.objects.filter(task=task).count() == 9
    screenshot(page, "arbitrated-task-replied")
