"""A leader's report journey in Chromium: overview → a figure → the records it counts, page by page;
then a department's card, its print layout and its PDF. Screenshots go to test-results/."""

import re
import shutil
import subprocess

import pytest

from tasks.reportcards import LIVE, city, parse_period, report_card
from tasks.views.reports import records as records_view

from ..factories import PASSWORD, DepartmentFactory, TownshipFactory
from ..tasks.test_reportcard_figures import build_world
from .conftest import RESULTS_DIR

pytestmark = [pytest.mark.browser, pytest.mark.urls("tests.tasks.report_test_urls")]


def _log_in(page, username):
    page.goto(page.base_url + "/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("#login-button")
    page.wait_for_url(page.base_url + "/")


def _rows_across_pages(page) -> list[int]:
    """Every record id listed, following the "older" link until the last page."""
    ids = []
    while True:
        ids += [int(pk) for pk in page.locator("#records-list [data-record-id]").evaluate_all(
            "rows => rows.map(row => row.dataset.recordId)")]
        older = page.locator("#records-older")
        if older.count() == 0:
            return ids
        older.click()
        page.wait_for_load_state()


def test_leader_clicks_a_figure_and_lands_on_exactly_its_records(page, cast, departments, screenshot, monkeypatch,
                                                                  tmp_path):
    monkeypatch.setattr(records_view, "PER_PAGE", 4)
    townships = [TownshipFactory(name="留早镇", short_name="留早"), TownshipFactory(name="东亭镇", short_name="东亭")]
    handling = [departments.zhujian, departments.chengguan, DepartmentFactory(name="民政局", code="minzheng")]
    build_world(20211127, departments=handling, townships=townships, tasks=120)
    expected = report_card(city(), parse_period("2021-Q3"), source=LIVE)

    _log_in(page, "leader")
    page.click('#main-nav [data-nav="overview"]')
    page.wait_for_url(re.compile(r".*/reports/$"))
    page.click('#period-quarters [data-period="2021-Q3"]')
    page.wait_for_url(re.compile(r".*period=2021-Q3"))
    tile = page.locator('#city-figures [data-figure="closed"]')
    closed = int(tile.get_attribute("data-value"))
    assert closed == expected["closed"] and closed > 8  # records over several pages
    screenshot(page, "report-overview")

    tile.locator("[data-figure-link]").click()
    page.wait_for_url(re.compile(r".*/reports/records/\?.*figure=closed"))
    assert page.locator("#records-total").inner_text().replace(",", "") == str(closed)
    screenshot(page, "report-records-closed")
    ids = _rows_across_pages(page)
    assert len(ids) == len(set(ids)) == closed

    # A department's card from the ranking, printed and downloaded.
    page.goto(page.base_url + "/reports/?period=2021-Q3")
    page.locator("#departments-table").get_by_role("link", name="住建局", exact=True).click()
    page.wait_for_url(re.compile(r".*/reports/department/zhujian/\?period=2021-Q3"))
    assert page.locator("#report-card").get_attribute("data-scope") == "department:zhujian"
    assert page.locator("#trend-counts svg[data-chart=lines]").count() == 1
    screenshot(page, "report-card-zhujian")
    page.emulate_media(media="print")
    assert not page.locator("#main-nav").is_visible() and not page.locator("#period-picker").is_visible()
    screenshot(page, "report-card-zhujian-print")
    page.emulate_media(media="screen")

    with page.expect_download() as download:
        page.click("#pdf-link")
    pdf = tmp_path / "card.pdf"
    download.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")
    if shutil.which("pdftoppm"):  # the PDF's first page as an image, to look at its Chinese glyphs
        subprocess.run(["pdftoppm", "-r", "110", "-png", "-f", "1", "-l", "1", str(pdf),
                        str(RESULTS_DIR / "report-card-zhujian-pdf")], check=True, timeout=60)


def test_department_head_reaches_only_the_own_card(page, cast, departments, screenshot):
    _log_in(page, "head-zhujian")
    page.click('#main-nav [data-nav="report-card"]')
    page.wait_for_url(re.compile(r".*/reports/department/zhujian/$"))
    assert page.locator('#main-nav [data-nav="overview"]').count() == 0
    response = page.goto(page.base_url + "/reports/department/chengguan/")
    assert response.status == 404
    response = page.goto(page.base_url + "/reports/")
    assert response.status == 403
