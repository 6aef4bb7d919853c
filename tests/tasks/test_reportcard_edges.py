"""Report card edge cases: empty periods, extensions, weekends and holidays, local midnight, scopes, imports."""

import csv
import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from feedback.importers.readers import open_table
from feedback.importers.service import suggestion_import
from feedback.models import CallbackResult, Suggestion
from tasks import services
from tasks.errors import DomainError
from tasks.models import CalendarDay, State
from tasks.reportcards import (
    LIVE,
    MISSED,
    city,
    for_department,
    for_township,
    link_params,
    parse_period,
    records_for,
    records_for_params,
    report_card,
)

from ..factories import SuggestionFactory, TaskFactory, TownshipFactory

TZ = ZoneInfo("Asia/Shanghai")


def local(y, m, d, h=9, mi=0, s=0):
    return dt.datetime(y, m, d, h, mi, s, tzinfo=TZ)


def card(scope, period_text, **kwargs):
    return report_card(scope, parse_period(period_text), source=LIVE, **kwargs)


def assigned_task(department, township, *, assigned_at, accepted_at=None, **fields):
    fields.setdefault("state", State.ACCEPTED if accepted_at else State.ASSIGNED)
    return TaskFactory(
        suggestion=False, lead_department=department, township=township, assigned_at=assigned_at,
        accepted_at=accepted_at, **fields,
    )


def timely_ids(department, period_text):
    return set(
        records_for("timely_acceptance", for_department(department), parse_period(period_text)).values_list(
            "pk", flat=True
        )
    )


def test_an_empty_period_has_zero_counts_and_no_rates(departments, township):
    assigned_task(departments.zhujian, township, assigned_at=local(2021, 10, 11), accepted_at=local(2021, 10, 11, 10))
    figures = card(city(), "2021-07").figures
    assert {code: value for code, value in figures.items() if not hasattr(value, "rate")} == {
        "received": 0, "assigned": 0, "closed": 0, "overdue": 0, "returns_refused": 0, "assist_parts": 0,
        "assist_overdue": 0,
    }
    for code in ("closure_rate", "on_time_rate", "timely_acceptance", "same_day_assignment", "satisfaction",
                 "return_rate", "assist_on_time_rate"):
        assert (figures[code].numerator, figures[code].denominator, figures[code].rate) == (0, 0, None), code
    data = card(city(), "2021-07").as_dict()
    assert data["closure_rate"] is None and data["details"]["closure_rate"] == {"numerator": 0, "denominator": 0}


def _assign_and_accept(task, cast, *, assigned, deadline_days):
    services.task_assign(
        actor=cast.supervisor, task=task, lead_department=cast.head_zhujian.department, deadline_days=deadline_days,
        now=assigned,
    )
    services.task_accept(actor=cast.head_zhujian, task=task, now=assigned + dt.timedelta(hours=1))
    return task


def _reply_and_close(task, cast, *, replied):
    services.task_reply(actor=cast.head_zhujian, task=task, outcome="resolved", reply="路灯已修复。", now=replied)
    services.task_record_callback(
        actor=cast.supervisor, task=task, result=CallbackResult.SATISFIED, now=replied + dt.timedelta(hours=2)
    )
    services.task_close(actor=cast.supervisor, task=task, now=replied + dt.timedelta(hours=3))


def test_a_task_extended_then_closed_within_the_new_deadline_counts_on_time(cast, township):
    monday = local(2021, 11, 1)
    extended = SuggestionFactory(township=township).task
    _assign_and_accept(extended, cast, assigned=monday, deadline_days=3)
    original_deadline = extended.deadline
    services.task_request_extension(
        actor=cast.head_zhujian, task=extended, deadline=dt.date(2021, 11, 19), reason="需要协调供电公司。",
        now=monday + dt.timedelta(days=1),
    )
    services.task_approve_extension(actor=cast.supervisor, task=extended, now=monday + dt.timedelta(days=1, hours=2))
    late_reply = original_deadline + dt.timedelta(days=5)
    _reply_and_close(extended, cast, replied=late_reply)

    # The same dates without the extension: late.
    not_extended = SuggestionFactory(township=township).task
    _assign_and_accept(not_extended, cast, assigned=monday, deadline_days=3)
    _reply_and_close(not_extended, cast, replied=late_reply)

    extended.refresh_from_db()
    assert extended.deadline > late_reply > original_deadline and extended.closed_on_time() is True
    on_time = card(for_department(cast.head_zhujian.department), "2021-11")["on_time_rate"]
    assert (on_time.numerator, on_time.denominator) == (1, 2)
    zhujian = for_department(cast.head_zhujian.department)
    late = records_for("on_time_rate", zhujian, parse_period("2021-11"), part=MISSED)
    assert list(late) == [not_extended]


