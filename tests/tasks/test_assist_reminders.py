"""Reminders of assisting parts (协办): their own levels for their sub-deadline, to their department, once."""

import collections
import datetime as dt
import threading

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone, translation

from tasks import services
from tasks.models import State, TaskAssist
from tasks.models.reminders import AssistReminderClaim, Notification, ReminderClaim, ReminderRule
from tasks.reminders import reminders_send_due

from .. import factories
from .reminder_helpers import _english_and_fast_passwords, at, deadline, L, open_task  # noqa: F401  (autouse)


def part(task, department, due: str, **fields) -> TaskAssist:
    return TaskAssist.objects.create(task=task, department=department, deadline=deadline(due), **fields)


def assist_notified(assist, level=None) -> set[str]:
    rows = Notification.objects.filter(assist=assist)
    if level:
        rows = rows.filter(level=level)
    return set(rows.values_list("recipient__username", flat=True))


@pytest.mark.parametrize("today, level, people", [
    # Sub-deadline Wed 17 Nov 2021 (the lead's is Fri 19 Nov).
    ("2021-11-15", None, set()),
    ("2021-11-16", L.DUE_SOON, {"handler-chengguan"}),
    ("2021-11-17", L.DUE_TODAY, {"handler-chengguan", "head-chengguan"}),
    ("2021-11-18", L.OVERDUE, {"head-chengguan"}),
    # Still only overdue long after (a part has no escalated level).
    ("2021-11-29", L.OVERDUE, {"head-chengguan"}),
])
def test_a_part_gets_its_levels_for_its_sub_deadline_and_its_department_only(cast, departments, today, level, people):
    task = open_task(departments.zhujian, "2021-12-31")  # the lead's own deadline is far off
    assist = part(task, departments.chengguan, "2021-11-17")
    summary = reminders_send_due(now=at(today))
    assert assist_notified(assist) == people
    assert summary.assist_parts == (1 if level else 0)
    if level:
        assert set(Notification.objects.filter(assist=assist).values_list("level", "deadline")) == {
            (level, deadline("2021-11-17"))
        }
    # The lead's reminders are not at any level yet, and the lead department hears nothing of the part.
    assert not Notification.objects.filter(assist__isnull=True).exists()


def test_replied_waived_and_off_clock_parts_get_nothing(cast, departments):
    now = at("2021-11-17")
    task = open_task(departments.zhujian, "2021-11-30")
    third = factories.DepartmentFactory(name="水利局", code="shuili")
    fourth = factories.DepartmentFactory(name="供水公司", code="water")
    part(task, departments.chengguan, "2021-11-17", reply="已配合", replied_at=now - dt.timedelta(days=1))
    part(task, third, "2021-11-17", waived_at=now - dt.timedelta(days=1), waived_by=cast.supervisor)
    returning = open_task(departments.zhujian, "2021-11-30", state=State.RETURN_REQUESTED)
    part(returning, fourth, "2021-11-17")
    summary = reminders_send_due(now=now)
    assert summary.assist_parts == 0 and not AssistReminderClaim.objects.exists()


def test_each_level_is_sent_once_however_often_the_run_repeats(cast, departments):
    task = open_task(departments.zhujian, "2021-11-30")
    assist = part(task, departments.chengguan, "2021-11-17")
    for moment in (at("2021-11-17"), at("2021-11-17", "11:00"), at("2021-11-17", "16:00")):
        reminders_send_due(now=moment)
    assert Notification.objects.filter(assist=assist).count() == 2  # handler and head, once
    assert AssistReminderClaim.objects.filter(assist=assist).count() == 1
    reminders_send_due(now=at("2021-11-18"))
    reminders_send_due(now=at("2021-11-18", "15:00"))
    assert sorted(AssistReminderClaim.objects.filter(assist=assist).values_list("level", flat=True)) == [
        L.DUE_TODAY, L.OVERDUE
    ]
    # The handler's e-mail of the first run names the part with its sub-deadline.
    body = next(m.body for m in mail.outbox if m.to == [cast.handler_chengguan.email])
    assert f"#{task.pk} " in body and "your assisting part's deadline 2021-11-17 23:59" in body


