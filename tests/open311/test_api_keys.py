"""API keys: stored hashed, one active per system, revocable by service, command and admin; the log of each key."""

import hashlib
import io
import re

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from open311 import services
from open311.models import ApiKey, ApiKeyUse
from tasks.errors import DomainError

pytestmark = pytest.mark.django_db


def test_only_the_keys_hash_is_stored(places):
    key, raw = services.api_key_create(name="省12345平台", channel="hotline", rate_limit=30)
    assert re.fullmatch(r"dz311_[A-Za-z0-9_\-]{43}", raw)
    assert key.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert key.key_lookup == raw[:12]
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM open311_apikey")
        stored = " ".join(str(value) for row in cursor.fetchall() for value in row)
    assert raw not in stored and raw[12:] not in stored
    assert (key.channel, key.rate_limit, key.is_active) == ("hotline", 30, True)
    assert not key.account.is_active and not key.account.has_usable_password()


def test_check_accepts_the_key_and_nothing_like_it(places):
    key, raw = services.api_key_create(name="手机APP")
    assert services.api_key_check(raw) == key
    assert services.api_key_check(raw[:-1] + ("A" if raw[-1] != "A" else "B")) is None
    assert services.api_key_check(raw + "x") is None
    assert services.api_key_check("") is None
    assert services.api_key_check("dz311_\x00" + raw[7:]) is None


def test_one_active_key_per_system_and_revoking_makes_room(places):
    first, first_raw = services.api_key_create(name="手机APP")
    with pytest.raises(DomainError, match="already has an active key"):
        services.api_key_create(name="手机APP")
    revoked = services.api_key_revoke(name="手机APP")
    assert (revoked.pk, revoked.is_active) == (first.pk, False) and revoked.revoked_at is not None
    assert services.api_key_check(first_raw) is None
    second, second_raw = services.api_key_create(name="手机APP")
    assert services.api_key_check(second_raw) == second
    assert ApiKey.objects.filter(name="手机APP").count() == 2
    with pytest.raises(DomainError, match="has no active key"):
        services.api_key_revoke(name="无此系统")


@pytest.mark.parametrize("kwargs, words", [
    ({"name": " "}, "Give the name"),
    ({"name": "x" * 65}, "too long"),
    ({"name": "A", "channel": "fax"}, "Unknown channel fax"),
    ({"name": "A", "rate_limit": 0}, "at least 1"),
])
def test_create_refuses_bad_values(places, kwargs, words):
    with pytest.raises(DomainError, match=words):
        services.api_key_create(**kwargs)
    assert not ApiKey.objects.exists()


def test_command_prints_only_the_key_on_its_last_line_and_revokes(places):
    out, err = io.StringIO(), io.StringIO()
    call_command("api_key", "create", "省12345平台", "--channel", "sunshine", "--rate-limit", "20", stdout=out,
                 stderr=err)
    lines = out.getvalue().strip().splitlines()
    raw = lines[-1]
    assert lines == [raw]
    key = services.api_key_check(raw)
    assert (key.name, key.channel, key.rate_limit) == ("省12345平台", "sunshine", 20)
    assert raw not in err.getvalue()

    out = io.StringIO()
    call_command("api_key", "list", stdout=out)
    assert "省12345平台" in out.getvalue() and raw not in out.getvalue()

    call_command("api_key", "revoke", "省12345平台", stdout=io.StringIO())
    assert services.api_key_check(raw) is None
    with pytest.raises(CommandError, match="has no active key"):
        call_command("api_key", "revoke", "省12345平台", stdout=io.StringIO())
    with pytest.raises(CommandError):
        call_command("api_key", "create", "B", "--channel", "fax", stdout=io.StringIO(), stderr=io.StringIO())


def test_admin_creates_a_key_shown_once_and_revokes_it(client, cast, places):
    client.force_login(cast.admin)
    response = client.post(
        "/admin/open311/apikey/add/", {"name": "手机APP", "channel": "other", "rate_limit": "60", "note": ""},
        follow=True,
    )
    assert response.status_code == 200
    raw = re.search(r"<code id='new-api-key'>([^<]+)</code>", response.content.decode()).group(1)
    key = services.api_key_check(raw)
    assert key.name == "手机APP" and key.created_by == cast.admin

    # The change page never shows it again.
    change = client.get(f"/admin/open311/apikey/{key.pk}/change/")
    assert change.status_code == 200 and raw not in change.content.decode()

    # A second active key for the same system is refused on the form.
    again = client.post("/admin/open311/apikey/add/", {"name": "手机APP", "channel": "other", "rate_limit": "60"})
    assert again.status_code == 200 and ApiKey.objects.count() == 1

    client.post("/admin/open311/apikey/", {"action": "revoke", "_selected_action": [key.pk]}, follow=True)
    key.refresh_from_db()
    assert not key.is_active and key.revoked_by == cast.admin
    assert services.api_key_check(raw) is None


def test_admin_log_lists_what_each_key_created(client, cast, places):
    key, _raw = services.api_key_create(name="手机APP")
    use = services.service_request_create(
        api_key=key, service_code="help", description="家中老人需要上门服务", township=places.liuzao,
        client_address="10.0.0.8",
    )
    client.force_login(cast.admin)
    listing = client.get(f"/admin/open311/apikeyuse/?api_key__id__exact={key.pk}")
    assert listing.status_code == 200
    body = listing.content.decode()
    assert use.suggestion.tracking_number in body and "10.0.0.8" in body
    keys = client.get("/admin/open311/apikey/").content.decode()
    assert f"?api_key__id__exact={key.pk}\">1</a>" in keys
    assert ApiKeyUse.objects.get().api_key == key


def test_non_admins_cannot_reach_the_keys(client, cast):
    client.force_login(cast.supervisor)
    assert client.get("/admin/open311/apikey/").status_code == 302
