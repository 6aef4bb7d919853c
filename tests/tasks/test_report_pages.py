"""The report pages: who may open them, figures equal to the engine's, links whose records number the figure,
comparisons, the period picker, projects and TV totals, charts, and query counts that do not grow."""

import datetime as dt
import html
import re
import types
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from feedback.models import Callback, CallbackResult, Channel, Suggestion
from org.models import Department
from org.views import campaign_headline
from tasks.models import Indicator, Mechanism, Project, State, TvEpisode
from tasks.reportcards import (
    FIGURE_CODES,
    LIVE,
    Rate,
    city,
    for_department,
    parse_period,
    parse_scope,
    records_for,
    report_card,
    report_card_compared,
    rollups_refresh,
)
from tasks.reportcards.charts import Bar, Series, bar_chart, fit, line_chart, nice_ceiling
from tasks.views.reports import common, records as records_view

from ..factories import DepartmentFactory, SuggestionFactory, TaskFactory, TownshipFactory
from .test_reportcard_figures import build_world

pytestmark = pytest.mark.urls("tests.tasks.report_test_urls")

TZ = ZoneInfo("Asia/Shanghai")
PERIOD = "2021-Q3"


@pytest.fixture
def world(cast, departments):
    """Tasks in every state from August to November 2021 in three departments and two townships."""
    townships = [TownshipFactory(name="留早镇", short_name="留早"), TownshipFactory(name="东亭镇", short_name="东亭")]
    handling = [departments.zhujian, departments.chengguan, DepartmentFactory(name="民政局", code="minzheng")]
    build_world(20211126, departments=handling, townships=townships, tasks=90)
    return types.SimpleNamespace(departments=handling, townships=townships, leader=cast.leader)


@pytest.fixture
def small_pages(monkeypatch):
    """Seven records a page, so that every list spans several pages."""
    monkeypatch.setattr(records_view, "PER_PAGE", 7)


def get(client, user, url, *, status=200):
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    return response


def page(client, user, url) -> str:
    return get(client, user, url).content.decode()


def figures_in(text: str) -> dict:
    """code -> count, or (numerator, denominator) for a rate, from the data attributes of tiles or card rows."""
    found = {}
    for code, rest in re.findall(r'data-figure="(\w+)"((?: data-\w+="[^"]*")+)>', text):
        attrs = dict(re.findall(r'data-(\w+)="([^"]*)"', rest))
        if "numerator" in attrs:
            found[code] = (int(attrs["numerator"]), int(attrs["denominator"]))
        else:
            found[code] = int(attrs["value"]) if attrs.get("value") else None
    return found


def expected_figures(card) -> dict:
    result = {}
    for code in FIGURE_CODES:
        value = card[code]
        result[code] = (value.numerator, value.denominator) if isinstance(value, Rate) else value
    return result


def figure_links(text: str) -> dict:
    """code -> {part: records URL} from the figure links and rate parts of a page."""
    links = {}
    for block in re.findall(r'data-figure="(\w+)"[^>]*>(.*?)</(?:div>\s*</div|tr)>', text, re.S):
        code, inner = block
        for href, part in re.findall(r'<a href="([^"]+)"[^>]*data-part="(\w+)"', inner):
            links.setdefault(code, {})[part] = html.unescape(href)
        main = re.search(r'<a href="([^"]+)" class="figure-link"', inner)
        if main:
            links.setdefault(code, {}).setdefault("numerator", html.unescape(main.group(1)))
    return links


def walk(client, user, url) -> tuple[list[int], str]:
    """Every record id listed by a records page, following its "older" links; and the first page's HTML."""
    ids, first, seen_pages = [], None, 0
    while url:
        text = page(client, user, url)
        first = first or text
        ids += [int(pk) for pk in re.findall(r'data-record-id="(\d+)"', text)]
        older = re.search(r'href="([^"]+)" id="records-older"', text)
        url = html.unescape(older.group(1)) if older else None
        seen_pages += 1
        assert seen_pages < 500
    return ids, first