def test_a_moved_sub_deadline_starts_the_levels_again(cast, departments):
    task = open_task(departments.zhujian, "2021-11-19", state=State.IN_PROGRESS,
                     assigned_at=at("2021-11-01"), accepted_at=at("2021-11-01"))
    assist = part(task, departments.chengguan, "2021-11-17")
    reminders_send_due(now=at("2021-11-17"))
    services.task_request_extension(
        actor=cast.handler_zhujian, task=task, deadline=dt.date(2021, 11, 26), reason="需协调", now=at("2021-11-17")
    )
    services.task_approve_extension(actor=cast.supervisor, task=task, now=at("2021-11-17", "10:00"))
    assist.refresh_from_db()
    assert assist.deadline == deadline("2021-11-24")
    reminders_send_due(now=at("2021-11-24", "09:30"))
    assert set(AssistReminderClaim.objects.filter(assist=assist).values_list("level", "deadline")) == {
        (L.DUE_TODAY, deadline("2021-11-17")), (L.DUE_TODAY, deadline("2021-11-24")),
    }


def test_the_admins_policy_chooses_among_the_departments_people(cast, departments):
    ReminderRule.objects.create(level=L.DUE_TODAY, to_head=True, to_supervisors=True)
    task = open_task(departments.zhujian, "2021-11-30")
    assist = part(task, departments.chengguan, "2021-11-17")
    reminders_send_due(now=at("2021-11-17"))
    # The supervision office follows the lead's reminders, not the parts'.
    assert assist_notified(assist) == {"head-chengguan"}


def test_a_claim_of_a_run_that_died_is_delivered_by_the_next_one(cast, departments):
    task = open_task(departments.zhujian, "2021-11-30")
    assist = part(task, departments.chengguan, "2021-11-17")
    AssistReminderClaim.objects.create(
        assist=assist, level=L.DUE_TODAY, deadline=assist.deadline, token="dead", claimed_at=at("2021-11-17", "08:00")
    )
    summary = reminders_send_due(now=at("2021-11-17"))
    assert summary.retaken == 1 and summary.assist_parts == 1
    assert assist_notified(assist) == {"handler-chengguan", "head-chengguan"}
    assert AssistReminderClaim.objects.get().status == "delivered"


# --- Two runs at once (PostgreSQL) -------------------------------------------------------------


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
    return zhujian, chengguan


def _run_together(now, runs=2, **kwargs):
    barrier = threading.Barrier(runs)
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

    threads = [threading.Thread(target=run) for _ in range(runs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert len(summaries) == runs
    return summaries


@pytest.mark.services
def test_two_runs_at_the_same_time_send_each_part_level_once(require_postgres, people):
    zhujian, chengguan = people
    parts = []
    for index in range(90):
        lead, helper = (zhujian, chengguan) if index % 2 else (chengguan, zhujian)
        task = open_task(lead, "2021-12-31")
        parts.append(part(task, helper, ["2021-11-16", "2021-11-17", "2021-11-18"][index % 3]))
    # Small batches so that the two runs interleave many times.
    summaries = _run_together(at("2021-11-17"), batch_size=7)

    assert sum(s.assist_parts for s in summaries) == 90
    assert AssistReminderClaim.objects.count() == 90 and not ReminderClaim.objects.exists()
    rows = list(Notification.objects.values_list("assist_id", "level", "recipient_id"))
    # Overdue: head; due today: handler and head; due soon: handler.
    assert len(rows) == len(set(rows)) == sum(s.notifications for s in summaries) == 30 * (1 + 2 + 1)
    per_part = collections.Counter(assist_id for assist_id, _, _ in rows)
    assert set(per_part.values()) == {1, 2}

    # Every (recipient, task) pair is in exactly one e-mail of one of the runs.
    listed = collections.Counter()
    for message in mail.outbox:
        for assist in parts:
            if f"#{assist.task_id} " in message.body:
                listed[(message.to[0], assist.task_id)] += 1
    assert len(listed) == len(rows) and set(listed.values()) == {1}

    again = _run_together(at("2021-11-17", "11:00"))
    assert all(s.assist_parts == 0 and s.emails == 0 for s in again)
    assert Notification.objects.count() == len(rows)
    assert timezone.is_aware(AssistReminderClaim.objects.first().claimed_at)
