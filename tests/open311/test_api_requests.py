"""GET requests, requests/{id} and tokens/{token} in JSON and XML: filters, defaults, paging, errors, privacy."""

import datetime as dt

import pytest
from django.utils import timezone

from feedback.models import Category, Suggestion
from open311 import services as open311_services
from tasks import services as task_services
from tasks.models import Outcome, State

from ..factories import SuggestionFactory, TaskFactory
from .helpers import API, assert_no_personal_data, parse, xml_errors

pytestmark = pytest.mark.django_db

REQUEST_FIELDS = {
    "service_request_id", "status", "status_notes", "service_name", "service_code", "description",
    "agency_responsible", "service_notice", "requested_datetime", "updated_datetime", "expected_datetime",
    "address", "address_id", "zipcode", "lat", "long", "media_url",
}


def _received(days_ago: float, **kwargs) -> Suggestion:
    """A suggestion received `days_ago` days ago, by the factories' citizen 张三 13812345678."""
    return SuggestionFactory(received_at=timezone.now() - dt.timedelta(days=days_ago), **kwargs)


def _ids(response) -> list[str]:
    return [r["service_request_id"] for r in response.json()]


def test_list_defaults_to_the_last_90_days_newest_first(client, places):
    old = _received(100, township=places.liuzao)
    week = _received(7, township=places.liuzao, village=places.east)
    today = _received(0.1, township=places.nancheng)
    response = client.get(f"{API}/requests.json")
    assert response.status_code == 200
    assert _ids(response) == [str(today.pk), str(week.pk)]
    assert str(old.pk) not in _ids(response)
    first = response.json()[1]
    assert set(first) == REQUEST_FIELDS
    assert first["status"] == "open"
    assert first["status_notes"] == "Received, waiting to be assigned"
    assert first["address"] == "留早镇 东留早村"
    assert first["agency_responsible"] is None and first["expected_datetime"] is None
    assert first["description"] is None  # others' content is never public
    assert first["service_code"] == Category.SUGGESTION
    assert first["service_notice"] == "To be handled within 15 working days of assignment."
    assert_no_personal_data(response)


def test_list_xml_uses_service_requests_and_request_elements(client, places):
    suggestion = _received(1, township=places.liuzao)
    response = client.get(f"{API}/requests.xml")
    assert response.status_code == 200
    root = parse(response)
    assert root.tag == "service_requests"
    [request] = root.findall("request")
    assert request.findtext("service_request_id") == str(suggestion.pk)
    assert {child.tag for child in request} == REQUEST_FIELDS
    assert request.findtext("status") == "open"
    assert_no_personal_data(response)


def test_assigned_request_names_the_department_and_the_deadline(client, places, cast, departments):
    suggestion = _received(2, township=places.liuzao, latitude=38.51, longitude=114.99)
    task_services.task_assign(actor=cast.supervisor, task=suggestion.task, lead_department=departments.zhujian)
    suggestion.task.refresh_from_db()
    [request] = client.get(f"{API}/requests/{suggestion.pk}.json").json()
    assert request["agency_responsible"] == "住建局"
    assert request["status_notes"] == "Being handled"
    assert dt.datetime.fromisoformat(request["expected_datetime"]) == suggestion.task.deadline
    assert (request["lat"], request["long"]) == (38.51, 114.99)
    assigned = suggestion.task.events.get(action="assign").at
    assert dt.datetime.fromisoformat(request["updated_datetime"]) == assigned


def test_status_filter(client, places):
    open_one = _received(1, township=places.liuzao)
    closed_one = _received(2, township=places.liuzao, task__state=State.CLOSED)
    assert _ids(client.get(f"{API}/requests.json", {"status": "open"})) == [str(open_one.pk)]
    assert _ids(client.get(f"{API}/requests.json", {"status": "closed"})) == [str(closed_one.pk)]
    both = client.get(f"{API}/requests.json", {"status": "open,closed"})
    assert _ids(both) == [str(open_one.pk), str(closed_one.pk)]
    assert both.json()[1]["status"] == "closed" and both.json()[1]["status_notes"] == "Closed"


