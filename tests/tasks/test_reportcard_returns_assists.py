"""退单率, 退单驳回数 and the assisting departments' figures, from tasks taken through the real services."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from tasks import services
from tasks.models import TaskAssist, TaskRequest
from tasks.reportcards import (
    DENOMINATOR,
    MISSED,
    LIVE,
    ROLLUP,
    city,
    for_department,
    for_township,
    parse_period,
    records_for,
    report_card,
    rollups_refresh,
)

from ..factories import TaskFactory

TZ = ZoneInfo("Asia/Shanghai")
OCTOBER = parse_period("2021-10")
NOW = dt.datetime(2021, 11, 30, 12, tzinfo=TZ)


def at(day, hour=9):
    return dt.datetime(2021, 10, day, hour, tzinfo=TZ)


def ids(figure, scope, part="numerator"):
    return set(records_for(figure, scope, OCTOBER, part=part, now=NOW).values_list("pk", flat=True))


@pytest.fixture
def story(cast, departments, township):
    """Three tasks of 住建局 in October: one it tried to return (refused), one it returned (approved, now
    城管局's), one it kept; 城管局 assists on the first and replies in time, and on the third, late."""
    zhujian, chengguan = departments.zhujian, departments.chengguan
    refused, approved, kept = (TaskFactory(township=township) for _ in range(3))
    services.task_assign(actor=cast.supervisor, task=refused, lead_department=zhujian,
                         assisting_departments=[chengguan], deadline_days=10, now=at(11))
    services.task_assign(actor=cast.supervisor, task=approved, lead_department=zhujian, deadline_days=10, now=at(11))
    services.task_assign(actor=cast.supervisor, task=kept, lead_department=zhujian,
                         assisting_departments=[chengguan], deadline_days=3, now=at(12))
    services.task_request_return(
        actor=cast.handler_zhujian, task=refused, reason_code="not_our_duty", reason="非本单位职责", now=at(11, 10)
    )
    services.task_refuse_return(actor=cast.supervisor, task=refused, note="属于住建局职责", now=at(11, 15))
    services.task_request_return(
        actor=cast.handler_zhujian, task=approved, reason_code="not_our_duty", reason="非本单位职责", now=at(11, 10)
    )
    services.task_approve_return(actor=cast.supervisor, task=approved, now=at(11, 16))
    services.task_assign(actor=cast.supervisor, task=approved, lead_department=chengguan, deadline_days=10, now=at(13))
    services.task_assist_reply(actor=cast.handler_chengguan, task=refused, reply="已配合核查", now=at(12))
    services.task_assist_reply(actor=cast.handler_chengguan, task=kept, reply="已配合", now=at(29))
    return refused, approved, kept


@pytest.mark.parametrize("source", [LIVE, ROLLUP])
def test_return_rate_and_refused_returns(story, departments, township, source):
    refused, approved, kept = story
    rollups_refresh()
    zhujian, chengguan = for_department(departments.zhujian), for_department(departments.chengguan)
    card = report_card(zhujian, OCTOBER, now=NOW, source=source)
    # The approved return took the task away: 住建局 filed returns on 1 of the 2 tasks it still leads.
    assert (card["return_rate"].numerator, card["return_rate"].denominator) == (1, 2)
    assert card["returns_refused"] == 1
    other = report_card(chengguan, OCTOBER, now=NOW, source=source)
    assert (other["return_rate"].numerator, other["return_rate"].denominator, other["returns_refused"]) == (0, 1, 0)
    town = report_card(for_township(township), OCTOBER, now=NOW, source=source)
    assert (town["return_rate"].numerator, town["return_rate"].denominator, town["returns_refused"]) == (1, 3, 1)
    # The records behind them.
    assert ids("return_rate", zhujian) == {refused.pk}
    assert ids("return_rate", zhujian, MISSED) == {kept.pk}
    refusal = TaskRequest.objects.get(task=refused, status=TaskRequest.Status.REFUSED)
    assert ids("returns_refused", zhujian) == ids("returns_refused", city()) == {refusal.pk}
    assert ids("returns_refused", chengguan) == set()


@pytest.mark.parametrize("source", [LIVE, ROLLUP])
def test_assisting_parts_count_in_the_assisting_departments_card(story, departments, source):
    refused, approved, kept = story
    rollups_refresh()
    chengguan = for_department(departments.chengguan)
    card = report_card(chengguan, OCTOBER, now=NOW, source=source)
    assert card["assist_parts"] == 2
    assert (card["assist_on_time_rate"].numerator, card["assist_on_time_rate"].denominator) == (1, 2)
    on_time = TaskAssist.objects.get(task=refused)
    late = TaskAssist.objects.get(task=kept)
    assert ids("assist_on_time_rate", chengguan) == {on_time.pk}
    assert ids("assist_on_time_rate", chengguan, MISSED) == {late.pk}
    assert ids("assist_parts", chengguan) == ids("assist_on_time_rate", chengguan, DENOMINATOR) == {on_time.pk, late.pk}
    # Never in the lead's card.
    assert report_card(for_department(departments.zhujian), OCTOBER, now=NOW, source=source)["assist_parts"] == 0
    assert report_card(city(), OCTOBER, now=NOW, source=source)["assist_parts"] == 2


def test_assisting_parts_overdue_now(cast, departments, township):
    late, answered, closed = (TaskFactory(township=township) for _ in range(3))
    for task in (late, answered, closed):
        services.task_assign(actor=cast.supervisor, task=task, lead_department=departments.zhujian,
                             assisting_departments=[departments.chengguan], deadline_days=3, now=at(11))
    services.task_assist_reply(actor=cast.handler_chengguan, task=answered, reply="已配合", now=at(25))
    TaskAssist.objects.filter(task=closed).update(deadline=at(12))
    closed.state = "closed"
    closed.save(update_fields=["state"])  # off the handling clock: no longer overdue
    chengguan = for_department(departments.chengguan)
    card = report_card(chengguan, OCTOBER, now=NOW, source=LIVE)
    assert card["assist_overdue"] == 1
    assert ids("assist_overdue", chengguan) == {TaskAssist.objects.get(task=late).pk}
    assert report_card(for_department(departments.zhujian), OCTOBER, now=NOW, source=LIVE)["assist_overdue"] == 0
    # "Now": before the sub-deadline nothing is overdue, whatever the period.
    assert report_card(chengguan, OCTOBER, now=at(12), source=LIVE)["assist_overdue"] == 0


def test_a_waived_part_is_no_longer_overdue(cast, departments, township):
    owed, waived = (TaskFactory(township=township) for _ in range(2))
    for task in (owed, waived):
        services.task_assign(actor=cast.supervisor, task=task, lead_department=departments.zhujian,
                             assisting_departments=[departments.chengguan], deadline_days=3, now=at(11))
    services.task_waive_assist(
        actor=cast.supervisor, task=waived, department=departments.chengguan, reason="协办单位已撤并", now=at(25)
    )
    chengguan = for_department(departments.chengguan)
    assert ids("assist_overdue", chengguan) == {TaskAssist.objects.get(task=owed).pk}
    # Still one of the department's parts, and without a reply not on time.
    card = report_card(chengguan, OCTOBER, now=NOW, source=LIVE)
    assert card["assist_parts"] == 2 and card["assist_on_time_rate"].numerator == 0
