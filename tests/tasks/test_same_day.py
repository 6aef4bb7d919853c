"""Same-day targets (当天上报、当天阅批、当天转办): which tasks missed which target, by how much, and the page.

The scenarios use the 2021 calendar: the National Day holiday ran Fri 1 to Thu 7 October,
with Sun 26 September and Sat 9 October as adjusted working days (调休).
"""

import datetime as dt
import zoneinfo

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from tasks import dispatch_selectors as selectors
from tasks import services
from tasks.models import State

from ..factories import TaskFactory

URL = reverse("tasks:same_day")
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2021, 11, 12, 10, 0, tzinfo=SHANGHAI)  # a Friday
FIRST, LAST = dt.date(2021, 9, 1), dt.date(2021, 11, 12)


def at(day: str, time: str = "10:00") -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=SHANGHAI)


class Steps:
    """Takes a task through report, review and assignment at given local times, through the services."""

    def __init__(self, cast, departments):
        self.cast, self.departments = cast, departments

    def registered(self, when, **fields):
        return TaskFactory(created_at=when, **fields)

    def report(self, task, when):
        return services.task_report(actor=self.cast.supervisor, task=task, now=when)

    def review(self, task, when):
        return services.task_review(actor=self.cast.leader, task=task, now=when)

    def assign(self, task, when):
        return services.task_assign(actor=self.cast.supervisor, task=task, lead_department=self.departments.zhujian,
                                    now=when)


@pytest.fixture
def steps(cast, departments):
    return Steps(cast, departments)


def statuses(task, now=NOW) -> dict:
    task.refresh_from_db()
    return {t.key: (t.status, t.late_working_days) for t in selectors.target_statuses(task, now=now)}


def misses(user, **kwargs) -> set:
    return set(selectors.same_day_misses(user, now=NOW, first=FIRST, last=LAST, **kwargs).values_list("pk", flat=True))


def test_registration_working_day_moves_past_weekends_and_holidays_but_not_adjusted_working_days(db):
    assert selectors.registration_working_day(at("2021-11-05", "18:00")) == dt.date(2021, 11, 5)  # Friday
    assert selectors.registration_working_day(at("2021-11-06")) == dt.date(2021, 11, 8)  # Saturday → Monday
    assert selectors.registration_working_day(at("2021-10-02")) == dt.date(2021, 10, 8)  # holiday
    assert selectors.registration_working_day(at("2021-09-26")) == dt.date(2021, 9, 26)  # 调休 Sunday
    assert selectors.registration_working_day(at("2021-10-09")) == dt.date(2021, 10, 9)  # 调休 Saturday
    # Local dates, not UTC: 07:30 in Shanghai is the previous day in UTC.
    assert selectors.target_end(at("2021-11-09", "07:30")) == at("2021-11-10", "00:00")


def test_national_day_registration_assigned_after_the_holiday_is_one_working_day_late(steps, cast):
    task = steps.registered(at("2021-09-30", "20:00"))
    steps.assign(task, at("2021-10-08", "09:00"))
    assert statuses(task) == {"report": ("none", None), "review": ("none", None), "assign": ("late", 1)}
    with translation.override("en"):
        [assign] = [t for t in selectors.target_statuses(task, now=NOW) if t.key == "assign"]
    assert assign.late_by == "7 days, 9 hours"
    assert misses(cast.supervisor) == {task.pk}


def test_registered_during_the_holiday_and_assigned_on_the_first_working_day_is_on_time(steps, cast):
    task = steps.registered(at("2021-10-02", "11:00"))
    steps.assign(task, at("2021-10-08", "16:00"))
    assert statuses(task)["assign"] == ("on_time", None)
    assert misses(cast.supervisor) == set()


def test_adjusted_working_days_count_as_working_days(steps, cast):
    sunday = steps.registered(at("2021-09-26", "10:00"))  # 调休: a working Sunday
    steps.assign(sunday, at("2021-09-27", "09:00"))
    friday = steps.registered(at("2021-10-08", "17:00"))
    steps.assign(friday, at("2021-10-09", "09:00"))  # 调休: a working Saturday, one working day later
    assert statuses(sunday)["assign"] == ("late", 1)
    assert statuses(friday)["assign"] == ("late", 1)
    assert misses(cast.supervisor) == {sunday.pk, friday.pk}


def test_weekend_friday_evening_report_on_time_review_and_assignment_on_monday_late(steps, cast):
    friday = steps.registered(at("2021-11-05", "18:00"))
    steps.report(friday, at("2021-11-05", "19:00"))
    steps.review(friday, at("2021-11-08", "09:00"))
    steps.assign(friday, at("2021-11-08", "10:00"))
    saturday = steps.registered(at("2021-11-06", "10:00"))
    steps.report(saturday, at("2021-11-08", "08:00"))
    steps.review(saturday, at("2021-11-08", "09:00"))
    steps.assign(saturday, at("2021-11-08", "17:00"))
    assert statuses(friday) == {"report": ("on_time", None), "review": ("late", 1), "assign": ("late", 1)}
    assert statuses(saturday) == {"report": ("on_time", None), "review": ("on_time", None), "assign": ("on_time", None)}
    assert misses(cast.supervisor) == {friday.pk}
    assert misses(cast.supervisor, target="report") == set()
    assert misses(cast.supervisor, target="review", status="late") == {friday.pk}


def test_local_time_zone_decides_the_day_on_both_databases(steps, cast):
    # 07:30 on 9 November in Shanghai is 23:30 on 8 November in UTC: assigned the same local day.
    early = steps.registered(at("2021-11-09", "07:30"))
    steps.assign(early, at("2021-11-09", "10:00"))
    # 23:30 local is still the registration day; 00:10 the next morning is late.
    late = steps.registered(at("2021-11-09", "23:00"))
    steps.assign(late, at("2021-11-10", "00:10"))
    assert statuses(early)["assign"] == ("on_time", None)
    assert statuses(late)["assign"] == ("late", 1)
    assert misses(cast.supervisor) == {late.pk}


