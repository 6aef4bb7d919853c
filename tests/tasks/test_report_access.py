"""Who may open the overview, the report cards and the records behind them."""

from django.urls import reverse
import pytest
from .report_page_helpers import get, page

pytestmark = pytest.mark.urls("tests.tasks.report_test_urls")


# --- Who may open what ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "who, status",
    [("leader", 200), ("supervisor", 200), ("admin", 403), ("head_zhujian", 403), ("handler_zhujian", 403),
     ("registrar", 403)],
)
def test_overview_is_for_leaders_and_supervisors(client, cast, who, status):
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
