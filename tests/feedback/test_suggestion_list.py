"""The suggestion list (/feedback/): scope per role, masking per viewer, filters, search, sorting, paging, query counts."""

import datetime as dt
import importlib
import re
import types

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from feedback.models import Category, Channel, Suggestion, Urgency
from feedback.views.suggestions import PER_PAGE
from tasks import search
from tasks.models import State, TaskAssist

from ..factories import SuggestionFactory, TaskFactory, TownshipFactory, UserFactory, VillageFactory

URL = reverse("feedback:list")


def shown(response) -> list[int]:
    """The ids of the suggestion rows on the page, in order."""
    assert response.status_code == 200
    return [int(pk) for pk in re.findall(r'data-suggestion-id="(\d+)"', response.content.decode())]


def get(client, user, url=URL, **params):
    client.force_login(user)
    return client.get(url, params)


def suggestion(task, **fields):
    fields.setdefault("township", task.township)
    fields.setdefault("channel", task.channel)
    return SuggestionFactory(task=task, **fields)


@pytest.fixture
def world(cast, departments, township):
    """Five suggestions in four tasks of both departments, registered by the registrar or the supervisor.

    zhujian (住建局 leads; the registrar's) + merged (same task, the supervisor's); chengguan
    (城管局 leads, another township, the supervisor's); assisted (住建局 leads, 城管局 assists,
    the registrar's); unassigned (no department yet, urgent complaint, the registrar's).
    """
    nancheng = TownshipFactory(name="南城区街道", short_name="南城区", kind="street")
    now = timezone.now()

    def task(lead, where=township, state=State.IN_PROGRESS, channel=Channel.HOTLINE):
        return TaskFactory(suggestion=False, lead_department=lead, township=where, state=state, channel=channel)

    zhujian_task = task(departments.zhujian)
    w = types.SimpleNamespace(township=township, nancheng=nancheng)
    w.zhujian = suggestion(
        zhujian_task, content="暖气不热，家里只有十二度", registered_by=cast.registrar, citizen_name="张三",
        phone="13812345678", received_at=now - dt.timedelta(days=5),
    )
    w.chengguan = suggestion(
        task(departments.chengguan, nancheng, channel=Channel.SUNSHINE), content="路灯不亮，晚上很黑",
        registered_by=cast.supervisor, citizen_name="李四", phone="13900001111", received_at=now - dt.timedelta(days=4),
    )
    assisted_task = task(departments.zhujian)
    TaskAssist.objects.create(task=assisted_task, department=departments.chengguan)
    w.assisted = suggestion(
        assisted_task, content="小区路灯和暖气都坏了", registered_by=cast.registrar, citizen_name="王五",
        phone="0312-1234567", received_at=now - dt.timedelta(days=3),
    )
    w.unassigned = suggestion(
        task(None, state=State.REGISTERED), content="垃圾没人清运", registered_by=cast.registrar,
        category=Category.COMPLAINT, urgency=Urgency.URGENT, citizen_name="赵六", phone="13700002222",
        received_at=now - dt.timedelta(days=2),
    )
    w.merged = suggestion(
        zhujian_task, content="楼道灯坏了，暖气片漏水", registered_by=cast.supervisor, citizen_name="孙七",
        phone="13600003333", received_at=now - dt.timedelta(days=1),
    )
    w.all = [w.merged, w.unassigned, w.assisted, w.chengguan, w.zhujian]  # newest first
    return w


def ids(*suggestions) -> list[int]:
    return [s.pk for s in suggestions]


# --- Access and scope ----------------------------------------------------------------------------


def test_anonymous_visitor_is_sent_to_login(client):
    response = client.get(URL)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("who", ["supervisor", "leader"])
def test_supervisors_and_leaders_see_every_suggestion_newest_first(client, cast, world, who):
    assert shown(get(client, getattr(cast, who))) == ids(*world.all)


