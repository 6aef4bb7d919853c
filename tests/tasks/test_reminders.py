"""Reminder levels on the working-day calendar, recipients, exactly once, and delivery."""

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone, translation

from tasks import calendar
from tasks.models import State
from tasks.models.reminders import (
    ClaimStatus,
    Notification,
    ReminderClaim,
    ReminderDigest,
    ReminderLevel,
    ReminderRule,
)
from tasks.reminders import level_on, reminder_claims_take, reminders_send_due

from ..factories import TaskFactory

L = ReminderLevel


def at(day: str, time: str = "09:00") -> dt.datetime:
    """A local (Asia/Shanghai) moment, as the beat job would see it."""
    return timezone.make_aware(dt.datetime.fromisoformat(f"{day}T{time}"))


def deadline(day: str) -> dt.datetime:
    return calendar.end_of_day(dt.date.fromisoformat(day))


def open_task(department, due: str, *, state=State.ACCEPTED, **kwargs):
    return TaskFactory(state=state, lead_department=department, deadline=deadline(due), **kwargs)


def notified(task, level=None) -> set[str]:
    rows = Notification.objects.filter(task=task)
    if level:
        rows = rows.filter(level=level)
    return set(rows.values_list("recipient__username", flat=True))


def levels_of(task) -> list[str]:
    return sorted(set(Notification.objects.filter(task=task).values_list("level", flat=True)))


@pytest.fixture(autouse=True)
def _english_and_fast_passwords(settings):
    # The cast's nine users would otherwise spend seconds in PBKDF2 per test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with translation.override("en"):
        yield


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


# --- Delivery ----------------------------------------------------------------------


def test_one_digest_per_recipient_lists_all_their_tasks(cast, departments):
    overdue = open_task(departments.zhujian, "2021-11-17", title="北关小区路灯不亮")
    today = open_task(departments.zhujian, "2021-11-18", title="东环路井盖缺失")
    other = open_task(departments.chengguan, "2021-11-18", title="菜市场占道经营")
    reminders_send_due(now=at("2021-11-18"))
    by_address = {m.to[0]: m for m in mail.outbox}
    assert sorted(by_address) == sorted(
        f"{name}@example.gov.cn"
        for name in ("handler-zhujian", "head-zhujian", "supervisor", "handler-chengguan", "head-chengguan")
    )
    head = by_address["head-zhujian@example.gov.cn"]
    assert "2 tasks" in head.subject
    assert overdue.title in head.body and today.title in head.body and other.title not in head.body
    assert head.body.index("overdue (1)") < head.body.index("due today (1)")
    html = head.alternatives[0]
    assert html[1] == "text/html" and overdue.title in html[0]
    assert today.title not in by_address["supervisor@example.gov.cn"].body
    assert ReminderDigest.objects.filter(sent_at__isnull=False).count() == 5


def test_a_long_digest_lists_the_first_tasks_and_counts_the_rest(cast, departments, monkeypatch):
    monkeypatch.setattr("tasks.notifications.DIGEST_ITEMS_PER_LEVEL", 2)
    for _ in range(5):
        open_task(departments.zhujian, "2021-11-17")
    reminders_send_due(now=at("2021-11-17"))
    message = next(m for m in mail.outbox if m.to == ["handler-zhujian@example.gov.cn"])
    assert "due today (5)" in message.body and "and 3 more" in message.body
    assert message.body.count("#") == 2


def test_users_without_an_address_get_the_notification_only(cast, departments):
    cast.handler_zhujian.email = ""
    cast.handler_zhujian.save()
    task = open_task(departments.zhujian, "2021-11-16")
    summary = reminders_send_due(now=at("2021-11-15"))
    assert notified(task) == {"handler-zhujian"}
    assert summary.emails == 0 and mail.outbox == []


class FlakyBackend:
    """An e-mail backend that refuses some addresses, or the first `failures` messages."""

    refused: set = set()
    failures = 0
    calls = 0

    def __init__(self, *args, fail_silently=False, **kwargs):
        from django.core.mail.backends.locmem import EmailBackend

        self.inner = EmailBackend(fail_silently=fail_silently)

    def open(self):
        return True

    def close(self):
        pass

    def send_messages(self, messages):
        import smtplib

        for message in messages:
            type(self).calls += 1
            if type(self).calls <= type(self).failures:
                raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
            if set(message.to) & self.refused:
                raise smtplib.SMTPRecipientsRefused({message.to[0]: (550, b"mailbox unavailable")})
        return self.inner.send_messages(messages)