def text_scope(text: str) -> str:
    return re.search(r'id="report-card" data-scope="([^"]+)"', text).group(1)


# --- Who may open what ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "who, status",
    [("leader", 200), ("supervisor", 200), ("admin", 200), ("head_zhujian", 403), ("handler_zhujian", 403),
     ("registrar", 403)],
)
def test_overview_is_for_leaders_supervisors_and_admins(client, cast, who, status):
    get(client, getattr(cast, who), reverse("reports:overview"), status=status)


def test_anonymous_visitors_are_sent_to_log_in(client, db):
    response = client.get(reverse("reports:overview"))
    assert response.status_code == 302 and "/login/" in response["Location"]


@pytest.mark.parametrize(
    "who, card, status",
    [
        ("leader", "department:zhujian", 200), ("supervisor", "department:chengguan", 200),
        ("head_zhujian", "department:zhujian", 200), ("head_zhujian", "department:chengguan", 404),
        ("head_chengguan", "department:zhujian", 404), ("handler_zhujian", "department:zhujian", 403),
        ("registrar", "department:zhujian", 403), ("leader", "township", 200), ("head_zhujian", "township", 403),
        ("handler_zhujian", "township", 403), ("leader", "city", 200), ("head_zhujian", "city", 403),
    ],
)
def test_card_access_per_role(client, cast, township, who, card, status):
    if card == "township":
        url = reverse("reports:township_card", args=[township.pk])
    elif card == "city":
        url = reverse("reports:city_card")
    else:
        url = reverse("reports:department_card", args=[card.split(":")[1]])
    get(client, getattr(cast, who), url, status=status)


def test_card_index_sends_a_head_to_the_own_card_and_lists_every_card_for_leaders(client, cast, township):
    response = get(client, cast.head_zhujian, reverse("reports:department_card") + "?period=2021-10", status=302)
    assert response["Location"] == reverse("reports:department_card", args=["zhujian"]) + "?period=2021-10"
    text = page(client, cast.leader, reverse("reports:department_card"))
    assert 'data-department="zhujian"' in text and 'data-department="chengguan"' in text
    assert 'data-department="supervision"' not in text  # the supervision office has no card
    assert f'data-township="{township.pk}"' in text
    get(client, cast.handler_zhujian, reverse("reports:department_card"), status=403)


def test_cards_are_found_by_code_name_or_short_name_and_unknown_ones_are_404(client, cast, township):
    for key in ("zhujian", "住建局", "住建"):
        assert 'data-scope="department:zhujian"' in page(client, cast.leader, f"/reports/department/{key}/")
    for key in (str(township.pk), "留早镇", "留早"):
        assert f'data-scope="township:{township.name}"' in page(client, cast.leader, f"/reports/township/{key}/")
    get(client, cast.leader, "/reports/department/nowhere/", status=404)
    get(client, cast.leader, "/reports/department/supervision/", status=404)
    get(client, cast.leader, "/reports/township/99999/", status=404)


@pytest.mark.parametrize(
    "who, scope, status",
    [("head_zhujian", "department:zhujian", 200), ("head_zhujian", "department:chengguan", 404),
     ("head_zhujian", "city", 403), ("head_zhujian", "township:留早镇", 403), ("handler_zhujian", "department:zhujian", 403),
     ("registrar", "city", 403), ("leader", "township:留早镇", 200)],
)
def test_records_page_checks_the_card_permission(client, cast, township, who, scope, status):
    url = reverse("reports:records") + f"?figure=assigned&scope={scope}&period=2021"
    get(client, getattr(cast, who), url, status=status)


# --- The figures on the pages equal the engine's --------------------------------------------


def test_overview_figures_equal_report_card(client, world):
    text = page(client, world.leader, reverse("reports:overview") + f"?period={PERIOD}")
    card = report_card(city(), parse_period(PERIOD), source=LIVE)
    assert figures_in(re.search(r'id="city-figures".*?</section>', text, re.S).group(0)) == expected_figures(card)
    with translation.override("en"):
        assert html.escape(campaign_headline(received=card["received"], solved=card["closed"])) in text


