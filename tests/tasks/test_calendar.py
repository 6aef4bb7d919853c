"""The working-day calendar: the package's holidays and 调休 days, admin entries, years it does not know, the cache."""

import datetime as dt

import pytest
from django.core.cache import cache
from django.utils import timezone

from tasks import calendar
from tasks.models import CalendarDay

D = dt.date


@pytest.fixture(autouse=True)
def fresh_calendar():
    # The in-memory copy outlives each test's rolled-back transaction.
    calendar.invalidate_cache(everywhere=False)
    yield
    calendar.invalidate_cache(everywhere=False)


def off(day, note="test"):
    return CalendarDay.objects.create(date=day, is_working_day=False, note=note)


def working(day, note="test"):
    return CalendarDay.objects.create(date=day, is_working_day=True, note=note)


def test_the_package_covers_2004_to_2026_only():
    # The tests below that cross into 2027 assume this (chinesecalendar 1.11); a newer
    # package that knows 2027 needs them moved to its first unknown year.
    years = calendar.official_years()
    assert min(years) == 2004 and max(years) == 2026
    assert years == frozenset(range(2004, 2027))


# --- 2021 National Day: Oct 1–7 off, Sun Sep 26 and Sat Oct 9 working (调休) ----------


@pytest.mark.parametrize(
    "day, expected",
    [
        (D(2021, 9, 26), True),  # Sunday, adjusted working day
        (D(2021, 9, 30), True),
        *[(D(2021, 10, d), False) for d in range(1, 8)],
        (D(2021, 10, 8), True),
        (D(2021, 10, 9), True),  # Saturday, adjusted working day
        (D(2021, 10, 10), False),
        (D(2021, 10, 11), True),
    ],
)
def test_national_day_2021_days(db, day, expected):
    assert calendar.is_working_day(day) is expected


@pytest.mark.parametrize(
    "start, n, expected",
    [
        (D(2021, 9, 30), 1, D(2021, 10, 8)),
        (D(2021, 10, 8), 1, D(2021, 10, 9)),
        (D(2021, 10, 9), 1, D(2021, 10, 11)),
        (D(2021, 9, 30), 3, D(2021, 10, 11)),
        (D(2021, 10, 3), 1, D(2021, 10, 8)),  # from inside the holiday
        (D(2021, 9, 25), 1, D(2021, 9, 26)),  # Saturday → the working Sunday
        (D(2021, 10, 8), -1, D(2021, 9, 30)),
        (D(2021, 10, 9), -1, D(2021, 10, 8)),
        (D(2021, 10, 11), -1, D(2021, 10, 9)),
        (D(2021, 10, 11), -3, D(2021, 9, 30)),
        (D(2021, 10, 5), -1, D(2021, 9, 30)),
        (D(2021, 10, 1), 0, D(2021, 10, 8)),
        (D(2021, 10, 9), 0, D(2021, 10, 9)),
    ],
)
def test_add_working_days_across_national_day_2021(db, start, n, expected):
    assert calendar.add_working_days(start, n) == expected


def test_next_working_day_and_working_days_between_around_national_day(db):
    assert calendar.next_working_day(D(2021, 9, 30)) == D(2021, 10, 8)
    assert calendar.next_working_day(D(2021, 10, 8)) == D(2021, 10, 9)
    # Oct 8, Oct 9, Oct 11.
    assert calendar.working_days_between(D(2021, 9, 30), D(2021, 10, 11)) == 3
    assert calendar.working_days_between(D(2021, 10, 11), D(2021, 9, 30)) == -3
    assert calendar.working_days_between(D(2021, 10, 2), D(2021, 10, 6)) == 0
    assert calendar.working_days_between(D(2021, 10, 8), D(2021, 10, 8)) == 0


