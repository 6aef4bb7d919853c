"""Same-day targets (当天上报、当天阅批、当天转办): missed steps flagged once for the supervisors."""

import pytest
from django.core import mail
from django.utils import timezone

from tasks import calendar
from tasks.models import State
from tasks.models.reminders import Notification
from tasks.reminders import reminders_send_due

from ..factories import TaskFactory
from .reminder_helpers import _english_and_fast_passwords, at, L, levels_of, notified  # noqa: F401  (an autouse fixture)


# --- Same-day targets: 当天上报、当天阅批、当天转办 ------------------------------------


def registered_task(when: str, state=State.REGISTERED):
    return TaskFactory(state=state, created_at=at(*when.split()))


@pytest.mark.parametrize(
    "registered, state, today, level",
    [
        ("2021-11-16 10:00", State.REGISTERED, "2021-11-16", None),  # still its registration day
        ("2021-11-16 10:00", State.REGISTERED, "2021-11-17", L.NOT_REPORTED),
        ("2021-11-16 10:00", State.REPORTED, "2021-11-17", L.NOT_REVIEWED),
        ("2021-11-16 10:00", State.REVIEWED, "2021-11-17", L.NOT_ASSIGNED),
        ("2021-11-16 10:00", State.ASSIGNED, "2021-11-17", None),
        ("2021-11-16 10:00", State.RETURNED, "2021-11-17", None),
        # Registered on Saturday: its registration working day is Monday.
        ("2021-11-13 10:00", State.REGISTERED, "2021-11-15", None),
        ("2021-11-13 10:00", State.REGISTERED, "2021-11-16", L.NOT_REPORTED),
        # Registered on the evening before National Day: late on 8 October, not before.
        ("2021-09-30 21:00", State.REPORTED, "2021-09-30", None),
        ("2021-09-30 21:00", State.REPORTED, "2021-10-08", L.NOT_REVIEWED),
        # Registered during the holiday: its registration working day is 8 October.
        ("2021-10-03 09:00", State.REVIEWED, "2021-10-08", None),
        ("2021-10-03 09:00", State.REVIEWED, "2021-10-09", L.NOT_ASSIGNED),
    ],
)
def test_a_task_not_dispatched_on_its_registration_day_is_listed_for_the_supervisors(
    cast, departments, registered, state, today, level
):
    task = registered_task(registered, state)
    summary = reminders_send_due(now=at(today))
    if level is None:
        assert Notification.objects.count() == 0
        return
    assert summary.sent[level] == 1 and levels_of(task) == [level]
    assert notified(task) == {"supervisor"}
    note = Notification.objects.get()
    assert note.deadline == calendar.end_of_day(
        calendar.add_working_days(timezone.localdate(at(*registered.split())), 0)
    )
    (message,) = mail.outbox
    assert f"#{task.pk} " in message.body


def test_each_missed_step_is_listed_once(cast, departments):
    task = registered_task("2021-11-12 16:00")
    for time in ("09:00", "09:15", "17:00"):
        reminders_send_due(now=at("2021-11-15", time))
    assert levels_of(task) == [L.NOT_REPORTED]
    task.state = State.REPORTED
    task.save()
    reminders_send_due(now=at("2021-11-16"))
    reminders_send_due(now=at("2021-11-17"))
    assert levels_of(task) == sorted([L.NOT_REPORTED, L.NOT_REVIEWED])
    assert Notification.objects.filter(task=task).count() == 2


def test_the_supervision_office_lists_the_tasks_that_missed_a_same_day_target(cast, departments):
    from tasks.reminders import tasks_missed_same_day

    late_report = registered_task("2021-11-12 16:00")
    late_review = registered_task("2021-11-13 09:00", State.REPORTED)  # Saturday: due Monday
    late_assignment = registered_task("2021-11-15 08:00", State.REVIEWED)  # Monday: late from Tuesday
    registered_task("2021-11-12 10:00", State.ASSIGNED)  # dispatched
    rows = tasks_missed_same_day(user=cast.supervisor, now=at("2021-11-15", "18:00"))
    assert [(task.pk, task.missed) for task in rows] == [(late_report.pk, L.NOT_REPORTED)]
    rows = tasks_missed_same_day(user=cast.leader, now=at("2021-11-16"))
    assert [(task.pk, task.missed) for task in rows] == [
        (late_report.pk, L.NOT_REPORTED),
        (late_review.pk, L.NOT_REVIEWED),
        (late_assignment.pk, L.NOT_ASSIGNED),
    ]
    assert list(tasks_missed_same_day(user=cast.handler_zhujian, now=at("2021-11-16"))) == []
