"""The task list page (/tasks/): scope, every filter, search, sorting, pagination without COUNT, query counts."""

import datetime as dt
import importlib
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from feedback.models import Category, Channel, Urgency
from org.models import Township
from tasks import calendar, search
from tasks.models import State, Task, TaskAssist
from tasks.views.lists import PER_PAGE

from ..factories import TaskFactory, TownshipFactory

URL = reverse("tasks:list")


def shown(response) -> list[int]:
    """The ids of the task rows on the page, in order."""
    assert response.status_code == 200
    return [int(pk) for pk in re.findall(r'data-task-id="(\d+)"', response.content.decode())]


def get(client, user, **params):
    client.force_login(user)
    return client.get(URL, params)


def task(departments, township, **fields):
    """A task assigned to 住建局 unless told otherwise, with one suggestion."""
    fields.setdefault("state", State.IN_PROGRESS)
    fields.setdefault("lead_department", departments.zhujian)
    fields.setdefault("township", township)
    content = fields.pop("content", None)
    if content is not None:
        return TaskFactory(suggestion__content=content, **fields)
    return TaskFactory(**fields)


@pytest.fixture
def world(cast, departments, township):
    """Tasks of both departments: 住建局's own, 城管局's own, and a 住建局 task 城管局 assists with."""
    zhujian = task(departments, township, content="暖气不热，家里只有十二度")
    chengguan = task(departments, township, lead_department=departments.chengguan, content="路灯不亮，晚上很黑")
    assisted = task(departments, township, content="小区路灯和暖气都坏了")
    TaskAssist.objects.create(task=assisted, department=departments.chengguan)
    unassigned = task(departments, township, state=State.REGISTERED, lead_department=None, content="垃圾没人清运")
    return type("World", (), {"zhujian": zhujian, "chengguan": chengguan, "assisted": assisted, "unassigned": unassigned})


# --- Access and scope -------------------------------------------------------------------------


