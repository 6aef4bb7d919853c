"""Stage clocks: a return request stops the handling clock, a refusal resumes it with the time left; extensions don't.

Every step runs at a fixed `now` in 2021 (Mid-autumn 19–21 Sep off, Sat 18 and Sun 26 Sep
adjusted working days), so the working-day arithmetic is checked against real dates.
"""

import datetime as dt

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from feedback.models import Category, Urgency
from tasks import clocks, deadlines, selectors, services
from tasks.models import Action, State, TaskAssist

from ..factories import TaskFactory

SHANGHAI = timezone.get_default_timezone()
S = State


def at(y, m, d, hh=10, mm=0):
    return dt.datetime(y, m, d, hh, mm, tzinfo=SHANGHAI)


def eod(y, m, d):
    return dt.datetime(y, m, d, 23, 59, 59, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def rules(db):
    deadlines.ensure_default_rules()


def assigned(cast, departments, *, now, accept=True, assisting=(), **fields):
    """A task assigned to 住建局 at `now` (a 咨询 by default: 3 working days), accepted an hour later."""
    fields.setdefault("category", Category.CONSULTATION)
    task = TaskFactory(state=S.REGISTERED, **fields)
    services.task_assign(actor=cast.supervisor, task=task, lead_department=departments.zhujian,
                         assisting_departments=assisting, now=now)
    if accept:
        services.task_accept(actor=cast.handler_zhujian, task=task, now=now + dt.timedelta(hours=1))
    return task


def ask_return(cast, task, now):
    return services.task_request_return(actor=cast.handler_zhujian, task=task, reason_code="not_our_duty",
                                        reason="属城管局职责", now=now)


# --- The resume rule ---------------------------------------------------------------------


def test_the_resume_rule_gives_back_working_days_on_the_calendar():
    # Requested Tue 14 Sep, due Thu 16 Sep (3 working days left: 14, 15, 16), refused Fri 24 Sep:
    # Fri 24, Sun 26 (调休), Mon 27.
    assert clocks.resumed_deadline(eod(2021, 9, 16), paused_at=at(2021, 9, 14), resumed_at=at(2021, 9, 24)) == eod(
        2021, 9, 27)
    # Refused on a day off (Sat 25 Sep): the days left start at the next working day.
    assert clocks.resumed_deadline(eod(2021, 9, 16), paused_at=at(2021, 9, 14), resumed_at=at(2021, 9, 25)) == eod(
        2021, 9, 28)
    # Requested on a day off (Sun 19 Sep, Mid-autumn) with the deadline Wed 22: 1 working day left.
    assert clocks.resumed_deadline(eod(2021, 9, 22), paused_at=at(2021, 9, 19), resumed_at=at(2021, 9, 28)) == eod(
        2021, 9, 28)
    # Decided the same day: nothing changes.
    assert clocks.resumed_deadline(eod(2021, 9, 16), paused_at=at(2021, 9, 14), resumed_at=at(2021, 9, 14, 16)) == eod(
        2021, 9, 16)


def test_the_resume_rule_keeps_clock_hours_for_hour_deadlines_and_nothing_for_a_passed_one():
    assert clocks.resumed_deadline(at(2021, 9, 14, 10), paused_at=at(2021, 9, 13, 18),
                                   resumed_at=at(2021, 9, 15, 9)) == at(2021, 9, 16, 1)
    # Already overdue when the return was requested: the deadline stays, the task resumes overdue.
    assert clocks.resumed_deadline(eod(2021, 9, 10), paused_at=at(2021, 9, 13),
                                   resumed_at=at(2021, 9, 24)) == eod(2021, 9, 10)


# --- Return requests pause the clock ----------------------------------------------------------


def test_a_return_request_pauses_the_clock_and_a_refusal_resumes_it_with_the_time_left(cast, departments):
    task = assigned(cast, departments, now=at(2021, 9, 13))
    assert task.deadline == eod(2021, 9, 16)
    ask_return(cast, task, at(2021, 9, 14))
    task.refresh_from_db()
    assert (task.state, task.clock_paused_at) == (S.RETURN_REQUESTED, at(2021, 9, 14))

    # Past the old deadline while paused: not overdue anywhere.
    late = at(2021, 9, 23)
    assert not task.is_overdue(late)
    assert task not in selectors.department_overdue_tasks(cast.handler_zhujian, now=late)

    services.task_refuse_return(actor=cast.supervisor, task=task, note="属于住建局职责", now=at(2021, 9, 24))
    task.refresh_from_db()
    assert task.state == S.ACCEPTED
    assert task.deadline == eod(2021, 9, 27)
    assert (task.clock_paused_at, task.paused_seconds) == (None, 10 * 24 * 3600)
    event = task.events.get(action=Action.REFUSE_RETURN)
    assert event.data["paused_seconds"] == 10 * 24 * 3600
    assert dt.datetime.fromisoformat(event.data["previous_deadline"]) == eod(2021, 9, 16)
    assert dt.datetime.fromisoformat(event.data["deadline"]) == eod(2021, 9, 27)


def test_the_overdue_list_and_is_overdue_use_the_resumed_deadline(cast, departments):
    task = assigned(cast, departments, now=at(2021, 9, 13))
    ask_return(cast, task, at(2021, 9, 14))
    services.task_refuse_return(actor=cast.supervisor, task=task, note="属于住建局职责", now=at(2021, 9, 24))
    handler = cast.handler_zhujian
    on_time, overdue = at(2021, 9, 27, 20), at(2021, 9, 28, 0, 30)
    assert not task.is_overdue(on_time)
    assert task not in selectors.department_overdue_tasks(handler, now=on_time)
    assert task.is_overdue(overdue)
    assert list(selectors.department_overdue_tasks(handler, now=overdue)) == [task]
    def by_department(now):
        return [(row["lead_department_id"], row["overdue"])
                for row in selectors.overdue_by_department(cast.supervisor, now=now)]

    assert by_department(on_time) == []
    assert by_department(overdue) == [(departments.zhujian.pk, 1)]


def test_an_urgent_task_resumes_with_its_hours_left(cast, departments):
    task = assigned(cast, departments, now=at(2021, 9, 13), urgency=Urgency.URGENT)
    assert task.deadline == at(2021, 9, 14, 10)
    ask_return(cast, task, at(2021, 9, 13, 18))  # 16 hours left
    services.task_refuse_return(actor=cast.supervisor, task=task, note="请继续办理", now=at(2021, 9, 15, 9))
    assert task.deadline == at(2021, 9, 16, 1)


def test_a_return_before_acceptance_also_stops_the_acceptance_clock(cast, departments):
    task = assigned(cast, departments, now=at(2021, 9, 13), accept=False)
    assert task.accept_deadline == eod(2021, 9, 14)
    ask_return(cast, task, at(2021, 9, 13, 15))  # 2 working days left to accept: 13 and 14 Sep
    services.task_refuse_return(actor=cast.supervisor, task=task, note="请签收", now=at(2021, 9, 17))
    assert task.state == S.ASSIGNED
    assert task.accept_deadline == eod(2021, 9, 18)  # Fri 17, Sat 18 (调休)
    assert task.deadline == eod(2021, 9, 23)  # 4 left (13–16): Fri 17, Sat 18, Wed 22, Thu 23


def test_an_assisting_departments_sub_deadline_resumes_too(cast, departments):
    task = assigned(cast, departments, now=at(2021, 9, 13), category=Category.COMPLAINT,
                    assisting=[departments.chengguan])
    assist = TaskAssist.objects.get(task=task)
    ask_return(cast, task, at(2021, 9, 14))
    services.task_refuse_return(actor=cast.supervisor, task=task, note="请继续办理", now=at(2021, 9, 24))
    assist_after = TaskAssist.objects.get(task=task).deadline
    left = clocks.working_days_left(assist.deadline, at(2021, 9, 14))
    assert left > 0 and clocks.working_days_left(assist_after, at(2021, 9, 24)) == left


def test_a_refusal_keeps_the_sub_deadlines_of_replied_and_waived_parts(client, cast, departments):
    from ..factories import DepartmentFactory

    shuili, water = DepartmentFactory(name="水利局", code="shuili"), DepartmentFactory(name="供水公司", code="water")
    task = assigned(cast, departments, now=at(2021, 9, 13), category=Category.COMPLAINT,
                    assisting=[departments.chengguan, shuili, water])
    due = TaskAssist.objects.get(task=task, department=shuili).deadline
    services.task_assist_reply(actor=cast.handler_chengguan, task=task, reply="已配合", now=at(2021, 9, 13, 15))
    services.task_waive_assist(actor=cast.supervisor, task=task, department=water, reason="已撤销协办",
                               now=at(2021, 9, 13, 16))
    ask_return(cast, task, at(2021, 9, 14))
    services.task_refuse_return(actor=cast.supervisor, task=task, note="请继续办理", now=at(2021, 9, 24))
    parts = dict(TaskAssist.objects.filter(task=task).values_list("department_id", "deadline"))
    # The answered parts keep the sub-deadline they were due by; only the open one moves.
    assert parts[departments.chengguan.pk] == parts[water.pk] == due
    assert parts[shuili.pk] > due
    event = task.events.get(action=Action.REFUSE_RETURN)
    assert event.data["assist_deadlines"] == {str(shuili.pk): timezone.localtime(parts[shuili.pk]).isoformat()}
    moved = timezone.localtime(parts[shuili.pk]).strftime("%Y-%m-%d %H:%M")
    assert f"assisting deadline of 水利局: {moved}" in detail(client, cast.supervisor, task).text


def test_an_extension_request_does_not_stop_the_clock(cast, departments):
    task = assigned(cast, departments, now=at(2021, 9, 13))
    services.task_request_extension(actor=cast.handler_zhujian, task=task, deadline=dt.date(2021, 9, 30),
                                    reason="需协调施工队", now=at(2021, 9, 14))
    task.refresh_from_db()
    assert (task.state, task.clock_paused_at, task.deadline) == (S.ACCEPTED, None, eod(2021, 9, 16))
    assert task.is_overdue(at(2021, 9, 17))
    assert list(selectors.department_overdue_tasks(cast.handler_zhujian, now=at(2021, 9, 17))) == [task]
    assert clocks.summary(task, at(2021, 9, 17)).status == "running"


def test_an_approved_return_ends_the_clock_and_the_next_department_gets_a_fresh_one(cast, departments):
    task = assigned(cast, departments, now=at(2021, 9, 13))
    ask_return(cast, task, at(2021, 9, 14))
    services.task_approve_return(actor=cast.supervisor, task=task, now=at(2021, 9, 15))
    task.refresh_from_db()
    assert (task.state, task.deadline, task.clock_paused_at, task.return_count) == (S.RETURNED, None, None, 1)
    assert clocks.summary(task, at(2021, 9, 16)).status == "none"

    services.task_assign(actor=cast.supervisor, task=task, lead_department=departments.chengguan, now=at(2021, 9, 22))
    task.refresh_from_db()
    # A fresh 3 working days from Wed 22 Sep: 23, 24, Sun 26 (调休).
    assert (task.deadline, task.accept_deadline) == (eod(2021, 9, 26), eod(2021, 9, 23))
    assert (task.paused_seconds, task.clock_paused_at) == (0, None)
    assert task.deadline_rule is not None


# --- What the detail page shows ------------------------------------------------------------


def test_the_summary_shows_time_used_paused_and_left(cast, departments):
    task = assigned(cast, departments, now=at(2021, 9, 13))  # due Thu 16 Sep 23:59:59
    running = clocks.summary(task, at(2021, 9, 14))
    assert (running.status, running.used, running.paused) == ("running", dt.timedelta(days=1), dt.timedelta(0))
    assert running.left == eod(2021, 9, 16) - at(2021, 9, 14)
    assert running.working_days_left == 3

    ask_return(cast, task, at(2021, 9, 14))
    paused = clocks.summary(task, at(2021, 9, 17))
    assert (paused.status, paused.used, paused.paused) == ("paused", dt.timedelta(days=1), dt.timedelta(days=3))
    assert paused.left == eod(2021, 9, 16) - at(2021, 9, 14)  # frozen
    assert paused.working_days_left is None  # "today included" would mislead while paused

    services.task_refuse_return(actor=cast.supervisor, task=task, note="请继续办理", now=at(2021, 9, 24))
    resumed = clocks.summary(task, at(2021, 9, 24, 12))
    assert resumed.status == "running"
    assert resumed.used == dt.timedelta(days=1, hours=2)  # the 10 days paused are not counted
    assert resumed.paused == dt.timedelta(days=10)
    assert resumed.left == eod(2021, 9, 27) - at(2021, 9, 24, 12)
    assert clocks.format_duration(resumed.used) in ("1 d 2 h", "1天2小时")

    overdue = clocks.summary(task, at(2021, 9, 29))
    assert overdue.overdue and overdue.working_days_left is None


def detail(client, user, task):
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client.get(reverse("tasks:detail", args=[task.pk]))


def test_the_detail_page_shows_the_paused_clock(client, cast, departments):
    now = timezone.now()
    task = assigned(cast, departments, now=now - dt.timedelta(days=2))
    ask_return(cast, task, now - dt.timedelta(days=1))
    page = detail(client, cast.supervisor, task)
    assert 'id="task-clock" data-clock-status="paused"' in page.text
    assert 'id="clock-used" data-seconds="86400"' in page.text
    assert "(frozen until the decision)" in page.text
    assert "Time paused" in page.text


def test_the_detail_page_shows_the_rule_and_the_time_left(client, cast, departments):
    now = timezone.now()
    task = assigned(cast, departments, now=now - dt.timedelta(hours=3), category=Category.HELP,
                    urgency=Urgency.URGENT)
    page = detail(client, cast.handler_zhujian, task)
    assert 'data-clock-status="running"' in page.text
    assert f'data-rule="{task.deadline_rule_id}"' in page.text
    assert "24 hours" in page.text
    assert 'id="clock-meter"' in page.text


def test_reminders_skip_the_paused_task_and_follow_the_resumed_deadline(cast, departments):
    from tasks.models.reminders import Notification, ReminderLevel as L
    from tasks.reminders import reminders_send_due

    task = assigned(cast, departments, now=at(2021, 9, 13, 9))  # due Thu 16 Sep
    ask_return(cast, task, at(2021, 9, 14))
    for day in (15, 16, 17):  # due soon, due today, overdue: all skipped while paused
        reminders_send_due(now=at(2021, 9, day, 9))
    assert not Notification.objects.filter(task=task).exists()
    services.task_refuse_return(actor=cast.supervisor, task=task, note="属于住建局职责", now=at(2021, 9, 24))
    sent = {}
    for day in (26, 27, 28):  # Sun 26 Sep is a 调休 working day
        reminders_send_due(now=at(2021, 9, day, 9))
        sent[day] = sorted(set(Notification.objects.filter(task=task, created_at__gte=at(2021, 9, day, 0))
                               .values_list("level", flat=True)))
    assert sent == {26: [L.DUE_SOON], 27: [L.DUE_TODAY], 28: [L.OVERDUE]}
    assert set(Notification.objects.filter(task=task).values_list("deadline", flat=True)) == {eod(2021, 9, 27)}


def test_the_detail_page_shows_the_limit_the_task_was_given_not_the_rule_as_edited_since(client, cast, departments):
    task = assigned(cast, departments, now=timezone.now() - dt.timedelta(hours=2), category=Category.COMPLAINT)
    limits = task.events.get(action=Action.ASSIGN).data["deadline_limits"]
    assert limits == {"channel": "", "default": False, "accept": [1, "working_days"],
                      "handle": [13, "working_days"], "callback": [2, "working_days"]}
    rule = task.deadline_rule
    rule.handle_amount = 10
    rule.save()
    page = detail(client, cast.handler_zhujian, task)
    assert '<span id="clock-rule-limit">13 working days</span>' in page.text
    assert "set by the supervisor" not in page.text


def test_the_built_in_defaults_are_shown_as_the_rule_not_as_the_supervisors_deadline(client, cast, departments):
    from tasks.models import DeadlineRule

    DeadlineRule.objects.all().delete()
    deadlines.invalidate_rule_cache()
    task = assigned(cast, departments, now=timezone.now() - dt.timedelta(hours=2), category=Category.HELP)
    assert task.deadline_rule is None
    assert task.events.get(action=Action.ASSIGN).data["deadline_limits"]["default"] is True
    page = detail(client, cast.handler_zhujian, task)
    assert '<span id="clock-rule-limit">5 working days</span>' in page.text
    custom = TaskFactory(state=S.REGISTERED)
    services.task_assign(actor=cast.supervisor, task=custom, lead_department=departments.zhujian, deadline_days=4)
    assert "set by the supervisor" in detail(client, cast.handler_zhujian, custom).text


def test_an_urgent_task_is_reminded_as_overdue_when_its_hours_run_out_the_same_day(cast, departments):
    from tasks.models.reminders import Notification, ReminderLevel as L
    from tasks.reminders import reminders_send_due

    task = assigned(cast, departments, now=at(2021, 9, 13, 10), urgency=Urgency.URGENT)  # due Tue 14 Sep 10:00
    assert task.deadline == at(2021, 9, 14, 10)

    def levels(now):
        reminders_send_due(now=now)
        return sorted(set(Notification.objects.filter(task=task, created_at=now).values_list("level", flat=True)))

    assert levels(at(2021, 9, 13, 10, 30)) == [L.DUE_SOON]
    assert levels(at(2021, 9, 14, 8)) == [L.DUE_TODAY]
    assert levels(at(2021, 9, 14, 9, 45)) == []
    # The deadline has passed: the overdue list shows it, and the overdue reminder goes out in this run.
    late = at(2021, 9, 14, 10, 15)
    assert list(selectors.department_overdue_tasks(cast.handler_zhujian, now=late)) == [task]
    assert levels(late) == [L.OVERDUE]
    assert levels(at(2021, 9, 15, 8)) == []  # once per level and deadline


def test_an_urgent_assisting_part_is_reminded_as_overdue_the_same_day(cast, departments):
    from tasks.models.reminders import Notification, ReminderLevel as L
    from tasks.reminders import reminders_send_due

    task = assigned(cast, departments, now=at(2021, 9, 13, 10), urgency=Urgency.URGENT,
                    assisting=[departments.chengguan])
    part = TaskAssist.objects.get(task=task)
    assert part.deadline == task.deadline  # too short for a sub-deadline of its own
    reminders_send_due(now=at(2021, 9, 14, 10, 15))
    sent = Notification.objects.filter(assist=part, recipient__department=departments.chengguan)
    assert set(sent.values_list("level", flat=True)) == {L.OVERDUE}


def test_the_clock_resumes_into_2027_beyond_the_packages_calendar_with_the_admins_entries(cast, departments):
    from tasks.models import CalendarDay

    # chinese-calendar 1.11 knows 2004–2026: for 2027 only weekends and the admin's entries count.
    CalendarDay.objects.create(date=dt.date(2027, 1, 1), is_working_day=False, note="元旦")
    task = assigned(cast, departments, now=at(2026, 12, 28), category=Category.HELP,
                    assisting=[departments.chengguan])
    # 5 working days from Mon 28 Dec 2026: 29, 30, 31 Dec, (1 Jan off), Mon 4, Tue 5 Jan 2027.
    assert task.deadline == eod(2027, 1, 5)
    assert TaskAssist.objects.get(task=task).deadline == eod(2026, 12, 31)  # two working days before: 4 Jan, 31 Dec
    ask_return(cast, task, at(2026, 12, 30))  # 30, 31 Dec, 4, 5 Jan left: 4 working days
    services.task_refuse_return(actor=cast.supervisor, task=task, note="请继续办理", now=at(2027, 1, 6))
    # Wed 6, Thu 7, Fri 8, Mon 11 Jan 2027.
    assert task.deadline == eod(2027, 1, 11)
    assert TaskAssist.objects.get(task=task).deadline == eod(2027, 1, 7)  # 30, 31 Dec left: Wed 6, Thu 7
    assert clocks.summary(task, at(2027, 1, 7)).working_days_left == 3


def test_the_acceptance_clock_shows_until_acceptance_and_stops_with_a_return_request(client, cast, departments):
    task = assigned(cast, departments, now=at(2021, 9, 13), accept=False)  # accept by Tue 14 Sep 23:59:59
    assert clocks.summary(task, at(2021, 9, 14, 12)).accept_left == eod(2021, 9, 14) - at(2021, 9, 14, 12)
    late = clocks.summary(task, at(2021, 9, 15, 9))
    assert late.accept_overdue and -late.accept_left == at(2021, 9, 15, 9) - eod(2021, 9, 14)
    ask_return(cast, task, at(2021, 9, 14, 10))
    frozen = clocks.summary(task, at(2021, 9, 20))
    assert frozen.accept_left == eod(2021, 9, 14) - at(2021, 9, 14, 10)
    services.task_refuse_return(actor=cast.supervisor, task=task, note="请签收", now=at(2021, 9, 22))
    services.task_accept(actor=cast.handler_zhujian, task=task, now=at(2021, 9, 22, 11))
    assert clocks.summary(task, at(2021, 9, 22, 12)).accept_left is None

    now = timezone.now()
    fresh = assigned(cast, departments, now=now - dt.timedelta(hours=1), accept=False, urgency=Urgency.URGENT)
    page = detail(client, cast.handler_zhujian, fresh)
    assert 'id="clock-accept-left" data-seconds="' in page.text and "Time left to accept" in page.text
    services.task_accept(actor=cast.handler_zhujian, task=fresh)
    assert 'id="clock-accept-left"' not in detail(client, cast.handler_zhujian, fresh).text
