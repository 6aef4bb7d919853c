"""Reminder levels on the working-day calendar, and who receives each level."""

import datetime as dt

import pytest
from django.core import mail

from tasks.models.reminders import Notification, ReminderRule
from tasks.reminders import level_on, reminders_send_due

from .reminder_helpers import _english_and_fast_passwords, at, deadline, L, levels_of, notified, open_task  # noqa: F401  (an autouse fixture)


# --- Which level on which day ------------------------------------------------------


@pytest.mark.parametrize(
    "due, today, level",
    [
        # An ordinary week: deadline Wednesday 17 Nov 2021.
        ("2021-11-17", "2021-11-15", None),
        ("2021-11-17", "2021-11-16", L.DUE_SOON),
        ("2021-11-17", "2021-11-17", L.DUE_TODAY),
        ("2021-11-17", "2021-11-18", L.OVERDUE),
        ("2021-11-17", "2021-11-19", L.OVERDUE),
        ("2021-11-17", "2021-11-22", L.ESCALATED),  # Thu, Fri, Mon: 3 working days
        ("2021-11-17", "2022-03-01", L.ESCALATED),
        # Across a weekend: deadline Monday 15 Nov is due soon on Friday 12th.
        ("2021-11-15", "2021-11-12", L.DUE_SOON),
        ("2021-11-15", "2021-11-16", L.OVERDUE),
        ("2021-11-15", "2021-11-18", L.ESCALATED),
        # Deadline Friday 19 Nov: overdue on Monday, escalated on Wednesday.
        ("2021-11-19", "2021-11-22", L.OVERDUE),
        ("2021-11-19", "2021-11-23", L.OVERDUE),
        ("2021-11-19", "2021-11-24", L.ESCALATED),
        # A supervisor's deadline on Saturday 20 Nov: due today on Friday, overdue on Monday.
        ("2021-11-20", "2021-11-18", L.DUE_SOON),
        ("2021-11-20", "2021-11-19", L.DUE_TODAY),
        ("2021-11-20", "2021-11-22", L.OVERDUE),
        # National Day 2021: 1–7 Oct off, Sun 26 Sep and Sat 9 Oct adjusted working days.
        ("2021-09-30", "2021-09-29", L.DUE_SOON),
        ("2021-09-30", "2021-09-30", L.DUE_TODAY),
        ("2021-09-30", "2021-10-08", L.OVERDUE),
        ("2021-09-30", "2021-10-09", L.OVERDUE),
        ("2021-09-30", "2021-10-11", L.ESCALATED),  # Fri 8, Sat 9 (调休), Mon 11
        ("2021-10-08", "2021-09-30", L.DUE_SOON),  # the working day before 8 Oct is 30 Sep
        ("2021-10-08", "2021-10-09", L.OVERDUE),  # the 调休 Saturday is a working day
        ("2021-09-27", "2021-09-26", L.DUE_SOON),  # the 调休 Sunday too
        # A deadline set on a holiday is due on the last working day before it.
        ("2021-10-04", "2021-09-30", L.DUE_TODAY),
        ("2021-10-04", "2021-10-08", L.OVERDUE),
    ],
)
def test_level_is_reached_on_the_right_working_day(db, due, today, level):
    assert level_on(deadline=deadline(due), today=dt.date.fromisoformat(today)) == level


@pytest.mark.parametrize("day_off", ["2021-10-01", "2021-10-04", "2021-11-20", "2021-11-21"])
def test_nothing_is_sent_on_a_day_off(cast, departments, day_off):
    open_task(departments.zhujian, "2021-09-30")
    open_task(departments.zhujian, "2021-11-19")
    summary = reminders_send_due(now=at(day_off))
    assert summary.working_day is False
    assert Notification.objects.count() == 0 and mail.outbox == []


def test_run_across_national_day_sends_each_level_on_its_day(cast, departments):
    task = open_task(departments.zhujian, "2021-09-30")
    days = ["2021-09-28", "2021-09-29", "2021-09-30", "2021-10-01", "2021-10-07", "2021-10-08", "2021-10-09"]
    days += ["2021-10-11", "2021-10-12"]
    sent_on = {}
    for day in days:
        summary = reminders_send_due(now=at(day))
        sent_on[day] = [level for level, count in summary.sent.items() if count]
    assert sent_on == {
        "2021-09-28": [],
        "2021-09-29": [L.DUE_SOON],
        "2021-09-30": [L.DUE_TODAY],
        "2021-10-01": [],
        "2021-10-07": [],
        "2021-10-08": [L.OVERDUE],
        "2021-10-09": [],
        "2021-10-11": [L.ESCALATED],
        "2021-10-12": [],
    }
    assert levels_of(task) == sorted([L.DUE_SOON, L.DUE_TODAY, L.OVERDUE, L.ESCALATED])


