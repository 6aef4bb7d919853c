"""The supervisor's dispatch: tick three unassigned tasks, assign them to 住建局 in one step, see all three assigned;
then the same-day list and the notification centre."""

import datetime as dt

import pytest
from django.utils import timezone

from tasks.models import State, Task
from tasks.models.reminders import Notification, ReminderLevel

from ..factories import PASSWORD, TaskFactory, TownshipFactory

pytestmark = pytest.mark.browser

TITLES = ["小区路灯不亮，夜间出行不便", "楼道墙皮脱落", "老旧小区屋顶漏雨", "路边垃圾无人清运"]


def _log_in(page, username):
    page.goto(page.base_url + "/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("#login-button")
    page.wait_for_url(page.base_url + "/")


def test_supervisor_assigns_three_tasks_in_one_step(page, cast, departments, screenshot):
    township = TownshipFactory(name="留早镇", short_name="留早")
    now = timezone.now()
    tasks = [
        TaskFactory(title=title, township=township, created_at=now - dt.timedelta(hours=10 - i))
        for i, title in enumerate(TITLES)
    ]
    chosen, left = tasks[:3], tasks[3]

    _log_in(page, "supervisor")
    page.click('#main-nav [data-nav="dispatch"]')
    page.wait_for_url(page.base_url + "/tasks/dispatch/")
    rows = page.locator("#dispatch-queue tbody tr")
    assert [int(rows.nth(i).get_attribute("data-task-id")) for i in range(rows.count())] == [t.pk for t in tasks]

    for task in chosen:
        page.check(f"#select-{task.pk}")
    page.select_option("#id_lead_department", label="住建局")
    page.fill("#id_assign_note", "请住建局当天签收")
    screenshot(page, "dispatch-queue-selected")
    page.click("#bulk-assign-submit")
    page.wait_for_url(page.base_url + "/tasks/dispatch/")

    message = page.locator("#messages .message-success").inner_text()
    for task in chosen:
        assert f"#{task.pk}" in message
    assert "住建局" in message
    rows = page.locator("#dispatch-queue tbody tr")
    assert [int(rows.nth(i).get_attribute("data-task-id")) for i in range(rows.count())] == [left.pk]
    screenshot(page, "dispatch-queue-assigned")

    for task in chosen:
        page.goto(f"{page.base_url}/tasks/{task.pk}/")
        assert page.locator("#task-detail").get_attribute("data-state") == State.ASSIGNED
        assert page.locator('#timeline li[data-action="assign"]').count() == 1
    screenshot(page, "dispatch-assigned-task-detail")
    assert set(Task.objects.filter(lead_department=departments.zhujian).values_list("pk", flat=True)) == {
        t.pk for t in chosen
    }


def test_supervisor_reads_the_same_day_list_and_a_notification(page, cast, departments, screenshot, settings):
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "OPTIONS": {**settings.TEMPLATES[0]["OPTIONS"], "context_processors": [
            *settings.TEMPLATES[0]["OPTIONS"]["context_processors"], "tasks.context_processors.unread_notifications"]}}
    ]
    # 15 days back: past any run of days off, so the registration working day has ended.
    waiting = TaskFactory(title=TITLES[0], created_at=timezone.now() - dt.timedelta(days=15))
    notification = Notification.objects.create(
        recipient=cast.supervisor, task=waiting, level=ReminderLevel.NOT_REPORTED, deadline=timezone.now()
    )

    _log_in(page, "supervisor")
    page.click('#main-nav [data-nav="same-day"]')
    page.wait_for_url(page.base_url + "/tasks/same-day/")
    row = page.locator(f'#same-day-list tr[data-task-id="{waiting.pk}"]')
    assert row.locator('td[data-target="report"]').get_attribute("data-status") == "waiting"
    screenshot(page, "same-day-targets")

    page.goto(page.base_url + "/tasks/notifications/")
    item = page.locator(f'tr[data-notification-id="{notification.pk}"]')
    assert item.get_attribute("data-read") == "false"
    screenshot(page, "notifications-unread")
    page.click(f"#mark-read-{notification.pk}")
    page.wait_for_url(page.base_url + "/tasks/notifications/")
    assert page.locator(f'tr[data-notification-id="{notification.pk}"]').get_attribute("data-read") == "true"
    notification.refresh_from_db()
    assert notification.read_at is not None