def test_spring_festival_2021(db):
    # Feb 11–17 off; Sun Feb 7 and Sat Feb 20 working.
    assert calendar.is_working_day(D(2021, 2, 7))
    assert not any(calendar.is_working_day(D(2021, 2, d)) for d in range(11, 18))
    assert calendar.is_working_day(D(2021, 2, 20))
    assert calendar.add_working_days(D(2021, 2, 5), 1) == D(2021, 2, 7)
    assert calendar.add_working_days(D(2021, 2, 10), 1) == D(2021, 2, 18)
    assert calendar.add_working_days(D(2021, 2, 10), 3) == D(2021, 2, 20)
    assert calendar.add_working_days(D(2021, 2, 18), -1) == D(2021, 2, 10)
    # February 2021: 20 weekdays, 5 of them off, 2 working weekend days; Feb 1 itself not counted.
    assert calendar.working_days_between(D(2021, 2, 1), D(2021, 2, 28)) == 16


def test_working_days_between_agrees_with_add_working_days_over_years(db):
    start = D(2020, 12, 15)  # a working Tuesday
    for n in (1, 5, 13, 40, 300, 800, 2000):
        end = calendar.add_working_days(start, n)
        assert calendar.working_days_between(start, end) == n
        assert calendar.add_working_days(end, -n) == start


# --- Years the package does not know -------------------------------------------------


def test_a_deadline_from_late_december_2026_runs_into_2027_on_weekends_only(db):
    # Thu Dec 31 2026 is known to the package; 2027 is not: Fri Jan 1 counts as working.
    assert calendar.add_working_days(D(2026, 12, 30), 1) == D(2026, 12, 31)
    assert calendar.add_working_days(D(2026, 12, 30), 2) == D(2027, 1, 1)
    assert calendar.add_working_days(D(2026, 12, 30), 3) == D(2027, 1, 4)
    assert calendar.add_working_days(D(2026, 12, 30), 15) == D(2027, 1, 20)
    assert calendar.add_working_days(D(2027, 1, 4), -3) == D(2026, 12, 30)
    assert calendar.working_days_between(D(2026, 12, 30), D(2027, 1, 4)) == 3


def test_admin_entries_give_2027_its_holidays(db):
    off(D(2027, 1, 1), "元旦")
    assert calendar.add_working_days(D(2026, 12, 30), 2) == D(2027, 1, 4)
    assert calendar.add_working_days(D(2026, 12, 30), 3) == D(2027, 1, 5)
    working(D(2027, 1, 2), "调休")  # a Saturday made a working day
    assert calendar.add_working_days(D(2026, 12, 31), 1) == D(2027, 1, 2)


def test_far_years_never_crash(db):
    assert calendar.is_working_day(D(2003, 12, 31))  # a Wednesday before the package's range
    assert not calendar.is_working_day(D(2040, 6, 2))  # a Saturday
    assert calendar.add_working_days(D(2039, 12, 30), 2) == D(2040, 1, 3)
    assert calendar.working_days_between(D(2030, 1, 1), D(2031, 1, 1)) == 261
    assert calendar.add_working_days(D(2004, 1, 2), -1) == D(2003, 12, 31)


def test_years_without_official_calendar_needs_a_full_notice(db):
    assert calendar.years_without_official_calendar([2021, 2026, 2027, 2003]) == [2003, 2027]
    weekdays_2027 = [D(2027, 2, d) for d in range(1, 29) if D(2027, 2, d).weekday() < 5]
    for day in weekdays_2027[:10]:
        off(day)
    working(D(2027, 2, 6))  # a Saturday working day: not a day off
    off(D(2027, 2, 7))  # a Sunday off: off anyway, does not count
    assert calendar.years_without_official_calendar([2027]) == [2027], "10 weekdays off is only part of a notice"
    off(weekdays_2027[10])
    assert calendar.years_without_official_calendar([2027]) == []
    assert calendar.admin_weekdays_off([2027, 2028]) == {2027: 11, 2028: 0}


def test_years_without_official_calendar_defaults_to_this_year_and_next(db):
    this_year = timezone.localdate().year
    expected = [y for y in (this_year, this_year + 1) if y not in calendar.official_years()]
    assert calendar.years_without_official_calendar() == expected


