"""A leader instructs a task; the lead department's handler sees the instruction, picks a reply template
(filled at once by the static script, then edited) and replies; the timeline shows both steps."""

import pytest

from tasks import services
from tasks.models import Action, ReplyTemplate, State, TaskEvent

from ..factories import PASSWORD, TaskFactory, TownshipFactory

pytestmark = pytest.mark.browser


def _log_in(page, username):
    page.goto(page.base_url + "/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("#login-button")
    page.wait_for_url(page.base_url + "/")


def test_instruction_then_reply_from_a_template(page, cast, departments, screenshot):
    task = TaskFactory(
        title="小区路灯不亮", township=TownshipFactory(name="留早镇", short_name="留早"), suggestion__citizen_name="张三"
    )
    services.task_assign(actor=cast.supervisor, task=task, lead_department=departments.zhujian)
    services.task_accept(actor=cast.handler_zhujian, task=task)
    template = ReplyTemplate.objects.create(
        title="已修复", body="尊敬的{citizen}：您反映的{township}路灯问题已修复。", department=departments.zhujian
    )
    detail_url = f"{page.base_url}/tasks/{task.pk}/"

    _log_in(page, "leader")
    page.goto(detail_url)
    page.click("#action-instruct > summary")
    page.fill("#id_instruction_text", "请两日内修复并回复群众")
    page.click("#instruction-submit")
    page.wait_for_url(detail_url)
    assert "请两日内修复并回复群众" in page.inner_text("#task-instructions")
    page.context.clear_cookies()

    _log_in(page, "handler-zhujian")
    page.goto(detail_url)
    assert "请两日内修复并回复群众" in page.inner_text("#task-instructions")
    page.click("#action-reply > summary")
    page.select_option("#reply-template", str(template.pk))
    box = page.locator("textarea[name=reply]#id_reply_reply")
    assert box.input_value() == "尊敬的张三：您反映的留早镇路灯问题已修复。"
    assert page.url == detail_url  # filled in place, no reload
    box.fill(box.input_value() + "感谢监督。")
    page.check("#action-form-reply input[name=outcome][value=resolved]")
    screenshot(page, "reply-from-template")
    page.click("#action-submit-reply")
    page.wait_for_url(detail_url)
    task.refresh_from_db()
    assert task.state == State.AWAITING_APPROVAL
    assert task.reply == "尊敬的张三：您反映的留早镇路灯问题已修复。感谢监督。"
    timeline = page.inner_text("#task-timeline")
    assert "请两日内修复并回复群众" in timeline and "感谢监督" in timeline
    assert list(TaskEvent.objects.filter(task=task).values_list("action", flat=True))[-2:] == [
        Action.INSTRUCT, Action.REPLY,
    ]
