"""Reminders exactly once: repeated runs, extensions, closed tasks, killed runs, claims; the cost of a run."""

import datetime as dt

import pytest
from django.core import mail

from tasks import calendar
from tasks.models import State
from tasks.models.reminders import ClaimStatus, Notification, ReminderClaim, ReminderDigest
from tasks.reminders import reminder_claims_take, reminders_send_due

from .reminder_helpers import _english_and_fast_passwords, at, deadline, L, levels_of, notified, open_task  # noqa: F401  (an autouse fixture)


# --- Exactly once, extensions, closed tasks ------------------------------------------


def test_repeated_runs_send_each_level_once(cast, departments):
    tasks = [open_task(departments.zhujian, "2021-11-17") for _ in range(3)]
    first = reminders_send_due(now=at("2021-11-17", "08:00"))
    assert first.sent[L.DUE_TODAY] == 3 and first.notifications == 6 and first.emails == 2
    for time in ("08:15", "08:15", "12:00", "18:45"):
        again = reminders_send_due(now=at("2021-11-17", time))
        assert again.line().startswith("due_soon=0 due_today=0 overdue=0 escalated=0 not_reported=0 ")
        assert again.line().endswith(" notifications=0 emails=0 email_failures=0")
    assert Notification.objects.count() == 6
    assert len(mail.outbox) == 2
    assert ReminderClaim.objects.filter(status=ClaimStatus.DELIVERED).count() == 3
    assert all(notified(task) == {"handler-zhujian", "head-zhujian"} for task in tasks)


def test_an_extension_starts_the_levels_again(cast, departments):
    task = open_task(departments.zhujian, "2021-11-17")
    reminders_send_due(now=at("2021-11-17"))
    reminders_send_due(now=at("2021-11-18"))
    assert levels_of(task) == [L.DUE_TODAY, L.OVERDUE]
    # The supervisor approves a new deadline, Wednesday 24 Nov.
    task.deadline = deadline("2021-11-24")
    task.extension_count = 1
    task.save()
    for day in ("2021-11-19", "2021-11-22", "2021-11-23", "2021-11-23", "2021-11-24", "2021-11-25"):
        reminders_send_due(now=at(day))
    new = Notification.objects.filter(task=task, deadline=deadline("2021-11-24"))
    assert set(new.values_list("level", flat=True)) == {L.DUE_SOON, L.DUE_TODAY, L.OVERDUE}
    assert new.filter(level=L.DUE_SOON).count() == 1  # handler only, once
    assert Notification.objects.filter(task=task, deadline=deadline("2021-11-17")).count() == 4


@pytest.mark.parametrize("state", [State.CLOSED, State.MERGED, State.RETURNED, State.RETURN_REQUESTED, State.REPLIED])
def test_a_task_off_the_handling_clock_gets_nothing(cast, departments, state):
    open_task(departments.zhujian, "2021-11-17", state=state)
    for day in ("2021-11-16", "2021-11-17", "2021-11-18", "2021-11-22"):
        reminders_send_due(now=at(day))
    assert Notification.objects.count() == 0 and mail.outbox == []


def test_a_task_closed_after_a_reminder_gets_nothing_more(cast, departments):
    task = open_task(departments.zhujian, "2021-11-17")
    reminders_send_due(now=at("2021-11-17"))
    task.state = State.CLOSED
    task.save()
    reminders_send_due(now=at("2021-11-18"))
    reminders_send_due(now=at("2021-11-22"))
    assert levels_of(task) == [L.DUE_TODAY]


def test_a_run_killed_after_claiming_is_finished_by_a_later_run(cast, departments):
    task = open_task(departments.zhujian, "2021-11-18")
    # A worker claimed the reminder at 09:00 and died before delivering it.
    assert list(reminder_claims_take(now=at("2021-11-17", "09:00"), level=L.DUE_SOON, task_ids=[task.pk]))
    # Two minutes later the claim may still be in delivery: another run leaves it alone.
    assert reminders_send_due(now=at("2021-11-17", "09:02")).notifications == 0
    later = reminders_send_due(now=at("2021-11-17", "09:15"))
    assert later.retaken == 1 and later.sent[L.DUE_SOON] == 1
    assert notified(task, L.DUE_SOON) == {"handler-zhujian"}
    assert len(mail.outbox) == 1
    claim = ReminderClaim.objects.get(task=task)
    assert claim.status == ClaimStatus.DELIVERED and claim.attempts == 2
    assert reminders_send_due(now=at("2021-11-17", "09:30")).notifications == 0