@pytest.mark.parametrize("scope_text", ["department:zhujian", "township:东亭镇", "city"])
def test_card_figures_previous_period_and_average_equal_the_engine(client, world, scope_text):
    period = parse_period("2021-10")
    scope = parse_scope(scope_text)
    url = {
        "department": reverse("reports:department_card", args=["zhujian"]),
        "township": reverse("reports:township_card", args=["东亭镇"]),
        "city": reverse("reports:city_card"),
    }[scope.kind] + "?period=2021-10"
    text = page(client, world.leader, url)
    comparison = report_card_compared(scope, period, source=LIVE)
    assert figures_in(re.search(r'id="figures-table".*?</table>', text, re.S).group(0)) == expected_figures(
        comparison.current
    )
    rows = {m.group(1): m.group(0) for m in re.finditer(r'<tr data-figure="(\w+)".*?</tr>', text, re.S)}
    with translation.override("en"):
        for code in FIGURE_CODES:
            previous = re.search(r"<td class=\"num\" data-previous>(.*?)</td>", rows[code], re.S).group(1)
            assert re.sub(r"<[^>]+>", "", previous).strip() == common.value_text(comparison.previous[code]), code
            change = comparison.change(code)
            direction = re.search(r'data-change="(\w*)"', rows[code]).group(1)
            if change is None:
                assert direction == "", code
            elif abs(change) >= 0.05:
                assert direction == ("up" if change > 0 else "down"), code
            average = re.search(r"data-average>(.*?)</td>", rows[code])
            if scope.kind == "city":
                assert average is None
            else:
                assert average.group(1) == common.value_text(comparison.average[code]), code
    assert "2021-09" in text  # the previous period is named in the header


def test_change_arrows_say_whether_the_news_is_good():
    assert common.change_of("overdue", 5, 3)["tone"] == "worse"
    assert common.change_of("closed", 5, 3)["tone"] == "better"
    assert common.change_of("received", 5, 3)["tone"] == "neutral"
    assert common.change_of("closure_rate", Rate(1, 2), Rate(3, 4))["direction"] == "down"
    assert common.change_of("closure_rate", Rate(1, 2), Rate(0, 0)) is None
    assert common.change_of("overdue", 5, None) is None
    with translation.override("en"):
        assert common.change_of("on_time_rate", Rate(3, 4), Rate(1, 2))["text"] == "25.0 pp"


# --- Every figure's link lists exactly its records --------------------------------------------


