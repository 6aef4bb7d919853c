"""Report card periods and scopes: what "2021-Q3" and "department 住建" mean, and clear refusals."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from tasks.reportcards import PeriodError, ScopeError, parse_period, parse_scope, resolve_scope
from tasks.reportcards.periods import current

from ..factories import DepartmentFactory, TownshipFactory

TZ = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    "text, kind, first, last, code",
    [
        ("2021", "year", dt.date(2021, 1, 1), dt.date(2021, 12, 31), "2021"),
        ("2021-Q3", "quarter", dt.date(2021, 7, 1), dt.date(2021, 9, 30), "2021-Q3"),
        ("2021q1", "quarter", dt.date(2021, 1, 1), dt.date(2021, 3, 31), "2021-Q1"),
        ("2021-10", "month", dt.date(2021, 10, 1), dt.date(2021, 10, 31), "2021-10"),
        ("2024-2", "month", dt.date(2024, 2, 1), dt.date(2024, 2, 29), "2024-02"),
        ("2021-10-25", "day", dt.date(2021, 10, 25), dt.date(2021, 10, 25), "2021-10-25"),
        (" 2021-10-01..2021-10-15 ", "custom", dt.date(2021, 10, 1), dt.date(2021, 10, 15), "2021-10-01..2021-10-15"),
        ("2021-10-01 ~ 2021-10-15", "custom", dt.date(2021, 10, 1), dt.date(2021, 10, 15), "2021-10-01..2021-10-15"),
    ],
)
def test_periods_are_read_and_written_back(text, kind, first, last, code):
    period = parse_period(text)
    assert (period.kind, period.first, period.last, period.code) == (kind, first, last, code)
    assert parse_period(period.code) == period


def test_a_period_is_whole_local_days_half_open():
    october = parse_period("2021-10")
    assert october.start == dt.datetime(2021, 10, 1, tzinfo=TZ)
    assert october.end == dt.datetime(2021, 11, 1, tzinfo=TZ)
    assert october.start.utcoffset() == dt.timedelta(hours=8)
    assert october.contains(dt.datetime(2021, 10, 31, 23, 59, 59, tzinfo=TZ))
    assert not october.contains(dt.datetime(2021, 11, 1, tzinfo=TZ))
    # 1 October 00:30 in Shanghai is still 30 September in UTC, and belongs to October.
    assert october.contains(dt.datetime(2021, 9, 30, 16, 30, tzinfo=dt.timezone.utc))
    assert october.days == 31


@pytest.mark.parametrize(
    "text, previous",
    [
        ("2021", "2020"),
        ("2021-Q1", "2020-Q4"),
        ("2021-Q3", "2021-Q2"),
        ("2021-01", "2020-12"),
        ("2021-03-01", "2021-02-28"),
        ("2021-10-01..2021-10-10", "2021-09-21..2021-09-30"),
    ],
)
def test_the_previous_period(text, previous):
    assert parse_period(text).previous().code == previous


def test_steps_are_clipped_to_the_period():
    assert [p.code for p in parse_period("2021").steps("quarter")] == ["2021-Q1", "2021-Q2", "2021-Q3", "2021-Q4"]
    assert [p.code for p in parse_period("2021-09-29..2021-10-02").steps("day")] == [
        "2021-09-29", "2021-09-30", "2021-10-01", "2021-10-02",
    ]
    assert [p.code for p in parse_period("2021-02-15..2021-04-10").steps("month")] == [
        "2021-02-15..2021-02-28", "2021-03", "2021-04-01..2021-04-10",
    ]


def test_the_current_period():
    assert current("quarter", today=dt.date(2021, 11, 5)).code == "2021-Q4"
    assert current("month", today=dt.date(2021, 11, 5)).code == "2021-11"


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "Give a period"),
        ("last month", "last month is not a period"),
        ("2021-13", "There is no month 13"),
        ("2021-Q5", "2021-Q5 is not a period"),
        ("2021-02-30", "2021-02-30 is not a real date"),
        ("1999", "The year 1999 is outside 2000–2100"),
        ("2021-10-15..2021-10-01", "The period ends before it starts"),
        ("2021-10-01..tomorrow", "tomorrow is not a date such as 2021-10-25"),
        ("2000-01-01..2021-01-01", "A custom period may span at most"),
    ],
)
def test_bad_periods_are_refused_with_a_clear_message(text, message):
    with translation.override("en"), pytest.raises(PeriodError) as error:
        parse_period(text)
    assert message in str(error.value)


def test_unknown_trend_steps_are_refused():
    with translation.override("en"), pytest.raises(PeriodError, match="Unknown trend step week"):
        parse_period("2021").steps("week")


def test_departments_are_found_by_code_name_or_short_name(db):
    zhujian = DepartmentFactory(name="住建局", code="zhujian")
    budongchan = DepartmentFactory(name="不动产登记中心", code="budongchan")
    assert resolve_scope("department", "zhujian").department == zhujian
    assert resolve_scope("department", "ZHUJIAN").department == zhujian
    assert resolve_scope("department", "住建局").department == zhujian
    assert resolve_scope("department", "住建").department == zhujian
    assert resolve_scope("department", "不动产登记").department == budongchan
    scope = parse_scope("department:住建")
    assert (scope.kind, scope.code, scope.label) == ("department", "department:zhujian", "住建局")
    assert parse_scope(scope.code) == scope


def test_townships_are_found_by_name_or_short_name(db):
    liuzao = TownshipFactory(name="留早镇", short_name="留早")
    assert resolve_scope("township", "留早镇").township == liuzao
    assert resolve_scope("township", " 留早 ").township == liuzao
    assert parse_scope("township:留早").code == "township:留早镇"


def test_the_city_scope(db):
    with translation.override("en"):
        assert parse_scope("city").label == "the whole city"
    assert resolve_scope("CITY").kind == "city"


@pytest.mark.parametrize(
    "kind, name, message",
    [
        ("department", "不存在局", "There is no department 不存在局"),
        ("department", "", "Name the department"),
        ("department", "城管", "城管 could be 城管局, 城管办; give the full name"),
        ("township", "不存在镇", "There is no township 不存在镇"),
        ("city", "留早", "The city scope takes no name"),
        ("county", None, "Unknown scope county"),
    ],
)
def test_unknown_scopes_are_refused_with_a_clear_message(db, kind, name, message):
    DepartmentFactory(name="城管局", code="chengguan")
    DepartmentFactory(name="城管办", code="chengguanban")
    with translation.override("en"), pytest.raises(ScopeError) as error:
        resolve_scope(kind, name)
    assert message in str(error.value)