def test_service_code_filter_takes_a_comma_list(client, places):
    complaint = _received(1, township=places.liuzao, category=Category.COMPLAINT)
    help_ = _received(2, township=places.liuzao, category=Category.HELP)
    _received(3, township=places.liuzao, category=Category.SUGGESTION)
    assert _ids(client.get(f"{API}/requests.json", {"service_code": "complaint"})) == [str(complaint.pk)]
    got = client.get(f"{API}/requests.json", {"service_code": "complaint,help"})
    assert _ids(got) == [str(complaint.pk), str(help_.pk)]


def test_date_range_is_inclusive_and_bounded_to_90_days(client, places):
    inside = SuggestionFactory(township=places.liuzao, received_at=dt.datetime(2021, 10, 25, 9, tzinfo=dt.UTC))
    SuggestionFactory(township=places.liuzao, received_at=dt.datetime(2021, 7, 1, 9, tzinfo=dt.UTC))
    got = client.get(f"{API}/requests.json", {"start_date": "2021-10-01T00:00:00Z", "end_date": "2021-10-25T09:00:00Z"})
    assert _ids(got) == [str(inside.pk)]
    # A date alone means the whole day, in the city's time.
    assert _ids(client.get(f"{API}/requests.json", {"start_date": "2021-10-25", "end_date": "2021-10-25"})) == [
        str(inside.pk)
    ]
    # Only a start: the 90 days after it.
    assert _ids(client.get(f"{API}/requests.json", {"start_date": "2021-09-01T00:00:00+08:00"})) == [str(inside.pk)]


@pytest.mark.parametrize(
    "params, field, words",
    [
        ({"start_date": "2021-01-01T00:00:00Z", "end_date": "2021-06-01T00:00:00Z"}, "end_date", "at most 90 days"),
        ({"start_date": "2021-06-01T00:00:00Z", "end_date": "2021-05-01T00:00:00Z"}, "end_date", "before start_date"),
        ({"start_date": "yesterday"}, "start_date", "yesterday is not a date"),
        ({"status": "pending"}, "status", "open, closed"),
        ({"service_code": "potholes"}, "service_code", "Unknown service_code potholes"),
        ({"service_request_id": "12,abc"}, "service_request_id", "abc is not a service request id"),
        ({"page": "0"}, "page", ""),
        ({"page_size": "1001"}, "page_size", ""),
    ],
)
def test_bad_parameters_are_400_naming_the_parameter(client, places, params, field, words):
    response = client.get(f"{API}/requests.json", params)
    assert response.status_code == 400
    [error] = response.json()
    assert error["code"] == 400
    assert error["description"].startswith(f"{field}: ")
    assert words in error["description"]
    [(code, description)] = xml_errors(client.get(f"{API}/requests.xml", params))
    assert code == "400" and description == error["description"]


def test_service_request_ids_override_the_other_filters(client, places):
    old = _received(400, township=places.liuzao)
    new = _received(1, township=places.liuzao)
    got = client.get(f"{API}/requests.json", {"service_request_id": f"{old.pk},999999,{new.pk}", "status": "closed"})
    assert _ids(got) == [str(old.pk), str(new.pk)]


def test_page_and_page_size(client, places):
    made = [_received(i + 1, township=places.liuzao) for i in range(5)]
    newest_first = [str(s.pk) for s in made]
    pages = [_ids(client.get(f"{API}/requests.json", {"page_size": 2, "page": page})) for page in (1, 2, 3, 4)]
    assert pages == [newest_first[0:2], newest_first[2:4], newest_first[4:], []]


