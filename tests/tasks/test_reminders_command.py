"""`manage.py send_reminders`: the same run as the beat job, one line of counts."""

import io

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.utils import translation

from tasks.models.reminders import Notification

from .reminder_helpers import open_task


@pytest.fixture(autouse=True)
def _english_and_fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with translation.override("en"):
        yield


def send(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("send_reminders", *args, stdout=out, stderr=err)
    return out.getvalue().strip(), err.getvalue().strip()


def test_the_command_prints_the_counts_and_a_second_call_sends_nothing(cast, departments):
    open_task(departments.zhujian, "2021-11-15")
    open_task(departments.chengguan, "2021-11-16")
    open_task(departments.chengguan, "2021-11-08")
    out, _ = send("--now", "2021-11-15T09:00:00+08:00")
    assert out.startswith("due_soon=1 due_today=1 overdue=0 escalated=1 ")
    assert out.endswith(" notifications=5 emails=5 email_failures=0")
    out, _ = send("--now", "2021-11-15T09:00:00+08:00")
    assert out.startswith("due_soon=0 due_today=0 overdue=0 escalated=0 ") and " notifications=0 " in out
    assert Notification.objects.count() == 5 and len(mail.outbox) == 5


def test_a_time_without_offset_is_local_time(cast, departments):
    open_task(departments.zhujian, "2021-11-15")
    # 01:00 in Dingzhou on Monday the 15th is still Sunday in UTC; the level follows local time.
    out, _ = send("--now", "2021-11-15T01:00")
    assert out.startswith("due_soon=0 due_today=1 ")


def test_a_day_off_is_reported(cast, departments):
    open_task(departments.zhujian, "2021-11-15")
    out, err = send("--now", "2021-11-13T09:00:00+08:00")
    assert out.startswith("due_soon=0 due_today=0 overdue=0 escalated=0")
    assert "2021-11-13 is not a working day" in err


@pytest.mark.parametrize("value", ["yesterday", "2021-13-01T09:00", "2021-11-15 25:00"])
def test_a_bad_now_is_refused_with_a_clear_message(db, value):
    with pytest.raises(CommandError, match="--now"):
        send("--now", value)


def test_a_bad_limit_is_refused(db):
    with pytest.raises(CommandError, match="limit"):
        send("--limit", "0")
