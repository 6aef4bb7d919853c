"""A department head records a progress update with a photo as evidence and sees the project's bar move
(the photo is served back through the permission-checked view); a supervisor raises a problem in a TV
episode and the questioned department's handler finds the task in their list."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tasks import projects
from tasks.models import State, Task
from tasks.models.projects import Evidence

from ..factories import PASSWORD, TownshipFactory
from ..tasks.test_projects import current_project, png_bytes

pytestmark = pytest.mark.browser


def _log_in(page, username):
    page.goto(page.base_url + "/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("#login-button")
    page.wait_for_url(page.base_url + "/")


def test_head_records_progress_with_a_photo_and_the_bar_moves(page, cast, departments, screenshot, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    cast.head_zhujian.full_name = "李建华"
    cast.head_zhujian.save(update_fields=["full_name"])
    project = current_project(departments.zhujian, name="老旧小区改造", indicators=[(0, 100, 20)])
    indicator = project.indicators.get()
    detail_url = f"{page.base_url}/tasks/projects/{project.pk}/"

    _log_in(page, "head-zhujian")
    page.click('#main-nav [data-nav="projects"]')
    page.wait_for_url(page.base_url + "/tasks/projects/")
    screenshot(page, "project-list")
    page.click(f'#project-results tr[data-project-id="{project.pk}"] a')
    page.wait_for_url(detail_url)
    bar = page.locator("#project-bar")
    assert bar.get_attribute("data-percent") == "20.0"
    assert page.locator("#project-detail").get_attribute("data-status") == "behind"
    width_before = page.locator("#project-bar .fill").bounding_box()["width"]
    screenshot(page, "project-before-update")

    page.fill(f"#id_indicator_{indicator.pk}", "75")
    page.fill("#id_note", "第二批25个小区完成改造，已现场验收")
    page.set_input_files("#id_evidence", files=[{"name": "现场照片.png", "mimeType": "image/png",
                                                  "buffer": png_bytes(64, 48, (47, 125, 74))}])
    page.click("#progress-submit")
    page.wait_for_url(detail_url)

    assert page.locator("#messages .message-success").count() == 1
    assert bar.get_attribute("data-percent") == "75.0"
    assert page.locator("#project-bar .fill").bounding_box()["width"] > 3 * width_before
    assert page.locator("#project-detail").get_attribute("data-status") == "on_track"
    row = page.locator(f'#project-indicators tr[data-indicator-id="{indicator.pk}"]')
    assert row.locator(".indicator-current").inner_text() == "75"
    update = page.locator("#project-updates li[data-update-id]").first
    assert "李建华" in update.inner_text() and "20 → 75" in update.inner_text()
    photo = update.locator(".evidence-list img")
    photo.wait_for()
    expect(photo).to_have_js_property("complete", True)  # loading="lazy": it may still be on its way
    # The browser loaded the image through the evidence view: a decoded 64×48 picture.
    assert page.evaluate("img => [img.complete, img.naturalWidth, img.naturalHeight]", photo.element_handle()) == [
        True, 64, 48,
    ]
    evidence = Evidence.objects.get()
    assert evidence.original_name == "现场照片.png" and evidence.content_type == "image/png"
    screenshot(page, "project-after-update")


def test_supervisor_raises_a_problem_in_an_episode_and_the_department_sees_the_task(page, cast, departments,
                                                                                      screenshot):
    TownshipFactory(name="留早镇", short_name="留早")
    episode = projects.episode_create(
        actor=cast.supervisor, aired_on=timezone.localdate() - dt.timedelta(days=1), title="电视问政第五期：城市管理",
        departments=[departments.zhujian, departments.chengguan],
    )
    _log_in(page, "supervisor")
    page.click('#main-nav [data-nav="episodes"]')
    page.wait_for_url(page.base_url + "/tasks/episodes/")
    screenshot(page, "episode-list")
    page.click(f'#episode-results tr[data-episode-id="{episode.pk}"] a')
    page.click("#episode-action-problem summary")
    page.select_option("#id_problem_department", label="城管局")
    page.select_option("#id_problem_township", label="留早镇")
    page.fill("#id_problem_content", "夜市占道经营，噪音扰民")
    page.click("#episode-submit-problem")
    page.wait_for_url(f"{page.base_url}/tasks/episodes/{episode.pk}/")
    task = Task.objects.get(episode=episode)
    assert task.state == State.ASSIGNED and task.lead_department == departments.chengguan
    assert page.locator(f'#episode-problems tr[data-task-id="{task.pk}"]').count() == 1
    assert page.locator('#episode-figures [data-figure="raised"]').inner_text() == "1"
    screenshot(page, "episode-problem-raised")

    page.click("#logout-button")
    page.wait_for_url("**/accounts/login/")
    _log_in(page, "handler-chengguan")
    page.click('#main-nav [data-nav="tasks"]')
    assert page.locator(f'tr[data-task-id="{task.pk}"]').count() == 1