def test_list_query_count_does_not_grow_with_rows(client, places, django_assert_max_num_queries):
    for i in range(3):
        _received(i + 1, township=places.liuzao)
    # Requests, the last timeline times, and (once a process) the deadline rules; the rate limit is in the cache.
    with django_assert_max_num_queries(3):
        assert len(client.get(f"{API}/requests.json").json()) == 3
    for i in range(30):
        _received(i + 1, township=places.liuzao, village=places.east)
    with django_assert_max_num_queries(3):
        assert len(client.get(f"{API}/requests.json").json()) == 33


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_one_request_by_id(client, places, fmt):
    suggestion = _received(1, township=places.liuzao)
    response = client.get(f"{API}/requests/{suggestion.pk}.{fmt}")
    assert response.status_code == 200
    if fmt == "json":
        [request] = response.json()
        assert request["service_request_id"] == str(suggestion.pk)
    else:
        root = parse(response)
        assert root.tag == "service_requests"
        assert [r.findtext("service_request_id") for r in root.findall("request")] == [str(suggestion.pk)]
    assert_no_personal_data(response)


@pytest.mark.parametrize("request_id", ["999999", "abc", "1" * 40])
def test_unknown_request_is_404(client, places, request_id):
    response = client.get(f"{API}/requests/{request_id}.json")
    assert response.status_code == 404
    [error] = response.json()
    assert error["code"] == 404 and "not found" in error["description"]
    [(code, _)] = xml_errors(client.get(f"{API}/requests/{request_id}.xml"))
    assert code == "404"


def _created(api_key, places, **fields):
    key, _raw = api_key
    return open311_services.service_request_create(
        api_key=key, service_code=fields.pop("service_code", "complaint"),
        description=fields.pop("description", "垃圾清运不及时，楼下堆满了"), township=places.liuzao,
        citizen_name="李四", phone="13987654321", **fields,
    )


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_token_gives_the_request_id(client, places, api_key, fmt):
    use = _created(api_key, places)
    response = client.get(f"{API}/tokens/{use.token}.{fmt}")
    assert response.status_code == 200
    if fmt == "json":
        assert response.json() == [{"service_request_id": str(use.suggestion_id), "token": use.token}]
    else:
        root = parse(response)
        assert root.tag == "service_requests"
        assert root.findtext("request/service_request_id") == str(use.suggestion_id)
        assert root.findtext("request/token") == use.token
    assert_no_personal_data(response)
    assert client.get(f"{API}/tokens/{'0' * 32}.{fmt}").status_code == 404


def test_the_creating_key_reads_back_the_description_and_the_published_reply(client, places, api_key, cast, departments):
    key, raw = api_key
    use = _created(api_key, places)
    task = use.suggestion.task
    url = f"{API}/requests/{use.suggestion_id}.json"

    [public] = client.get(url).json()
    assert public["description"] is None
    [own] = client.get(url, {"api_key": raw}).json()
    assert own["description"] == "垃圾清运不及时，楼下堆满了"

    task_services.task_assign(actor=cast.supervisor, task=task, lead_department=departments.chengguan)
    task_services.task_accept(actor=cast.head_chengguan, task=task)
    task_services.task_reply(actor=cast.head_chengguan, task=task, outcome=Outcome.RESOLVED, reply="已安排清运车，当天清理完毕")
    [own] = client.get(url, {"api_key": raw}).json()
    assert own["status_notes"] == "已安排清运车，当天清理完毕"
    [public] = client.get(url).json()
    assert public["status_notes"] == "Replied" and public["agency_responsible"] == "城管局"

    # Another system's key does not see it either.
    _other, other_raw = open311_services.api_key_create(name="手机APP")
    [theirs] = client.get(url, {"api_key": other_raw}).json()
    assert theirs["description"] is None and theirs["status_notes"] == "Replied"
    for response in (client.get(url), client.get(url, {"api_key": raw}), client.get(f"{API}/requests.xml")):
        assert_no_personal_data(response)


def test_a_wrong_or_revoked_key_on_a_read_is_403(client, places, api_key):
    key, raw = api_key
    response = client.get(f"{API}/requests.json", {"api_key": "dz311_" + "x" * 43})
    assert response.status_code == 403
    assert "Invalid api_key" in response.json()[0]["description"]
    open311_services.api_key_revoke(name=key.name)
    assert client.get(f"{API}/requests.json", {"api_key": raw}).status_code == 403
