"""Shared helpers of the report page tests: the world, page fetching, figures read back from the HTML."""

import html
import re
import types
from zoneinfo import ZoneInfo

from django.conf import settings
import pytest

from tasks.reportcards import FIGURE_CODES, Rate
from tasks.views.reports import records as records_view

from ..factories import DepartmentFactory, TownshipFactory
from .test_reportcard_figures import build_world

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


