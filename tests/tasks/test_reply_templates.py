"""Reply templates (常用回复): placeholders, which templates a handler is offered, the reply form, who may edit."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from feedback.models import Urgency
from tasks.errors import DomainError
from tasks.models import ReplyTemplate, State
from tasks.reply_templates import fill, placeholder_values, templates_offered
from tasks.services.replies import reply_template_create, reply_template_deactivate, reply_template_update

from ..factories import TaskFactory, TownshipFactory

NAME, MASKED = "张三丰", "张**"


@pytest.fixture
def task(cast, departments):
    deadline = timezone.make_aware(dt.datetime(2030, 3, 15, 17, 30))
    return TaskFactory(
        state=State.IN_PROGRESS, lead_department=departments.zhujian, deadline=deadline,
        township=TownshipFactory(name="清风店镇", short_name="清风店"),
        assigned_at=timezone.now(), accepted_at=timezone.now(), suggestion__citizen_name=NAME,
    )


@pytest.fixture
def templates(departments, cast):
    return {
        "global": ReplyTemplate.objects.create(title="通用答复", body="尊敬的{citizen}：您在{township}反映的问题已于{deadline}前办理。"),
        "own": ReplyTemplate.objects.create(title="住建答复", body="#{task_id} 由{department}办理。", department=departments.zhujian),
        "other": ReplyTemplate.objects.create(title="城管答复", body="城管局已处理。", department=departments.chengguan),
        "inactive": ReplyTemplate.objects.create(title="旧答复", body="旧", is_active=False),
    }


def test_placeholders_are_filled_for_whoever_works_on_the_task(task, cast):
    with translation.override("zh-hans"):
        values = placeholder_values(task, cast.handler_zhujian)
    text = fill("尊敬的{citizen}：{township}，{deadline}，#{task_id}，{department}", values)
    assert text == f"尊敬的{NAME}：清风店镇，2030年3月15日，#{task.pk}，住建局"


def test_an_urgent_tasks_deadline_shows_its_time(task, cast):
    task.urgency = Urgency.URGENT
    with translation.override("zh-hans"):
        assert placeholder_values(task, cast.handler_zhujian)["deadline"] == "2030年3月15日 17:30"


def test_the_citizen_is_masked_for_someone_who_may_not_see_the_name(task, cast):
    # A leader reads every task but does not work on it: the name stays masked, as on the page.
    assert placeholder_values(task, cast.leader)["citizen"] == MASKED
    assert placeholder_values(task, cast.supervisor)["citizen"] == NAME


def test_unknown_placeholders_stay_as_typed():
    assert fill("{citizen} {phone} {} {a b}", {"citizen": "张三"}) == "张三 {phone} {} {a b}"


def test_a_handler_is_offered_the_global_and_the_own_departments_active_templates(templates, cast):
    assert set(templates_offered(cast.handler_zhujian)) == {templates["own"], templates["global"]}
    assert set(templates_offered(cast.handler_chengguan)) == {templates["other"], templates["global"]}


def test_the_reply_form_lists_only_global_and_own_templates_filled(client, task, templates, cast):
    client.force_login(cast.handler_zhujian)
    html = client.get(reverse("tasks:detail", args=[task.pk])).content.decode()
    picker = re.search(r'<select name="template" id="reply-template">(.*?)</select>', html, re.S).group(1)
    offered = set(re.findall(r'<option value="(\d+)"', picker))
    assert offered == {str(templates["global"].pk), str(templates["own"].pk)}
    assert f'data-text="尊敬的{NAME}：您在清风店镇反映的问题已于2030年3月15日前办理。"' in picker
    assert 'src="/static/tasks/reply_templates.js"' in html and "<script>" not in html
    assert 'data-target="id_reply_reply"' in html


def test_without_javascript_the_template_parameter_prefills_the_reply_box(client, task, templates, cast):
    client.force_login(cast.handler_zhujian)
    url = reverse("tasks:detail", args=[task.pk])
    html = client.get(url, {"template": templates["own"].pk}).content.decode()
    box = re.search(r'<textarea name="reply"[^>]*id="id_reply_reply"[^>]*>(.*?)</textarea>', html, re.S).group(1)
    assert box.strip() == f"#{task.pk} 由住建局办理。"
    # Another department's template is not offered, so it fills nothing.
    html = client.get(url, {"template": templates["other"].pk}).content.decode()
    box = re.search(r'<textarea name="reply"[^>]*id="id_reply_reply"[^>]*>(.*?)</textarea>', html, re.S).group(1)
    assert box.strip() == ""


def test_the_edited_template_text_is_what_is_sent(client, task, templates, cast):
    client.force_login(cast.handler_zhujian)
    reply = f"#{task.pk} 由住建局办理。已更换路灯。"
    response = client.post(reverse("tasks:action", args=[task.pk, "reply"]), {"outcome": "resolved", "reply": reply})
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.reply == reply and task.state == State.AWAITING_APPROVAL


def test_a_head_creates_a_template_for_the_own_department(client, cast, departments):
    client.force_login(cast.head_zhujian)
    response = client.post(reverse("tasks:reply_template_create"), {"title": "已修复", "body": "{citizen}您好", "sort_order": 1})
    assert response.status_code == 302
    template = ReplyTemplate.objects.get(title="已修复")
    assert template.department == departments.zhujian and template.created_by == cast.head_zhujian


def test_a_supervisor_creates_global_templates_only(cast):
    template = reply_template_create(actor=cast.supervisor, title="通用", body="您好")
    assert template.department_id is None


def test_unknown_placeholders_are_refused_on_the_page_and_in_the_admin(client, cast):
    client.force_login(cast.head_zhujian)
    response = client.post(reverse("tasks:reply_template_create"), {"title": "错", "body": "{citizen} {phone}", "sort_order": 0})
    assert response.status_code == 400 and "{phone}" in response.content.decode()
    client.force_login(cast.admin)
    response = client.post(reverse("admin:tasks_replytemplate_add"), {
        "title": "错", "body": "{name}您好", "is_active": "on", "sort_order": 0,
    })
    assert response.status_code == 200 and "{name}" in response.content.decode()
    assert not ReplyTemplate.objects.exists()


def test_another_departments_head_cannot_edit_or_deactivate(client, templates, cast):
    own = templates["own"]
    client.force_login(cast.head_chengguan)
    assert client.get(reverse("tasks:reply_template_edit", args=[own.pk])).status_code == 404
    edit = {"title": "改", "body": "改", "sort_order": 0, "is_active": "on"}
    assert client.post(reverse("tasks:reply_template_edit", args=[own.pk]), edit).status_code == 404
    assert client.post(reverse("tasks:reply_template_deactivate", args=[own.pk])).status_code == 404
    own.refresh_from_db()
    assert own.title == "住建答复" and own.is_active
    with pytest.raises(DomainError):
        reply_template_update(actor=cast.head_chengguan, template=own, title="改", body="改", sort_order=0, is_active=True)


def test_a_handler_cannot_manage_templates(client, templates, cast):
    client.force_login(cast.handler_zhujian)
    assert client.get(reverse("tasks:reply_templates")).status_code == 403
    assert client.get(reverse("tasks:reply_template_edit", args=[templates["own"].pk])).status_code == 403
    assert client.post(reverse("tasks:reply_template_deactivate", args=[templates["own"].pk])).status_code == 403
    with pytest.raises(DomainError):
        reply_template_create(actor=cast.handler_zhujian, title="x", body="y")


def test_a_head_cannot_edit_global_templates_and_a_supervisor_cannot_edit_a_departments(client, templates, cast):
    client.force_login(cast.head_zhujian)
    assert client.get(reverse("tasks:reply_template_edit", args=[templates["global"].pk])).status_code == 404
    client.force_login(cast.supervisor)
    assert client.get(reverse("tasks:reply_template_edit", args=[templates["own"].pk])).status_code == 404
    assert client.get(reverse("tasks:reply_template_edit", args=[templates["global"].pk])).status_code == 200


def test_the_head_edits_and_deactivates_a_template_then_it_is_no_longer_offered(client, templates, cast):
    own = templates["own"]
    client.force_login(cast.head_zhujian)
    page = client.get(reverse("tasks:reply_templates")).content.decode()
    assert f'data-template-id="{own.pk}"' in page and f'data-template-id="{templates["other"].pk}"' not in page
    edit = {"title": "住建答复（新）", "body": "{citizen}您好", "sort_order": 2, "is_active": "on"}
    assert client.post(reverse("tasks:reply_template_edit", args=[own.pk]), edit).status_code == 302
    own.refresh_from_db()
    assert own.title == "住建答复（新）" and own.sort_order == 2
    assert client.get(reverse("tasks:reply_template_deactivate", args=[own.pk])).status_code == 405
    assert client.post(reverse("tasks:reply_template_deactivate", args=[own.pk])).status_code == 302
    own.refresh_from_db()
    assert not own.is_active
    assert own not in templates_offered(cast.handler_zhujian)


def test_deactivating_needs_a_manager_of_that_template(templates, cast):
    with pytest.raises(DomainError):
        reply_template_deactivate(actor=cast.supervisor, template=templates["own"])
    templates["own"].refresh_from_db()
    assert templates["own"].is_active
