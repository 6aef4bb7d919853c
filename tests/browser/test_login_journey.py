"""A handler's first visit: Chinese login page, home with own department's work, English, logout."""

import datetime as dt

import pytest
from django.utils import timezone

from tasks.models import State, TaskAssist

from ..factories import PASSWORD, TaskFactory, TownshipFactory

pytestmark = pytest.mark.browser


def _tasks(departments):
    now = timezone.now()
    liuzao = TownshipFactory(name="留早镇", short_name="留早")
    nancheng = TownshipFactory(name="南城区街道", short_name="南城区", kind="street")

    def assigned(title, department, township, days_left, state=State.ASSIGNED):
        return TaskFactory(
            title=title,
            state=state,
            lead_department=department,
            township=township,
            assigned_at=now - dt.timedelta(days=6),
            deadline=now + dt.timedelta(days=days_left),
        )

    own = assigned("小区路灯不亮，夜间出行不便", departments.zhujian, liuzao, 5)
    assigned("老旧小区屋顶漏水", departments.zhujian, nancheng, -3, State.ACCEPTED)
    assigned("楼道墙皮脱落", departments.zhujian, liuzao, 2, State.IN_PROGRESS)
    assisted = assigned("背街小巷路面破损", departments.chengguan, nancheng, 8, State.IN_PROGRESS)
    TaskAssist.objects.create(task=assisted, department=departments.zhujian)
    other = assigned("占道经营影响通行", departments.chengguan, liuzao, -1)
    return own, assisted, other


def test_handler_logs_in_sees_own_work_switches_to_english_and_logs_out(page, cast, departments, screenshot):
    own, assisted, other = _tasks(departments)

    page.goto(page.base_url + "/")
    assert "/accounts/login/" in page.url
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert page.locator("#login-form").is_visible()
    assert page.locator("#login-title").inner_text() == "登录"
    assert page.locator("#login-motto").inner_text() == "我为群众办实事"
    screenshot(page, "login-zh")

    page.fill("#id_username", "handler-zhujian")
    page.fill("#id_password", PASSWORD)
    page.click("#login-button")
    page.wait_for_url(page.base_url + "/")
    assert page.locator("#home-handler").is_visible()
    assert page.locator("#current-user").inner_text().find("住建局") >= 0
    open_tasks = page.locator("#department-open-tasks")
    assert open_tasks.locator(f'tr[data-task-id="{own.pk}"]').is_visible()
    assert open_tasks.locator(f'tr[data-task-id="{assisted.pk}"]').is_visible()
    assert "小区路灯不亮" in open_tasks.inner_text()
    assert page.locator(f'tr[data-task-id="{other.pk}"]').count() == 0
    assert page.locator("#department-overdue-tasks tbody tr").count() == 1
    screenshot(page, "home-handler-zh")

    page.click("#lang-en")
    page.wait_for_function("document.documentElement.lang === 'en'")
    assert page.url == page.base_url + "/"
    assert page.locator("#lang-en").get_attribute("aria-pressed") == "true"
    assert "Open tasks" in page.locator("#department-counts").inner_text()
    assert "Log out" in page.locator("#logout-button").inner_text()
    screenshot(page, "home-handler-en")

    page.click("#logout-button")
    page.wait_for_url("**/accounts/login/")
    assert page.locator("#login-form").is_visible()
    page.goto(page.base_url + "/")
    assert "/accounts/login/" in page.url