def test_an_assignment_on_friday_evening_must_be_accepted_that_friday(departments, township):
    friday_evening = local(2021, 11, 5, 18, 30)
    accepted_monday = assigned_task(
        departments.zhujian, township, assigned_at=friday_evening, accepted_at=local(2021, 11, 8, 9, 0)
    )
    accepted_that_night = assigned_task(
        departments.zhujian, township, assigned_at=friday_evening, accepted_at=local(2021, 11, 5, 23, 50)
    )
    assert timely_ids(departments.zhujian, "2021-11") == {accepted_that_night.pk}
    assert accepted_monday.pk in set(
        records_for("timely_acceptance", for_department(departments.zhujian), parse_period("2021-11"), part=MISSED)
        .values_list("pk", flat=True)
    )


def test_an_assignment_on_a_saturday_may_be_accepted_on_monday(departments, township):
    saturday = local(2021, 11, 6, 10, 0)
    monday = assigned_task(departments.zhujian, township, assigned_at=saturday, accepted_at=local(2021, 11, 8, 17, 0))
    assigned_task(departments.zhujian, township, assigned_at=saturday, accepted_at=local(2021, 11, 9, 8, 0))
    never = assigned_task(departments.zhujian, township, assigned_at=saturday)
    timely = card(for_department(departments.zhujian), "2021-11")["timely_acceptance"]
    assert (timely.numerator, timely.denominator) == (1, 3)
    assert timely_ids(departments.zhujian, "2021-11") == {monday.pk}
    assert never.pk not in timely_ids(departments.zhujian, "2021-11")


def test_the_2021_national_day_holiday(departments, township):
    dept = departments.zhujian
    # 1–7 October 2021 off; Sun 26 Sep and Sat 9 Oct adjusted working days (调休).
    on_holiday = assigned_task(dept, township, assigned_at=local(2021, 10, 1, 9), accepted_at=local(2021, 10, 8, 16))
    assigned_task(dept, township, assigned_at=local(2021, 10, 3, 9), accepted_at=local(2021, 10, 9, 9))
    assigned_task(dept, township, assigned_at=local(2021, 9, 30, 15), accepted_at=local(2021, 10, 8, 9))
    on_adjusted_saturday = assigned_task(
        dept, township, assigned_at=local(2021, 10, 9, 9), accepted_at=local(2021, 10, 9, 11)
    )
    assert timely_ids(dept, "2021-09-26..2021-10-10") == {on_holiday.pk, on_adjusted_saturday.pk}

    # Same-day assignment follows the same rule from the suggestion's registration.
    def registered(at, assigned_at):
        task = assigned_task(dept, township, assigned_at=assigned_at)
        return SuggestionFactory(task=task, township=township, received_at=at, registered_at=at)

    registered(local(2021, 9, 26, 10), local(2021, 9, 27, 9))  # an adjusted working Sunday: late
    in_time = registered(local(2021, 10, 2, 10), local(2021, 10, 8, 9))
    same_day = card(for_township(township), "2021-09-26..2021-10-07")["same_day_assignment"]
    assert (same_day.numerator, same_day.denominator) == (1, 2)
    assert list(records_for("same_day_assignment", for_township(township), parse_period("2021-10-02"))) == [in_time]