# --- Admin entries override the package, both ways; the cache follows edits ----------


def test_an_admin_entry_overrides_the_package_both_ways(db):
    assert calendar.add_working_days(D(2021, 10, 8), 1) == D(2021, 10, 9)
    saturday = off(D(2021, 10, 9), "no 调休 after all")
    assert not calendar.is_working_day(D(2021, 10, 9))
    assert calendar.add_working_days(D(2021, 10, 8), 1) == D(2021, 10, 11)

    working(D(2021, 10, 7), "back a day early")
    assert calendar.add_working_days(D(2021, 9, 30), 1) == D(2021, 10, 7)
    assert calendar.add_working_days(D(2021, 10, 11), -1) == D(2021, 10, 8)

    saturday.is_working_day = True
    saturday.save()
    assert calendar.add_working_days(D(2021, 10, 8), 1) == D(2021, 10, 9)
    saturday.delete()
    assert calendar.is_working_day(D(2021, 10, 9))  # the package again


def test_the_calendar_queries_once_then_serves_from_memory(db, django_assert_num_queries):
    with django_assert_num_queries(1):
        calendar.add_working_days(D(2021, 9, 30), 15)
    with django_assert_num_queries(0):
        for day in range(1, 29):
            calendar.add_working_days(D(2021, 2, day), 15)
            calendar.is_working_day(D(2021, 2, day))
            calendar.working_days_between(D(2021, 2, day), D(2022, 3, 1))


def test_another_process_edit_is_seen_after_the_version_token_changes(db, monkeypatch):
    monkeypatch.setattr(calendar, "VERSION_CHECK_SECONDS", 3600)
    monkeypatch.setattr(calendar, "MAX_AGE_SECONDS", 3600)
    assert calendar.is_working_day(D(2021, 10, 9))
    # Another process writes: no signal reaches this one.
    CalendarDay.objects.bulk_create([CalendarDay(date=D(2021, 10, 9), is_working_day=False)])
    assert calendar.is_working_day(D(2021, 10, 9)), "served from memory until the next check"
    cache.set(calendar.VERSION_KEY, "bumped-by-another-process", None)
    monkeypatch.setattr(calendar, "VERSION_CHECK_SECONDS", 0)
    assert not calendar.is_working_day(D(2021, 10, 9))


def test_the_copy_is_reloaded_when_too_old_even_without_a_token(db, monkeypatch):
    # The demo's cache is per-process local memory: the token never crosses processes.
    monkeypatch.setattr(calendar, "VERSION_CHECK_SECONDS", 3600)
    assert calendar.is_working_day(D(2021, 10, 9))
    CalendarDay.objects.bulk_create([CalendarDay(date=D(2021, 10, 9), is_working_day=False)])
    assert calendar.is_working_day(D(2021, 10, 9))
    monkeypatch.setattr(calendar, "MAX_AGE_SECONDS", 0)
    assert not calendar.is_working_day(D(2021, 10, 9))


def test_a_committed_edit_bumps_the_token_for_other_processes(db, django_capture_on_commit_callbacks):
    before = cache.get(calendar.VERSION_KEY)
    with django_capture_on_commit_callbacks(execute=True):
        off(D(2027, 10, 1))
    assert cache.get(calendar.VERSION_KEY) not in (None, before)


def test_end_of_day_is_the_last_second_in_shanghai():
    end = calendar.end_of_day(D(2021, 10, 8))
    assert timezone.is_aware(end)
    assert end.isoformat() == "2021-10-08T23:59:59+08:00"


def test_a_datetime_counts_as_its_local_date(db):
    # 2021-09-30 17:00 UTC is 2021-10-01 01:00 in Shanghai: inside the holiday.
    late = dt.datetime(2021, 9, 30, 17, 0, tzinfo=dt.timezone.utc)
    assert not calendar.is_working_day(late)
    assert calendar.add_working_days(late, 1) == D(2021, 10, 8)
    with pytest.raises(TypeError, match="expected a date"):
        calendar.is_working_day("2021-10-01")