def test_anonymous_visitor_is_sent_to_login(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_supervisor_sees_every_task_newest_first(client, cast, world):
    assert shown(get(client, cast.supervisor)) == [world.unassigned.pk, world.assisted.pk, world.chengguan.pk, world.zhujian.pk]


def test_handler_sees_own_department_tasks_led_or_assisted_and_never_another_departments(client, cast, world):
    ids = shown(get(client, cast.handler_chengguan))
    assert ids == [world.assisted.pk, world.chengguan.pk]
    assert world.zhujian.pk not in ids


def test_handler_cannot_widen_the_scope_with_a_department_parameter(client, cast, departments, world):
    ids = shown(get(client, cast.handler_chengguan, lead_department=departments.zhujian.pk))
    assert world.zhujian.pk not in ids
    assert ids == [world.assisted.pk, world.chengguan.pk]


def test_outsider_sees_no_task(client, cast, world):
    assert shown(get(client, cast.outsider)) == []


def test_handler_search_never_finds_another_departments_task(client, cast, world):
    # "暖气" is in 住建局's own task and in the one 城管局 assists with.
    assert shown(get(client, cast.handler_chengguan, q="暖气")) == [world.assisted.pk]
    assert shown(get(client, cast.handler_zhujian, q="暖气")) == [world.assisted.pk, world.zhujian.pk]


def test_involvement_filter_splits_led_and_assisted_tasks(client, cast, world):
    assert shown(get(client, cast.handler_chengguan, involvement="lead")) == [world.chengguan.pk]
    assert shown(get(client, cast.handler_chengguan, involvement="assist")) == [world.assisted.pk]


def test_department_filter_is_offered_to_those_who_see_all_only(client, cast, world):
    assert 'name="lead_department"' in get(client, cast.supervisor).content.decode()
    handler_page = get(client, cast.handler_chengguan).content.decode()
    assert 'name="lead_department"' not in handler_page
    assert 'name="involvement"' in handler_page


# --- Filters ------------------------------------------------------------------------------------


def test_state_filter_takes_several_states(client, cast, departments, township):
    accepted = task(departments, township, state=State.ACCEPTED)
    closed = task(departments, township, state=State.CLOSED)
    task(departments, township, state=State.REPLIED)
    ids = shown(get(client, cast.supervisor, state=[State.ACCEPTED, State.CLOSED]))
    assert ids == [closed.pk, accepted.pk]


def test_lead_department_filter(client, cast, departments, world):
    assert shown(get(client, cast.supervisor, lead_department=departments.chengguan.pk)) == [world.chengguan.pk]


@pytest.mark.parametrize("value", ["id", "留早镇", "留早"])
def test_township_filter_accepts_id_full_name_and_short_name(client, cast, departments, township, value):
    other = TownshipFactory(name="清风店镇", short_name="清风店")
    here = task(departments, township)
    task(departments, other)
    response = get(client, cast.supervisor, township=township.pk if value == "id" else value)
    assert shown(response) == [here.pk]
    # The select shows the township chosen, whichever way it was named.
    assert re.search(rf'<option value="{township.pk}" selected>', response.content.decode())


def test_unknown_township_shows_an_error_and_no_rows(client, cast, departments, township):
    task(departments, township)
    response = get(client, cast.supervisor, township="火星镇")
    assert shown(response) == []
    assert "火星镇" in response.content.decode()


@pytest.mark.parametrize(
    ("name", "wanted", "other"),
    [
        ("channel", Channel.TV, Channel.HOTLINE),
        ("category", Category.COMPLAINT, Category.SUGGESTION),
        ("urgency", Urgency.URGENT, Urgency.NORMAL),
    ],
)
def test_choice_filters(client, cast, departments, township, name, wanted, other):
    match = task(departments, township, **{name: wanted})
    task(departments, township, **{name: other})
    assert shown(get(client, cast.supervisor, **{name: wanted})) == [match.pk]


def test_overdue_filter_counts_only_tasks_on_a_department_clock(client, cast, departments, township):
    now = timezone.now()
    overdue = task(departments, township, state=State.ACCEPTED, deadline=now - dt.timedelta(hours=2))
    task(departments, township, state=State.CLOSED, deadline=now - dt.timedelta(days=3))  # finished: not overdue
    task(departments, township, state=State.ASSIGNED, deadline=now + dt.timedelta(days=9))
    assert shown(get(client, cast.supervisor, due="overdue")) == [overdue.pk]


def test_due_soon_reaches_to_the_end_of_the_next_working_day(client, cast, departments, township):
    now = timezone.now()
    next_day_end = calendar.end_of_day(calendar.next_working_day(timezone.localdate(now)))
    soon = task(departments, township, state=State.ASSIGNED, deadline=next_day_end - dt.timedelta(minutes=5))
    later = calendar.end_of_day(calendar.add_working_days(timezone.localdate(now), 3))
    task(departments, township, state=State.ASSIGNED, deadline=later)
    task(departments, township, state=State.ASSIGNED, deadline=now - dt.timedelta(hours=1))  # overdue, not soon
    assert shown(get(client, cast.supervisor, due="due_soon")) == [soon.pk]


def test_due_today_filter(client, cast, departments, township):
    now = timezone.now()
    end_of_today = calendar.end_of_day(timezone.localdate(now))
    today = task(departments, township, state=State.IN_PROGRESS, deadline=end_of_today)
    task(departments, township, state=State.IN_PROGRESS, deadline=end_of_today + dt.timedelta(days=2))
    assert shown(get(client, cast.supervisor, due="due_today")) == [today.pk]


def test_supervised_filter_keeps_level_one_and_above(client, cast, departments, township):
    level_two = task(departments, township, supervision_level=2)
    level_one = task(departments, township, supervision_level=1)
    task(departments, township, supervision_level=0)
    assert shown(get(client, cast.supervisor, supervised="on")) == [level_one.pk, level_two.pk]
    assert len(shown(get(client, cast.supervisor))) == 3


def test_registered_date_range(client, cast, departments, township):
    local = timezone.get_default_timezone()
    inside = task(departments, township, created_at=dt.datetime(2021, 10, 25, 23, 30, tzinfo=local))
    task(departments, township, created_at=dt.datetime(2021, 10, 26, 0, 30, tzinfo=local))
    task(departments, township, created_at=dt.datetime(2021, 10, 19, 12, 0, tzinfo=local))
    ids = shown(get(client, cast.supervisor, created_after="2021-10-20", created_before="2021-10-25"))
    assert ids == [inside.pk]


def test_assigned_date_range(client, cast, departments, township):
    local = timezone.get_default_timezone()
    inside = task(departments, township, assigned_at=dt.datetime(2021, 11, 1, 9, 0, tzinfo=local))
    task(departments, township, assigned_at=dt.datetime(2021, 11, 3, 9, 0, tzinfo=local))
    task(departments, township, state=State.REGISTERED, lead_department=None)  # never assigned
    assert shown(get(client, cast.supervisor, assigned_after="2021-11-01", assigned_before="2021-11-02")) == [inside.pk]
    client.force_login(cast.supervisor)
    with CaptureQueriesContext(connection) as queries:
        assert shown(client.get(URL, {"assigned_before": "2021-11-02"})) == [inside.pk]
    # On PostgreSQL a small range that has an end also bounds the ids walked (same rows).
    bounded = any(re.search(r'MIN\(\(\S+"id" \+ 0\)\)', q["sql"]) for q in queries)
    assert bounded == (connection.vendor == "postgresql")
    assert shown(get(client, cast.supervisor, assigned_after="2030-01-01", assigned_before="2030-01-31")) == []


def test_filters_combine(client, cast, departments, township):
    now = timezone.now()
    other = TownshipFactory(name="清风店镇", short_name="清风店")
    wanted = task(departments, township, state=State.IN_PROGRESS, deadline=now - dt.timedelta(days=1), content="路灯坏了")
    task(departments, other, state=State.IN_PROGRESS, deadline=now - dt.timedelta(days=1), content="路灯坏了")
    task(departments, township, state=State.ACCEPTED, deadline=now - dt.timedelta(days=1), content="路灯坏了")
    task(departments, township, state=State.IN_PROGRESS, deadline=now - dt.timedelta(days=1), content="暖气坏了")
    params = {"state": State.IN_PROGRESS, "township": "留早", "due": "overdue", "q": "路灯"}
    assert shown(get(client, cast.supervisor, **params)) == [wanted.pk]


# --- Search through the page ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("term", "expected"),
    [("路灯", ["assisted", "chengguan"]), ("十二度", ["zhujian"]), ("灯和暖", ["assisted"]), ("垃", ["unassigned"])],
)
def test_search_finds_two_three_and_one_character_terms(client, cast, world, term, expected):
    assert shown(get(client, cast.supervisor, q=term)) == [getattr(world, name).pk for name in expected]


