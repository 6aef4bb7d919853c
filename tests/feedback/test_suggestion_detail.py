"""A suggestion's page (/feedback/<id>/): 404 outside the scope, masking per viewer, task link, merged duplicates, queries."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from org.models import User
from tasks.models import TaskAssist

from ..factories import SuggestionFactory, UserFactory, VillageFactory
from .test_suggestion_list import suggestion, world  # noqa: F401  (fixture)


def url(item) -> str:
    return reverse("feedback:detail", args=[item.pk])


def page(client, user, item):
    client.force_login(user)
    return client.get(url(item))


def html(client, user, item) -> str:
    response = page(client, user, item)
    assert response.status_code == 200
    return response.content.decode()


def text_of(page_html: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}"[^>]*>(.*?)</', page_html, re.S)
    assert match, element_id
    return match.group(1).strip()


# --- Scope: 404, never 403 -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "who, item",
    [
        ("handler_chengguan", "zhujian"),
        ("handler_chengguan", "unassigned"),
        ("head_zhujian", "chengguan"),
        ("registrar", "merged"),  # in the registrar's task, but registered by someone else
        ("registrar", "chengguan"),
        ("outsider", "zhujian"),
        ("admin", "zhujian"),  # the admin role reads no citizen's suggestion (least privilege)
        ("admin", "merged"),
    ],
)
def test_a_suggestion_outside_the_users_scope_is_not_found(client, cast, world, who, item):
    assert page(client, getattr(cast, who), getattr(world, item)).status_code == 404


def test_an_unknown_id_is_not_found(client, cast, world):
    client.force_login(cast.supervisor)
    assert client.get(reverse("feedback:detail", args=[999999])).status_code == 404


@pytest.mark.parametrize(
    "who, item",
    [("supervisor", "chengguan"), ("leader", "zhujian"), ("handler_chengguan", "assisted"),
     ("head_zhujian", "merged"), ("registrar", "zhujian")],
)  # fmt: skip
def test_a_suggestion_in_scope_is_shown(client, cast, world, who, item):
    shown = getattr(world, item)
    body = html(client, getattr(cast, who), shown)
    assert text_of(body, "tracking-number") == shown.tracking_number
    assert shown.content in body


def test_the_page_shows_the_intake_facts(client, cast, world, township):
    village = VillageFactory(township=township, name="东街村")
    item = SuggestionFactory(
        township=township, village=village, external_id="RX-77", registered_by=cast.registrar, content="井盖丢了"
    )
    body = html(client, cast.supervisor, item)
    assert text_of(body, "external-id") == "RX-77"
    assert text_of(body, "suggestion-township") == township.name
    assert text_of(body, "suggestion-village") == "东街村"
    assert text_of(body, "registered-by") == cast.registrar.get_full_name()
    assert item.received_at.astimezone().strftime("%Y-%m-%d") in body


# --- Masking ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "who, item, in_full",
    [
        ("supervisor", "chengguan", True),
        ("leader", "zhujian", False),
        ("handler_zhujian", "zhujian", True),
        ("handler_chengguan", "assisted", True),  # assisting department
        ("head_chengguan", "chengguan", True),
        ("registrar", "zhujian", True),  # typed in by this registrar
    ],
)
def test_the_citizen_is_masked_unless_the_viewer_works_on_the_item(client, cast, world, who, item, in_full):
    shown = getattr(world, item)
    body = html(client, getattr(cast, who), shown)
    # The phone is masked for everyone; who works on the item gets the logged "show" button (feedback.privacy).
    assert text_of(body, "citizen-name") == (shown.citizen_name if in_full else shown.masked_name)
    assert shown.masked_phone in body and shown.phone not in body
    assert (reverse("feedback:phone", args=[shown.pk]) in body) == in_full
    if not in_full:
        assert shown.citizen_name not in body


def test_a_registrar_sees_a_merged_duplicate_registered_by_someone_else_masked_and_unlinked(client, cast, world):
    body = html(client, cast.registrar, world.zhujian)
    item = re.search(rf'<li data-suggestion-id="{world.merged.pk}">(.*?)</li>', body, re.S).group(1)
    assert world.merged.masked_phone in item and world.merged.phone not in item
    assert url(world.merged) not in item
    assert world.merged.tracking_number in item


def test_a_handler_sees_merged_duplicates_names_in_full_with_links(client, cast, world):
    body = html(client, cast.handler_zhujian, world.zhujian)
    item = re.search(rf'<li data-suggestion-id="{world.merged.pk}">(.*?)</li>', body, re.S).group(1)
    assert world.merged.masked_phone in item and world.merged.citizen_name in item
    assert world.merged.phone not in item  # shown on request, on its own page
    assert f'href="{url(world.merged)}"' in item


def test_a_suggestion_alone_in_its_task_says_so(client, cast, world):
    assert 'id="no-merged"' in html(client, cast.supervisor, world.chengguan)


# --- Task link ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["supervisor", "leader", "handler_zhujian", "registrar"])
def test_the_page_links_to_the_task_for_who_may_open_it(client, cast, world, who):
    body = html(client, getattr(cast, who), world.zhujian)
    assert f'id="task-link" href="{reverse("tasks:detail", args=[world.zhujian.task_id])}"' in body


# --- Queries ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["supervisor", "leader", "handler_chengguan", "registrar"])
def test_query_count_does_not_grow_with_merged_duplicates_or_assists(client, cast, world, departments, who):
    user = getattr(cast, who)
    client.force_login(user)
    target = world.assisted
    suggestion(target.task, registered_by=cast.registrar)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url(target)).status_code == 200
        return len(queries)

    few = count()
    other = UserFactory(username="registrar-2", role=User.Role.REGISTRAR)
    for i in range(6):
        suggestion(target.task, registered_by=other if i % 2 else cast.registrar, village=VillageFactory(
            township=target.township))
    TaskAssist.objects.create(task=target.task, department=departments.supervision)
    assert count() == few
