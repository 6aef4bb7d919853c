"""紧急 first in every task list, and leaders' instructions (领导批示): top of the task, timeline, notifications."""

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from feedback.models import Urgency
from tasks import selectors
from tasks.dispatch_selectors import dispatch_queue, same_day_misses
from tasks.errors import DomainError
from tasks.models import Action, LeaderInstruction, Notification, State, TaskAssist, TaskEvent, TaskRequest
from tasks.models.reminders import INSTRUCTION_LEVEL
from tasks.services.instructions import task_instruct

from ..factories import TaskFactory, UserFactory

URGENT = Urgency.URGENT


def _rows(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'<tr[^>]*data-task-id="(\d+)"', html)]


def _pair(departments, state, **fields):
    """An urgent task registered before a normal one, both in `state` and led by 住建局 when assigned."""
    now = timezone.now()
    extra = {}
    if state not in (State.REGISTERED, State.REPORTED, State.REVIEWED, State.RETURNED):
        extra = {"lead_department": departments.zhujian, "assigned_at": now}
    urgent = TaskFactory(state=state, urgency=URGENT, created_at=now - dt.timedelta(days=3),
                         deadline=now + dt.timedelta(hours=20), **extra, **fields)
    normal = TaskFactory(state=state, created_at=now - dt.timedelta(days=1),
                         deadline=now + dt.timedelta(days=2), **extra, **fields)
    return urgent, normal


# --- 紧急 first ---------------------------------------------------------------------------


def test_the_task_list_puts_open_urgent_tasks_first_and_marks_them(client, cast, departments):
    urgent, normal = _pair(departments, State.IN_PROGRESS)
    closed_urgent = TaskFactory(state=State.CLOSED, urgency=URGENT, lead_department=departments.zhujian)
    client.force_login(cast.supervisor)
    for query in ({}, {"sort": "deadline"}, {"sort": "-deadline"}, {"sort": "id"}):
        rows = _rows(client.get(reverse("tasks:list"), query).content.decode())
        assert rows[0] == urgent.pk, query
    html = client.get(reverse("tasks:list")).content.decode()
    row = re.search(rf'<tr[^>]*data-task-id="{urgent.pk}".*?</tr>', html, re.S).group(0)
    assert 'data-urgent="true"' in row and "紧急" in row
    # An urgent task closed long ago does not stay on top: newest first after the open urgent ones.
    assert _rows(html)[:3] == [urgent.pk, closed_urgent.pk, normal.pk]


def test_hour_based_deadlines_are_listed_with_their_time(client, cast, departments):
    urgent, _normal = _pair(departments, State.IN_PROGRESS)
    client.force_login(cast.handler_zhujian)
    html = client.get(reverse("tasks:list")).content.decode()
    assert timezone.localtime(urgent.deadline).strftime("%Y-%m-%d %H:%M") in html


def test_the_dispatch_queue_puts_urgent_tasks_first(client, cast, departments):
    urgent, normal = _pair(departments, State.REGISTERED)
    older = TaskFactory(state=State.REGISTERED, created_at=timezone.now() - dt.timedelta(days=9))
    client.force_login(cast.supervisor)
    html = client.get(reverse("tasks:dispatch")).content.decode()
    assert _rows(html) == [urgent.pk, older.pk, normal.pk]
    assert list(dispatch_queue(cast.supervisor).values_list("pk", flat=True)) == [urgent.pk, older.pk, normal.pk]


def test_the_department_desk_lists_put_urgent_tasks_first(client, cast, departments):
    urgent, normal = _pair(departments, State.IN_PROGRESS)
    # A normal task due sooner than the urgent one still comes after it.
    sooner = TaskFactory(state=State.ACCEPTED, lead_department=departments.zhujian, deadline=timezone.now() + dt.timedelta(hours=1))
    assert list(selectors.department_open_tasks(cast.handler_zhujian))[:3] == [urgent, sooner, normal]
    client.force_login(cast.handler_zhujian)
    rows = _rows(client.get(reverse("home")).content.decode())
    assert rows[0] == urgent.pk


def test_the_assisting_list_puts_urgent_tasks_first_among_the_owed_parts(client, cast, departments):
    from tasks.assist_selectors import assist_parts_of_department

    urgent, normal = _pair(departments, State.ACCEPTED)
    now = timezone.now()
    # The normal part is due sooner; the urgent task's part still comes first. A replied part comes last.
    replied_urgent = TaskFactory(state=State.ACCEPTED, urgency=URGENT, lead_department=departments.zhujian,
                                 assigned_at=now, deadline=now + dt.timedelta(hours=5))
    TaskAssist.objects.create(task=normal, department=departments.chengguan, deadline=now + dt.timedelta(hours=2))
    TaskAssist.objects.create(task=urgent, department=departments.chengguan, deadline=now + dt.timedelta(hours=10))
    TaskAssist.objects.create(task=replied_urgent, department=departments.chengguan, replied_at=now, reply="已配合",
                              deadline=now + dt.timedelta(hours=1))
    parts = assist_parts_of_department(cast.handler_chengguan)
    assert [part.task_id for part in parts] == [urgent.pk, normal.pk, replied_urgent.pk]
    client.force_login(cast.handler_chengguan)
    assert _rows(client.get(reverse("tasks:assisting")).content.decode()) == [urgent.pk, normal.pk, replied_urgent.pk]


