"""Two reminder runs at the same moment against PostgreSQL: each reminder is sent once."""

import collections
import threading

import pytest
from django.core import mail
from django.db import connection
from django.utils import translation

from tasks.models.reminders import Notification, ReminderClaim, ReminderLevel
from tasks.reminders import reminders_send_due

from .. import factories
from .reminder_helpers import at, open_task

RUNS = 2


@pytest.fixture
def people(settings, transactional_db):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    make = factories.UserFactory
    zhujian = factories.DepartmentFactory(name="住建局", code="zhujian")
    chengguan = factories.DepartmentFactory(name="城管局", code="chengguan")
    for department in (zhujian, chengguan):
        make(username=f"handler-{department.code}", role="handler", department=department)
        make(username=f"head-{department.code}", role="head", department=department)
    make(username="supervisor", role="supervisor")
    make(username="leader", role="leader")
    return zhujian, chengguan


def _run_together(now, **kwargs):
    barrier = threading.Barrier(RUNS)
    summaries, errors = [], []

    def run():
        try:
            with translation.override("en"):
                barrier.wait()
                summaries.append(reminders_send_due(now=now, **kwargs))
        except Exception as exc:  # noqa: BLE001  (reported by the assertion below)
            errors.append(exc)
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=run) for _ in range(RUNS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert len(summaries) == RUNS
    return summaries


@pytest.mark.services
def test_two_runs_at_the_same_time_send_each_reminder_once(require_postgres, people):
    zhujian, chengguan = people
    tasks = []
    for index in range(120):
        department = zhujian if index % 2 else chengguan
        tasks.append(open_task(department, ["2021-11-10", "2021-11-16", "2021-11-17", "2021-11-18"][index % 4]))
    # Small batches so that the two runs interleave many times.
    summaries = _run_together(at("2021-11-17"), batch_size=7)

    assert sum(sum(s.sent.values()) for s in summaries) == 120  # each claim delivered by one run
    assert ReminderClaim.objects.count() == 120
    expected_per_task = {
        ReminderLevel.ESCALATED: 2,  # supervisor, leader
        ReminderLevel.OVERDUE: 2,  # head, supervisor
        ReminderLevel.DUE_TODAY: 2,  # handler, head
        ReminderLevel.DUE_SOON: 1,  # handler
    }
    rows = list(Notification.objects.values_list("task_id", "level", "recipient_id"))
    assert len(rows) == len(set(rows)) == sum(s.notifications for s in summaries) == 30 * sum(expected_per_task.values())
    per_task = collections.Counter(task_id for task_id, _, _ in rows)
    levels = dict(Notification.objects.values_list("task_id", "level").distinct())
    assert all(per_task[task.pk] == expected_per_task[levels[task.pk]] for task in tasks)

    # Every (recipient, task) pair is listed in exactly one e-mail of one of the runs.
    listed = collections.Counter()
    for message in mail.outbox:
        for task in tasks:
            if f"#{task.pk} " in message.body:
                listed[(message.to[0], task.pk)] += 1
    assert len(mail.outbox) == sum(s.emails for s in summaries)
    assert len(listed) == len(rows) and set(listed.values()) == {1}

    # Both again, later the same day: nothing new.
    again = _run_together(at("2021-11-17", "11:00"))
    assert all(sum(s.sent.values()) == 0 and s.emails == 0 for s in again)
    assert Notification.objects.count() == len(rows)
