"""Each role's home page: its sections, its department scope, and query counts that do not grow."""

import datetime as dt
import re
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from feedback.models import Callback, CallbackResult
from org.views import campaign_headline
from tasks import selectors
from tasks.models import State, Task, TaskAssist, TaskRequest

from ..factories import SuggestionFactory, TaskFactory, TownshipFactory, UserFactory

NOW = timezone.now()


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    """The cast's passwords are hashed with a cheap hasher: PBKDF2's million rounds cost seconds per test."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _section(html: str, section_id: str) -> str:
    """The HTML of one <section> of the home page (sections are not nested)."""
    match = re.search(rf'<section[^>]*id="{section_id}".*?</section>', html, re.S)
    assert match, f"section #{section_id} is missing"
    return match.group(0)


def _task_ids(html: str) -> set[int]:
    return {int(pk) for pk in re.findall(r'data-task-id="(\d+)"', html)}


def _figure(html: str, key: str) -> str:
    match = re.search(rf'data-figure="{key}" data-value="([^"]*)"', html)
    assert match, f"figure {key} is missing"
    return match.group(1)


def _home(client, user, language="en") -> str:
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get(reverse("home"))
    assert response.status_code == 200
    return response.content.decode()


def _assigned(department, *, days_left: int, state=State.ASSIGNED, **kwargs) -> Task:
    return TaskFactory(
        state=state,
        lead_department=department,
        assigned_at=NOW - dt.timedelta(days=5),
        deadline=NOW + dt.timedelta(days=days_left),
        **kwargs,
    )


# --- Scope -----------------------------------------------------------------------------


def test_tasks_visible_to_follows_each_role(cast, departments):
    led = _assigned(departments.zhujian, days_left=3)
    assisted = _assigned(departments.chengguan, days_left=3)
    TaskAssist.objects.create(task=assisted, department=departments.zhujian)
    # A third assisting department must not repeat the task in the department's list.
    TaskAssist.objects.create(task=led, department=departments.chengguan)
    TaskAssist.objects.create(task=led, department=departments.supervision)
    registered = SuggestionFactory(registered_by=cast.registrar).task

    def visible(user):
        return list(selectors.tasks_visible_to(user).values_list("pk", flat=True))

    assert sorted(visible(cast.handler_zhujian)) == sorted([led.pk, assisted.pk])
    assert sorted(visible(cast.head_chengguan)) == sorted([led.pk, assisted.pk])
    assert visible(cast.registrar) == [registered.pk]
    assert visible(cast.outsider) == []
    for user in (cast.leader, cast.supervisor):
        assert sorted(visible(user)) == sorted([led.pk, assisted.pk, registered.pk])
    # The admin role (a superuser too) reads no task: users, departments, calendars and reminder policy only.
    assert cast.admin.is_superuser and visible(cast.admin) == []


# --- Handler and head -----------------------------------------------------------------


def test_handler_sees_own_department_tasks_and_not_another_department(client, cast, departments):
    own_open = _assigned(departments.zhujian, days_left=5, state=State.ACCEPTED)
    own_overdue = _assigned(departments.zhujian, days_left=-3)
    assisted = _assigned(departments.chengguan, days_left=4, state=State.IN_PROGRESS)
    TaskAssist.objects.create(task=assisted, department=departments.zhujian)
    other = _assigned(departments.chengguan, days_left=-2)
    _assigned(departments.zhujian, days_left=5, state=State.CLOSED)

    html = _home(client, cast.handler_zhujian)
    assert 'id="home-handler"' in html
    open_ids = _task_ids(_section(html, "department-open-tasks"))
    assert open_ids == {own_open.pk, own_overdue.pk, assisted.pk}
    assert _task_ids(_section(html, "department-overdue-tasks")) == {own_overdue.pk}
    assert other.pk not in _task_ids(html)
    assert "assisting" in _section(html, "department-open-tasks")
    assert _figure(html, "open") == "3"
    assert _figure(html, "overdue") == "1"
    assert _figure(html, "to_accept") == "1"
    assert "replies-awaiting-approval" not in html


def test_the_desk_counts_led_tasks_late_to_accept_by_their_acceptance_clock(client, cast, departments):
    late = _assigned(departments.zhujian, days_left=3, accept_deadline=NOW - dt.timedelta(hours=1))
    _assigned(departments.zhujian, days_left=3, accept_deadline=NOW + dt.timedelta(hours=1))  # still in time
    _assigned(departments.zhujian, days_left=3, state=State.ACCEPTED, accept_deadline=NOW - dt.timedelta(hours=1),
              accepted_at=NOW - dt.timedelta(hours=2))
    assisted = _assigned(departments.chengguan, days_left=3, accept_deadline=NOW - dt.timedelta(hours=1))
    TaskAssist.objects.create(task=assisted, department=departments.zhujian)  # the lead's acceptance, not ours
    html = _home(client, cast.handler_zhujian)
    assert _figure(html, "accept_late") == "1"
    assert 'data-figure="accept_late"' in html and "figure-alert" in html
    late.state = State.ACCEPTED
    late.save(update_fields=["state"])
    assert _figure(_home(client, cast.handler_zhujian), "accept_late") == "0"


def test_handler_home_shows_days_overdue(client, cast, departments):
    task = _assigned(departments.zhujian, days_left=-4)
    overdue = _section(_home(client, cast.handler_zhujian), "department-overdue-tasks")
    row = re.search(rf'<tr[^>]*data-task-id="{task.pk}".*?</tr>', overdue, re.S).group(0)
    assert '<span class="overdue-days">4</span>' in row or '<span class="overdue-days">5</span>' in row


def test_head_sees_replies_awaiting_approval_of_own_department_only(client, cast, departments):
    own = _assigned(departments.zhujian, days_left=2, state=State.AWAITING_APPROVAL, replied_at=NOW)
    other = _assigned(departments.chengguan, days_left=2, state=State.AWAITING_APPROVAL, replied_at=NOW)

    html = _home(client, cast.head_zhujian)
    assert 'id="home-head"' in html
    approvals = _section(html, "replies-awaiting-approval")
    assert _task_ids(approvals) == {own.pk}
    assert other.pk not in _task_ids(html)
    assert _figure(html, "awaiting_approval") == "1"
    assert "Replies awaiting your approval" in approvals


# --- Supervisor -------------------------------------------------------------------------


def test_supervisor_sees_the_dispatch_picture(client, cast, departments):
    TaskFactory.create_batch(2, state=State.REGISTERED)
    reported = TaskFactory(state=State.REPORTED, reported_at=NOW)
    TaskFactory(state=State.RETURNED)
    late_zhujian = [_assigned(departments.zhujian, days_left=-1) for _ in range(2)]
    _assigned(departments.chengguan, days_left=-1)
    TaskRequest.objects.create(
        task=late_zhujian[0],
        kind=TaskRequest.Kind.EXTENSION,
        department=departments.zhujian,
        reason="需要协调供电公司",
        requested_by=cast.handler_zhujian,
    )

    html = _home(client, cast.supervisor)
    assert 'id="home-supervisor"' in html
    assert _figure(html, "registered") == "2"
    assert _figure(html, "reported") == "1"
    assert _figure(html, "reviewed") == "0"
    assert _figure(html, "returned") == "1"
    assert _figure(html, "extension_requests") == "1"
    assert _figure(html, "return_requests") == "0"
    assert _figure(html, "overdue") == "3"
    assert 'data-kind="extension"' in _section(html, "pending-requests")
    by_department = _section(html, "overdue-by-department")
    rows = re.findall(r'data-department-id="(\d+)"><td>([^<]+)</td><td class="num">(\d+)', by_department)
    assert rows == [(str(departments.zhujian.pk), "住建局", "2"), (str(departments.chengguan.pk), "城管局", "1")]
    assert _task_ids(_section(html, "awaiting-review")) == {reported.pk}


# --- Leader ------------------------------------------------------------------------------


def test_leader_sees_headline_figures_and_reports_awaiting_review(client, cast, departments):
    reported = TaskFactory(state=State.REPORTED, reported_at=NOW)
    closed = _assigned(departments.zhujian, days_left=-1, state=State.CLOSED, closed_at=NOW)
    _assigned(departments.zhujian, days_left=-1)  # assigned, open, overdue
    Callback.objects.create(task=closed, result=CallbackResult.SATISFIED)
    Callback.objects.create(task=closed, result=CallbackResult.UNSATISFIED)

    html = _home(client, cast.leader)
    assert 'id="home-leader"' in html
    headline = re.search(r'id="campaign-headline">([^<]*)<', html).group(1)
    assert headline == "Suggestions collected: 3; problems of all kinds solved: 1"
    assert _figure(html, "received") == "3"
    assert _figure(html, "closed") == "1"
    assert _figure(html, "closure_rate") == "50.0"
    assert _figure(html, "overdue") == "1"
    assert _figure(html, "satisfaction") == "50.0"
    assert _task_ids(_section(html, "awaiting-review")) == {reported.pk}


def test_leader_rates_are_blank_with_nothing_to_divide(client, cast):
    html = _home(client, cast.leader)
    assert _figure(html, "closure_rate") == ""
    assert _figure(html, "satisfaction") == ""


def test_campaign_headline_in_the_articles_words():
    from django.utils import translation

    with translation.override("en"):
        assert campaign_headline(received=61_234, solved=57_345) == (
            "Suggestions collected: about 61,000; problems of all kinds solved: more than 57,000"
        )
        assert campaign_headline(received=812, solved=640) == (
            "Suggestions collected: 812; problems of all kinds solved: 640"
        )
    with translation.override("zh-hans"):
        # The words come from the catalogue (万, 余 once merged); the numbers are counted in 万.
        headline = campaign_headline(received=61_234, solved=57_345)
        assert "6.1" in headline and "5.7" in headline and "61" not in headline.replace("6.1", "")


# --- Registrar and admin ------------------------------------------------------------------


def test_registrar_sees_only_own_registrations(client, cast):
    mine = SuggestionFactory.create_batch(2, registered_by=cast.registrar)
    theirs = SuggestionFactory(registered_by=UserFactory(username="registrar-2"))

    html = _home(client, cast.registrar)
    assert 'id="home-registrar"' in html
    section = _section(html, "my-registrations")
    shown = {int(pk) for pk in re.findall(r'data-suggestion-id="(\d+)"', section)}
    assert shown == {s.pk for s in mine}
    assert theirs.tracking_number not in html
    assert _figure(html, "total") == "2"
    assert _figure(html, "today") == "2"


def test_admin_home_links_into_the_admin(client, cast):
    html = _home(client, cast.admin)
    section = _section(html, "admin-links")
    assert f'href="{reverse("admin:index")}"' in section


def test_the_admins_navigation_leads_to_no_page_of_citizens_or_tasks(client, cast):
    # The admin role reads no task, suggestion or project: only home, reply templates, notifications, the admin.
    html = _home(client, cast.admin)
    assert set(re.findall(r'data-nav="([^"]+)"', html)) == {"home", "reply-templates", "notifications", "admin"}


@pytest.mark.parametrize("role", ["handler_zhujian", "head_zhujian", "supervisor", "leader", "registrar", "admin"])
def test_home_has_no_dead_links(client, cast, departments, role):
    _assigned(departments.zhujian, days_left=-1)
    SuggestionFactory(registered_by=cast.registrar)
    html = _home(client, getattr(cast, role))
    hrefs = set(re.findall(r'<a [^>]*href="(/[^"]*)"', html))
    assert reverse("home") in hrefs
    for href in hrefs:
        status = client.get(href).status_code
        assert status != 404, f"{role}: {href} answers 404"


def test_outsider_role_home_shows_no_task(client, cast, departments):
    _assigned(departments.zhujian, days_left=1)
    html = _home(client, cast.outsider)
    assert _task_ids(html) == set()
    assert _figure(html, "total") == "0"


def test_header_shows_name_role_department_and_language_switch(client, cast):
    html = _home(client, cast.handler_zhujian)
    header = re.search(r'<header class="topbar".*?</header>', html, re.S).group(0)
    assert cast.handler_zhujian.full_name in header
    assert "handler" in header and "住建局" in header
    assert f'action="{reverse("set_language")}"' in header
    assert f'action="{reverse("logout")}"' in header


# --- Query counts -------------------------------------------------------------------------


class _Rows:
    """Creates rows for every home page at once: department tasks, dispatch work, registrations."""

    def __init__(self, cast, departments):
        self.cast, self.departments = cast, departments
        self.township = TownshipFactory(name="留早镇", short_name="留早")

    def add(self, n: int):
        for i in range(n):
            lead = (self.departments.zhujian, self.departments.chengguan)[i % 2]
            overdue = _assigned(lead, days_left=-1 - i, township=self.township)
            open_task = _assigned(lead, days_left=2 + i, state=State.IN_PROGRESS, township=self.township)
            TaskAssist.objects.create(task=open_task, department=self.departments.supervision)
            _assigned(lead, days_left=1, state=State.AWAITING_APPROVAL, replied_at=NOW, township=self.township)
            TaskFactory(state=State.REPORTED, reported_at=NOW, township=self.township)
            closed = _assigned(lead, days_left=-1, state=State.CLOSED, closed_at=NOW, township=self.township)
            Callback.objects.create(task=closed, result=CallbackResult.SATISFIED)
            SuggestionFactory(registered_by=self.cast.registrar, township=self.township)
            TaskRequest.objects.create(
                task=overdue,
                kind=(TaskRequest.Kind.EXTENSION, TaskRequest.Kind.RETURN)[i % 2],
                department=lead,
                reason="理由",
                requested_by=self.cast.handler_zhujian,
            )


def _count_home_queries(client, user) -> int:
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("home")).status_code == 200
    return len(queries)


@pytest.mark.parametrize("role", ["handler_zhujian", "head_zhujian", "supervisor", "leader", "registrar"])
def test_home_query_count_does_not_grow_with_rows(client, cast, departments, role):
    user = getattr(cast, role)
    rows = _Rows(cast, departments)
    rows.add(3)
    few = _count_home_queries(client, user)
    rows.add(6)
    many = _count_home_queries(client, user)
    assert few == many, f"{role}: {few} queries with 3 rows per list, {many} with 9"
    assert many <= 10
