"""POST requests: only with a valid key; the suggestion enters the dispatch queue and the report card's `received`."""

import pytest
from django.utils import timezone

from feedback.models import Channel, Suggestion, Urgency
from open311 import services
from open311.models import ApiKeyUse
from tasks.dispatch_selectors import dispatch_queue
from tasks.models import State, Task, TaskEvent
from tasks.reportcards import LIVE, city, parse_period, report_card

from .helpers import API, assert_no_personal_data, parse, xml_errors

pytestmark = pytest.mark.django_db


def _form(raw_key=None, **overrides):
    data = {
        "service_code": "complaint",
        "description": "小区门口路灯坏了一个月，晚上很黑",
        "address_string": "留早镇东留早村村委会门口",
        "lat": "38.5123",
        "long": "114.9876",
        "first_name": "四",
        "last_name": "李",
        "phone": "139-8765-4321",
    }
    if raw_key is not None:
        data["api_key"] = raw_key
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def _counts():
    return (Suggestion.objects.count(), Task.objects.count(), TaskEvent.objects.count(), ApiKeyUse.objects.count())


def test_post_creates_a_registered_suggestion_on_the_keys_channel(client, places, api_key, cast):
    key, raw = api_key
    response = client.post(f"{API}/requests.json", _form(raw))
    assert response.status_code == 201
    [created] = response.json()
    assert set(created) == {"service_request_id", "token", "service_notice", "account_id"}
    assert created["account_id"] is None
    assert_no_personal_data(response)

    suggestion = Suggestion.objects.select_related("task").get(pk=created["service_request_id"])
    assert suggestion.tracking_number in created["service_notice"]
    assert suggestion.channel == Channel.SUNSHINE  # the channel the admin gave the key
    assert suggestion.source_system == "省12345平台"
    assert suggestion.registered_by == key.account and not key.account.is_active
    assert (suggestion.township, suggestion.village) == (places.liuzao, places.east)  # longest village name wins
    assert (suggestion.latitude, suggestion.longitude) == (38.5123, 114.9876)
    assert (suggestion.citizen_name, suggestion.phone) == ("李四", "13987654321")
    assert suggestion.category == "complaint" and suggestion.urgency == Urgency.NORMAL
    assert suggestion.task.state == State.REGISTERED

    use = ApiKeyUse.objects.get()
    assert (use.api_key, use.suggestion, use.token) == (key, suggestion, created["token"])
    assert use.client_address == "127.0.0.1"

    # It waits in the supervision office's dispatch queue, and counts as received today.
    assert suggestion.task in list(dispatch_queue(cast.supervisor))
    today = parse_period(timezone.localdate().isoformat())
    assert report_card(city(), today, source=LIVE)["received"] == 1


def test_post_xml_answers_in_service_requests_elements(client, places, api_key):
    _key, raw = api_key
    response = client.post(f"{API}/requests.xml", _form(raw))
    assert response.status_code == 201
    root = parse(response)
    assert root.tag == "service_requests"
    request = root.find("request")
    assert request.findtext("service_request_id") == str(Suggestion.objects.get().pk)
    assert request.findtext("token") == ApiKeyUse.objects.get().token
    assert_no_personal_data(response)


def test_post_takes_township_village_and_urgency_attributes(client, places, api_key):
    _key, raw = api_key
    form = _form(raw, address_string=None, lat=None, long=None, **{
        "attribute[township]": "留早", "attribute[village]": "留早村", "attribute[urgency]": "urgent",
    })
    assert client.post(f"{API}/requests.json", form).status_code == 201
    suggestion = Suggestion.objects.get()
    assert (suggestion.township, suggestion.village, suggestion.urgency) == (places.liuzao, places.west, "urgent")
    assert suggestion.latitude is None


