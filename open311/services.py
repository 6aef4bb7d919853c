"""Writes of the Open311 app: keys (create, revoke, check) and the requests external systems create."""

import datetime as dt
import re
import secrets

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from citizens.services import system_account
from feedback.models import Category, Channel, Suggestion, Urgency
from feedback.services import suggestion_register
from org.models import Township, User, Village
from tasks.errors import DomainError

from .models import LOOKUP_LENGTH, ApiKey, ApiKeyUse, hash_key, new_raw_key

# What a key can look like: anything else is refused before it reaches the database.
_KEY_SHAPE = re.compile(r"[A-Za-z0-9_\-]{20,100}")


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise DomainError(_("Give the name of the external system."), field="name")
    if len(name) > 64:
        raise DomainError(_("The system's name is too long: at most 64 characters."), field="name")
    return name


def api_key_create(
    *, name: str, channel: str = Channel.OTHER, rate_limit: int = 60, note: str = "", actor: User | None = None,
    now: dt.datetime | None = None,
) -> tuple[ApiKey, str]:
    """A new key for one external system; returns the row and the key itself, which is never stored."""
    now = now or timezone.now()
    name = _clean_name(name)
    if channel not in Channel.values:
        raise DomainError(
            _("Unknown channel %(value)s; expected one of %(choices)s.")
            % {"value": channel, "choices": ", ".join(Channel.values)},
            field="channel",
        )
    if isinstance(rate_limit, bool) or not isinstance(rate_limit, int) or rate_limit < 1:
        raise DomainError(_("The rate limit must be a whole number of requests a minute, at least 1."),
                          field="rate_limit")
    raw = new_raw_key()
    with transaction.atomic():
        if ApiKey.objects.select_for_update().filter(name=name, is_active=True).exists():
            raise DomainError(
                _("%(name)s already has an active key; revoke it first.") % {"name": name}, field="name"
            )
        account = system_account(username=f"open311-{secrets.token_hex(6)}", full_name=name)
        key = ApiKey.objects.create(
            name=name, key_lookup=raw[:LOOKUP_LENGTH], key_hash=hash_key(raw), channel=channel,
            rate_limit=rate_limit, note=note, account=account, created_at=now, created_by=actor,
        )
    return key, raw


def api_key_revoke(*, name: str, actor: User | None = None, now: dt.datetime | None = None) -> ApiKey:
    """Revoke the system's active key: from now on it is refused; what it created stays, with its log."""
    now = now or timezone.now()
    name = _clean_name(name)
    with transaction.atomic():
        key = ApiKey.objects.select_for_update().filter(name=name, is_active=True).first()
        if key is None:
            raise DomainError(_("%(name)s has no active key.") % {"name": name}, field="name")
        key.is_active, key.revoked_at, key.revoked_by = False, now, actor
        key.save(update_fields=["is_active", "revoked_at", "revoked_by"])
    return key


def api_key_check(raw_key: str) -> ApiKey | None:
    """The active key this string is, or None (unknown, malformed or revoked alike)."""
    if not raw_key or not _KEY_SHAPE.fullmatch(raw_key):
        return None
    for key in ApiKey.objects.filter(key_lookup=raw_key[:LOOKUP_LENGTH], is_active=True).select_related("account"):
        if key.matches(raw_key):
            return key
    return None


def service_request_create(
    *,
    api_key: ApiKey,
    service_code: str,
    description: str,
    township: Township,
    village: Village | None = None,
    urgency: str = Urgency.NORMAL,
    latitude: float | None = None,
    longitude: float | None = None,
    citizen_name: str = "",
    phone: str = "",
    client_address: str | None = None,
    now: dt.datetime | None = None,
) -> ApiKeyUse:
    """A request from an external system: a suggestion on the key's channel, registered by the key's account."""
    now = now or timezone.now()
    if not api_key.is_active:
        raise DomainError(_("This API key has been revoked."))
    if service_code not in Category.values:
        raise DomainError(_("Unknown service_code %(code)s.") % {"code": service_code}, field="service_code")
    with transaction.atomic():
        suggestion = suggestion_register(
            actor=api_key.account, channel=api_key.channel, received_at=now, township=township, village=village,
            content=description, category=service_code, urgency=urgency, citizen_name=citizen_name, phone=phone,
            now=now,
        )
        Suggestion.objects.filter(pk=suggestion.pk).update(
            latitude=latitude, longitude=longitude, source_system=api_key.name
        )
        suggestion.latitude, suggestion.longitude, suggestion.source_system = latitude, longitude, api_key.name
        return ApiKeyUse.objects.create(
            api_key=api_key, suggestion=suggestion, token=secrets.token_hex(16), created_at=now,
            client_address=client_address,
        )