def test_search_words_must_all_match(client, cast, world):
    assert shown(get(client, cast.supervisor, q="路灯 暖气")) == [world.assisted.pk]


def test_search_by_tracking_number(client, cast, world):
    number = world.zhujian.suggestions.get().tracking_number
    assert shown(get(client, cast.supervisor, q=number.lower())) == [world.zhujian.pk]
    assert shown(get(client, cast.handler_chengguan, q=number)) == []


@pytest.fixture
def bigram_sql(require_postgres):
    """tasks 0002's and feedback 0007's SQL in the test's transaction (tests run with --nomigrations)."""
    migration = importlib.import_module("tasks.migrations.0002_chinese_search")
    column = importlib.import_module("feedback.migrations.0007_suggestion_content_bigrams")
    with connection.cursor() as cursor:
        # Rows made earlier in the test leave deferred foreign-key checks, which CREATE INDEX refuses.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for statement in migration.FORWARD_SQL + column.FORWARD_SQL:
            cursor.execute(statement)
    search.forget_capabilities()
    yield
    search.forget_capabilities()


def test_search_through_the_bigram_index_keeps_the_scope(client, cast, world, bigram_sql, monkeypatch):
    monkeypatch.setattr(search, "BIGRAM_MAX_ESTIMATED_ROWS", float("inf"))  # every term counts as rare
    client.force_login(cast.handler_chengguan)
    with CaptureQueriesContext(connection) as queries:
        assert shown(client.get(URL, {"q": "暖气"})) == [world.assisted.pk]
    assert any(" @@ " in q["sql"] for q in queries)
    assert shown(get(client, cast.handler_chengguan, q="暖气不热")) == []
    assert shown(get(client, cast.supervisor, q="暖气不热")) == [world.zhujian.pk]
    assert shown(get(client, cast.supervisor, q="没有这个词")) == []


# --- Sorting ---------------------------------------------------------------------------------------