def test_post_accepts_a_json_body(client, places, api_key):
    _key, raw = api_key
    response = client.post(f"{API}/requests.json", _form(raw), content_type="application/json")
    assert response.status_code == 201


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_post_without_a_key_is_refused_and_writes_nothing(client, places, api_key, fmt):
    before = _counts()
    response = client.post(f"{API}/requests.{fmt}", _form())
    assert response.status_code == 403
    if fmt == "json":
        assert response.json() == [
            {"code": 403, "description": "api_key was not provided: creating a request needs one."}
        ]
    else:
        assert xml_errors(response) == [("403", "api_key was not provided: creating a request needs one.")]
    assert _counts() == before


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_post_with_a_revoked_key_is_refused_and_writes_nothing(client, places, api_key, fmt):
    key, raw = api_key
    assert client.post(f"{API}/requests.json", _form(raw)).status_code == 201
    services.api_key_revoke(name=key.name)
    before = _counts()
    response = client.post(f"{API}/requests.{fmt}", _form(raw))
    assert response.status_code == 403
    description = response.json()[0]["description"] if fmt == "json" else xml_errors(response)[0][1]
    assert description == "Invalid api_key: it is unknown or has been revoked."
    assert _counts() == before


def test_post_with_an_unknown_key_is_refused(client, places, api_key):
    before = _counts()
    for wrong in ("dz311_" + "A" * 43, "not a key", "x" * 500):
        assert client.post(f"{API}/requests.json", _form(wrong)).status_code == 403
    assert _counts() == before


@pytest.mark.parametrize(
    "overrides, words",
    [
        ({"service_code": None}, "service_code: This field is required."),
        ({"service_code": "potholes"}, "service_code: "),
        ({"description": None}, "description: This field is required."),
        ({"description": "x" * 5001}, "description: "),
        ({"description": "bad \x01 byte"}, "description: Control characters are not allowed."),
        ({"address_string": "北京市朝阳区"}, "attribute[township]: Name the township"),
        ({"attribute[township]": "火星镇"}, "attribute[township]: Unknown township 火星镇"),
        ({"attribute[village]": "月球村"}, "attribute[village]: 月球村 is not a village or community of 留早镇."),
        ({"long": None}, "long: Give both lat and long, or neither."),
        ({"lat": "91"}, "lat: "),
        ({"lat": "nan"}, "lat: "),
        ({"phone": "12345"}, "phone: 12345 is not a Chinese mobile number"),
        ({"attribute[urgency]": "yesterday"}, "attribute[urgency]: "),
    ],
)
def test_post_with_bad_fields_is_400_naming_the_field_and_writes_nothing(client, places, api_key, overrides, words):
    _key, raw = api_key
    before = _counts()
    response = client.post(f"{API}/requests.json", _form(raw, **overrides))
    assert response.status_code == 400
    descriptions = [e["description"] for e in response.json()]
    assert all(e["code"] == 400 for e in response.json())
    assert any(d.startswith(words) for d in descriptions), descriptions
    assert _counts() == before


def test_each_key_has_its_own_rate_limit(client, places):
    slow, slow_raw = services.api_key_create(name="慢系统", rate_limit=2)
    _fast, fast_raw = services.api_key_create(name="快系统", rate_limit=100)
    codes = [client.post(f"{API}/requests.json", _form(slow_raw)).status_code for _ in range(3)]
    assert codes == [201, 201, 429]
    assert ApiKeyUse.objects.filter(api_key=slow).count() == 2
    limited = client.post(f"{API}/requests.xml", _form(slow_raw))
    assert xml_errors(limited)[0][0] == "429"
    # The limit follows the key, not the address: another key from the same address goes on.
    assert client.post(f"{API}/requests.json", _form(fast_raw)).status_code == 201


def test_wrong_keys_count_against_the_address(client, places, settings):
    settings.OPEN311_ANONYMOUS_RATE = "3/m"
    codes = [client.post(f"{API}/requests.json", _form("dz311_" + "A" * 43)).status_code for _ in range(4)]
    assert codes == [403, 403, 403, 429]


@pytest.mark.parametrize("body", ["[1, 2]", "3", '"text"', "null", "{not json"])
def test_a_json_body_that_is_not_an_object_is_400(client, places, api_key, body):
    _key, raw = api_key
    response = client.post(f"{API}/requests.json?api_key={raw}", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()[0]["code"] == 400
    assert not Suggestion.objects.exists()
