"""The overview's period picker and sections, "as of" figures, and query counts that do not grow."""

import datetime as dt
import html
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from feedback.models import Callback, CallbackResult, Channel
from tasks.models import Indicator, Mechanism, Project, State, TvEpisode
from tasks.reportcards import LIVE, city, parse_period, report_card, rollups_refresh
from tasks.views.reports import common

from ..factories import DepartmentFactory, SuggestionFactory, TaskFactory, TownshipFactory
from .report_page_helpers import PERIOD, TZ, expected_figures, figures_in, get, page, small_pages, world  # noqa: F401  (fixtures)

pytestmark = pytest.mark.urls("tests.tasks.report_test_urls")


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