def test_a_stale_claim_for_a_task_since_closed_is_cancelled(cast, departments):
    task = open_task(departments.zhujian, "2021-11-18")
    reminder_claims_take(now=at("2021-11-17", "09:00"), level=L.DUE_SOON, task_ids=[task.pk])
    task.state = State.CLOSED
    task.save()
    summary = reminders_send_due(now=at("2021-11-17", "10:00"))
    assert summary.cancelled == 1 and summary.notifications == 0
    assert ReminderClaim.objects.get(task=task).status == ClaimStatus.CANCELLED


def test_the_limit_bounds_a_run_and_the_next_run_sends_the_rest(cast, departments):
    late = [open_task(departments.zhujian, "2021-11-10") for _ in range(3)]
    soon = [open_task(departments.chengguan, "2021-11-18") for _ in range(2)]
    first = reminders_send_due(now=at("2021-11-17"), limit=2, batch_size=1)
    assert first.more and sum(first.sent.values()) == 2
    assert first.sent[L.ESCALATED] == 2  # the most important level first
    second = reminders_send_due(now=at("2021-11-17"), limit=2)
    third = reminders_send_due(now=at("2021-11-17"), limit=2)
    assert sum(second.sent.values()) + sum(third.sent.values()) == 3 and not third.more
    assert all(levels_of(task) == [L.ESCALATED] for task in late)
    assert all(levels_of(task) == [L.DUE_SOON] for task in soon)


@pytest.mark.parametrize("insert", ["_insert_on_conflict", "_insert_one_by_one"])
def test_a_claim_is_won_by_the_first_insert_only(cast, departments, insert):
    from django.db import transaction

    from tasks.reminders import claims

    insert = getattr(claims, insert)
    task = open_task(departments.zhujian, "2021-11-17")
    rows = [(task.pk, task.deadline, task.lead_department_id)]
    with transaction.atomic():  # a lost race must not break the caller's transaction
        first = insert(rows, level=L.DUE_TODAY, token="a" * 32, now=at("2021-11-17"))
        second = insert(rows, level=L.DUE_TODAY, token="b" * 32, now=at("2021-11-17"))
        other_level = insert(rows, level=L.OVERDUE, token="b" * 32, now=at("2021-11-17"))
        assert ReminderClaim.objects.count() == 2
    assert list(first) == [task.pk] and second == {} and list(other_level) == [task.pk]
    assert ReminderClaim.objects.get(pk=first[task.pk]).token == "a" * 32


def test_a_naive_now_is_refused(db):
    from tasks.errors import DomainError

    with pytest.raises(DomainError, match="time zone"):
        reminders_send_due(now=dt.datetime(2021, 11, 17, 9))


# --- Cost --------------------------------------------------------------------------


def _queries_of_a_run(departments, count, day):
    for index in range(count):
        open_task(departments.zhujian if index % 2 else departments.chengguan, "2021-11-17")
        open_task(departments.zhujian, "2021-11-10")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        reminders_send_due(now=at(day))
    return len(captured)


@pytest.mark.parametrize("day", ["2021-11-17", "2021-11-18"])
def test_the_query_count_of_a_run_does_not_grow_with_the_tasks(cast, departments, day):
    calendar.is_working_day(dt.date(2021, 11, 17))  # the calendar's cache loads once per process, not per run
    few = _queries_of_a_run(departments, 2, day)
    Notification.objects.all().delete()
    ReminderClaim.objects.all().delete()
    ReminderDigest.objects.all().delete()
    mail.outbox.clear()
    many = _queries_of_a_run(departments, 40, day)
    assert many == few, (few, many)
