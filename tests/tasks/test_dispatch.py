"""The dispatch queue: who may open it, what it lists, filters, paging, and the all-or-nothing bulk steps."""

import datetime as dt

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from feedback.models import Category, Channel, Suggestion
from tasks import services
from tasks.dispatch_forms import MAX_BULK, BulkRefusal, tasks_assign_bulk, tasks_report_bulk
from tasks.models import Action, State, Task, TaskAssist, TaskEvent
from tasks.views.dispatch import PAGE_SIZE

from ..factories import SuggestionFactory, TaskFactory, TownshipFactory

URL = reverse("tasks:dispatch")


def _client(client, user):
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def _messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def _task(hours_ago=5, **fields) -> Task:
    return TaskFactory(created_at=timezone.now() - dt.timedelta(hours=hours_ago), **fields)


def _listed(response) -> list[int]:
    return [task.pk for task in response.context["page"].object_list]


def _tracking(task) -> str:
    return task.suggestions.order_by("received_at", "pk").first().tracking_number


# --- Permissions ------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["handler_zhujian", "head_zhujian", "registrar", "leader", "admin"])
def test_only_supervisors_may_open_or_post_to_the_queue(client, cast, role):
    task = _task()
    _client(client, getattr(cast, role))
    assert client.get(URL).status_code == 403
    response = client.post(URL, {"action": "report", "tasks": [task.pk]})
    assert response.status_code == 403
    task.refresh_from_db()
    assert task.state == State.REGISTERED


def test_anonymous_is_sent_to_the_login_page(client, db):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# --- The list -----------------------------------------------------------------------------


def test_queue_lists_unassigned_tasks_oldest_first(client, cast, departments):
    newest = _task(hours_ago=1)
    returned = _task(hours_ago=30, state=State.RETURNED)
    reported = _task(hours_ago=20, state=State.REPORTED)
    oldest = _task(hours_ago=50, state=State.REVIEWED)
    _task(hours_ago=60, state=State.ASSIGNED, lead_department=departments.zhujian)
    _task(hours_ago=70, state=State.CLOSED, lead_department=departments.zhujian)
    _task(hours_ago=80, state=State.MERGED)
    response = _client(client, cast.supervisor).get(URL)
    assert response.status_code == 200
    assert _listed(response) == [oldest.pk, returned.pk, reported.pk, newest.pk]
    html = response.text
    assert f'name="tasks" value="{oldest.pk}"' in html  # a checkbox per row
    assert _tracking(oldest) in html


def test_filters_by_state_channel_township_category_and_received_date(client, cast):
    liuzao = TownshipFactory(name="留早镇", short_name="留早")
    dongting = TownshipFactory(name="东亭镇", short_name="东亭")
    today = timezone.localdate()
    target = _task(state=State.REVIEWED, channel=Channel.PORTAL, township=liuzao, category=Category.COMPLAINT)
    target.suggestions.update(received_at=timezone.now() - dt.timedelta(days=3))
    others = [
        _task(state=State.REGISTERED, channel=Channel.PORTAL, township=liuzao, category=Category.COMPLAINT),
        _task(state=State.REVIEWED, channel=Channel.HOTLINE, township=liuzao, category=Category.COMPLAINT),
        _task(state=State.REVIEWED, channel=Channel.PORTAL, township=dongting, category=Category.COMPLAINT),
        _task(state=State.REVIEWED, channel=Channel.PORTAL, township=liuzao, category=Category.HELP),
    ]
    early = _task(state=State.REVIEWED, channel=Channel.PORTAL, township=liuzao, category=Category.COMPLAINT)
    early.suggestions.update(received_at=timezone.now() - dt.timedelta(days=20))
    _client(client, cast.supervisor)

    query = {"state": "reviewed", "channel": "portal", "township": liuzao.pk, "category": "complaint"}
    assert set(_listed(client.get(URL, query))) == {target.pk, early.pk}
    dated = {**query, "received_from": (today - dt.timedelta(days=5)).isoformat(), "received_to": today.isoformat()}
    assert _listed(client.get(URL, dated)) == [target.pk]
    assert len(_listed(client.get(URL))) == len(others) + 2