def test_the_admin_sees_no_suggestion(client, cast, world):
    # Least privilege: the admin role runs the site and has no business with citizens' suggestions.
    assert shown(get(client, cast.admin)) == []


def test_registrar_sees_only_what_they_registered(client, cast, world):
    # Not the supervisor's suggestion merged into the registrar's task, nor anyone else's.
    assert shown(get(client, cast.registrar)) == ids(world.unassigned, world.assisted, world.zhujian)


def test_registrar_who_registered_nothing_sees_nothing(client, cast, world):
    response = get(client, cast.outsider)
    assert shown(response) == []


def test_handlers_see_the_suggestions_of_tasks_their_department_leads_or_assists(client, cast, world):
    assert shown(get(client, cast.handler_zhujian)) == ids(world.merged, world.assisted, world.zhujian)
    assert shown(get(client, cast.head_zhujian)) == ids(world.merged, world.assisted, world.zhujian)
    assert shown(get(client, cast.handler_chengguan)) == ids(world.assisted, world.chengguan)


def test_filters_cannot_widen_the_scope(client, cast, world):
    assert shown(get(client, cast.handler_chengguan, township=world.township.pk)) == ids(world.assisted)
    assert shown(get(client, cast.registrar, q=world.merged.tracking_number)) == []


# --- Masking -------------------------------------------------------------------------------------


def _row(response, suggestion) -> str:
    html = response.content.decode()
    match = re.search(rf'<tr[^>]*data-suggestion-id="{suggestion.pk}"[^>]*>(.*?)</tr>', html, re.S)
    assert match, f"row of {suggestion.pk} not shown"
    return match.group(1)


def _in_full(response, suggestion) -> bool:
    row = _row(response, suggestion)
    # Phones are masked for everyone on the list (an unmasked one is shown on request, logged).
    assert suggestion.masked_phone in row and suggestion.phone not in row, row
    plain = suggestion.citizen_name in row
    masked = suggestion.masked_name in row
    assert plain != masked, row
    return plain


@pytest.mark.parametrize(
    "who, plain",
    [
        ("supervisor", {"zhujian", "chengguan", "assisted", "unassigned", "merged"}),
        ("leader", set()),  # reads everything, works on nothing
        ("handler_zhujian", {"zhujian", "assisted", "merged"}),
        ("handler_chengguan", {"chengguan", "assisted"}),  # leads one, assists the other
        ("registrar", {"zhujian", "assisted", "unassigned"}),
    ],
)
def test_citizens_are_masked_unless_the_viewer_works_on_the_item(client, cast, world, who, plain):
    response = get(client, getattr(cast, who))
    for name in ("zhujian", "chengguan", "assisted", "unassigned", "merged"):
        item = getattr(world, name)
        if item.pk in shown(response):
            assert _in_full(response, item) == (name in plain), name


def test_masked_values_look_like_the_rule(client, cast, world):
    row = _row(get(client, cast.leader), world.zhujian)
    assert "138****5678" in row and "张*" in row and "13812345678" not in row and "张三" not in row


def test_the_batch_rule_agrees_with_works_on_for_every_user_and_task(cast, world):
    from feedback.selectors import tasks_worked_on
    from tasks.models import Task
    from tasks.views.detail import works_on

    tasks = list(Task.objects.prefetch_related("assists"))
    leads = {task.pk: task.lead_department_id for task in tasks}
    for name, user in vars(cast).items():
        assert tasks_worked_on(user, leads) == {task.pk for task in tasks if works_on(task, user)}, name
    assert tasks_worked_on(cast.handler_chengguan, leads) == {world.chengguan.task_id, world.assisted.task_id}


