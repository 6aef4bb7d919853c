"""Projects without a progress update for 30 days: one reminder to the owning department per staleness period."""

import datetime as dt
import threading

import pytest
from django.core import mail
from django.db import connection
from django.urls import reverse
from django.utils import timezone, translation

from tasks.models.projects import ProgressUpdate, ProjectNotice, ProjectReminderClaim
from tasks.reminders.cadence import cadence_run_due
from tasks.reminders.stale_projects import project_reminders_send_due, stale_projects

from .. import factories
from .test_projects import make_project


def at(day: str, time: str = "08:30") -> dt.datetime:
    return timezone.make_aware(dt.datetime.fromisoformat(f"{day}T{time}"))


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def updated(project, user, day: str):
    """A progress update dated `day` (written directly: the date is in the past of the tests' fixed clock)."""
    return ProgressUpdate.objects.create(project=project, recorded_on=dt.date.fromisoformat(day), recorded_by=user)


def notified(project) -> list[tuple[str, int]]:
    rows = ProjectNotice.objects.filter(project=project).order_by("recipient__username", "created_at")
    return list(rows.values_list("recipient__username", "idle_days"))


@pytest.fixture
def project(cast, departments):
    """住建局's 2021 project, half done, last updated on Friday 15 October 2021."""
    project = make_project(departments.zhujian, indicators=[(0, 100, 50)])
    updated(project, cast.head_zhujian, "2021-10-15")
    return project


def test_a_project_idle_for_30_days_reminds_its_departments_handlers_and_head_once(cast, departments, project):
    assert project_reminders_send_due(now=at("2021-11-12")).projects == 0  # 28 days: not yet
    first = project_reminders_send_due(now=at("2021-11-15"))  # Monday, 31 days
    assert (first.projects, first.notices, first.emails) == (1, 2, 2)
    assert notified(project) == [("handler-zhujian", 31), ("head-zhujian", 31)]
    assert sorted(m.to[0] for m in mail.outbox) == ["handler-zhujian@example.gov.cn", "head-zhujian@example.gov.cn"]
    assert "老旧小区改造" in mail.outbox[0].body and "31 days without an update" in mail.outbox[0].body
    claim = ProjectReminderClaim.objects.get()
    assert (claim.project, claim.stale_since, claim.period, claim.recipients) == (
        project, dt.date(2021, 10, 15), 1, 2,
    )

    # Later runs of the same period, the same day or the next weeks, send nothing again.
    for moment in (at("2021-11-15", "08:45"), at("2021-11-16"), at("2021-12-13")):
        again = project_reminders_send_due(now=moment)
        assert (again.projects, again.notices, again.emails) == (0, 0, 0)
    assert ProjectNotice.objects.count() == 2 and len(mail.outbox) == 2 and ProjectReminderClaim.objects.count() == 1


def test_each_further_30_days_is_a_new_period(cast, departments, project):
    project_reminders_send_due(now=at("2021-11-15"))
    second = project_reminders_send_due(now=at("2021-12-14"))  # 60 days
    assert second.projects == 1
    assert sorted(ProjectReminderClaim.objects.values_list("period", flat=True)) == [1, 2]
    assert notified(project) == [("handler-zhujian", 31), ("handler-zhujian", 60), ("head-zhujian", 31),
                                 ("head-zhujian", 60)]


def test_a_new_update_restarts_the_count(cast, departments, project):
    project_reminders_send_due(now=at("2021-11-15"))
    updated(project, cast.handler_zhujian, "2021-11-16")
    assert project_reminders_send_due(now=at("2021-12-14")).projects == 0  # 28 days after the new update
    assert project_reminders_send_due(now=at("2021-12-16")).projects == 1  # 30 days
    assert ProjectReminderClaim.objects.filter(stale_since=dt.date(2021, 11, 16), period=1).exists()


def test_a_long_idle_project_is_reminded_once_not_once_per_missed_period(cast, departments):
    never_updated = make_project(departments.zhujian, name="从未更新", indicators=[(0, 10, 1)])
    assert project_reminders_send_due(now=at("2021-11-15")).projects == 1  # 318 days since the start
    assert ProjectReminderClaim.objects.get(project=never_updated).period == 10
    assert project_reminders_send_due(now=at("2021-11-16")).projects == 0