def test_a_wrong_filter_is_named_and_left_out(client, cast):
    task = _task()
    _client(client, cast.supervisor)
    response = client.get(URL, {"state": "closed", "received_from": "2021-13-01"})
    assert response.status_code == 200
    errors = response.context["filters"].errors
    assert set(errors) == {"state", "received_from"}
    assert "Enter a valid date, for example 2021-11-30." in response.text
    assert _listed(response) == [task.pk]
    today = timezone.localdate()
    reversed_dates = {"received_from": (today - dt.timedelta(days=1)).isoformat(), "received_to": "2021-10-01"}
    response = client.get(URL, reversed_dates)
    assert f"The end date 2021-10-01 is before the start date {today - dt.timedelta(days=1)}." in response.text
    assert _listed(response) == [task.pk]  # the start date alone still applies


def test_paging_does_not_count_and_stops_at_the_last_page(client, cast):
    tasks = [_task(hours_ago=100 - i) for i in range(PAGE_SIZE + 1)]
    _client(client, cast.supervisor)
    first = client.get(URL)
    assert _listed(first) == [t.pk for t in tasks[:PAGE_SIZE]]
    assert first.context["page"].has_next()
    assert 'rel="next"' in first.text
    second = client.get(URL, {"page": 2})
    assert _listed(second) == [tasks[-1].pk]
    assert not second.context["page"].has_next()
    assert client.get(URL, {"page": 3}).status_code == 404
    assert client.get(URL, {"page": "x"}).status_code == 404


def _queue_queries(client, user) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(URL).status_code == 200
    return len(queries)


def test_query_count_does_not_grow_with_rows(client, cast):
    _client(client, cast.supervisor)
    for _ in range(3):
        _task()
    few = _queue_queries(client, cast.supervisor)
    for _ in range(25):
        task = _task()
        SuggestionFactory(task=task, township=task.township)  # a second suggestion on some rows
    assert _queue_queries(client, cast.supervisor) == few


def test_a_row_shows_its_first_suggestion_and_how_many_more(client, cast):
    task = _task()
    first = task.suggestions.get()
    first.received_at = timezone.now() - dt.timedelta(days=2)
    first.save()
    for _ in range(3):
        SuggestionFactory(task=task, township=task.township)
    [row] = _client(client, cast.supervisor).get(URL).context["page"].object_list
    assert row.first_suggestions == [first] and row.suggestion_count == 4
    assert f"{first.tracking_number} <span class=\"tag\"" in client.get(URL).text
    assert "+3</span>" in client.get(URL).text


# --- Bulk assign ----------------------------------------------------------------------------


def test_supervisor_assigns_three_tasks_in_one_step(client, cast, departments):
    tasks = [_task(), _task(state=State.REVIEWED), _task(state=State.RETURNED)]
    untouched = _task()
    _client(client, cast.supervisor)
    response = client.post(
        URL + "?channel=hotline&page=2",
        {"action": "assign", "tasks": [t.pk for t in tasks], "lead_department": departments.zhujian.pk,
         "assign_note": "请尽快处理"},
    )
    assert response.status_code == 302
    assert response["Location"] == URL + "?channel=hotline"  # back to the first page of the same filtered queue
    for task in tasks:
        task.refresh_from_db()
        assert task.state == State.ASSIGNED
        assert task.lead_department == departments.zhujian
        assert task.deadline is not None
        event = TaskEvent.objects.get(task=task, action=Action.ASSIGN)
        assert event.actor == cast.supervisor and event.note == "请尽快处理"
    untouched.refresh_from_db()
    assert untouched.state == State.REGISTERED
    page = client.get(response["Location"])
    ids = ", ".join(f"#{t.pk}" for t in sorted(tasks, key=lambda t: t.pk))
    assert _messages(page) == [f"3 tasks were assigned to 住建局: {ids}."]
    assert _listed(page) == [untouched.pk]


