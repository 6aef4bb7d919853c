"""The registrar's form (/feedback/register/): who may use it, a success issues a tracking number, refusals store nothing."""

import datetime as dt
import re

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from feedback.models import Category, Channel, Suggestion, Urgency
from tasks.models import Action, State, Task, TaskEvent

from ..factories import SuggestionFactory, TownshipFactory, VillageFactory

URL = reverse("feedback:register")


@pytest.fixture
def client_en(client):
    """The client reading English pages (the Chinese catalogue is merged later)."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def places(township):
    other = TownshipFactory(name="南城区街道", short_name="南城区", kind="street")
    return {
        "township": township,
        "village": VillageFactory(township=township, name="东街村"),
        "other_township": other,
        "other_village": VillageFactory(township=other, name="北关社区"),
    }


def valid(places, **overrides) -> dict:
    received = timezone.localtime() - dt.timedelta(hours=2)
    data = {
        "channel": Channel.VISIT,
        "received_at": received.strftime("%Y-%m-%dT%H:%M"),
        "citizen_name": "张三",
        "phone": "138 1234 5678",
        "township": places["township"].pk,
        "village": places["village"].pk,
        "content": "东街路灯不亮，夜间出行不便，希望尽快修复。",
        "category": Category.COMPLAINT,
        "urgency": Urgency.URGENT,
        "external_id": "ZF-0001",
    }
    data.update(overrides)
    return data


def stored() -> tuple[int, int, int]:
    return Suggestion.objects.count(), Task.objects.count(), TaskEvent.objects.count()


# --- Who may register ---------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["registrar", "supervisor"])
def test_registrars_and_supervisors_get_the_form(client_en, cast, places, who):
    client_en.force_login(getattr(cast, who))
    response = client_en.get(URL)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="register-form"' in body
    # The village options name their township, for the page's filter script.
    assert f'value="{places["other_village"].pk}" data-township="{places["other_township"].pk}"' in body
    # Received time defaults to now (to the minute, local time).
    shown = re.search(r'name="received_at" value="([^"]+)"', body).group(1)
    assert abs(dt.datetime.fromisoformat(shown) - timezone.localtime().replace(tzinfo=None)) < dt.timedelta(minutes=2)


@pytest.mark.parametrize("who", ["leader", "handler_zhujian", "head_zhujian"])
def test_other_roles_are_refused(client_en, cast, places, who):
    client_en.force_login(getattr(cast, who))
    assert client_en.get(URL).status_code == 403
    assert client_en.post(URL, valid(places)).status_code == 403
    assert stored() == (0, 0, 0)


# --- Success ---------------------------------------------------------------------------------------------


def test_registering_issues_a_tracking_number_and_opens_a_registered_task(client_en, cast, places):
    client_en.force_login(cast.registrar)
    response = client_en.post(URL, valid(places))
    suggestion = Suggestion.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("feedback:detail", args=[suggestion.pk])
    (message,) = [str(m) for m in get_messages(response.wsgi_request)]
    assert suggestion.tracking_number in message

    assert (suggestion.channel, suggestion.category, suggestion.urgency) == (
        Channel.VISIT, Category.COMPLAINT, Urgency.URGENT)
    assert (suggestion.citizen_name, suggestion.phone, suggestion.external_id) == ("张三", "13812345678", "ZF-0001")
    assert (suggestion.township, suggestion.village) == (places["township"], places["village"])
    assert suggestion.registered_by == cast.registrar
    assert timezone.localtime(suggestion.received_at).strftime("%Y-%m-%dT%H:%M") == valid(places)["received_at"]
    assert suggestion.task.state == State.REGISTERED
    event = TaskEvent.objects.get(task=suggestion.task)
    assert (event.action, event.actor, event.to_state) == (Action.REGISTER, cast.registrar, State.REGISTERED)

    page = client_en.get(response["Location"]).content.decode()
    assert suggestion.tracking_number in page
    # The registrar typed the citizen in: the name in full, the phone masked with the logged "show" button.
    assert "张三" in page and "138****5678" in page and "13812345678" not in page
    assert reverse("feedback:phone", args=[suggestion.pk]) in page


def test_optional_fields_may_be_left_blank(client_en, cast, places):
    client_en.force_login(cast.supervisor)
    data = valid(places, citizen_name="", phone="", village="", external_id="")
    assert client_en.post(URL, data).status_code == 302
    suggestion = Suggestion.objects.get()
    assert (suggestion.citizen_name, suggestion.phone, suggestion.village, suggestion.external_id) == ("", "", None, "")


def test_the_registered_suggestion_appears_in_the_registrars_list(client_en, cast, places):
    client_en.force_login(cast.registrar)
    client_en.post(URL, valid(places))
    suggestion = Suggestion.objects.get()
    listing = client_en.get(reverse("feedback:list")).content.decode()
    assert f'data-suggestion-id="{suggestion.pk}"' in listing


# --- Refusals: the field is named, nothing is stored -------------------------------------------------


def refused(client, data, field: str, *phrases: str) -> str:
    before = stored()
    response = client.post(URL, data)
    assert response.status_code == 400
    assert stored() == before
    body = response.content.decode()
    errors = re.findall(rf'<p class="field-error" data-error-for="{field}">(.*?)</p>', body, re.S)
    assert errors, f"no error on {field}"
    for phrase in phrases:
        assert any(phrase in error for error in errors), (phrase, errors)
    assert 'id="register-errors"' in body
    return body


def test_a_bad_phone_number_is_refused_naming_it(client_en, cast, places):
    client_en.force_login(cast.registrar)
    refused(client_en, valid(places, phone="12345"), "phone", "12345 is not a Chinese mobile number")


def test_a_village_of_another_township_is_refused(client_en, cast, places):
    client_en.force_login(cast.registrar)
    refused(client_en, valid(places, village=places["other_village"].pk), "village", "北关社区 is not in 留早镇")


def test_empty_content_is_refused(client_en, cast, places):
    client_en.force_login(cast.registrar)
    refused(client_en, valid(places, content="   "), "content", "required")


def test_content_of_5001_characters_is_refused(client_en, cast, places):
    client_en.force_login(cast.registrar)
    refused(client_en, valid(places, content="路" * 5001), "content", "at most 5000 characters")


def test_content_of_5000_characters_is_accepted(client_en, cast, places):
    client_en.force_login(cast.registrar)
    assert client_en.post(URL, valid(places, content="路" * 5000)).status_code == 302
    assert len(Suggestion.objects.get().content) == 5000


def test_a_missing_township_and_unknown_channel_are_refused(client_en, cast, places):
    client_en.force_login(cast.registrar)
    body = refused(client_en, valid(places, township="", channel="fax"), "township", "required")
    assert re.search(r'data-error-for="channel">[^<]*fax', body)


def test_a_received_time_in_the_future_is_refused_by_the_service(client_en, cast, places):
    client_en.force_login(cast.registrar)
    later = (timezone.localtime() + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    refused(client_en, valid(places, received_at=later), "received_at", "is in the future")


def test_an_external_number_already_registered_is_refused_with_its_tracking_number(client_en, cast, places):
    existing = SuggestionFactory(channel=Channel.VISIT, external_id="ZF-0001", township=places["township"])
    client_en.force_login(cast.registrar)
    refused(client_en, valid(places), "external_id", "already registered as " + existing.tracking_number)


def test_the_form_keeps_what_was_typed_after_a_refusal(client_en, cast, places):
    client_en.force_login(cast.registrar)
    body = refused(client_en, valid(places, phone="12345"), "phone")
    assert "东街路灯不亮" in body and 'value="ZF-0001"' in body
