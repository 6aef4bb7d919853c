"""The supervision cadence: weekly department lists, monthly report cards, quarterly look-back draws."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ImproperlyConfigured
from django.utils import translation

from tasks.errors import DomainError
from tasks.models import State
from tasks.models.reminders import DigestKind, LookBackDraw, LookBackSample, ReminderDigest
from tasks.notifications import reminder_digests_send_due
from tasks.reminders.cadence import (
    cadence_run_due,
    look_back_draw,
    look_back_pick,
    look_back_queue,
    look_back_sample_check,
    look_back_share,
)

from ..factories import TaskFactory
from .reminder_helpers import at, flaky, open_task  # noqa: F401  (flaky is a fixture)


@pytest.fixture(autouse=True)
def _english_and_fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with translation.override("en"):
        yield


def run(day: str, time: str = "08:30"):
    now = at(day, time)
    summary = cadence_run_due(now=now)
    reminder_digests_send_due(now=now)
    return summary


def mails_to(username: str, subject: str = "") -> list:
    return [m for m in mail.outbox if m.to == [f"{username}@example.gov.cn"] and subject in m.subject]


def weekly(username: str) -> list:
    return mails_to(username, "Weekly list")


def closed_task(department, closed: str):
    return TaskFactory(state=State.CLOSED, lead_department=department, closed_at=at(closed, "15:00"))


# --- Weekly: 一周一调度 -------------------------------------------------------------


def test_each_department_member_gets_the_weekly_list_of_the_department(cast, departments):
    late = open_task(departments.zhujian, "2021-11-10", title="北关小区路灯不亮")
    soon = open_task(departments.zhujian, "2021-11-19", title="东环路井盖缺失")
    later = open_task(departments.zhujian, "2021-12-20", title="公园长椅损坏")
    other = open_task(departments.chengguan, "2021-11-10", title="菜市场占道经营")
    summary = run("2021-11-15")
    assert summary.weekly == 4  # handler and head of each department
    (message,) = weekly("handler-zhujian")
    assert message.subject == "Weekly list of 住建局: 3 open, 1 due soon, 1 overdue"
    assert late.title in message.body and soon.title in message.body
    assert later.title not in message.body and other.title not in message.body
    assert len(weekly("head-chengguan")) == 1 and other.title in weekly("head-chengguan")[0].body
    assert mails_to("supervisor") == [] and mails_to("leader") == []


def test_the_weekly_list_is_sent_once_a_week(cast, departments):
    open_task(departments.zhujian, "2021-11-10")
    for day, time in [("2021-11-15", "08:30"), ("2021-11-15", "08:30"), ("2021-11-15", "17:00"), ("2021-11-17", "08:30")]:
        run(day, time)
    assert len(weekly("handler-zhujian")) == 1
    run("2021-11-22")
    assert len(weekly("handler-zhujian")) == 2
    assert ReminderDigest.objects.filter(kind=DigestKind.WEEKLY).count() == 8


def test_in_a_holiday_week_the_weekly_list_waits_for_its_first_working_day(cast, departments):
    open_task(departments.zhujian, "2021-09-30")
    for day in ("2021-10-04", "2021-10-05", "2021-10-07"):
        assert run(day).weekly == 0
    assert run("2021-10-08").weekly == 4  # Friday 8 October, the week's first working day
    assert run("2021-10-09").weekly == 0  # the adjusted working Saturday: same week, already sent
    assert len(mails_to("head-zhujian")) == 2  # the weekly list, and September's report card


def test_inactive_departments_and_members_without_an_address_get_no_weekly_list(cast, departments):
    departments.chengguan.is_active = False
    departments.chengguan.save()
    cast.handler_zhujian.email = ""
    cast.handler_zhujian.save()
    assert run("2021-11-15").weekly == 1
    assert {m.to[0] for m in mail.outbox} == {"head-zhujian@example.gov.cn"}  # weekly list and report card


def test_a_failing_mail_server_delays_the_weekly_list_but_sends_it_once(cast, departments, flaky):
    flaky.failures = 6  # all six of the first run: four weekly lists, two report cards
    run("2021-11-15", "08:30")
    assert mail.outbox == []
    run("2021-11-15", "08:30:30")  # within the backoff (1 minute): nothing is retried yet
    assert mail.outbox == []
    run("2021-11-15", "09:00")
    run("2021-11-15", "10:00")
    # Each once: the four weekly lists and the heads' report cards of October.
    assert sorted(m.to[0].split("@")[0] for m in mail.outbox) == sorted(
        ["handler-zhujian", "head-zhujian", "head-zhujian", "handler-chengguan", "head-chengguan", "head-chengguan"]
    )


# --- Monthly: 一月一推进 ------------------------------------------------------------


def test_each_department_head_gets_last_months_report_card(cast, departments):
    closed_task(departments.zhujian, "2021-10-12")
    closed_task(departments.zhujian, "2021-10-20")
    closed_task(departments.zhujian, "2021-11-02")  # November: not in October's card
    summary = run("2021-11-01")
    assert summary.monthly == 2
    (message,) = mails_to("head-zhujian", "Report card")
    assert message.subject == "Report card of 住建局 for 2021-10"
    assert "- tasks closed: 2" in message.body
    assert mails_to("handler-zhujian", "Report card") == []
    run("2021-11-02")
    assert len(mails_to("head-zhujian", "Report card")) == 1


def test_a_month_starting_on_a_holiday_sends_its_report_card_on_the_first_working_day(cast, departments):
    assert run("2021-10-01").monthly == 0
    summary = run("2021-10-08")
    assert summary.monthly == 2
    (message,) = mails_to("head-chengguan", "Report card")
    assert message.subject == "Report card of 城管局 for 2021-09"


# --- Quarterly: 回头看 --------------------------------------------------------------


def test_the_quarters_draw_takes_the_share_of_each_departments_closed_tasks(cast, departments):
    zhujian = [closed_task(departments.zhujian, f"2021-{month:02d}-15") for month in (7, 8, 9) for _ in range(7)]
    chengguan = [closed_task(departments.chengguan, "2021-08-02") for _ in range(3)]
    closed_task(departments.zhujian, "2021-10-11")  # closed in Q4
    open_task(departments.zhujian, "2021-09-10")  # still open
    summary = run("2021-10-08")  # the fourth quarter's first working day
    assert (summary.look_back_departments, summary.look_back_tasks) == (2, 3 + 1)  # ceil(21 × 10%), ceil(0.3)
    drawn = {sample.task_id: sample.draw.department.code for sample in look_back_queue(user=cast.supervisor)}
    assert sum(code == "zhujian" for code in drawn.values()) == 3
    assert set(drawn) <= {task.pk for task in zhujian + chengguan}
    draw = LookBackDraw.objects.get(department=departments.zhujian)
    assert (draw.closed_count, draw.share, draw.seed) == (21, Decimal("0.100"), "2021-Q3/zhujian")
    # Again, or the next day: nothing more is drawn.
    assert run("2021-10-08", "09:00").look_back_tasks == 0
    assert run("2021-10-11").look_back_tasks == 0
    assert LookBackSample.objects.count() == 4


def test_the_draw_is_reproducible_from_its_seed():
    ids = list(range(100, 160))
    first = look_back_pick(ids, share=Decimal("0.1"), seed="2021-Q3/zhujian")
    assert len(first) == 6
    assert look_back_pick(list(reversed(ids)), share=Decimal("0.1"), seed="2021-Q3/zhujian") == first
    assert look_back_pick(ids, share=Decimal("0.1"), seed="2021-Q3/chengguan") != first
    assert look_back_pick(ids, share=Decimal("1"), seed="x") == ids
    assert look_back_pick([], share=Decimal("0.1"), seed="x") == []


def test_the_share_comes_from_the_settings_and_is_checked(settings, cast, departments):
    settings.LOOK_BACK_SHARE = "0.5"
    for _ in range(4):
        closed_task(departments.zhujian, "2021-08-02")
    assert look_back_draw(quarter_first=dt.date(2021, 7, 1), now=at("2021-10-08")).look_back_tasks == 2
    for bad in ("0", "1.5", "ten percent"):
        settings.LOOK_BACK_SHARE = bad
        with pytest.raises(ImproperlyConfigured, match="LOOK_BACK_SHARE"):
            look_back_share()
    with pytest.raises(DomainError, match="first day of a quarter"):
        look_back_draw(quarter_first=dt.date(2021, 8, 1), now=at("2021-10-08"), share=Decimal("0.1"))


def test_the_supervision_office_checks_a_sample_and_may_reopen_its_task(cast, departments):
    for _ in range(2):
        closed_task(departments.zhujian, "2021-08-02")
    look_back_draw(quarter_first=dt.date(2021, 7, 1), now=at("2021-10-08"), share=Decimal("1"))
    first, second = look_back_queue(user=cast.supervisor)
    assert list(look_back_queue(user=cast.handler_zhujian)) == []
    with pytest.raises(DomainError, match="Only the supervision office"):
        look_back_sample_check(actor=cast.head_zhujian, sample_id=first.pk, reopen=True, note="x", now=at("2021-10-11"))

    look_back_sample_check(actor=cast.supervisor, sample_id=first.pk, reopen=False, note="", now=at("2021-10-11"))
    reopened = look_back_sample_check(
        actor=cast.supervisor, sample_id=second.pk, reopen=True, note="路灯仍然不亮", now=at("2021-10-11")
    )
    reopened.task.refresh_from_db()
    assert reopened.outcome == LookBackSample.Outcome.REOPENED and reopened.task.state != State.CLOSED
    assert reopened.task.events.filter(action="look_back").count() == 1
    first.refresh_from_db()
    assert first.outcome == LookBackSample.Outcome.CONFIRMED and first.task.state == State.CLOSED
    assert list(look_back_queue(user=cast.supervisor)) == []
    with pytest.raises(DomainError, match="already checked"):
        look_back_sample_check(actor=cast.supervisor, sample_id=first.pk, reopen=True, note="x", now=at("2021-10-11"))