def test_bulk_assign_with_assisting_department_and_working_days(client, cast, departments):
    tasks = [_task(), _task()]
    _client(client, cast.supervisor).post(
        URL,
        {"action": "assign", "tasks": [t.pk for t in tasks], "lead_department": departments.zhujian.pk,
         "assisting_departments": [departments.chengguan.pk], "deadline_days": 5},
    )
    for task in tasks:
        task.refresh_from_db()
        assert task.state == State.ASSIGNED
        assert TaskAssist.objects.get(task=task).department == departments.chengguan
        event = TaskEvent.objects.get(task=task, action=Action.ASSIGN)
        assert event.data["custom_deadline"] is True


def test_one_task_awaiting_review_stops_the_whole_assignment(client, cast, departments):
    first, last = _task(), _task(state=State.REVIEWED)
    awaiting = _task(state=State.REPORTED)
    _client(client, cast.supervisor)
    response = client.post(
        URL,
        {"action": "assign", "tasks": [first.pk, awaiting.pk, last.pk], "lead_department": departments.zhujian.pk},
    )
    assert response.status_code == 409
    for task in (first, awaiting, last):
        task.refresh_from_db()
        assert task.state in (State.REGISTERED, State.REPORTED, State.REVIEWED)
        assert task.lead_department_id is None
    assert not TaskEvent.objects.filter(action=Action.ASSIGN).exists()
    assert not TaskAssist.objects.exists()
    [message] = _messages(response)
    assert message == (
        f"Nothing was done. Task #{awaiting.pk} ({_tracking(awaiting)}): "
        "Cannot assign this task yet: it is awaiting the leader's review."
    )
    # The ticks survive, so the supervisor can untick the one that refused.
    assert response.context["selected"] == {first.pk, awaiting.pk, last.pk}


def test_a_task_assigned_meanwhile_by_a_colleague_stops_the_whole_assignment(client, cast, departments):
    tasks = [_task() for _ in range(3)]
    _client(client, cast.supervisor)
    client.get(URL)  # the page is drawn with three unassigned tasks ...
    services.task_assign(actor=cast.supervisor, task=tasks[1], lead_department=departments.chengguan)  # ... a colleague
    response = client.post(
        URL, {"action": "assign", "tasks": [t.pk for t in tasks], "lead_department": departments.zhujian.pk}
    )
    assert response.status_code == 409
    assert f"Task #{tasks[1].pk} ({_tracking(tasks[1])}): Cannot assign" in _messages(response)[0]
    assert "“assigned”" in _messages(response)[0]
    states = dict(Task.objects.filter(pk__in=[t.pk for t in tasks]).values_list("pk", "lead_department__code"))
    assert states == {tasks[0].pk: None, tasks[1].pk: "chengguan", tasks[2].pk: None}
    assert TaskEvent.objects.filter(action=Action.ASSIGN).count() == 1


def test_bulk_assign_form_errors_change_nothing(client, cast, departments):
    task = _task()
    _client(client, cast.supervisor)
    cases = [
        ({"action": "assign", "lead_department": departments.zhujian.pk}, "Select at least one task in the list."),
        ({"action": "assign", "tasks": [task.pk]}, "Choose the lead department."),
        ({"action": "assign", "tasks": [task.pk], "lead_department": departments.supervision.pk},
         "Select a valid choice."),
        ({"action": "assign", "tasks": ["abc"], "lead_department": departments.zhujian.pk},
         "“abc” is not a task number."),
        ({"action": "assign", "tasks": [task.pk], "lead_department": departments.zhujian.pk,
          "deadline": "2021-01-04", "deadline_days": 3},
         "This date has already passed"),
        ({"action": "unknown", "tasks": [task.pk]}, "Choose what to do with the selected tasks."),
    ]
    for data, expected in cases:
        response = client.post(URL, data)
        assert response.status_code == 400, data
        assert expected in " ".join(_messages(response)), (data, _messages(response))
    task.refresh_from_db()
    assert task.state == State.REGISTERED
    assert not TaskEvent.objects.exists()


def test_a_vanished_task_is_named_and_nothing_is_assigned(cast, departments):
    task = _task()
    with translation.override("en"), pytest.raises(BulkRefusal) as refused:
        tasks_assign_bulk(actor=cast.supervisor, task_ids=[task.pk, 999_999], lead_department=departments.zhujian)
    assert str(refused.value) == "Task #999999: This task no longer exists."
    task.refresh_from_db()
    assert task.state == State.REGISTERED