def test_the_weekly_list_puts_urgent_tasks_first(cast, departments):
    from tasks.reminders.cadence import weekly_list_context

    now = timezone.now()
    normal_late = TaskFactory(state=State.ACCEPTED, lead_department=departments.zhujian, assigned_at=now,
                              deadline=now - dt.timedelta(days=3))
    urgent_late = TaskFactory(state=State.ACCEPTED, urgency=URGENT, lead_department=departments.zhujian,
                              assigned_at=now, deadline=now - dt.timedelta(hours=1))
    normal_soon = TaskFactory(state=State.ACCEPTED, lead_department=departments.zhujian, assigned_at=now,
                              deadline=now + dt.timedelta(hours=1))
    urgent_soon = TaskFactory(state=State.ACCEPTED, urgency=URGENT, lead_department=departments.zhujian,
                              assigned_at=now, deadline=now + dt.timedelta(hours=20))
    context = weekly_list_context(department=departments.zhujian, now=now)
    assert context["overdue"] == [urgent_late, normal_late]
    assert context["due_soon"] == [urgent_soon, normal_soon]


def test_the_exclusion_queue_puts_open_urgent_tasks_first(client, cast, departments):
    from tasks.services.exclusions import task_request_exclusion

    urgent, normal = _pair(departments, State.IN_PROGRESS)
    first = task_request_exclusion(actor=cast.handler_zhujian, task=normal, reason="unreasonable", text="不合理",
                                   now=timezone.now() - dt.timedelta(days=1))
    second = task_request_exclusion(actor=cast.handler_zhujian, task=urgent, reason="unreasonable", text="不合理")
    client.force_login(cast.supervisor)
    html = client.get(reverse("tasks:exclusions")).content.decode()
    assert re.findall(r'<tr data-exclusion-id="(\d+)"', html) == [str(second.pk), str(first.pk)]


def test_approval_review_and_request_queues_put_urgent_tasks_first(cast, departments):
    waiting_urgent, waiting = _pair(departments, State.AWAITING_APPROVAL)
    waiting_urgent.replied_at, waiting.replied_at = timezone.now(), timezone.now() - dt.timedelta(days=1)
    waiting_urgent.save(), waiting.save()
    assert list(selectors.replies_awaiting_approval(cast.head_zhujian)) == [waiting_urgent, waiting]
    now = timezone.now()
    reported_urgent = TaskFactory(state=State.REPORTED, urgency=URGENT, reported_at=now)
    reported = TaskFactory(state=State.REPORTED, reported_at=now - dt.timedelta(days=1))
    assert list(selectors.tasks_awaiting_review(cast.leader)) == [reported_urgent, reported]
    requests = []
    for task, hours in ((waiting, 5), (waiting_urgent, 1)):
        requests.append(TaskRequest.objects.create(
            task=task, kind=TaskRequest.Kind.EXTENSION, department=departments.zhujian, reason="雨季",
            requested_by=cast.handler_zhujian, requested_at=now - dt.timedelta(hours=hours),
        ))
    assert list(selectors.pending_requests(cast.supervisor)) == [requests[1], requests[0]]


def test_the_supervisors_request_table_marks_urgent_tasks(client, cast, departments):
    urgent, _normal = _pair(departments, State.IN_PROGRESS)
    request = TaskRequest.objects.create(
        task=urgent, kind=TaskRequest.Kind.EXTENSION, department=departments.zhujian, reason="雨季",
        requested_by=cast.handler_zhujian,
    )
    client.force_login(cast.supervisor)
    html = client.get(reverse("home")).content.decode()
    row = re.search(rf'<tr[^>]*data-request-id="{request.pk}".*?</tr>', html, re.S).group(0)
    assert 'data-urgent="true"' in row


def test_the_same_day_misses_put_urgent_tasks_first(cast):
    now = timezone.now()
    older = TaskFactory(state=State.REGISTERED, created_at=now - dt.timedelta(days=20))
    urgent = TaskFactory(state=State.REGISTERED, urgency=URGENT, created_at=now - dt.timedelta(days=10))
    first, last = timezone.localdate(now) - dt.timedelta(days=30), timezone.localdate(now)
    missed = same_day_misses(cast.supervisor, now=now, first=first, last=last)
    assert list(missed.values_list("pk", flat=True)) == [urgent.pk, older.pk]


def test_the_notification_centre_marks_urgent_tasks(client, cast, departments):
    urgent, _normal = _pair(departments, State.IN_PROGRESS)
    Notification.objects.create(recipient=cast.handler_zhujian, task=urgent, level="due_soon", deadline=urgent.deadline)
    client.force_login(cast.handler_zhujian)
    html = client.get(reverse("tasks:notifications")).content.decode()
    assert 'data-urgent="true"' in html


