"""The reminder jobs: retries of failed e-mail, and a real Celery worker on Redis."""

import datetime as dt
from urllib.parse import urlsplit, urlunsplit

import pytest
from celery import Celery, signals
from celery.contrib.testing.worker import start_worker
from django.core import mail
from django.utils import timezone, translation

from dingzhou.celery import app as celery_app
from tasks import jobs
from tasks.errors import DomainError
from tasks.models import State
from tasks.models.reminders import Notification, ReminderDigest, ReminderLevel
from tasks.schedule import BEAT_SCHEDULE

from .reminder_helpers import flaky, open_task  # noqa: F401  (flaky is a fixture)

REDIS_DB = 14  # this feature's own Redis database


@pytest.fixture(autouse=True)
def _english_and_fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with translation.override("en"):
        yield


@pytest.fixture
def eager():
    """Jobs that a job queues run at once, in this process (countdowns are ignored)."""
    before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = before


@pytest.fixture
def retries():
    seen = []

    def record(sender=None, reason=None, **kwargs):
        seen.append(repr(reason))

    signals.task_retry.connect(record, weak=False)
    yield seen
    signals.task_retry.disconnect(record)


def test_the_beat_schedule_runs_the_reminder_job_every_quarter_hour_of_the_working_day():
    entry = BEAT_SCHEDULE["send-due-reminders"]
    assert entry["task"] == jobs.send_due_reminders.name
    schedule = entry["schedule"]
    assert schedule.minute == {0, 15, 30, 45} and schedule.hour == set(range(8, 19))
    assert schedule.day_of_week == set(range(7))  # 调休 Saturdays are working days


def test_the_cadence_job_runs_daily_and_sends_the_weeks_lists_once(cast, departments):
    entry = BEAT_SCHEDULE["run-cadence"]
    assert entry["task"] == jobs.run_cadence.name
    assert entry["schedule"].hour == {8} and entry["schedule"].minute == {30}
    first = jobs.run_cadence.apply(kwargs={"now": "2021-11-15T08:30:00+08:00"}).get()
    assert (first["weekly"], first["monthly"], first["emails"]) == (4, 2, 6)
    again = jobs.run_cadence.apply(kwargs={"now": "2021-11-16T08:30:00+08:00"}).get()
    assert (again["weekly"], again["monthly"], again["emails"]) == (0, 0, 0)
    assert len(mail.outbox) == 6


def test_the_digest_job_retries_a_failing_mail_server_until_it_recovers(cast, departments, flaky, retries):
    flaky.failures = 3  # the run's own attempt, then two retries by the job
    open_task(departments.zhujian, "2021-11-18")
    summary = jobs.send_due_reminders.apply(kwargs={"now": "2021-11-17T09:00:00+08:00"}).get()
    assert summary["email_failures"] == 1 and mail.outbox == []
    (digest_id,) = summary["failed_digest_ids"]
    result = jobs.send_reminder_digest.apply(args=(digest_id,))
    assert result.get() is True
    assert len(retries) == 2 and "SMTPServerDisconnected" in retries[0]
    assert [m.to for m in mail.outbox] == [["handler-zhujian@example.gov.cn"]]
    digest = ReminderDigest.objects.get(pk=digest_id)
    assert digest.attempts == 4 and digest.sent_at is not None
    # A later retry (a duplicate message, or the next run) sends nothing more.
    assert jobs.send_reminder_digest.apply(args=(digest_id,)).get() is False
    assert len(mail.outbox) == 1


def test_the_reminder_job_hands_failed_mail_to_the_retrying_job(cast, departments, flaky, eager, retries):
    flaky.failures = 2
    open_task(departments.zhujian, "2021-11-17")
    summary = jobs.send_due_reminders.apply(kwargs={"now": "2021-11-18T09:00:00+08:00"}).get()
    assert summary["email_failures"] == 2  # head and supervisor, each once
    assert sorted(m.to[0] for m in mail.outbox) == ["head-zhujian@example.gov.cn", "supervisor@example.gov.cn"]
    assert retries == []  # the queued jobs succeeded at their first try
    assert Notification.objects.count() == 2


def test_a_run_that_stops_at_its_limit_queues_the_rest_at_once(cast, departments, eager):
    for _ in range(5):
        open_task(departments.zhujian, "2021-11-17")
    first = jobs.send_due_reminders.apply(kwargs={"now": "2021-11-17T09:00:00+08:00", "limit": 2}).get()
    assert first["more"] and first["sent"]["due_today"] == 2
    assert Notification.objects.filter(recipient=cast.handler_zhujian).count() == 5  # the chained runs sent the rest


def test_a_domain_error_is_not_retried(db, retries):
    result = jobs.send_reminder_digest.apply(args=(987654,))
    assert result.failed() and isinstance(result.result, DomainError)
    assert "987654" in str(result.result)
    assert retries == []


def test_an_error_that_is_not_the_mail_servers_is_not_retried(cast, departments, retries, settings):
    open_task(departments.zhujian, "2021-11-18")
    jobs.send_due_reminders.apply(kwargs={"now": "2021-11-17T09:00:00+08:00"})
    digest = ReminderDigest.objects.get()
    ReminderDigest.objects.filter(pk=digest.pk).update(sent_at=None, sending_since=None)
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": ["/nonexistent"], "APP_DIRS": False}]
    result = jobs.send_reminder_digest.apply(args=(digest.pk,))
    assert result.failed() and retries == []
    digest.refresh_from_db()
    assert "TemplateDoesNotExist" in digest.last_error and digest.sent_at is None
    assert not digest.given_up  # the next runs try again, with backoff, up to the last attempt


def test_the_job_refuses_a_date_that_is_not_iso(db):
    result = jobs.send_due_reminders.apply(kwargs={"now": "next tuesday"})
    assert result.failed() and "next tuesday" in str(result.result)


@pytest.mark.services
def test_a_real_worker_on_redis_runs_the_scheduled_job_end_to_end(require_redis, transactional_db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    from .. import factories

    department = factories.DepartmentFactory(name="住建局", code="zhujian")
    handler = factories.UserFactory(username="handler-zhujian", role="handler", department=department)
    task = factories.TaskFactory(
        state=State.IN_PROGRESS,
        lead_department=department,
        deadline=timezone.make_aware(dt.datetime(2021, 11, 17, 23, 59, 59)),
    )
    parts = urlsplit(require_redis)
    url = urlunsplit((parts.scheme, parts.netloc, f"/{REDIS_DB}", "", ""))
    import redis

    redis.Redis.from_url(url).flushdb()
    app = Celery("reminders-test", set_as_current=False)
    app.conf.update(
        broker_url=url,
        result_backend=url,
        task_acks_late=True,
        broker_connection_retry_on_startup=False,
        timezone="Asia/Shanghai",
    )
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
            name = BEAT_SCHEDULE["send-due-reminders"]["task"]
            result = app.send_task(name, kwargs={"now": "2021-11-17T08:00:00+08:00"})
            summary = result.get(timeout=60)
    finally:
        redis.Redis.from_url(url).flushdb()
        app.close()
    assert summary["sent"][ReminderLevel.DUE_TODAY] == 1 and summary["emails"] == 1
    note = Notification.objects.get(recipient=handler)
    assert note.task_id == task.pk and note.level == ReminderLevel.DUE_TODAY and note.read_at is None
    assert [m.to for m in mail.outbox] == [[handler.email]]
