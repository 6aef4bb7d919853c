"""The Django admin: every page opens for the admin, nobody else gets in, lists do not query per row."""

import datetime as dt

import pytest

from tasks.models import LeaderInstruction, LookBackDraw, LookBackSample, Notification, ReminderDigest, ReplyTemplate
from tasks.reminders.levels import reminder_rules_ensure_defaults
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from feedback.models import Callback, CallbackResult, PhoneView
from org.models import User
from tasks import calendar, deadlines
from tasks.models import (
    Action,
    CalendarDay,
    Indicator,
    Mechanism,
    Project,
    State,
    Task,
    TaskAssist,
    TaskEvent,
    TaskRequest,
    TvEpisode,
)

from ..factories import TaskFactory, VillageFactory

OUR_APPS = {"org", "tasks", "feedback"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def admin_client(client, cast):
    client.force_login(cast.admin)
    return client


def make_task(cast, departments, township, **kwargs):
    now = timezone.now()
    task = TaskFactory(
        township=township,
        state=State.IN_PROGRESS,
        lead_department=departments.zhujian,
        assigned_at=now,
        deadline=now + dt.timedelta(days=5),
        **kwargs,
    )
    TaskEvent.objects.create(task=task, action=Action.ASSIGN, actor=cast.supervisor, to_state=State.ASSIGNED)
    TaskEvent.objects.create(
        task=task, action=Action.ACCEPT, actor=cast.handler_zhujian, from_state=State.ASSIGNED, to_state=State.ACCEPTED
    )
    TaskAssist.objects.create(task=task, department=departments.chengguan, deadline=now + dt.timedelta(days=3))
    TaskRequest.objects.create(
        task=task, kind=TaskRequest.Kind.EXTENSION, department=departments.zhujian, reason="雨季", requested_by=cast.head_zhujian
    )
    suggestion = task.suggestions.get()
    Callback.objects.create(task=task, suggestion=suggestion, result=CallbackResult.SATISFIED, called_by=cast.supervisor)
    return task


@pytest.fixture
def world(db, cast, departments, township):
    """One object of every model the admin shows."""
    VillageFactory(township=township, name="留早村")
    deadlines.ensure_default_rules()
    CalendarDay.objects.create(date=dt.date(2027, 1, 1), is_working_day=False, note="元旦")
    project = Project.objects.create(
        department=departments.zhujian, name="老旧小区改造", year=2021, starts_on=dt.date(2021, 1, 1), due_on=dt.date(2021, 12, 31)
    )
    Indicator.objects.create(project=project, name="改造小区", unit="个", target=100, due_on=dt.date(2021, 12, 31))
    episode = TvEpisode.objects.create(aired_on=dt.date(2021, 10, 25), title="第一期")
    episode.departments.add(departments.zhujian)
    Mechanism.objects.create(
        episode=episode, department=departments.zhujian, title="物业长效管理", established_on=dt.date(2021, 11, 1)
    )
    task = make_task(cast, departments, township, episode=episode)
    reminder_rules_ensure_defaults()
    digest = ReminderDigest.objects.create(recipient=cast.head_zhujian)
    Notification.objects.create(
        recipient=cast.head_zhujian, task=task, level="overdue", deadline=task.deadline, digest=digest
    )
    draw = LookBackDraw.objects.create(
        department=departments.zhujian, quarter_start=dt.date(2021, 7, 1), share="0.100", seed="s", closed_count=1
    )
    LookBackSample.objects.create(draw=draw, task=task)
    ReplyTemplate.objects.create(title="已办结", body="{citizen}您好，您反映的问题已解决。", department=departments.zhujian)
    LeaderInstruction.objects.create(task=task, author=cast.leader, text="请尽快办理")
    PhoneView.objects.create(
        user=cast.handler_zhujian, suggestion=task.suggestions.get(), page=PhoneView.Page.TASK_DETAIL
    )
    return task


def our_model_admins():
    return [(model, model_admin) for model, model_admin in admin.site._registry.items() if model._meta.app_label in OUR_APPS]


def test_every_model_of_the_campaign_is_registered():
    names = {f"{m._meta.app_label}.{m.__name__}" for m, _ in our_model_admins()}
    assert {
        "org.Township",
        "org.Village",
        "org.Department",
        "org.User",
        "tasks.CalendarDay",
        "tasks.DeadlineRule",
        "tasks.Task",
        "tasks.Project",
        "tasks.TvEpisode",
        "feedback.Suggestion",
        "feedback.Callback",
    } <= names


def test_the_admin_opens_every_changelist_add_and_change_page(admin_client, world, rf, cast):
    for model, model_admin in our_model_admins():
        info = (model._meta.app_label, model._meta.model_name)
        response = admin_client.get(reverse("admin:%s_%s_changelist" % info))
        assert response.status_code == 200, model
        request = rf.get("/")
        request.user = cast.admin
        add = admin_client.get(reverse("admin:%s_%s_add" % info))
        assert add.status_code == (200 if model_admin.has_add_permission(request) else 403), model
        obj = model.objects.order_by("pk").first()
        assert obj is not None, f"the fixture made no {model.__name__}"
        change = admin_client.get(reverse("admin:%s_%s_change" % info, args=[obj.pk]))
        assert change.status_code == 200, model


def test_tasks_and_suggestions_cannot_be_added_or_deleted_here(admin_client, world):
    assert admin_client.get(reverse("admin:tasks_task_add")).status_code == 403
    assert admin_client.get(reverse("admin:feedback_suggestion_add")).status_code == 403
    assert admin_client.get(reverse("admin:tasks_task_delete", args=[world.pk])).status_code == 403


@pytest.mark.parametrize("who", ["handler_zhujian", "supervisor", "leader"])
def test_people_without_staff_status_are_sent_to_the_login(client, cast, who):
    client.force_login(getattr(cast, who))
    for name in ("admin:index", "admin:tasks_calendarday_changelist", "admin:org_user_changelist"):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))


