"""The report pages' figures: equal to the engine's, links whose records number the figure,
comparisons with the previous period and the average, and the records pages behind them."""

import datetime as dt
import html
import re

import pytest
from django.urls import reverse
from django.utils import translation

from feedback.models import Suggestion
from org.models import Department
from org.views import campaign_headline
from tasks.models import State
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
)
from tasks.views.reports import common

from ..factories import TaskFactory
from .report_page_helpers import (  # noqa: F401  (world and small_pages are fixtures)
    PERIOD,
    TZ,
    expected_figures,
    figure_links,
    figures_in,
    get,
    page,
    small_pages,
    text_scope,
    walk,
    world,
)

pytestmark = pytest.mark.urls("tests.tasks.report_test_urls")


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
    # "核减 N" beside a figure lists exactly the N records score exclusions took out of it.
    card = report_card(parse_scope(text_scope(text)), parse_period(PERIOD), source=LIVE)
    table = re.search(r'id="figures-table".*?</table>', text, re.S).group(0)
    excluded = dict(re.findall(r'href="([^"]+)" class="rc-excluded" data-exclusion="(\w+)"', table))
    assert excluded, "the world has approved score exclusions in every scope"
    for href, code in excluded.items():
        ids, _first = walk(client, leader, html.unescape(href))
        assert len(set(ids)) == card.excluded(code) > 0, code
    assert {code for code in FIGURE_CODES if card.excluded(code)} == set(excluded.values())


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


