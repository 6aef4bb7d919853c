"""Behind nginx (TRUST_X_FORWARDED_PROTO=true) the client is the address nginx appended to
X-Forwarded-For, not gunicorn's peer: per-address rate limits and the phone-view log count citizens
and officials, not the proxy; the entries a client wrote itself are not believed."""

import pytest
from django.test import RequestFactory
from django.urls import reverse

from ops.proxy import client_ip

from .rate_limits import _fresh_rate_limits  # noqa: F401  (an autouse fixture)

PROXY = "127.0.0.1"


def _request(forwarded=None, remote=PROXY):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


@pytest.mark.parametrize(
    "behind, forwarded, expected",
    [(True, "203.0.113.7", "203.0.113.7"), (True, "10.0.0.1, 203.0.113.7", "203.0.113.7"),  # spoofed first entry
     (True, None, PROXY), (True, "not-an-address", PROXY), (True, "2001:db8::1", "2001:db8::1"),
     (False, "203.0.113.7", PROXY)],  # no proxy declared: the header is anyone's to write
)  # fmt: skip
def test_the_client_is_the_last_forwarded_address_only_behind_the_proxy(settings, behind, forwarded, expected):
    settings.BEHIND_PROXY = behind
    assert client_ip(_request(forwarded)) == expected


def test_behind_the_proxy_citizens_have_a_rate_limit_each_not_one_for_the_city(client, db, settings):
    settings.BEHIND_PROXY = True
    settings.CITIZEN_LOOKUP_RATE = "2/m"

    def look_up(address, spoofed="198.51.100.1"):
        return client.post(reverse("citizens:lookup"), {"tracking_number": "DZ20000101AAAAAAAA",
                           "phone_last_four": "0000"}, REMOTE_ADDR=PROXY,
                           HTTP_X_FORWARDED_FOR=f"{spoofed}, {address}").status_code  # fmt: skip

    assert [look_up("203.0.113.7", spoofed=f"198.51.100.{i}") for i in range(3)] == [200, 200, 429]
    assert look_up("203.0.113.8") == 200  # another citizen behind the same nginx


def test_the_phone_view_log_records_the_client_not_the_proxy(settings):
    from feedback.privacy import client_address

    settings.BEHIND_PROXY = True
    assert client_address(_request("10.0.0.1, 203.0.113.7")) == "203.0.113.7"
    settings.BEHIND_PROXY = False
    assert client_address(_request("203.0.113.7")) == PROXY
