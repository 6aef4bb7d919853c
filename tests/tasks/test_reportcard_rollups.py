"""Rollups, freshness, comparisons and query counts of the report card engine."""

import datetime as dt
import threading
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from tasks.models import ReportCardDay, ReportCardRefresh, State
from tasks.reportcards import (
    AUTO,
    LIVE,
    ROLLUP,
    city,
    figures_by_department,
    figures_by_township,
    figures_trend,
    for_department,
    parse_period,
    ranked,
    records_for,
    report_card,
    report_card_compared,
    rollups_refresh,
)

from ..factories import DepartmentFactory, SuggestionFactory, TaskFactory, TownshipFactory

TZ = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2021, 11, 30, 12, tzinfo=TZ)


def at(m, d, h=9):
    return dt.datetime(2021, m, d, h, tzinfo=TZ)


def make_tasks(department, township, count, *, month=10, closed_every=2):
    for i in range(count):
        day = 1 + i % 28
        closed = i % closed_every == 0
        task = TaskFactory(
            suggestion=False, state=State.CLOSED if closed else State.IN_PROGRESS, township=township,
            lead_department=department, assigned_at=at(month, day), accepted_at=at(month, day, 10),
            deadline=at(month, day) + dt.timedelta(days=5),
            replied_at=at(month, day, 15) if closed else None, closed_at=at(month, day, 16) if closed else None,
        )
        SuggestionFactory(task=task, township=township, received_at=at(month, day, 8), registered_at=at(month, day, 8))


def test_auto_reads_fresh_rollups_and_counts_live_when_they_are_stale(departments, township):
    make_tasks(departments.zhujian, township, 4)
    scope, october = for_department(departments.zhujian), parse_period("2021-10")
    assert report_card(scope, october, now=NOW).source == LIVE  # never refreshed
    refresh = rollups_refresh()
    make_tasks(departments.zhujian, township, 2)  # after the refresh
    fresh = report_card(scope, october, now=NOW, source=AUTO)
    assert (fresh.source, fresh.as_of, fresh["assigned"]) == (ROLLUP, refresh.as_of, 4)
    # Overdue is never pre-aggregated: it already sees the new tasks.
    assert fresh.overdue == records_for("overdue", scope, None, now=NOW).count() == 6 - 3
    ReportCardRefresh.objects.update(as_of=refresh.as_of - dt.timedelta(minutes=6))
    stale = report_card(scope, october, now=NOW, source=AUTO)
    assert (stale.source, stale["assigned"]) == (LIVE, 6)
    rollups_refresh()
    assert report_card(scope, october, now=NOW, source=ROLLUP)["assigned"] == 6 == records_for(
        "assigned", scope, october).count()


def test_a_refresh_rebuilds_the_same_rows(departments, township):
    make_tasks(departments.zhujian, township, 5)
    make_tasks(departments.chengguan, township, 3, month=11)
    first = rollups_refresh()
    rows = sorted(ReportCardDay.objects.values_list("grain", "day", "department_id", "township_id", "assigned",
                                                    "closed", "received"))
    second = rollups_refresh()
    assert sorted(ReportCardDay.objects.values_list("grain", "day", "department_id", "township_id", "assigned",
                                                    "closed", "received")) == rows
    assert first.rows == second.rows == len(rows)
    assert ReportCardRefresh.objects.count() == 1
    # One row per day for the city, per department and per township: 5 + 3 distinct days.
    assert ReportCardDay.objects.filter(grain="city").count() == 8


def test_a_refresh_of_an_empty_database(db):
    refresh = rollups_refresh()
    assert refresh.rows == 0
    card = report_card(city(), parse_period("2021"), source=ROLLUP)
    assert card["received"] == 0 and card["closure_rate"].rate is None


def test_a_comparison_with_the_previous_period_and_the_average_department(departments, township):
    make_tasks(departments.zhujian, township, 6, month=10)
    make_tasks(departments.zhujian, township, 2, month=9, closed_every=1)
    make_tasks(departments.chengguan, township, 2, month=10, closed_every=1)
    compared = report_card_compared(for_department(departments.zhujian), parse_period("2021-10"), now=NOW)
    assert compared.current["assigned"] == 6 and compared.previous["assigned"] == 2
    assert compared.previous.period.code == "2021-09" and compared.previous.overdue is None
    assert compared.change("assigned") == 4
    assert compared.change("closure_rate") == pytest.approx(50.0 - 100.0)
    # Two handling departments (the supervision office is not one): 8 tasks / 2.
    average = compared.average
    assert average.units == 2 and average["assigned"] == 4.0
    assert (average["closure_rate"].numerator, average["closure_rate"].denominator) == (5, 8)
    assert report_card_compared(city(), parse_period("2021-10"), now=NOW).average is None


def test_ranking_by_a_figure(departments, township):
    make_tasks(departments.zhujian, township, 4, closed_every=4)
    make_tasks(departments.chengguan, township, 2, closed_every=1)
    cards = figures_by_department(parse_period("2021-10"), now=NOW)
    third = DepartmentFactory(name="民政局", code="minzheng")
    assert [c.scope.department for c in ranked(cards, "closure_rate")] == [departments.chengguan, departments.zhujian]
    assert [c.scope.department for c in ranked(cards, "assigned", descending=False)] == [
        departments.chengguan, departments.zhujian,
    ]
    cards = figures_by_department(parse_period("2021-10"), now=NOW)
    # A department with nothing assigned has no closure rate and comes last.
    assert ranked(cards, "closure_rate")[-1].scope.department == third