@pytest.mark.parametrize("scope_kind", ["city", "department", "township"])
def test_each_figure_link_lists_as_many_records_as_the_figure(client, world, small_pages, scope_kind):
    url = {
        "city": reverse("reports:city_card"),
        "department": reverse("reports:department_card", args=["chengguan"]),
        "township": reverse("reports:township_card", args=["留早"]),
    }[scope_kind] + f"?period={PERIOD}"
    leader = world.leader
    text = page(client, leader, url)
    shown = figures_in(re.search(r'id="figures-table".*?</table>', text, re.S).group(0))
    links = figure_links(re.search(r'id="figures-table".*?</table>', text, re.S).group(0))
    assert set(links) == set(FIGURE_CODES)
    assert shown == expected_figures(report_card(parse_scope(text_scope(text)), parse_period(PERIOD), source=LIVE))
    walked_pages = 0
    for code, parts in links.items():
        for part, href in parts.items():
            ids, first = walk(client, leader, href)
            value = shown[code]
            expected = value if not isinstance(value, tuple) else value[0] if part == "numerator" else value[1]
            assert len(ids) == len(set(ids)) == expected, (code, part)
            assert f'data-total="{expected}"' in first
            walked_pages += max(1, -(-len(ids) // 7))
            # The missed part of a rate is the rest of its denominator.
            if part == "denominator":
                missed = href.replace("part=denominator", "part=missed")
                assert len(walk(client, leader, missed)[0]) == value[1] - value[0]
    assert walked_pages > len(links)  # some lists really spanned several pages


def test_overview_links_of_units_and_channels_list_their_figures(client, world, small_pages):
    leader = world.leader
    text = page(client, leader, reverse("reports:overview") + f"?period={PERIOD}&rank=overdue")
    assert re.search(r'id="departments-table" data-rank="overdue"', text)
    table = re.search(r'id="departments-table".*?</table>', text, re.S).group(0)
    period = parse_period(PERIOD)
    for unit, row in re.findall(r'<tr data-unit="(\d+)">(.*?)</tr>', table, re.S):
        cells = dict(re.findall(r'data-code="(\w+)"><a href="([^"]+)"', row))
        scope = for_department(Department.objects.get(pk=unit))
        ids, _first = walk(client, leader, html.unescape(cells["closed"]))
        assert len(ids) == report_card(scope, period, source=LIVE)["closed"]
    channels = re.search(r'id="channels-table".*?</table>', text, re.S).group(0)
    total = 0
    for code, count, href in re.findall(r'data-channel="(\w+)" data-count="(\d+)">.*?<a href="([^"]+)"', channels, re.S):
        ids, _first = walk(client, leader, html.unescape(href))
        assert len(ids) == int(count) == Suggestion.objects.filter(
            channel=code, received_at__gte=period.start, received_at__lt=period.end
        ).count()
        total += int(count)
    assert total == report_card(city(), period, source=LIVE)["received"]


def test_records_pages_walk_back_to_the_same_rows(client, world, small_pages):
    leader = world.leader
    url = reverse("reports:records") + f"?figure=received&scope=city&period={PERIOD}"
    first = page(client, leader, url)
    second = page(client, leader, html.unescape(re.search(r'href="([^"]+)" id="records-older"', first).group(1)))
    back = page(client, leader, html.unescape(re.search(r'href="([^"]+)" id="records-newer"', second).group(1)))
    ids = lambda text: re.findall(r'data-record-id="(\d+)"', text)  # noqa: E731
    assert ids(back) == ids(first) and len(ids(first)) == 7
    assert 'id="records-newer"' not in first and 'id="records-first"' in second


@pytest.mark.parametrize(
    "query, message",
    [
        ("figure=nothing&scope=city&period=2021", "Unknown figure nothing"),
        ("figure=closed&scope=city&period=2021-13", "There is no month 13"),
        ("figure=closed&scope=department:nowhere&period=2021", "There is no department nowhere"),
        ("figure=closed&scope=city", "Choose a period"),
        ("figure=closed&scope=city&period=2021&part=half", "Unknown part half"),
        ("figure=closed&scope=city&period=2021&channel=tv", "Only the received figure can be narrowed"),
        ("figure=received&scope=city&period=2021&channel=pigeon", "Only the received figure can be narrowed"),
    ],
)
def test_records_page_names_what_is_wrong(client, cast, query, message):
    response = get(client, cast.leader, reverse("reports:records") + "?" + query, status=400)
    assert message in html.unescape(response.content.decode())


def test_overdue_records_need_no_period(client, world):
    leader = world.leader
    ids, first = walk(client, leader, reverse("reports:records") + "?figure=overdue&scope=department:zhujian")
    scope = for_department(world.departments[0])
    assert sorted(ids) == sorted(records_for("overdue", scope, None).values_list("pk", flat=True))
    assert f'data-total="{len(ids)}"' in first


def test_card_lists_the_first_overdue_tasks_with_the_total(client, cast, departments, township, monkeypatch):
    from tasks.views.reports import data

    monkeypatch.setattr(data, "OVERDUE_LIMIT", 3)
    past = dt.datetime(2021, 10, 1, 17, tzinfo=TZ)
    states = [State.ACCEPTED, State.IN_PROGRESS, State.ASSIGNED, State.IN_PROGRESS, State.AWAITING_APPROVAL]
    tasks = [
        TaskFactory(state=state, township=township, lead_department=departments.zhujian,
                    assigned_at=past, deadline=past + dt.timedelta(days=i))
        for i, state in enumerate(states)
    ]
    TaskFactory(state=State.RETURN_REQUESTED, township=township, lead_department=departments.zhujian,
                assigned_at=past, deadline=past - dt.timedelta(days=3))  # off the clock: not overdue
    text = page(client, cast.head_zhujian, reverse("reports:department_card", args=["zhujian"]) + "?period=2021-10")
    listed = [int(pk) for pk in re.findall(r'data-task-id="(\d+)"', re.search(r'id="overdue-table".*?</table>', text, re.S).group(0))]
    assert listed == [t.pk for t in tasks[:3]]  # most overdue first across the states, bounded
    assert 'id="card-overdue" data-total="5"' in text and "the first 3 of 5" in text


# --- Period picker ------------------------------------------------------------------------------


def test_default_period_is_the_last_year_with_data_and_quick_links_cover_the_data(client, world):
    text = page(client, world.leader, reverse("reports:overview"))
    assert 'id="report-overview" data-period="2021"' in text
    years = re.search(r'id="period-years".*?</div>', text, re.S).group(0)
    assert 'data-period="2021"' in years and 'data-period="2020"' not in years
    assert 'data-period="2021-Q3"' in text and 'data-period="2021-10"' in text


def test_default_period_prefers_the_current_year():
    today = dt.date(2024, 5, 1)
    assert common.default_period(dt.date(2021, 1, 1), dt.date(2021, 12, 31), today).code == "2021"
    assert common.default_period(dt.date(2021, 1, 1), dt.date(2024, 4, 30), today).code == "2024"
    assert common.default_period(None, None, today).code == "2024"


def test_custom_range_and_a_bad_period(client, world):
    leader = world.leader
    text = page(client, leader, reverse("reports:overview") + "?first=2021-09-01&last=2021-10-15")
    assert 'data-period="2021-09-01..2021-10-15"' in text
    card = report_card(city(), parse_period("2021-09-01..2021-10-15"), source=LIVE)
    assert figures_in(re.search(r'id="city-figures".*?</section>', text, re.S).group(0)) == expected_figures(card)
    bad = get(client, leader, reverse("reports:overview") + "?period=2021-Q5", status=400).content.decode()
    assert 'id="period-error"' in bad and "2021-Q5 is not a period" in html.unescape(bad)
    half = get(client, leader, reverse("reports:overview") + "?first=2021-09-01", status=400).content.decode()
    assert "Give both the first and the last day" in half
    pdf = get(client, leader, reverse("reports:city_card_pdf") + "?period=soon", status=400)
    assert "soon is not a period" in pdf.content.decode()


# --- Overview sections ----------------------------------------------------------------------


def test_overview_shows_projects_progress_and_tv_totals(client, cast, departments):
    project = Project.objects.create(department=departments.zhujian, name="老旧小区改造", year=2021,
                                     starts_on=dt.date(2021, 1, 1), due_on=dt.date(2021, 12, 31))
    Indicator.objects.create(project=project, name="完成改造老旧小区", unit="个", target=100, current=40,
                             due_on=dt.date(2021, 12, 31))
    Indicator.objects.create(project=project, name="加装电梯", unit="部", baseline=10, target=30,
                             current=Decimal("25"), due_on=dt.date(2021, 12, 31))
    Project.objects.create(department=departments.chengguan, name="去年的项目", year=2020,
                           starts_on=dt.date(2020, 1, 1), due_on=dt.date(2020, 12, 31))
    episode = TvEpisode.objects.create(aired_on=dt.date(2021, 6, 24), title="第一期")
    episode.departments.set([departments.zhujian, departments.chengguan])
    TvEpisode.objects.create(aired_on=dt.date(2022, 1, 5), title="下一年")
    Mechanism.objects.create(episode=episode, department=departments.zhujian, title="机制", established_on=dt.date(2021, 7, 1))
    TaskFactory(episode=episode, state=State.CLOSED)
    TaskFactory(episode=episode, state=State.IN_PROGRESS)
    text = page(client, cast.leader, reverse("reports:overview") + "?period=2021")
    projects = re.search(r'id="projects".*?</section>', text, re.S).group(0)
    assert "老旧小区改造" in projects and "去年的项目" not in projects
    assert re.findall(r'data-indicator-percent="([\d.]+)"', projects) == ["40.0", "75.0"]
    totals = dict(re.findall(r'data-total="(\w+)"><dt>[^<]*</dt><dd>(\d+)</dd>', text))
    assert totals == {"episodes": "1", "departments": "2", "problems_raised": "2", "problems_solved": "1",
                      "mechanisms": "1"}
    card = page(client, cast.head_zhujian, reverse("reports:department_card", args=["zhujian"]) + "?period=2021")
    assert "老旧小区改造" in card and 'id="card-projects"' in card
    assert 'id="card-projects"' not in page(client, cast.leader, reverse("reports:city_card") + "?period=2021")


def test_pages_say_as_of_when_figures_come_from_the_rollups(client, world):
    leader = world.leader
    live = page(client, leader, reverse("reports:overview") + f"?period={PERIOD}")
    assert 'id="as-of" data-source="live"' in live
    refresh = rollups_refresh()
    text = page(client, leader, reverse("reports:overview") + f"?period={PERIOD}")
    assert 'id="as-of" data-source="rollup"' in text
    as_of = common.timezone.localtime(refresh.as_of).strftime("%Y-%m-%d %H:%M")
    assert f"Figures as of {as_of}" in text
    # Refreshed rollups equal a live recount, so the figures do not change.
    assert figures_in(re.search(r'id="city-figures".*?</section>', text, re.S).group(0)) == figures_in(
        re.search(r'id="city-figures".*?</section>', live, re.S).group(0)
    )
    card = page(client, leader, reverse("reports:department_card", args=["zhujian"]) + f"?period={PERIOD}")
    assert 'data-source="rollup"' in card and f"figures as of {as_of}" in card


def test_channel_counts_follow_the_rollups_as_of(client, world, small_pages):
    leader, url = world.leader, reverse("reports:overview") + f"?period={PERIOD}"

    def tv_count():
        text = page(client, leader, url)
        return int(re.search(r'data-channel="tv" data-count="(\d+)"', text).group(1))

    live = tv_count()
    SuggestionFactory(channel=Channel.TV, received_at=dt.datetime(2021, 8, 2, 9, tzinfo=TZ))
    assert tv_count() == live + 1  # counted live while there are no fresh rollups
    rollups_refresh()
    assert tv_count() == live + 1
    SuggestionFactory(channel=Channel.TV, received_at=dt.datetime(2021, 8, 3, 9, tzinfo=TZ))
    # As of the rebuild, like every figure beside it; the records page says so and shows the same total.
    assert tv_count() == live + 1
    records = page(client, leader, reverse("reports:records") + f"?figure=received&scope=city&period={PERIOD}&channel=tv")
    assert f'data-total="{live + 1}"' in records and "The figure is as of" in records
    rollups_refresh()
    assert tv_count() == live + 2


def test_importing_suggestions_raises_the_townships_received_on_its_card(client, cast, township):
    url = reverse("reports:township_card", args=[township.pk]) + "?period=2021-10"
    before = figures_in(page(client, cast.leader, url))["received"]
    for day in (3, 4, 5):
        SuggestionFactory(township=township, received_at=dt.datetime(2021, 10, day, 9, tzinfo=TZ))
    assert figures_in(page(client, cast.leader, url))["received"] == before + 3


# --- Query counts ------------------------------------------------------------------------------


def _queries(client, user, url) -> int:
    client.force_login(user)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def _grow(departments_count: int, rows: int, tag: str):
    """More departments, townships, tasks, suggestions, callbacks, projects and episodes."""
    at = dt.datetime(2021, 8, 10, 9, tzinfo=TZ)
    for n in range(departments_count):
        department = DepartmentFactory(name=f"新增{tag}局{n}", code=f"extra{tag}{n}")
        township = TownshipFactory(name=f"新增{tag}{n}镇", short_name=f"新增{tag}{n}")
        project = Project.objects.create(department=department, name=f"项目{tag}{n}", year=2021,
                                         starts_on=at.date(), due_on=dt.date(2021, 12, 31))
        Indicator.objects.create(project=project, name="指标", unit="个", target=10, current=n, due_on=at.date())
        day = dt.date(2021, 1, 1) + dt.timedelta(days=n + 50 * (tag == "b"))
        episode = TvEpisode.objects.create(aired_on=day, title=f"第{tag}{n}期")
        episode.departments.add(department)
        for i in range(rows):
            task = TaskFactory(state=State.CLOSED, township=township, lead_department=department, assigned_at=at,
                               accepted_at=at, closed_at=at + dt.timedelta(days=1), deadline=at + dt.timedelta(days=2),
                               episode=episode)
            Callback.objects.create(task=task, result=CallbackResult.SATISFIED, called_at=at + dt.timedelta(hours=i))
            overdue = TaskFactory(state=State.ACCEPTED, township=township, lead_department=department,
                                  assigned_at=at, deadline=at + dt.timedelta(days=1))
            SuggestionFactory(task=overdue, township=township, channel=Channel.TV, received_at=at)


def test_query_counts_do_not_grow_with_departments_or_rows(client, world):
    leader = world.leader
    urls = [
        reverse("reports:overview") + f"?period={PERIOD}",
        reverse("reports:department_card", args=["zhujian"]) + f"?period={PERIOD}",
        reverse("reports:township_card", args=["留早"]) + f"?period={PERIOD}",
        reverse("reports:records") + f"?figure=closed&scope=city&period={PERIOD}",
        reverse("reports:records") + f"?figure=received&scope=city&period={PERIOD}",
        reverse("reports:records") + f"?figure=satisfaction&scope=city&period={PERIOD}&part=denominator",
    ]
    before = [_queries(client, leader, url) for url in urls]
    _grow(6, 4, "a")
    assert [_queries(client, leader, url) for url in urls] == before
    rollups_refresh()
    with_rollups = [_queries(client, leader, url) for url in urls]
    _grow(3, 2, "b")
    rollups_refresh()
    assert [_queries(client, leader, url) for url in urls] == with_rollups


# --- Charts ------------------------------------------------------------------------------------


def test_bar_chart_escapes_labels_links_bars_and_scales_to_the_largest():
    svg = bar_chart([Bar("<住建局>", 50, "50", "/r/?a=1&b=2"), Bar("城管局", 100, "100"), Bar("空", None, "—")],
                    title="排名 & 比较")
    assert "<住建局>" not in svg and "&lt;住建局&gt;" in svg and 'href="/r/?a=1&amp;b=2"' in svg
    assert "<title>排名 &amp; 比较</title>" in svg and 'data-bars="3"' in svg
    widths = [float(w) for w in re.findall(r'<rect x="\d+" y="[\d.]+" width="([\d.]+)" height="16" fill="#2b4c7e"', svg)]
    assert len(widths) == 2 and widths[1] == pytest.approx(2 * widths[0])


def test_line_chart_draws_each_series_and_breaks_at_missing_values():
    svg = line_chart(["1", "2", "3", "4"], [Series("收到", [1, 5, 3, 8]), Series("满意率", [90.0, None, 95.0, 99.0])],
                     title="趋势")
    assert 'data-steps="4"' in svg
    assert re.findall(r'data-series="([^"]+)" data-points="(\d+)"', svg) == [("收到", "4"), ("满意率", "3")]
    second = re.search(r'data-series="满意率".*?</g>', svg, re.S).group(0)
    assert second.count("<polyline") == 2  # the missing month breaks the line
    assert 'stroke-dasharray="6 3"' in second  # told apart in black and white too


def test_axis_tops_are_round_and_long_labels_are_cut():
    assert nice_ceiling(0) == (1.0, 0.25)
    assert nice_ceiling(7) == (8.0, 2.0)
    assert nice_ceiling(730) == (800.0, 200.0)
    assert nice_ceiling(100) == (100.0, 25.0)
    assert fit("自然资源和规划局测试很长的名字", 60).endswith("…")
    assert fit("民政局", 60) == "民政局"