# --- Filters -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"channel": Channel.SUNSHINE}, ["chengguan"]),
        ({"township": "南城区"}, ["chengguan"]),  # the short name in a URL works too
        ({"category": Category.COMPLAINT}, ["unassigned"]),
        ({"urgency": Urgency.URGENT}, ["unassigned"]),
        ({"state": State.REGISTERED}, ["unassigned"]),
        ({"state": [State.REGISTERED, State.IN_PROGRESS], "channel": Channel.HOTLINE},
         ["merged", "unassigned", "assisted", "zhujian"]),
    ],
)  # fmt: skip
def test_each_filter_narrows_the_list(client, cast, world, params, expected):
    assert shown(get(client, cast.supervisor, **params)) == [getattr(world, name).pk for name in expected]


def test_township_filter_by_id(client, cast, world):
    assert shown(get(client, cast.supervisor, township=world.nancheng.pk)) == ids(world.chengguan)


def test_received_date_range_includes_both_end_days(client, cast, world):
    start = timezone.localdate(world.chengguan.received_at)
    stop = timezone.localdate(world.unassigned.received_at)
    params = {"received_after": start.isoformat(), "received_before": stop.isoformat()}
    assert shown(get(client, cast.supervisor, **params)) == ids(world.unassigned, world.assisted, world.chengguan)


def test_a_nonsense_filter_value_shows_its_error_and_no_rows(client, cast, world):
    response = get(client, cast.supervisor, channel="fax")
    assert shown(response) == []
    assert 'class="field-error"' in response.content.decode()


# --- Search ----------------------------------------------------------------------------------------


def test_search_finds_suggestions_containing_the_words(client, cast, world):
    assert shown(get(client, cast.supervisor, q="路灯")) == ids(world.assisted, world.chengguan)
    assert shown(get(client, cast.supervisor, q="路灯 暖气")) == ids(world.assisted)


def test_search_returns_the_suggestion_not_its_task_siblings(client, cast, world):
    # 十二度 is only in world.zhujian; world.merged shares its task but not the words.
    assert shown(get(client, cast.supervisor, q="十二度")) == ids(world.zhujian)


def test_search_by_tracking_number_in_any_case(client, cast, world):
    number = world.chengguan.tracking_number
    assert shown(get(client, cast.supervisor, q=number.lower())) == ids(world.chengguan)
    assert shown(get(client, cast.handler_zhujian, q=number)) == []


def test_search_keeps_each_roles_scope(client, cast, world):
    assert shown(get(client, cast.handler_chengguan, q="暖气")) == ids(world.assisted)
    assert shown(get(client, cast.registrar, q="暖气")) == ids(world.assisted, world.zhujian)
    assert shown(get(client, cast.outsider, q="暖气")) == []


@pytest.fixture
def bigram_sql(require_postgres):
    """tasks 0002's and feedback 0007's SQL in the test's transaction (tests run with --nomigrations)."""
    migration = importlib.import_module("tasks.migrations.0002_chinese_search")
    column = importlib.import_module("feedback.migrations.0007_suggestion_content_bigrams")
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for statement in migration.FORWARD_SQL + column.FORWARD_SQL:
            cursor.execute(statement)
    search.forget_capabilities()
    yield
    search.forget_capabilities()


def test_search_through_the_bigram_index_finds_only_suggestions_holding_the_word(
    client, cast, world, bigram_sql, monkeypatch
):
    monkeypatch.setattr(search, "BIGRAM_MAX_ESTIMATED_ROWS", float("inf"))  # every word counts as rare
    client.force_login(cast.supervisor)
    with CaptureQueriesContext(connection) as queries:
        assert shown(client.get(URL, {"q": "十二度"})) == ids(world.zhujian)
    assert any(" @@ " in q["sql"] for q in queries)
    assert shown(get(client, cast.handler_chengguan, q="暖气")) == ids(world.assisted)
    assert shown(get(client, cast.supervisor, q="没有这个词")) == []


# --- Sorting and paging ---------------------------------------------------------------------------


def test_sort_by_received_time_both_ways(client, cast, world):
    oldest_first = sorted(world.all, key=lambda s: s.received_at)
    assert shown(get(client, cast.supervisor, sort="received_at")) == ids(*oldest_first)
    assert shown(get(client, cast.supervisor, sort="-received_at")) == ids(*reversed(oldest_first))