def test_an_admin_calendar_entry_moves_the_acceptance_window(departments, township):
    task = assigned_task(
        departments.zhujian, township, assigned_at=local(2021, 11, 6, 10), accepted_at=local(2021, 11, 9, 10)
    )
    assert timely_ids(departments.zhujian, "2021-11") == set()
    # The admin makes Monday 8 November a day off: Tuesday becomes the next working day.
    CalendarDay.objects.create(date=dt.date(2021, 11, 8), is_working_day=False, note="test")
    assert timely_ids(departments.zhujian, "2021-11") == {task.pk}


def test_periods_and_working_days_follow_local_midnight_not_utc(departments, township):
    late_september = assigned_task(departments.zhujian, township, assigned_at=local(2021, 9, 30, 23, 59, 59))
    first_october = assigned_task(departments.zhujian, township, assigned_at=local(2021, 10, 1, 0, 0))
    assert set(records_for("assigned", city(), parse_period("2021-09")).values_list("pk", flat=True)) == {
        late_september.pk
    }
    assert set(records_for("assigned", city(), parse_period("2021-10")).values_list("pk", flat=True)) == {
        first_october.pk
    }
    # 23:30 and 00:10 local are the same UTC date (15:30 and 16:10) but two local days.
    after_midnight = assigned_task(
        departments.chengguan, township, assigned_at=local(2021, 10, 11, 23, 30), accepted_at=local(2021, 10, 12, 0, 10)
    )
    assert after_midnight.pk not in timely_ids(departments.chengguan, "2021-10")


def test_a_suggestion_merged_into_an_assigned_task_counts_as_assigned_at_once(departments, township):
    task = assigned_task(departments.zhujian, township, assigned_at=local(2021, 10, 11, 9))
    merged_later = SuggestionFactory(
        task=task, township=township, received_at=local(2021, 10, 13, 8), registered_at=local(2021, 10, 13, 9)
    )
    unassigned = SuggestionFactory(received_at=local(2021, 10, 13, 8), registered_at=local(2021, 10, 13, 9))
    same_day = card(city(), "2021-10-13")["same_day_assignment"]
    assert (same_day.numerator, same_day.denominator) == (1, 2)
    assert list(records_for("same_day_assignment", city(), parse_period("2021-10-13"), part=MISSED)) == [unassigned]
    assert merged_later.pk in records_for("same_day_assignment", city(), parse_period("2021-10-13")).values_list(
        "pk", flat=True
    )


def test_a_task_reopened_in_a_look_back_is_no_longer_closed(cast, township):
    task = SuggestionFactory(township=township, received_at=local(2021, 11, 1, 8)).task
    _assign_and_accept(task, cast, assigned=local(2021, 11, 1), deadline_days=5)
    _reply_and_close(task, cast, replied=local(2021, 11, 3, 10))
    zhujian = for_department(cast.head_zhujian.department)
    before = card(zhujian, "2021-11")
    assert (before["closed"], before["closure_rate"].numerator, before["closure_rate"].denominator) == (1, 1, 1)
    services.task_reopen_look_back(actor=cast.supervisor, task=task, note="路灯又坏了。", now=local(2021, 11, 20))
    after = card(zhujian, "2021-11", now=local(2021, 11, 20, 12))
    assert (after["closed"], after["closure_rate"].numerator, after["closure_rate"].denominator) == (0, 0, 1)
    assert after["satisfaction"].numerator == 1  # the callback happened, whatever came later


def test_a_department_card_counts_only_its_own_records(departments, township):
    other_township = TownshipFactory(name="东亭镇", short_name="东亭")
    mine = assigned_task(departments.zhujian, township, assigned_at=local(2021, 10, 11), deadline=local(2021, 10, 12))
    theirs = assigned_task(
        departments.chengguan, other_township, assigned_at=local(2021, 10, 11), deadline=local(2021, 10, 12)
    )
    SuggestionFactory(task=mine, township=township, received_at=local(2021, 10, 11, 8))
    SuggestionFactory(task=theirs, township=other_township, received_at=local(2021, 10, 11, 8))
    now = local(2021, 10, 20)
    for scope, task in [
        (for_department(departments.zhujian), mine),
        (for_department(departments.chengguan), theirs),
        (for_township(township), mine),
        (for_township(other_township), theirs),
    ]:
        figures = card(scope, "2021-10", now=now)
        assert (figures["received"], figures["assigned"], figures["overdue"]) == (1, 1, 1), scope
        assert list(records_for("assigned", scope, parse_period("2021-10"))) == [task]
        assert list(records_for("overdue", scope, None, now=now)) == [task]
        assert records_for("received", scope, parse_period("2021-10")).get().task == task
    assert card(city(), "2021-10", now=now)["assigned"] == 2


