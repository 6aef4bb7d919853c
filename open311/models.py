"""API keys of the external systems that send cases through Open311, and the log of what each created."""

import hashlib
import hmac
import secrets

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from feedback.models import Channel

KEY_PREFIX = "dz311_"
# The prefix plus six characters of the secret: enough to find the row, too little to guess the rest.
LOOKUP_LENGTH = len(KEY_PREFIX) + 6


def hash_key(raw_key: str) -> str:
    """SHA-256 of the whole key: the key is 256 random bits, so no slow password hash is needed."""
    return hashlib.sha256(raw_key.encode("utf-8")).hexdigest()


def new_raw_key() -> str:
    """dz311_ + 32 random bytes in URL-safe base64 (43 characters)."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


class ApiKey(models.Model):
    """One external system's key. Only its hash is stored; the key itself is shown once, at creation."""

    name = models.CharField(_("system"), max_length=64, help_text=_("The external system that uses this key."))
    key_lookup = models.CharField(_("key starts with"), max_length=LOOKUP_LENGTH, db_index=True, editable=False)
    key_hash = models.CharField(_("key hash"), max_length=64, unique=True, editable=False)
    channel = models.CharField(
        _("channel"), max_length=16, choices=Channel.choices, default=Channel.OTHER,
        help_text=_("The channel recorded on the suggestions this system sends."),
    )
    rate_limit = models.PositiveIntegerField(
        _("rate limit"), default=60, validators=[MinValueValidator(1)],
        help_text=_("Requests a minute this key may make."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    # The suggestions a key creates are registered by this account (inactive: it cannot log in),
    # so the registrar column and the timeline name the calling system.
    account = models.OneToOneField(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="api_key", verbose_name=_("account")
    )
    note = models.TextField(_("note"), blank=True, default="")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("created by"),
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("revoked by"),
    )

    class Meta:
        ordering = ["name", "-created_at"]
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        constraints = [
            # One active key per system; revoked keys stay for the record.
            models.UniqueConstraint(fields=["name"], condition=Q(is_active=True), name="apikey_one_active_per_name")
        ]

    def __str__(self):
        return self.name

    def matches(self, raw_key: str) -> bool:
        """Constant-time comparison of the key's hash with the stored one."""
        return hmac.compare_digest(self.key_hash, hash_key(raw_key))

    @property
    def rate(self) -> str:
        """The rate limit as django-ratelimit spells it."""
        return f"{self.rate_limit}/m"


class ApiKeyUse(models.Model):
    """A suggestion an API key created: the log of each key's work, and the Open311 token of the request."""

    api_key = models.ForeignKey(ApiKey, models.PROTECT, related_name="uses", verbose_name=_("API key"))
    suggestion = models.OneToOneField(
        "feedback.Suggestion", models.CASCADE, related_name="api_key_use", verbose_name=_("suggestion")
    )
    token = models.CharField(_("token"), max_length=32, unique=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    client_address = models.GenericIPAddressField(_("client address"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("request created through the API")
        verbose_name_plural = _("requests created through the API")
        indexes = [
            # The admin's log of one key, newest first.
            models.Index(fields=["api_key", "-created_at"], name="apikeyuse_key_idx"),
        ]