def test_finished_and_not_started_projects_are_left_alone(cast, departments):
    make_project(departments.zhujian, name="已完成", indicators=[(0, 10, 10)])
    make_project(departments.zhujian, name="未开始", starts_on=dt.date(2021, 10, 20), due_on=dt.date(2022, 6, 30))
    assert stale_projects(today=dt.date(2021, 11, 15)) == []
    assert project_reminders_send_due(now=at("2021-11-15")).projects == 0


def test_nothing_is_sent_on_a_day_off_and_the_next_working_day_makes_it_up(cast, departments, project):
    saturday = project_reminders_send_due(now=at("2021-11-13"))  # 29 days … and a Saturday
    sunday = project_reminders_send_due(now=at("2021-11-14"))  # 30 days, Sunday
    assert (saturday.working_day, sunday.working_day, sunday.projects) == (False, False, 0)
    monday = project_reminders_send_due(now=at("2021-11-15"))
    assert monday.projects == 1 and notified(project)[0] == ("handler-zhujian", 31)


def test_a_claim_taken_by_another_run_means_this_run_sends_nothing(cast, departments, project):
    # What a concurrent run leaves: the claim row is the right to send; whoever inserted it sends.
    ProjectReminderClaim.objects.create(project=project, stale_since=dt.date(2021, 10, 15), period=1)
    run = project_reminders_send_due(now=at("2021-11-15"))
    assert (run.projects, run.notices, run.emails) == (0, 0, 0)
    assert ProjectNotice.objects.count() == 0 and mail.outbox == []


def test_only_active_members_of_the_owning_department_are_reminded(cast, departments, project):
    cast.handler_zhujian.is_active = False
    cast.handler_zhujian.save(update_fields=["is_active"])
    no_mail = factories.UserFactory(username="handler2-zhujian", role="handler", department=departments.zhujian,
                                    email="")
    run = project_reminders_send_due(now=at("2021-11-15"))
    assert (run.notices, run.emails) == (2, 1)
    assert {name for name, _ in notified(project)} == {"head-zhujian", no_mail.username}


def test_the_daily_cadence_job_runs_the_stale_project_reminders(cast, departments, project):
    first = cadence_run_due(now=at("2021-11-15"))
    again = cadence_run_due(now=at("2021-11-15", "09:30"))
    assert (first.stale_projects, again.stale_projects) == (1, 0)
    assert ProjectNotice.objects.count() == 2


def test_the_project_list_shows_the_reminder_until_marked_read(client, cast, departments, project):
    project_reminders_send_due(now=at("2021-11-15"))
    client.force_login(cast.head_zhujian)
    page = client.get(reverse("tasks:projects"))
    assert f'data-notice-project="{project.pk}"' in page.content.decode()
    client.force_login(cast.head_chengguan)
    assert b"project-notices" not in client.get(reverse("tasks:projects")).content
    client.force_login(cast.head_zhujian)
    assert client.post(reverse("tasks:project_notices_read")).status_code == 302
    assert b"data-notice-project" not in client.get(reverse("tasks:projects")).content
    assert ProjectNotice.objects.get(recipient=cast.head_zhujian).read_at is not None


@pytest.mark.services
def test_two_runs_at_the_same_time_remind_once(require_postgres, transactional_db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    zhujian = factories.DepartmentFactory(name="住建局", code="zhujian")
    head = factories.UserFactory(username="head-zhujian", role="head", department=zhujian)
    factories.UserFactory(username="handler-zhujian", role="handler", department=zhujian)
    for n in range(30):
        updated(make_project(zhujian, name=f"项目{n}", indicators=[(0, 10, 1)]), head, "2021-10-01")
    barrier, runs, errors = threading.Barrier(2), [], []

    def run():
        try:
            barrier.wait()
            runs.append(project_reminders_send_due(now=at("2021-11-15")))
        except Exception as exc:  # noqa: BLE001  (reported by the assertion below)
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert sum(r.projects for r in runs) == 30 and ProjectReminderClaim.objects.count() == 30
    assert ProjectNotice.objects.count() == sum(r.notices for r in runs) == 60
    assert len(mail.outbox) == sum(r.emails for r in runs)