def test_sort_by_deadline_counts_no_deadline_as_the_latest(client, cast, departments, township):
    now = timezone.now()
    late = task(departments, township, deadline=now + dt.timedelta(days=5))
    early = task(departments, township, deadline=now + dt.timedelta(days=1))
    none = task(departments, township, state=State.REGISTERED, lead_department=None)
    same = task(departments, township, deadline=early.deadline)
    assert shown(get(client, cast.supervisor, sort="deadline")) == [early.pk, same.pk, late.pk, none.pk]
    assert shown(get(client, cast.supervisor, sort="-deadline")) == [none.pk, late.pk, same.pk, early.pk]


def test_sort_by_number_both_ways(client, cast, departments, township):
    a = task(departments, township)
    b = task(departments, township)
    assert shown(get(client, cast.supervisor, sort="id")) == [a.pk, b.pk]
    assert shown(get(client, cast.supervisor, sort="-id")) == [b.pk, a.pk]


@pytest.mark.parametrize("column", ["created_at", "state", "title", "township"])
def test_sorting_a_column_without_an_index_is_ignored(client, cast, departments, township, column):
    first = task(departments, township, state=State.CLOSED, created_at=timezone.now(), content="甲")
    second = task(departments, township, state=State.ACCEPTED, created_at=timezone.now() - dt.timedelta(days=9))
    # Still newest (highest number) first, and no sorting link is offered.
    assert shown(get(client, cast.supervisor, sort=column)) == [second.pk, first.pk]
    unsorted = get(client, cast.supervisor).content.decode()
    assert f"sort={column}" not in unsorted
    assert "?sort=deadline" in unsorted


# --- Pagination without counting ------------------------------------------------------------------


def test_pages_are_fetched_without_counting(client, cast, departments, township):
    tasks = [task(departments, township) for _ in range(PER_PAGE + 3)]
    newest_first = [t.pk for t in reversed(tasks)]
    client.force_login(cast.supervisor)
    with CaptureQueriesContext(connection) as queries:
        first = client.get(URL)
    assert shown(first) == newest_first[:PER_PAGE]
    task_queries = [q["sql"].upper() for q in queries if '"TASKS_TASK"' in q["sql"].upper()]
    assert task_queries
    assert not [sql for sql in task_queries if "COUNT(" in sql or "DISTINCT" in sql]
    assert 'data-more="1"' in first.content.decode()
    second = client.get(URL, {"page": 2})
    assert shown(second) == newest_first[PER_PAGE:]
    assert 'data-more="0"' in second.content.decode()


@pytest.mark.parametrize("page", ["999", "abc", "0"])
def test_a_page_past_the_end_or_not_a_number_shows_the_first(client, cast, departments, township, page):
    first = task(departments, township)
    assert shown(get(client, cast.supervisor, page=page)) == [first.pk]


def test_page_size_cannot_be_raised_by_the_visitor(client, cast, departments, township):
    for _ in range(PER_PAGE + 1):
        task(departments, township)
    assert len(shown(get(client, cast.supervisor, per_page=1000))) == PER_PAGE


def _queries_for_page(client, user, params) -> int:
    client.force_login(user)
    client.get(URL, params)  # warm-up: session, once-per-process checks
    with CaptureQueriesContext(connection) as queries:
        assert client.get(URL, params).status_code == 200
    return len(queries)


@pytest.mark.parametrize("who", ["supervisor", "handler_chengguan"])
@pytest.mark.parametrize("params", [{}, {"q": "路灯", "state": State.IN_PROGRESS, "due": "overdue", "township": "留早"}])
def test_query_count_does_not_grow_with_the_rows(client, cast, departments, township, who, params):
    def add(n):
        past = timezone.now() - dt.timedelta(days=1)
        for i in range(n):
            lead = departments.chengguan if i % 2 else departments.zhujian
            made = task(departments, township, lead_department=lead, deadline=past, supervision_level=i % 3,
                        content="路灯不亮" if i % 3 else "暖气不热")  # fmt: skip
            if i % 4 == 0:
                TaskAssist.objects.create(task=made, department=departments.chengguan)

    user = getattr(cast, who)
    add(4)
    few = _queries_for_page(client, user, params)
    add(8)
    assert Task.objects.count() == 12
    many = _queries_for_page(client, user, params)
    assert few == many


def test_rows_show_state_place_department_and_an_assist_tag(client, cast, world):
    page = get(client, cast.handler_chengguan).content.decode()
    assert "住建局" in page and "tag-assist" in page
    assert Township.objects.get().name in page