def test_the_calendar_list_names_the_years_without_an_official_calendar(admin_client, db):
    CalendarDay.objects.create(date=dt.date(2027, 1, 1), is_working_day=False, note="元旦")
    CalendarDay.objects.create(date=dt.date(2021, 10, 9), is_working_day=True, note="调休")
    response = admin_client.get(reverse("admin:tasks_calendarday_changelist"), **EN)
    content = response.content.decode()
    assert "2027: no official holiday calendar; only weekends and your entries count (1 weekdays entered" in content
    assert "2021: no official" not in content
    assert "2004–2026" in content


def test_the_calendar_notice_goes_once_a_full_notice_is_entered(admin_client, db):
    weekdays = [dt.date(2031, 10, d) for d in range(1, 32) if dt.date(2031, 10, d).weekday() < 5]
    CalendarDay.objects.bulk_create([CalendarDay(date=d, is_working_day=False) for d in weekdays[:11]])
    calendar.invalidate_cache()
    content = admin_client.get(reverse("admin:tasks_calendarday_changelist"), **EN).content.decode()
    assert "2031: no official" not in content


def test_a_calendar_entry_saved_in_the_admin_changes_deadlines_at_once(admin_client, db):
    assert calendar.add_working_days(dt.date(2021, 10, 8), 1) == dt.date(2021, 10, 9)
    response = admin_client.post(
        reverse("admin:tasks_calendarday_add"), {"date": "2021-10-09", "is_working_day": "", "note": "typhoon"}
    )
    assert response.status_code == 302, response.content
    assert calendar.add_working_days(dt.date(2021, 10, 8), 1) == dt.date(2021, 10, 11)


def test_the_task_list_does_not_query_per_row(admin_client, world, cast, departments, township):
    url = reverse("admin:tasks_task_changelist")

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(url).status_code == 200
        return len(queries)

    few = count()
    for _ in range(6):
        make_task(cast, departments, township)
    assert Task.objects.count() == 7
    assert count() == few


@pytest.mark.parametrize("name", ["feedback_suggestion", "feedback_callback", "org_user", "org_village"])
def test_other_lists_do_not_query_per_row(admin_client, world, cast, departments, township, name):
    url = reverse(f"admin:{name}_changelist")

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(url).status_code == 200
        return len(queries)

    few = count()
    for i in range(4):
        make_task(cast, departments, township)
        VillageFactory(township=township)
        User.objects.create(username=f"extra{i}", role=User.Role.HANDLER, department=departments.chengguan)
    assert count() == few


