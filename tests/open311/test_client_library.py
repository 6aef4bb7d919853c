"""A published Open311 client, georeport (PyPI), against a live server: services, a definition, a request read back.

georeport 0.3.1 is the maintained GeoReport v2 client on PyPI (the older `open311` 1.1 and
`three` 0.8 are Python 2 only: `from itertools import ifilter`, implicit relative imports).
It reads services and requests but has no call to create one, so the request is created with
`requests`, which georeport itself uses, at the client's own root address and key.
"""

import pytest
import requests
from georeport import GeoReport

from feedback.models import Category, Channel, Suggestion
from open311 import services

from ..factories import TownshipFactory, VillageFactory


@pytest.fixture
def city(live_server, transactional_db):
    township = TownshipFactory(name="留早镇", short_name="留早")
    VillageFactory(township=township, name="东留早村")
    _key, raw = services.api_key_create(name="市民APP", channel=Channel.OTHER, rate_limit=100)
    return f"{live_server.url}/open311/v2", raw


@pytest.mark.parametrize("output_format", ["json", "xml"])
def test_georeport_lists_services_creates_a_request_and_reads_it_back(city, output_format):
    root, raw_key = city
    client = GeoReport(root, api_key=raw_key, output_format=output_format)

    listed = client.get_service_list()
    assert [service["service_code"] for service in listed] == Category.values

    definition = client.get_service_definition("complaint")
    assert definition["service_code"] == "complaint"
    attributes = definition["attributes"]
    if output_format == "xml":
        attributes = attributes["attribute"]
    assert attributes[0]["code"] == "township"

    created = requests.post(
        f"{client.root_address}/requests.{client.output_format}",
        data={
            "api_key": client.api_key, "service_code": "complaint", "description": "小区垃圾三天没人清运",
            "attribute[township]": "留早镇", "attribute[village]": "东留早村", "lat": "38.51", "long": "114.99",
            "first_name": "五", "last_name": "王", "phone": "13700001111",
        },
        timeout=10,
    )
    assert created.status_code == 201, created.text
    suggestion = Suggestion.objects.get()
    request_id = str(suggestion.pk)
    assert request_id in created.text and suggestion.source_system == "市民APP"

    read = client.get_service_request(request_id)
    assert read["service_request_id"] == request_id
    assert read["status"] == "open"
    assert read["service_code"] == "complaint"
    assert read["address"] == "留早镇 东留早村"
    assert float(read["lat"]) == 38.51

    listed_requests = client.get_service_requests(service_request_id=request_id)
    if output_format == "xml":
        assert listed_requests["service_request_id"] == request_id  # xmltodict: one <request> is a dict
    else:
        assert [r["service_request_id"] for r in listed_requests] == [request_id]
    for text in (str(read), str(listed_requests)):
        assert "王五" not in text and "13700001111" not in text