# --- Leaders' instructions ----------------------------------------------------------------


@pytest.fixture
def task(cast, departments):
    now = timezone.now()
    task = TaskFactory(state=State.IN_PROGRESS, lead_department=departments.zhujian, assigned_at=now,
                       deadline=now + dt.timedelta(days=4), review_note="阅批：请住建局牵头")
    TaskAssist.objects.create(task=task, department=departments.chengguan, deadline=now + dt.timedelta(days=2))
    return task


def test_a_leaders_instruction_is_at_the_top_of_the_task_on_its_timeline_and_notified(client, cast, departments, task):
    idle = UserFactory(username="idle-zhujian", role="handler", department=departments.zhujian, is_active=False)
    client.force_login(cast.leader)
    response = client.post(reverse("tasks:instruct", args=[task.pk]), {"text": "请三日内办结并报结果"})
    assert response.status_code == 302 and response["Location"] == reverse("tasks:detail", args=[task.pk])

    instruction = LeaderInstruction.objects.get(task=task)
    assert instruction.author == cast.leader
    event = TaskEvent.objects.get(task=task, action=Action.INSTRUCT)
    assert event.actor == cast.leader and event.note == "请三日内办结并报结果"
    assert event.from_state == event.to_state == State.IN_PROGRESS
    task.refresh_from_db()
    assert task.state == State.IN_PROGRESS

    notified = Notification.objects.filter(task=task, level=INSTRUCTION_LEVEL)
    assert set(notified.values_list("recipient", flat=True)) == {cast.handler_zhujian.pk, cast.head_zhujian.pk}
    assert idle.pk not in notified.values_list("recipient", flat=True)

    html = client.get(reverse("tasks:detail", args=[task.pk])).content.decode()
    top = html.index('id="task-instructions"')
    assert top < html.index('id="task-suggestions"') and top < html.index('id="task-timeline"')
    panel = html[top:html.index("</section>", top)]
    assert "请三日内办结并报结果" in panel and "阅批：请住建局牵头" in panel
    assert '<span class="count">2</span>' in panel  # the instruction and the note given on review
    timeline = html[html.index('id="task-timeline"'):]
    assert "请三日内办结并报结果" in timeline

    client.force_login(cast.handler_zhujian)
    html = client.get(reverse("tasks:notifications")).content.decode()
    assert f'data-level="{INSTRUCTION_LEVEL}"' in html and "领导批示" in html
    assert "请三日内办结并报结果" in client.get(reverse("tasks:detail", args=[task.pk])).content.decode()


@pytest.mark.parametrize("role", ["supervisor", "head_zhujian", "handler_zhujian", "registrar", "admin"])
def test_only_leaders_may_instruct(client, cast, task, role):
    client.force_login(getattr(cast, role))
    response = client.post(reverse("tasks:instruct", args=[task.pk]), {"text": "越权批示"})
    assert response.status_code == 403
    with pytest.raises(DomainError):
        task_instruct(actor=getattr(cast, role), task=task, text="越权批示")
    assert not LeaderInstruction.objects.exists() and not Notification.objects.exists()
    assert not TaskEvent.objects.filter(action=Action.INSTRUCT).exists()


def test_instructing_is_post_only_with_csrf(cast, task):
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.leader)
    url = reverse("tasks:instruct", args=[task.pk])
    assert client.get(url).status_code == 405
    assert client.post(url, {"text": "无令牌"}).status_code == 403
    assert not LeaderInstruction.objects.exists()


def test_an_empty_instruction_is_refused_and_writes_nothing(client, cast, task):
    client.force_login(cast.leader)
    response = client.post(reverse("tasks:instruct", args=[task.pk]), {"text": "  "})
    assert response.status_code == 400
    html = response.content.decode()
    form = html[html.index('id="instruction-form"'):]
    assert 'data-field="text"' in form and 'class="field-error"' in form.split("</form>")[0]
    assert not LeaderInstruction.objects.exists() and not Notification.objects.exists()


def test_an_instruction_on_an_unassigned_task_notifies_nobody(cast):
    task = TaskFactory(state=State.REGISTERED)
    task_instruct(actor=cast.leader, task=task, text="请尽快交办")
    assert LeaderInstruction.objects.filter(task=task).count() == 1
    assert not Notification.objects.exists()


def test_only_leaders_see_the_instruction_form(client, cast, task):
    client.force_login(cast.leader)
    assert 'id="instruction-form"' in client.get(reverse("tasks:detail", args=[task.pk])).content.decode()
    client.force_login(cast.supervisor)
    assert 'id="instruction-form"' not in client.get(reverse("tasks:detail", args=[task.pk])).content.decode()


def test_the_urgency_key_knows_the_finished_states():
    from tasks.models import FINISHED_STATES
    from tasks.urgency import FINISHED

    assert set(FINISHED) == {str(state) for state in FINISHED_STATES}