@pytest.fixture
def flaky(settings):
    settings.EMAIL_BACKEND = f"{__name__}.FlakyBackend"
    FlakyBackend.refused, FlakyBackend.failures, FlakyBackend.calls = set(), 0, 0
    return FlakyBackend


def test_a_failing_mail_server_keeps_notifications_and_other_recipients_mail(cast, departments, flaky):
    flaky.refused = {"head-zhujian@example.gov.cn"}
    task = open_task(departments.zhujian, "2021-11-17")
    summary = reminders_send_due(now=at("2021-11-18"))
    assert notified(task) == {"head-zhujian", "supervisor"}
    assert [m.to for m in mail.outbox] == [["supervisor@example.gov.cn"]]
    assert summary.emails == 1 and summary.email_failures == 1 and len(summary.failed_digest_ids) == 1
    failed = ReminderDigest.objects.get(pk=summary.failed_digest_ids[0])
    assert failed.sent_at is None and failed.attempts == 1 and "SMTPRecipientsRefused" in failed.last_error
    assert failed.next_attempt_at == at("2021-11-18") + dt.timedelta(minutes=1)


def test_a_mail_server_that_fails_twice_then_recovers_sends_every_mail_once(cast, departments, flaky):
    flaky.failures = 2
    for _ in range(2):
        open_task(departments.zhujian, "2021-11-17")
    first = reminders_send_due(now=at("2021-11-18", "09:00"))
    assert first.email_failures == 2 and mail.outbox == []  # head and supervisor: both refused
    # The next run retries only when the backoff (1 minute after the 1st failure) has passed.
    assert reminders_send_due(now=at("2021-11-18", "09:00:30")).emails == 0
    second = reminders_send_due(now=at("2021-11-18", "09:15"))
    assert second.emails == 2 and second.notifications == 0
    assert reminders_send_due(now=at("2021-11-18", "09:30")).emails == 0
    assert sorted(m.to[0] for m in mail.outbox) == ["head-zhujian@example.gov.cn", "supervisor@example.gov.cn"]
    assert all("2 tasks" in m.subject for m in mail.outbox)
    assert Notification.objects.count() == 4


def test_a_digest_is_given_up_after_the_last_attempt(cast, departments, flaky):
    from tasks.notifications import MAX_EMAIL_ATTEMPTS

    flaky.refused = {"handler-zhujian@example.gov.cn"}
    open_task(departments.zhujian, "2021-11-18")
    now = at("2021-11-17", "08:00")
    for _ in range(MAX_EMAIL_ATTEMPTS + 3):
        reminders_send_due(now=now)
        now += dt.timedelta(minutes=61)  # past the longest backoff, still on the same day
    digest = ReminderDigest.objects.get()
    assert digest.attempts == MAX_EMAIL_ATTEMPTS and digest.given_up and digest.sent_at is None
    assert Notification.objects.count() == 1


def test_my_unread_notifications_newest_first_and_marking_them_read(cast, departments):
    from tasks.errors import DomainError
    from tasks.notifications import (
        notification_mark_read,
        notifications_mark_all_read,
        notifications_unread_count,
        notifications_unread_for,
    )

    first = open_task(departments.zhujian, "2021-11-17")
    second = open_task(departments.zhujian, "2021-11-18")
    reminders_send_due(now=at("2021-11-16"))  # first: due soon
    reminders_send_due(now=at("2021-11-17"))  # first: due today; second: due soon
    handler = cast.handler_zhujian
    unread = notifications_unread_for(user=handler)
    assert [(n.task_id, n.level) for n in unread] == [
        (second.pk, L.DUE_SOON),
        (first.pk, L.DUE_TODAY),
        (first.pk, L.DUE_SOON),
    ]  # the same run writes due today before due soon, so it is the older of the two
    assert notifications_unread_count(user=handler) == 3
    with pytest.raises(DomainError, match="not yours"):
        notification_mark_read(user=cast.handler_chengguan, notification_id=unread[0].pk, now=at("2021-11-17"))
    notification_mark_read(user=handler, notification_id=unread[0].pk, now=at("2021-11-17", "10:00"))
    notification_mark_read(user=handler, notification_id=unread[0].pk, now=at("2021-11-17", "11:00"))  # again: no-op
    unread[0].refresh_from_db()
    assert unread[0].read_at == at("2021-11-17", "10:00")
    assert notifications_unread_count(user=handler) == 2
    assert notifications_mark_all_read(user=handler, now=at("2021-11-17", "12:00")) == 2
    assert notifications_unread_for(user=handler) == [] and notifications_unread_count(user=cast.head_zhujian) == 1


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