def _queries(function):
    with CaptureQueriesContext(connection) as captured:
        function()
    return len(captured)


@pytest.mark.parametrize("source", [LIVE, ROLLUP])
def test_query_counts_do_not_grow_with_departments_townships_or_rows(departments, township, source):
    period = parse_period("2021-Q4")
    make_tasks(departments.zhujian, township, 3)
    rollups_refresh()
    small = {
        "card": _queries(lambda: report_card(for_department(departments.zhujian), period, now=NOW, source=source)),
        "by_department": _queries(lambda: figures_by_department(period, now=NOW, source=source)),
        "by_township": _queries(lambda: figures_by_township(period, now=NOW, source=source)),
        "trend": _queries(lambda: figures_trend(city(), period, "day", source=source)),
        "compared": _queries(
            lambda: report_card_compared(for_department(departments.zhujian), period, now=NOW, source=source)
        ),
    }
    for n in range(6):
        department = DepartmentFactory(name=f"测试局{n}", code=f"extra{n}")
        make_tasks(department, TownshipFactory(name=f"测试{n}镇", short_name=f"测试{n}"), 12, month=10 + n % 3)
    rollups_refresh()
    large = {
        "card": _queries(lambda: report_card(for_department(departments.zhujian), period, now=NOW, source=source)),
        "by_department": _queries(lambda: figures_by_department(period, now=NOW, source=source)),
        "by_township": _queries(lambda: figures_by_township(period, now=NOW, source=source)),
        "trend": _queries(lambda: figures_trend(city(), period, "day", source=source)),
        "compared": _queries(
            lambda: report_card_compared(for_department(departments.zhujian), period, now=NOW, source=source)
        ),
    }
    assert large == small
    # Live: seven dated families and the two "now" ones (overdue tasks and assisting parts);
    # from the rollups: one sum, the two "now" counts and the "as of" row.
    expected_card = 9 if source == LIVE else 4
    assert small["card"] == expected_card
    assert small["by_department"] == expected_card + 1  # + the list of departments
    assert small["trend"] == (7 if source == LIVE else 2)


def test_a_refresh_is_skipped_while_another_one_runs(require_postgres, transactional_db):
    holder = connections.create_connection("default")
    try:
        with holder.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [0x7263617264])
        result = []
        worker = threading.Thread(target=lambda: (result.append(rollups_refresh()), connection.close()))
        worker.start()
        worker.join()
        assert result == [None] and not ReportCardRefresh.objects.exists()
        with holder.cursor() as cursor:
            # Released here, not by closing: the server may notice a closed socket late.
            cursor.execute("SELECT pg_advisory_unlock(%s)", [0x7263617264])
    finally:
        holder.close()
    assert rollups_refresh() is not None


def test_one_scan_with_grouping_sets_counts_what_one_query_per_grain_counts(require_postgres, departments, township):
    from tasks.reportcards.definitions import DATED_FAMILIES
    from tasks.reportcards.rollups import _by_grain_at_once, _by_grain_separately

    make_tasks(departments.zhujian, township, 6)
    make_tasks(departments.chengguan, TownshipFactory(name="东亭镇", short_name="东亭"), 4, month=11)
    SuggestionFactory(township=township, received_at=at(10, 3), registered_at=at(10, 3))  # not assigned
    first, end = dt.date(2021, 9, 30), dt.date(2021, 12, 1)
    for family in DATED_FAMILIES:
        at_once = _by_grain_at_once(family, first, end)
        assert at_once is not None, "the SQL Django generates changed: GROUPING SETS are no longer used"
        key = lambda row: (row[0], row[1] or 0, row[2])  # noqa: E731
        assert sorted(at_once, key=key) == sorted(_by_grain_separately(family, first, end), key=key), family.name


def test_rollups_across_a_new_year_holiday_equal_live_counting(departments, township):
    def task(assigned, accepted):
        TaskFactory(
            suggestion=False, state=State.ACCEPTED, township=township, lead_department=departments.zhujian,
            assigned_at=assigned, accepted_at=accepted,
        )

    # 1–3 January 2022 were days off: Tuesday the 4th is the first working day.
    task(dt.datetime(2021, 12, 31, 17, tzinfo=TZ), dt.datetime(2022, 1, 4, 9, tzinfo=TZ))  # late
    task(dt.datetime(2022, 1, 1, 10, tzinfo=TZ), dt.datetime(2022, 1, 4, 16, tzinfo=TZ))  # in time
    task(dt.datetime(2022, 1, 3, 10, tzinfo=TZ), dt.datetime(2022, 1, 5, 9, tzinfo=TZ))  # late
    rollups_refresh()
    scope = for_department(departments.zhujian)
    for text, expected in [("2021", (0, 1)), ("2022", (1, 2)), ("2021-12-31..2022-01-03", (1, 3))]:
        for source in (LIVE, ROLLUP):
            timely = report_card(scope, parse_period(text), now=NOW, source=source)["timely_acceptance"]
            assert (timely.numerator, timely.denominator) == expected, (text, source)