def test_tasks_still_waiting_after_their_registration_day_are_listed_against_the_step_they_wait_for(steps, cast):
    not_reported = steps.registered(at("2021-11-10", "10:00"))
    not_reviewed = steps.registered(at("2021-11-10", "09:00"))
    steps.report(not_reviewed, at("2021-11-10", "10:00"))
    not_assigned = steps.registered(at("2021-11-09", "09:00"))
    steps.report(not_assigned, at("2021-11-09", "09:30"))
    steps.review(not_assigned, at("2021-11-09", "11:00"))
    due_today = steps.registered(at("2021-11-12", "08:00"))  # its day has not ended at NOW
    returned = steps.registered(at("2021-11-01", "09:00"), state=State.RETURNED)  # waits for reassignment, not a target
    merged = steps.registered(at("2021-11-01", "09:00"), state=State.MERGED)

    assert statuses(not_reported) == {"report": ("waiting", 2), "review": ("none", None), "assign": ("none", None)}
    assert statuses(not_reviewed)["review"] == ("waiting", 2)
    assert statuses(not_assigned)["assign"] == ("waiting", 3)
    assert statuses(due_today)["report"] == ("not_due", None)
    everything = {not_reported.pk, not_reviewed.pk, not_assigned.pk}
    assert misses(cast.supervisor) == everything
    assert misses(cast.supervisor, status="waiting") == everything
    assert misses(cast.supervisor, status="late") == set()
    assert misses(cast.supervisor, target="assign") == {not_assigned.pk}
    assert not {due_today.pk, returned.pk, merged.pk} & misses(cast.supervisor)

    counts = selectors.same_day_counts(cast.supervisor, now=NOW, first=FIRST, last=LAST)
    assert counts == {"registered": 5, "waiting": 3, "report": 1, "review": 1, "assign": 1}
    # Seen from a later period, the same three are "registered before it and still waiting".
    assert selectors.waiting_before(cast.supervisor, now=NOW, first=dt.date(2021, 11, 11)) == 3


def test_counts_add_up_per_target_over_the_listed_tasks(steps, cast):
    friday = steps.registered(at("2021-11-05", "18:00"))
    steps.report(friday, at("2021-11-08", "09:00"))
    steps.review(friday, at("2021-11-08", "10:00"))
    steps.assign(friday, at("2021-11-09", "10:00"))
    waiting = steps.registered(at("2021-11-10", "10:00"))
    counts = selectors.same_day_counts(cast.supervisor, now=NOW, first=FIRST, last=LAST)
    assert counts == {"registered": 2, "waiting": 1, "report": 2, "review": 1, "assign": 1}
    assert statuses(friday) == {"report": ("late", 1), "review": ("late", 1), "assign": ("late", 2)}
    assert misses(cast.supervisor, target="report") == {friday.pk, waiting.pk}


def test_nobody_but_supervisors_and_leaders_gets_rows(steps, cast):
    steps.registered(at("2021-11-10", "10:00"))
    assert misses(cast.leader)
    for user in (cast.handler_zhujian, cast.head_zhujian, cast.registrar, cast.admin):
        assert misses(user) == set()


# --- The page -------------------------------------------------------------------------------


def _get(client, user, **query):
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client.get(URL, query)


@pytest.mark.parametrize("role", ["handler_zhujian", "head_zhujian", "registrar", "admin"])
def test_only_supervisors_and_leaders_may_open_the_page(client, cast, role):
    assert _get(client, getattr(cast, role)).status_code == 403


def test_anonymous_is_sent_to_the_login_page(client, db):
    assert client.get(URL)["Location"].startswith(reverse("login"))


def _waiting_task(days_ago=15):
    # 15 days back: past any run of days off (the longest, Spring Festival, is 9), so the day has ended.
    return TaskFactory(created_at=timezone.now() - dt.timedelta(days=days_ago))


@pytest.mark.parametrize("role", ["supervisor", "leader"])
def test_page_shows_missed_targets_and_how_late(client, cast, role):
    task = _waiting_task()
    response = _get(client, getattr(cast, role))
    assert response.status_code == 200
    row = response.context["rows"][0]
    assert row.task.pk == task.pk
    assert row.targets[0].status == "waiting" and row.targets[0].late_working_days >= 1
    assert f'data-task-id="{task.pk}"' in response.text
    assert 'data-target="report" data-status="waiting"' in response.text
    assert response.context["counts"]["report"] == 1


def test_period_longer_than_the_limit_is_refused_and_the_default_used(client, cast):
    response = _get(client, cast.supervisor, first="2021-01-01", last="2021-12-31")
    assert response.status_code == 200
    assert "Choose at most 92 days; 2021-01-01 to 2021-12-31 is 365 days." in response.text
    today = timezone.localdate()
    assert (response.context["first"], response.context["last"]) == (today - dt.timedelta(days=30), today)


def _page_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(URL).status_code == 200
    return len(queries)


def test_query_count_does_not_grow_with_rows(client, cast):
    for _ in range(2):
        _waiting_task()
    _get(client, cast.supervisor)  # logs in, and loads the calendar's admin entries once
    few = _page_queries(client)
    for days in range(20):
        task = _waiting_task(days_ago=12 + days % 10)
        if days % 2:
            services.task_report(actor=cast.supervisor, task=task)
    assert len(_get(client, cast.supervisor).context["rows"]) == 22
    assert _page_queries(client) == few
