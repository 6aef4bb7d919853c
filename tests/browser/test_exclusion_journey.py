"""考核核减 in Chromium: the head of 住建局 applies on the task page with a PDF, the supervisor approves
it in the queue, and the department's card shows "核减 1" linked to exactly that task."""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest

from tasks.models import ScoreExclusion, State

from ..factories import PASSWORD, TaskFactory

pytestmark = pytest.mark.browser
TZ = ZoneInfo("Asia/Shanghai")


def _log_in(page, username):
    page.context.clear_cookies()
    page.goto(page.base_url + "/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("#login-button")
    page.wait_for_url(page.base_url + "/")


def test_head_applies_supervisor_approves_card_shows_the_exclusion(page, cast, departments, township, screenshot,
                                                                  tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    at = dt.datetime(2021, 10, 11, 9, tzinfo=TZ)
    task = TaskFactory(
        state=State.CLOSED, lead_department=departments.zhujian, township=township, assigned_at=at,
        accepted_at=at + dt.timedelta(hours=1), replied_at=at + dt.timedelta(days=1),
        closed_at=at + dt.timedelta(days=2), deadline=at + dt.timedelta(days=5),
    )
    evidence = tmp_path / "说明.pdf"
    evidence.write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")

    _log_in(page, "head-zhujian")
    page.goto(f"{page.base_url}/tasks/{task.pk}/")
    page.click("#exclusion-request summary")
    page.select_option("#id_exclusion_reason", ScoreExclusion.Reason.MALICIOUS_DUPLICATE)
    page.fill("#id_exclusion_text", "同一诉求人一月内重复反映三十余次。")
    page.set_input_files("#id_exclusion_evidence", str(evidence))
    page.click("#exclusion-request-submit")
    page.wait_for_url(re.compile(rf".*/tasks/{task.pk}/$"))
    exclusion = ScoreExclusion.objects.get()
    item = page.locator(f'#task-exclusions [data-exclusion-id="{exclusion.pk}"]')
    assert item.get_attribute("data-status") == "pending"
    screenshot(page, "exclusion-applied")

    _log_in(page, "supervisor")
    page.click('#main-nav [data-nav="exclusions"]')
    page.wait_for_url(re.compile(r".*/tasks/exclusions/$"))
    row = page.locator(f'#pending-exclusions [data-exclusion-id="{exclusion.pk}"]')
    row.locator('input[value="approve"]').check()
    row.locator(f"#exclusion-decide-submit-{exclusion.pk}").click()
    page.wait_for_selector("#no-pending-exclusions")
    exclusion.refresh_from_db()
    assert exclusion.status == ScoreExclusion.Status.APPROVED

    page.goto(f"{page.base_url}/reports/department/zhujian/?period=2021-10")
    link = page.locator('#figures-table [data-exclusion="closed"]')
    assert link.get_attribute("data-excluded") == "1"
    assert page.locator('#figures-table tr[data-figure="closed"]').get_attribute("data-value") == "0"
    screenshot(page, "exclusion-on-the-card")
    link.click()
    page.wait_for_url(re.compile(r".*/reports/records/\?.*part=excluded"))
    ids = page.locator("#records-list [data-record-id]").evaluate_all("rows => rows.map(row => row.dataset.recordId)")
    assert ids == [str(task.pk)]
    page.goto(f"{page.base_url}/tasks/{task.pk}/")
    steps = page.locator("#timeline [data-action]").evaluate_all("rows => rows.map(row => row.dataset.action)")
    assert steps[-2:] == ["request_exclusion", "approve_exclusion"]
    screenshot(page, "exclusion-timeline")
