"""GET services and services/{code} in JSON and XML, and their errors."""

import pytest

from feedback.models import Category

from .helpers import API, assert_no_personal_data, parse, xml_errors

pytestmark = pytest.mark.django_db


def test_services_json_lists_the_five_categories(client):
    response = client.get(f"{API}/services.json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    services = response.json()
    assert [s["service_code"] for s in services] == Category.values
    first = services[0]
    assert set(first) == {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}
    assert first["metadata"] is True and first["type"] == "realtime"
    assert first["service_name"] == "consultation"
    assert_no_personal_data(response)


def test_services_xml_has_the_spec_elements(client):
    response = client.get(f"{API}/services.xml")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    assert response.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    root = parse(response)
    assert root.tag == "services"
    assert [s.findtext("service_code") for s in root.findall("service")] == Category.values
    assert root.find("service/metadata").text == "true"
    assert_no_personal_data(response)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_service_definition_lists_townships_as_attribute_values(client, places, fmt):
    response = client.get(f"{API}/services/complaint.{fmt}")
    assert response.status_code == 200
    if fmt == "json":
        definition = response.json()
        assert definition["service_code"] == "complaint"
        township = definition["attributes"][0]
        assert (township["code"], township["datatype"], township["required"]) == ("township", "singlevaluelist", True)
        assert [v["key"] for v in township["values"]] == ["留早镇", "南城区街道"]
        assert [a["code"] for a in definition["attributes"]] == ["township", "village", "urgency"]
    else:
        root = parse(response)
        assert root.tag == "service_definition"
        assert root.findtext("service_code") == "complaint"
        attributes = root.findall("attributes/attribute")
        assert [a.findtext("code") for a in attributes] == ["township", "village", "urgency"]
        assert attributes[0].findtext("required") == "true"
        assert [v.findtext("key") for v in attributes[0].findall("values/value")] == ["留早镇", "南城区街道"]
    assert_no_personal_data(response)


def test_unknown_service_code_is_404_in_the_spec_error_format(client):
    response = client.get(f"{API}/services/potholes.json")
    assert response.status_code == 404
    [error] = response.json()
    assert error["code"] == 404
    assert "Unknown service_code potholes" in error["description"]

    response = client.get(f"{API}/services/potholes.xml")
    assert response.status_code == 404
    [(code, description)] = xml_errors(response)
    assert code == "404" and "potholes" in description


def test_another_jurisdiction_is_404(client):
    response = client.get(f"{API}/services.json", {"jurisdiction_id": "beijing"})
    assert response.status_code == 404
    assert response.json() == [{"code": 404, "description": "jurisdiction_id beijing not found."}]
    assert client.get(f"{API}/services.json", {"jurisdiction_id": "dingzhou"}).status_code == 200


def test_anonymous_reads_are_rate_limited_per_address(client, settings):
    settings.OPEN311_ANONYMOUS_RATE = "3/m"
    codes = [client.get(f"{API}/services.json").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    [error] = client.get(f"{API}/services.json").json()
    assert error["code"] == 429
    # Another address has its own allowance.
    assert client.get(f"{API}/services.json", REMOTE_ADDR="10.1.2.3").status_code == 200


def test_the_openapi_document_is_public_in_yaml_and_json(client):
    yaml_doc = client.get(f"{API}/openapi.yaml")
    assert yaml_doc.status_code == 200 and yaml_doc.content.startswith(b"openapi: 3.0")
    document = client.get(f"{API}/openapi.json").json()
    assert document["info"]["title"] == "Dingzhou Open311 GeoReport v2"
    assert sorted(document["paths"]) == [
        f"{API}/requests.{{format}}", f"{API}/requests/{{service_request_id}}.{{format}}",
        f"{API}/services.{{format}}", f"{API}/services/{{service_code}}.{{format}}", f"{API}/tokens/{{token}}.{{format}}",
    ]
    errors = document["paths"][f"{API}/requests.{{format}}"]["post"]["responses"]["403"]["content"]["text/xml"]
    assert errors["schema"]["type"] == "array"
    assert "citizen_name" not in str(document["components"]["schemas"]["ServiceRequest"])
