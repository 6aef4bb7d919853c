"""Report card PDFs: render_pdf, the /pdf/ pages and `report_card --format pdf`, with the figures in their text.

The text is extracted with pdftotext (Debian poppler-utils); without it these tests are
skipped, or fail under REQUIRE_SERVICES=1 as CI's other missing tools do.
"""

import datetime as dt
import io
import re
import shutil
import subprocess
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from feedback.models import Callback, CallbackResult
from tasks.models import State
from tasks.reportcards import LIVE, city, for_department, parse_period, report_card
from tasks.reportcards.pdf import local_only_fetcher, render_html, render_pdf
from tasks.views.reports.common import percent_text

from ..factories import SuggestionFactory, TaskFactory
from ..services import missing

pytestmark = pytest.mark.urls("tests.tasks.report_test_urls")

TZ = ZoneInfo("Asia/Shanghai")


def at(m, d, h=9):
    return dt.datetime(2021, m, d, h, tzinfo=TZ)


@pytest.fixture
def pdftotext():
    path = shutil.which("pdftotext")
    if path is None:
        missing("pdftotext is missing (apt-get install poppler-utils)")

    def extract(pdf: bytes) -> str:
        done = subprocess.run([path, "-layout", "-", "-"], input=pdf, capture_output=True, check=True, timeout=60)
        return done.stdout.decode("utf-8")

    return extract


@pytest.fixture
def october(departments, township):
    """住建局 in October 2021: 13 tasks, some closed on time, some late, some overdue, with callbacks."""
    for i in range(13):
        closed = i % 3 != 0
        task = TaskFactory(
            suggestion=False, township=township, lead_department=departments.zhujian,
            state=State.CLOSED if closed else State.IN_PROGRESS,
            assigned_at=at(10, 8 + i), accepted_at=at(10, 8 + i, 10), deadline=at(10, 12 + i + (i % 2) * 5),
            replied_at=at(10, 14 + i) if closed else None, closed_at=at(10, 15 + i) if closed else None,
        )
        SuggestionFactory(task=task, township=township, received_at=at(10, 7 + i), registered_at=at(10, 8 + i, 8))
        if closed:
            Callback.objects.create(task=task, called_at=at(10, 16 + i), result=CallbackResult.SATISFIED
                                    if i % 4 else CallbackResult.UNSATISFIED)
    # September, for the previous period's column.
    TaskFactory(suggestion=False, township=township, lead_department=departments.zhujian, state=State.CLOSED,
                assigned_at=at(9, 6), accepted_at=at(9, 6, 11), closed_at=at(9, 8), deadline=at(9, 20))


def _squeeze(text: str) -> str:
    return " ".join(text.split())


def test_render_pdf_holds_the_cards_figures(october, departments, pdftotext):
    card = report_card(for_department(departments.zhujian), parse_period("2021-10"), source=LIVE)
    with translation.override("en"):
        pdf = render_pdf(card)
        text = _squeeze(pdftotext(pdf))
        assert pdf.startswith(b"%PDF")
        assert "住建局" in text and "Report card" in text
        for code in ("received", "assigned", "closed", "overdue"):
            assert str(card[code]) in text, code
        for code in ("closure_rate", "on_time_rate", "satisfaction", "timely_acceptance"):
            rate = card[code]
            assert percent_text(rate) in text, code
            assert f"{rate.numerator}/{rate.denominator}" in re.sub(r"\s*/\s*", "/", text), code
        # The comparison columns: September's closed count and the average department.
        assert "2021-09" in text and "Average department" in text


def test_render_pdf_in_chinese_uses_the_simplified_chinese_font_only(october, departments, pdftotext, tmp_path):
    card = report_card(for_department(departments.zhujian), parse_period("2021-10"), source=LIVE)
    with translation.override("zh-hans"):
        pdf = render_pdf(card)
    path = tmp_path / "card.pdf"
    path.write_bytes(pdf)
    listing = subprocess.run(["pdffonts", str(path)], capture_output=True, check=True, text=True).stdout
    fonts = {line.split()[0].split("+")[-1] for line in listing.splitlines()[2:]}
    # Page numbers and running titles too: no serif fallback, no Japanese glyph forms.
    assert fonts and all(font.startswith("Noto-Sans-CJK-SC") for font in fonts), fonts
    assert "住建局" in pdftotext(pdf)


def test_pdf_page_downloads_the_card(client, cast, october, departments, pdftotext):
    client.force_login(cast.head_zhujian)
    response = client.get(reverse("reports:department_card_pdf", args=["zhujian"]) + "?period=2021-10")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="report-card-zhujian-2021-10.pdf"'
    assert response.content.startswith(b"%PDF")
    card = report_card(for_department(departments.zhujian), parse_period("2021-10"), source=LIVE)
    text = _squeeze(pdftotext(response.content))
    assert str(card["assigned"]) in text and "住建局" in text
    # The same page: another department's PDF does not exist for this head, a bad period is refused.
    assert client.get(reverse("reports:department_card_pdf", args=["chengguan"]) + "?period=2021").status_code == 404
    assert client.get(reverse("reports:department_card_pdf", args=["zhujian"]) + "?period=2021-Q9").status_code == 400
    client.force_login(cast.handler_zhujian)
    assert client.get(reverse("reports:department_card_pdf", args=["zhujian"]) + "?period=2021").status_code == 403


def test_township_and_city_pdfs(client, cast, october, township):
    client.force_login(cast.leader)
    response = client.get(reverse("reports:township_card_pdf", args=[township.pk]) + "?period=2021-Q4")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert f'filename="report-card-township-{township.pk}-2021-Q4.pdf"' in response["Content-Disposition"]
    response = client.get(reverse("reports:city_card_pdf") + "?period=2021-10-01..2021-10-31")
    assert response.status_code == 200 and "report-card-city-2021-10-01_2021-10-31.pdf" in response["Content-Disposition"]


def test_command_writes_the_pdf(october, tmp_path, pdftotext):
    path = tmp_path / "card.pdf"
    err = io.StringIO()
    with translation.override("en"):
        call_command("report_card", "--scope", "department", "住建", "--period", "2021-10", "--format", "pdf",
                     "--output", str(path), stdout=io.StringIO(), stderr=err)
    assert err.getvalue().strip() == f"Wrote {path}."  # no WeasyPrint chatter
    text = _squeeze(pdftotext(path.read_bytes()))
    card = report_card(city(), parse_period("2021-10"), source=LIVE)
    assert "住建局" in text and str(card["closed"]) in text


def test_the_pdf_loads_nothing_from_the_network(october, departments):
    card = report_card(for_department(departments.zhujian), parse_period("2021-10"), source=LIVE)
    html = render_html(card)
    assert "<svg" in html and "<link" not in html and "<script" not in html
    assert not re.search(r'(src|href)="(https?:)?//', html)
    fetcher = local_only_fetcher()
    for url in ("https://cdn.example.com/font.woff2", "file:///etc/passwd"):
        with pytest.raises(ValueError, match="disallowed protocol"):
            fetcher.fetch(url)
    assert fetcher.fetch("data:text/plain,ok").read() == b"ok"
