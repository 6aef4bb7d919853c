"""A handler's day on one task: filter the overdue tasks, open one, accept it, reply "resolved", read the
timeline; another department's handler gets 404 on the same URL."""

import datetime as dt

import re

import pytest
from django.utils import timezone

from feedback.models import PhoneView
from tasks import services
from tasks.models import Outcome, State, Task

from ..factories import PASSWORD, TaskFactory, TownshipFactory

pytestmark = pytest.mark.browser

TIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}")


def _log_in(page, username):
    page.goto(page.base_url + "/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("#login-button")
    page.wait_for_url(page.base_url + "/")


def _assigned_task(cast, departments) -> Task:
    """A 住建局 task assigned through the services, so its timeline starts like a real one."""
    task = TaskFactory(
        title="小区路灯不亮，夜间出行不便",
        township=TownshipFactory(name="留早镇", short_name="留早"),
        suggestion__citizen_name="张三",
        suggestion__phone="13812345678",
    )
    services.task_assign(actor=cast.supervisor, task=task, lead_department=departments.zhujian, note="请尽快修复")
    return task


def test_handler_accepts_and_replies_and_other_department_gets_404(page, cast, departments, screenshot):
    cast.handler_zhujian.full_name = "王建国"
    cast.handler_zhujian.save(update_fields=["full_name"])
    task = _assigned_task(cast, departments)
    on_time = _assigned_task(cast, departments)
    # Time passes: the first task's handling deadline is now behind us.
    Task.objects.filter(pk=task.pk).update(deadline=timezone.now() - dt.timedelta(days=2))
    detail_url = f"{page.base_url}/tasks/{task.pk}/"

    _log_in(page, "handler-zhujian")
    page.goto(page.base_url + "/tasks/")
    page.select_option("#task-filter select[name=due]", "overdue")
    page.click("#filter-submit")
    page.wait_for_url(re.compile(r".*due=overdue.*"))
    rows = page.locator("#task-results tr[data-task-id]")
    assert [rows.nth(i).get_attribute("data-task-id") for i in range(rows.count())] == [str(task.pk)]
    assert page.locator(f'#task-results tr[data-task-id="{on_time.pk}"]').count() == 0
    screenshot(page, "task-list-overdue")
    page.click(f'#task-results tr[data-task-id="{task.pk}"] a')
    page.wait_for_url(detail_url)
    assert page.locator("#task-detail").get_attribute("data-state") == State.ASSIGNED
    # The lead department sees the citizen; the phone masked until "show number" is pressed (logged once).
    citizens = page.locator("#task-suggestions")
    assert "138****5678" in citizens.inner_text() and "13812345678" not in citizens.inner_text()
    citizens.locator("form.phone-reveal button").click()
    page.wait_for_selector('#task-suggestions [data-phone-for][data-shown="true"]')
    assert "13812345678" in citizens.inner_text() and page.url == detail_url
    assert PhoneView.objects.filter(page="task_detail").count() == 1
    screenshot(page, "task-detail-assigned")

    # Accept: the page's first step is open already.
    assert page.locator("#action-accept").get_attribute("open") is not None
    page.fill("#id_accept_note", "已签收，今天到现场")
    page.click("#action-submit-accept")
    page.wait_for_url(detail_url)
    assert page.locator("#task-detail").get_attribute("data-state") == State.ACCEPTED
    assert page.locator("#messages .message-success").count() == 1

    # Reply with the outcome "resolved" (已解决); a handler's reply awaits the head's approval.
    page.click("#action-reply summary")
    page.check(f'#action-form-reply input[name="outcome"][value="{Outcome.RESOLVED}"]')
    page.fill("#id_reply_reply", "已更换路灯灯泡，经现场检查恢复照明")
    page.click("#action-submit-reply")
    page.wait_for_url(detail_url)
    assert page.locator("#task-detail").get_attribute("data-state") == State.AWAITING_APPROVAL
    assert page.locator("#task-outcome").get_attribute("data-outcome") == Outcome.RESOLVED

    steps = page.locator("#timeline li[data-event-id]")
    assert [steps.nth(i).get_attribute("data-action") for i in range(steps.count())] == ["assign", "accept", "reply"]
    for action in ("accept", "reply"):
        entry = page.locator(f'#timeline li[data-action="{action}"]')
        assert entry.locator(".actor").inner_text() == "王建国"
        assert TIME.fullmatch(entry.locator("time.at").inner_text())
    assert "已签收，今天到现场" in page.locator("#timeline").inner_text()
    assert "已更换路灯灯泡" in page.locator("#timeline").inner_text()
    assert page.locator("#no-actions").is_visible()  # nothing left for the handler until the head decides
    screenshot(page, "task-detail-replied")

    page.click("#logout-button")
    page.wait_for_url("**/accounts/login/")
    _log_in(page, "handler-chengguan")
    response = page.goto(detail_url)
    assert response.status == 404
    assert "小区路灯不亮" not in page.content()