def test_a_bulk_step_is_bounded(cast, departments):
    with translation.override("en"), pytest.raises(BulkRefusal.__mro__[1]) as refused:
        tasks_report_bulk(actor=cast.supervisor, task_ids=range(1, MAX_BULK + 2))
    assert str(refused.value) == f"Select at most {MAX_BULK} tasks at a time; {MAX_BULK + 1} were selected."


# --- Bulk report ------------------------------------------------------------------------------


def test_supervisor_reports_several_tasks_to_the_leader(client, cast):
    tasks = [_task(), _task()]
    _client(client, cast.supervisor)
    response = client.post(URL, {"action": "report", "tasks": [t.pk for t in tasks], "report_note": "当天上报"})
    assert response.status_code == 302
    for task in tasks:
        task.refresh_from_db()
        assert task.state == State.REPORTED and task.reported_at is not None
        assert TaskEvent.objects.get(task=task, action=Action.REPORT).note == "当天上报"


def test_bulk_report_is_all_or_nothing(client, cast):
    registered, reviewed = _task(), _task(state=State.REVIEWED)
    response = _client(client, cast.supervisor).post(
        URL, {"action": "report", "tasks": [registered.pk, reviewed.pk]}
    )
    assert response.status_code == 409
    assert f"Task #{reviewed.pk} ({_tracking(reviewed)}): Cannot report a task to the leader" in _messages(response)[0]
    registered.refresh_from_db()
    assert registered.state == State.REGISTERED and registered.reported_at is None
    assert not TaskEvent.objects.exists()


# --- Merge ---------------------------------------------------------------------------------------


def test_supervisor_merges_selected_duplicates_into_the_one_kept(client, cast):
    tasks = [_task(), _task(state=State.REPORTED), _task(state=State.REVIEWED)]
    keep = tasks[1]
    moved = list(Suggestion.objects.filter(task__in=[tasks[0], tasks[2]]).values_list("pk", flat=True))
    response = _client(client, cast.supervisor).post(
        URL, {"action": "merge", "tasks": [t.pk for t in tasks], "merge_target": keep.pk, "merge_note": "重复诉求"}
    )
    assert response.status_code == 302
    for task in (tasks[0], tasks[2]):
        task.refresh_from_db()
        assert task.state == State.MERGED and task.merged_into_id == keep.pk
    keep.refresh_from_db()
    assert keep.state == State.REPORTED
    assert set(keep.suggestions.values_list("pk", flat=True)) >= set(moved)
    assert TaskEvent.objects.filter(action=Action.MERGE).count() == 3
    page = client.get(URL)
    assert _messages(page) == [f"Tasks #{tasks[0].pk}, #{tasks[2].pk} were merged into task #{keep.pk}."]


def test_merge_needs_a_kept_task_among_two_or_more_selected(client, cast):
    a, b, outside = _task(), _task(), _task()
    _client(client, cast.supervisor)
    cases = [
        ({"tasks": [a.pk, b.pk]}, "Mark the task to keep"),
        ({"tasks": [a.pk], "merge_target": a.pk}, "Select at least two tasks to merge."),
        ({"tasks": [a.pk, b.pk], "merge_target": outside.pk}, f"The task to keep, #{outside.pk}, is not among"),
    ]
    for data, expected in cases:
        response = client.post(URL, {"action": "merge", **data})
        assert response.status_code == 400
        assert expected in _messages(response)[0]
    assert set(Task.objects.values_list("state", flat=True)) == {State.REGISTERED}


def test_merge_refused_for_one_task_merges_nothing(client, cast):
    keep, returned = _task(), _task(state=State.RETURNED)
    response = _client(client, cast.supervisor).post(
        URL, {"action": "merge", "tasks": [keep.pk, returned.pk], "merge_target": keep.pk}
    )
    assert response.status_code == 409
    assert f"Task #{returned.pk}: Cannot merge tasks while it is" in _messages(response)[0]
    returned.refresh_from_db()
    assert returned.state == State.RETURNED and returned.merged_into_id is None
