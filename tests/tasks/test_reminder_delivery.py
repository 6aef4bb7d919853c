"""Delivery: one digest per recipient, failing mail servers, the in-app notifications."""

import datetime as dt

import pytest
from django.core import mail

from tasks.models.reminders import Notification, ReminderDigest
from tasks.reminders import reminders_send_due

from .reminder_helpers import L, _english_and_fast_passwords, at, flaky, notified, open_task  # noqa: F401  (an autouse fixture)


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
