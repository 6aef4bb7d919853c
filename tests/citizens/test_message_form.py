"""The public online message form: validation, honeypot, per-address limit; a message enters the registration queue."""

import pytest
from django.test import Client
from django.utils import timezone

from citizens.services import PORTAL_USERNAME
from feedback.models import Channel, Suggestion
from tasks.dispatch_selectors import dispatch_queue
from tasks.models import State, Task
from tasks.reportcards import LIVE, city, parse_period, report_card

from ..factories import TownshipFactory

pytestmark = pytest.mark.django_db

URL = "/public/message/"


@pytest.fixture
def township():
    return TownshipFactory(name="留早镇", short_name="留早")


def _message(place, **overrides):
    data = {
        "content": "村东头的排水沟堵了，下雨就漫到路上",
        "township": place.pk,
        "category": "help",
        "citizen_name": "王五",
        "phone": "13700001111",
        "website": "",
    }
    data.update(overrides)
    return data


def test_the_form_needs_no_login(client, township):
    response = client.get(URL)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="content"' in body and "留早镇" in body and 'name="website"' in body


def test_a_message_gets_a_tracking_number_and_enters_the_dispatch_queue(client, township, cast):
    response = client.post(URL, _message(township))
    assert response.status_code == 302 and response["Location"] == "/public/message/sent/"
    suggestion = Suggestion.objects.select_related("task", "registered_by").get()
    assert suggestion.channel == Channel.PORTAL
    assert (suggestion.citizen_name, suggestion.phone, suggestion.category) == ("王五", "13700001111", "help")
    assert suggestion.registered_by.username == PORTAL_USERNAME and not suggestion.registered_by.is_active
    assert suggestion.task.state == State.REGISTERED
    assert suggestion.task in list(dispatch_queue(cast.supervisor))
    assert report_card(city(), parse_period(timezone.localdate().isoformat()), source=LIVE)["received"] == 1

    sent = client.get(response["Location"])
    assert sent.status_code == 200
    body = sent.content.decode()
    assert f'id="tracking-number">{suggestion.tracking_number}<' in body
    assert "last four digits of your phone number" in body


def test_without_a_phone_the_page_says_the_case_cannot_be_looked_up_online(client, township):
    response = client.post(URL, _message(township, phone="", citizen_name=""), follow=True)
    assert "cannot be looked up online" in response.content.decode()
    assert Suggestion.objects.get().phone == ""


def test_the_sent_page_without_a_message_goes_back_to_the_form(client):
    assert client.get("/public/message/sent/")["Location"] == URL


@pytest.mark.parametrize("overrides, field, words", [
    ({"content": "  "}, "content", "This field is required."),
    ({"content": "字" * 5001}, "content", "at most 5000 characters"),
    ({"township": ""}, "township", "This field is required."),
    ({"township": "999999"}, "township", "Select a valid choice."),
    ({"phone": "12345"}, "phone", "12345 is not a Chinese mobile number"),
    ({"category": "gossip"}, "category", "Select a valid choice."),
])
def test_the_server_checks_every_field(client, township, overrides, field, words):
    response = client.post(URL, _message(township, **overrides))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors and any(words in e for e in errors[field]), errors
    assert not Suggestion.objects.exists() and not Task.objects.exists()


def test_a_filled_honeypot_is_refused_and_writes_nothing(client, township):
    response = client.post(URL, _message(township, website="http://spam.example"))
    assert response.status_code == 400
    assert "could not be accepted" in response.content.decode()
    assert not Suggestion.objects.exists()


def test_messages_are_rate_limited_per_address(client, township, settings):
    settings.CITIZEN_MESSAGE_RATE = "3/h"
    # Mistakes do not use up the allowance.
    assert client.post(URL, _message(township, content="")).status_code == 200
    codes = [client.post(URL, _message(township, content=f"问题{i}")).status_code for i in range(4)]
    assert codes == [302, 302, 302, 429]
    assert Suggestion.objects.count() == 3
    assert client.post(URL, _message(township), REMOTE_ADDR="10.2.3.4").status_code == 302


def test_the_form_is_protected_against_cross_site_posts(township):
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(URL, _message(township)).status_code == 403
    assert not Suggestion.objects.exists()
