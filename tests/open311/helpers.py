"""Helpers of the Open311 tests."""

import xml.etree.ElementTree as ET

# The cast's citizen (tests/factories.py SuggestionFactory) and the one the API tests send.
CITIZEN_NAMES = ("张三", "李四")
CITIZEN_PHONES = ("13812345678", "13987654321")
API = "/open311/v2"


def parse(response):
    """The body as Python data: JSON as is; XML as an ElementTree root."""
    if response["Content-Type"].startswith("text/xml"):
        return ET.fromstring(response.content)
    return response.json()


def assert_no_personal_data(response):
    """Neither a citizen's name nor a phone (whole or masked) appears anywhere in the body."""
    body = response.content.decode("utf-8")
    for secret in (*CITIZEN_NAMES, *CITIZEN_PHONES, "138****5678", "139****4321"):
        assert secret not in body, f"{secret} leaked in {response.request['PATH_INFO']}"


def xml_errors(response) -> list[tuple[str, str]]:
    root = parse(response)
    assert root.tag == "errors"
    return [(e.findtext("code"), e.findtext("description")) for e in root.findall("error")]