def test_a_missed_day_sends_the_level_in_force_not_the_stale_one(cast, departments):
    task = open_task(departments.zhujian, "2021-11-17")
    # No run on the 16th (due soon) nor the 17th: the 18th sends "overdue" only.
    reminders_send_due(now=at("2021-11-18"))
    assert levels_of(task) == [L.OVERDUE]


# --- Recipients ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "today, level, expected",
    [
        ("2021-11-16", L.DUE_SOON, {"handler-zhujian"}),
        ("2021-11-17", L.DUE_TODAY, {"handler-zhujian", "head-zhujian"}),
        ("2021-11-18", L.OVERDUE, {"head-zhujian", "supervisor"}),
        ("2021-11-22", L.ESCALATED, {"supervisor", "leader"}),
    ],
)
def test_each_level_goes_to_its_recipients(cast, departments, today, level, expected):
    task = open_task(departments.zhujian, "2021-11-17")
    open_task(departments.chengguan, "2021-12-31")  # another department's task, not due
    reminders_send_due(now=at(today))
    assert notified(task, level) == expected
    assert set(Notification.objects.values_list("recipient__username", flat=True)) == expected
    assert sorted(m.to[0] for m in mail.outbox) == sorted(f"{name}@example.gov.cn" for name in expected)


def test_handlers_of_another_department_and_inactive_users_get_nothing(cast, departments):
    cast.handler_chengguan.is_active = True
    second = type(cast.handler_zhujian).objects.create(
        username="handler-zhujian-2", role="handler", department=departments.zhujian, is_active=False
    )
    task = open_task(departments.zhujian, "2021-11-17")
    reminders_send_due(now=at("2021-11-16"))
    assert notified(task) == {"handler-zhujian"}
    assert not Notification.objects.filter(recipient=second).exists()


def test_admin_policy_changes_escalation_days_and_recipients(cast, departments):
    ReminderRule.objects.create(level=L.ESCALATED, days=5, to_supervisors=True)
    ReminderRule.objects.create(level=L.DUE_SOON, days=2, to_handlers=True, to_head=True)
    late = open_task(departments.zhujian, "2021-11-17")
    soon = open_task(departments.zhujian, "2021-11-24")
    reminders_send_due(now=at("2021-11-22"))  # 3 working days after the 17th: still only overdue
    assert levels_of(late) == [L.OVERDUE]
    assert notified(soon, L.DUE_SOON) == {"handler-zhujian", "head-zhujian"}  # 2 working days before
    reminders_send_due(now=at("2021-11-24"))  # the 5th working day after the 17th
    assert notified(late, L.ESCALATED) == {"supervisor"}


def test_an_inactive_level_is_not_sent(cast, departments):
    ReminderRule.objects.create(level=L.DUE_SOON, days=1, is_active=False, to_handlers=True)
    task = open_task(departments.zhujian, "2021-11-17")
    assert reminders_send_due(now=at("2021-11-16")).sent[L.DUE_SOON] == 0
    reminders_send_due(now=at("2021-11-17"))
    assert levels_of(task) == [L.DUE_TODAY]


def test_an_invalid_rule_saved_around_the_admin_falls_back_to_the_defaults(cast, departments):
    ReminderRule.objects.bulk_create([ReminderRule(level=L.ESCALATED, days=1, to_leaders=True)])
    task = open_task(departments.zhujian, "2021-11-17")
    reminders_send_due(now=at("2021-11-18"))  # with days=1 this would already be "escalated"
    assert levels_of(task) == [L.OVERDUE]
    reminders_send_due(now=at("2021-11-22"))
    assert notified(task, L.ESCALATED) == {"supervisor", "leader"}


def test_a_policy_that_would_hide_a_level_is_refused(db):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="at least 2 working days"):
        ReminderRule(level=L.ESCALATED, days=1, to_leaders=True).full_clean()
    with pytest.raises(ValidationError, match="at least one kind of recipient"):
        ReminderRule(level=L.OVERDUE, days=1).full_clean()