def test_sort_by_tracking_number(client, cast, world):
    ordered = sorted(world.all, key=lambda s: s.tracking_number)
    assert shown(get(client, cast.supervisor, sort="tracking_number")) == ids(*ordered)


@pytest.mark.parametrize("column", ["content", "township", "channel", "citizen_name"])
def test_sorting_a_column_without_an_index_is_ignored(client, cast, world, column):
    response = get(client, cast.supervisor, sort=column)
    assert shown(response) == ids(*world.all)
    assert f"sort={column}" not in get(client, cast.supervisor).content.decode()


def test_pages_are_fetched_without_counting(client, cast, departments, township):
    for _ in range(PER_PAGE + 3):
        SuggestionFactory(township=township, registered_by=cast.registrar)
    client.force_login(cast.registrar)
    with CaptureQueriesContext(connection) as queries:
        first = client.get(URL)
    assert len(shown(first)) == PER_PAGE
    sql = [q["sql"].upper() for q in queries if "FEEDBACK_SUGGESTION" in q["sql"].upper()]
    assert sql and not [s for s in sql if "COUNT(" in s or "DISTINCT" in s]
    second = client.get(URL, {"page": 2})
    assert len(shown(second)) == 3
    assert set(shown(first)).isdisjoint(shown(second))
    assert shown(client.get(URL, {"page": 99})) == shown(first)  # past the end: the first page


def test_export_links_carry_the_filters_but_not_the_page(client, cast, world):
    html = get(client, cast.supervisor, channel=Channel.SUNSHINE, page=1, sort="received_at").content.decode()
    csv_link = re.search(r'id="export-csv" href="([^"]+)"', html).group(1)
    assert csv_link == reverse("feedback:export_csv") + "?channel=sunshine"
    assert 'id="export-xlsx" href="' + reverse("feedback:export_xlsx") + '?channel=sunshine"' in html


# --- Query counts ---------------------------------------------------------------------------------


def _queries_for_page(client, user, params) -> int:
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(URL, params).status_code == 200
    return len(queries)


@pytest.mark.parametrize("who", ["supervisor", "leader", "handler_chengguan", "head_zhujian", "registrar"])
@pytest.mark.parametrize("params", [{}, {"q": "路灯", "channel": Channel.HOTLINE, "state": State.IN_PROGRESS}])
def test_query_count_does_not_grow_with_the_rows(client, cast, departments, township, who, params):
    village = VillageFactory(township=township)

    def add(n):
        for i in range(n):
            lead = departments.chengguan if i % 2 else departments.zhujian
            task = TaskFactory(suggestion=False, lead_department=lead, township=township, state=State.IN_PROGRESS)
            if i % 3 == 0:
                TaskAssist.objects.create(task=task, department=departments.chengguan)
            for _ in range(1 + i % 2):
                suggestion(task, content="路灯不亮" if i % 3 else "暖气不热", village=village if i % 2 else None,
                           registered_by=cast.registrar if i % 2 else UserFactory())  # fmt: skip

    user = getattr(cast, who)
    add(3)
    # On PostgreSQL the first search asks once whether the bigram index exists (cached after).
    _queries_for_page(client, user, params)
    few = _queries_for_page(client, user, params)
    add(9)
    assert Suggestion.objects.count() == 17
    many = _queries_for_page(client, user, params)
    assert few == many


@pytest.mark.parametrize("who", ["handler_zhujian", "head_chengguan", "supervisor", "leader"])
def test_everyone_but_registrars_has_the_task_pages_scope(cast, world, who):
    from feedback.selectors import suggestions_visible_to
    from tasks.selectors import _suggestions_visible_to

    user = getattr(cast, who)
    ours = set(suggestions_visible_to(user).values_list("pk", flat=True))
    assert ours and ours == set(_suggestions_visible_to(user).values_list("pk", flat=True))