def test_importing_suggestions_raises_the_townships_received_by_the_number_imported(tmp_path, cast):
    township = TownshipFactory(name="留早镇", short_name="留早")
    other = TownshipFactory(name="东亭镇", short_name="东亭")
    SuggestionFactory(township=township, received_at=local(2021, 10, 20))
    scope, period = for_township(township), parse_period("2021-10")
    before = report_card(scope, period, source=LIVE)["received"]
    path = tmp_path / "import.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["来源渠道", "反映时间", "乡镇(街道)", "诉求内容"])
        writer.writerow(["12345热线", "2021-10-25 09:30", "留早镇", "留早村路灯不亮。"])
        writer.writerow(["走访", "2021/10/26", "留早", "村口道路坑洼。"])
        writer.writerow(["12345热线", "2021-10-27", "东亭镇", "东亭镇暖气不热。"])
        writer.writerow(["12345热线", "2021-11-02", "留早镇", "十一月的诉求。"])
    with translation.override("en"):
        result = suggestion_import(table=open_table(path), actor=cast.registrar)
    assert result.imported == 4
    assert report_card(scope, period, source=LIVE)["received"] == before + 2
    assert report_card(for_township(other), period, source=LIVE)["received"] == 1
    assert Suggestion.objects.count() == 5


@pytest.mark.parametrize("code", ["closure_rate", "on_time_rate", "timely_acceptance"])
def test_numerator_and_missed_add_up_to_the_denominator(code, departments, township):
    for day in range(1, 10):
        assigned_task(
            departments.zhujian, township, assigned_at=local(2021, 11, day, 10),
            accepted_at=local(2021, 11, day, 11) if day % 2 else None,
            state=State.CLOSED if day % 3 else State.IN_PROGRESS,
            closed_at=local(2021, 11, day + 3) if day % 3 else None,
            replied_at=local(2021, 11, day + 2) if day % 4 else None,
            deadline=local(2021, 11, day + 2, 18) if day % 5 else None,
        )
    scope, period = for_department(departments.zhujian), parse_period("2021-11")
    rate = report_card(scope, period, source=LIVE)[code]
    assert 0 < rate.numerator < rate.denominator
    assert records_for(code, scope, period, part=MISSED).count() == rate.denominator - rate.numerator


def test_a_figure_link_names_its_records_and_reads_back(departments, township):
    task = assigned_task(departments.zhujian, township, assigned_at=local(2021, 10, 11), accepted_at=None)
    scope, period = for_department(departments.zhujian), parse_period("2021-Q4")
    params = link_params("timely_acceptance", scope, period, part=MISSED)
    assert params == {"figure": "timely_acceptance", "scope": "department:zhujian", "part": "missed",
                      "period": "2021-Q4"}
    code, read_scope, read_period, part, records = records_for_params(params)
    assert (code, read_scope, read_period, part) == ("timely_acceptance", scope, period, MISSED)
    assert list(records) == [task]
    assert link_params("overdue", scope, None) == {"figure": "overdue", "scope": "department:zhujian",
                                                   "part": "numerator"}


@pytest.mark.parametrize(
    "figure, part, period, message",
    [
        ("happiness", "numerator", "2021", "Unknown figure happiness"),
        ("received", "denominator", "2021", "is a count; only its records can be listed"),
        ("closure_rate", "half", "2021", "Unknown part half"),
        ("closed", "numerator", None, "Choose a period for tasks closed"),
    ],
)
def test_a_drilldown_refuses_what_it_cannot_list(db, figure, part, period, message):
    with translation.override("en"), pytest.raises(DomainError) as error:
        records_for(figure, city(), parse_period(period) if period else None, part=part)
    assert message in str(error.value)
