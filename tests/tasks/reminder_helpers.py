"""Shared helpers of the reminder tests: local moments, open tasks, who was notified."""

import datetime as dt

import pytest
from django.utils import timezone, translation

from tasks import calendar
from tasks.models import State
from tasks.models.reminders import Notification, ReminderLevel

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