def test_a_task_is_found_by_number_tracking_number_or_title(admin_client, world):
    url = reverse("admin:tasks_task_changelist")
    tracking = world.suggestions.get().tracking_number
    for term in (str(world.pk), tracking.lower(), world.title[:4]):
        response = admin_client.get(url, {"q": term})
        assert list(response.context["cl"].result_list) == [world], term
    assert list(admin_client.get(url, {"q": "DZ00000000NOTHING"}).context["cl"].result_list) == []


def test_a_suggestion_is_found_by_tracking_number(admin_client, world):
    suggestion = world.suggestions.get()
    response = admin_client.get(reverse("admin:feedback_suggestion_changelist"), {"q": suggestion.tracking_number.lower()})
    assert list(response.context["cl"].result_list) == [suggestion]


def test_the_add_user_form_asks_for_role_and_department(admin_client, departments):
    url = reverse("admin:org_user_add")
    page = admin_client.get(url).content.decode()
    assert 'name="role"' in page and 'name="department"' in page
    data = {
        "username": "handler-new",
        "full_name": "王五",
        "role": User.Role.HANDLER,
        "department": "",
        "usable_password": "true",
        "password1": "a-long-Passw0rd!",
        "password2": "a-long-Passw0rd!",
    }
    response = admin_client.post(url, data, **EN)
    assert response.status_code == 200
    assert "Handlers and department heads must belong to a department." in response.content.decode()
    assert not User.objects.filter(username="handler-new").exists()

    response = admin_client.post(url, {**data, "department": departments.zhujian.pk})
    assert response.status_code == 302
    user = User.objects.get(username="handler-new")
    assert (user.role, user.department, user.full_name) == (User.Role.HANDLER, departments.zhujian, "王五")
    assert not user.is_staff and user.check_password("a-long-Passw0rd!")


def test_giving_someone_the_admin_role_lets_them_in_and_taking_it_away_locks_them_out(admin_client, client, cast):
    url = reverse("admin:org_user_add")
    response = admin_client.post(
        url,
        {
            "username": "admin2",
            "role": User.Role.ADMIN,
            "usable_password": "true",
            "password1": "a-long-Passw0rd!",
            "password2": "a-long-Passw0rd!",
        },
    )
    assert response.status_code == 302
    admin2 = User.objects.get(username="admin2")
    assert admin2.is_staff and admin2.is_superuser
    client.force_login(admin2)
    assert client.get(reverse("admin:index")).status_code == 200

    change = reverse("admin:org_user_change", args=[admin2.pk])
    form = admin_client.get(change).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k not in ("groups", "user_permissions")}
    data.update(
        role=User.Role.LEADER,
        is_active="on",
        is_staff="on",
        is_superuser="on",
        last_login_0="",
        last_login_1="",
        date_joined_0=timezone.localtime(admin2.date_joined).strftime("%Y-%m-%d"),
        date_joined_1=timezone.localtime(admin2.date_joined).strftime("%H:%M:%S"),
        password=admin2.password,
    )
    response = admin_client.post(change, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    admin2.refresh_from_db()
    assert admin2.role == User.Role.LEADER and not admin2.is_staff and not admin2.is_superuser


def test_editing_a_superuser_without_changing_the_role_keeps_their_access(admin_client, cast):
    root = User.objects.create_superuser("root", "root@example.gov.cn", "a-long-Passw0rd!")
    assert root.role == User.Role.REGISTRAR
    change = reverse("admin:org_user_change", args=[root.pk])
    response = admin_client.post(
        change,
        {
            "username": "root",
            "role": root.role,
            "phone": "13800000000",
            "is_active": "on",
            "is_staff": "on",
            "is_superuser": "on",
            "date_joined_0": timezone.localtime(root.date_joined).strftime("%Y-%m-%d"),
            "date_joined_1": timezone.localtime(root.date_joined).strftime("%H:%M:%S"),
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    root.refresh_from_db()
    assert root.phone == "13800000000" and root.is_superuser and root.is_staff
