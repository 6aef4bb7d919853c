"""Citizens' suggestions (意见建议/诉求) as they arrive, and the callbacks made to them."""

import hashlib
import operator
import re
import os

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    """来源渠道: where a suggestion came from."""

    HOTLINE = "hotline", _("12345 hotline")
    SUNSHINE = "sunshine", _("Sunshine Governance board")
    PORTAL = "portal", _("government website")
    TV = "tv", _("TV accountability show")
    VISIT = "visit", _("door-to-door visit")
    OTHER = "other", _("other")


class Category(models.TextChoices):
    """诉求类别: decides the default deadlines."""

    CONSULTATION = "consultation", _("consultation")
    HELP = "help", _("request for help")
    COMPLAINT = "complaint", _("complaint")
    SUGGESTION = "suggestion", _("suggestion")
    WRONGDOING = "wrongdoing", _("report of wrongdoing")


class Urgency(models.TextChoices):
    NORMAL = "normal", _("normal")
    URGENT = "urgent", _("urgent")


_SPACES = re.compile(r"\s+")


def content_fingerprint(content: str) -> str:
    """A hash of the content with white space removed: finds the same text registered twice."""
    return hashlib.sha1(_SPACES.sub("", content).encode("utf-8")).hexdigest()


def content_bigrams(content: str) -> str:
    """The content's overlapping two-character pieces as tsvector text: 'ab' 'bc' ...

    The same lexemes as the database's dz_bigrams(content) (tasks migration 0002; tests
    compare them): each piece quoted, with quotes doubled and backslashes escaped, so no
    text-search parser splits or rewrites Chinese. Sorted, repeats left in: PostgreSQL's
    tsvector input sorts its lexemes (in byte order, which is Python's code point order)
    and keeps each once; a sorted list costs it one pass instead of a quicksort, ~3 us a
    row of database time for ~1 us of Python (bench/README.md), and a set would cost more.
    Made here at write time, not by the database: dz_bigrams in PL/pgSQL cost ~9 us a row,
    an eighth of a bulk import's database time.
    """
    if len(content) < 2:
        return ""
    pieces = sorted(map(operator.add, content, content[1:]))
    if "'" in content or "\\" in content:
        return " ".join("'" + p.replace("\\", "\\\\").replace("'", "''") + "'" for p in pieces)
    return "'" + "' '".join(pieces) + "'"


class BigramsField(models.TextField):
    """content_bigrams(source field) kept up to date on every save: a tsvector on PostgreSQL, NULL elsewhere.

    Only PostgreSQL's GIN index reads it (tasks.search); other databases search with LIKE.
    Writes that bypass Model.save() and bulk_create (COPY, raw SQL, QuerySet.update of
    the content) must set it themselves.
    """

    def __init__(self, *args, source: str = "content", **kwargs):
        self.source = source
        kwargs.setdefault("null", True)
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if self.source != "content":
            kwargs["source"] = self.source
        return name, path, args, kwargs

    def db_type(self, connection):
        return "tsvector" if connection.vendor == "postgresql" else "text"

    def pre_save(self, model_instance, add):
        value = content_bigrams(getattr(model_instance, self.source) or "")
        setattr(model_instance, self.attname, value)
        return value

    def get_db_prep_value(self, value, connection, prepared=False):
        if connection.vendor != "postgresql":
            return None
        return super().get_db_prep_value(value, connection, prepared)


# Tracking numbers are random, not sequential, so nobody can walk through other people's
# cases by guessing. Letters that read alike (0/O, 1/I) are left out; 32 letters divide
# 256, so `byte & 31` keeps every letter equally likely.
TRACKING_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def tracking_number(received_at, noise: bytes) -> str:
    """DZ + the local received date + eight letters drawn from eight random bytes."""
    day = timezone.localtime(received_at).strftime("%Y%m%d")
    return "DZ" + day + "".join(TRACKING_ALPHABET[b & 31] for b in noise[:8])


def new_tracking_number(received_at=None) -> str:
    """A fresh tracking number, e.g. DZ20211025K7QW3M9X."""
    return tracking_number(received_at or timezone.now(), os.urandom(8))


def mask_phone(phone: str) -> str:
    """138****5678: the first three and last four digits; shorter numbers keep only the last two."""
    if not phone:
        return ""
    if len(phone) >= 8:
        return phone[:3] + "****" + phone[-4:]
    return "*" * (len(phone) - 2) + phone[-2:]


def mask_name(name: str) -> str:
    """张** : the family name only."""
    if not name:
        return ""
    return name[0] + "*" * max(len(name) - 1, 1)


class Suggestion(models.Model):
    """One citizen's suggestion or complaint, as registered; it always belongs to one task."""

    MAX_CONTENT_LENGTH = 5000

    # Unique through Meta.constraints, not unique=True: that would also add a varchar_pattern_ops
    # copy of the index for LIKE 'prefix%', which nothing runs and every insert pays for.
    tracking_number = models.CharField(_("tracking number"), max_length=24)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    # The number the source system gave it (hotline ticket, message id); unique within its channel.
    external_id = models.CharField(_("external number"), max_length=64, blank=True, default="")
    received_at = models.DateTimeField(_("received at"))
    registered_at = models.DateTimeField(_("registered at"), default=timezone.now)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="registered_suggestions",
        verbose_name=_("registered by"),
        # suggestion_registrar_idx leads with this column.
        db_index=False,
    )
    citizen_name = models.CharField(_("citizen"), max_length=64, blank=True, default="")
    phone = models.CharField(_("phone"), max_length=20, blank=True, default="")
    # When the retention command (feedback.retention) erased the name and phone of this closed case.
    anonymised_at = models.DateTimeField(_("anonymised at"), null=True, blank=True, editable=False)
    township = models.ForeignKey("org.Township", models.PROTECT, related_name="suggestions", verbose_name=_("township"))
    village = models.ForeignKey(
        "org.Village", models.PROTECT, null=True, blank=True, related_name="suggestions", verbose_name=_("village")
    )
    content = models.TextField(_("content"))
    # Where the problem is, when the citizen's app or system sent a position (WGS 84 degrees).
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    # The external system that sent it through the Open311 API (its API key's name); blank otherwise.
    source_system = models.CharField(_("source system"), max_length=64, blank=True, default="")
    category = models.CharField(_("category"), max_length=16, choices=Category.choices, default=Category.SUGGESTION)
    urgency = models.CharField(_("urgency"), max_length=8, choices=Urgency.choices, default=Urgency.NORMAL)
    content_fingerprint = models.CharField(_("content fingerprint"), max_length=40, editable=False)
    # The search index's column (suggestion_bigrams_idx, feedback migration 0007): set from the content on save.
    content_bigrams = BigramsField(_("content bigrams"), source="content")
    # Registration opens a task at once; merging duplicates moves the suggestion to another task.
    task = models.ForeignKey("tasks.Task", models.PROTECT, related_name="suggestions", verbose_name=_("task"))

    class Meta:
        ordering = ["-id"]
        verbose_name = _("suggestion")
        verbose_name_plural = _("suggestions")
        constraints = [
            models.UniqueConstraint(fields=["tracking_number"], name="suggestion_tracking_number_unique"),
            models.UniqueConstraint(
                fields=["channel", "external_id"],
                condition=~Q(external_id=""),
                name="suggestion_external_id_unique_per_channel",
            )
        ]
        indexes = [
            # Report card "received": suggestions whose received time is in the period; and the Open311
            # request list, newest first, filtered by status (task_id) and service (category) from the
            # index alone (bench/open311.py: a sparse status over 90 days 580 -> 140 ms).
            models.Index(
                fields=["received_at", "id"], include=["task_id", "category"], name="suggestion_received_idx"
            ),
            # Duplicate detection on import where a row has no external number.
            models.Index(fields=["content_fingerprint"], name="suggestion_fingerprint_idx"),
            # A registrar's own list, newest first.
            models.Index(fields=["registered_by", "-id"], name="suggestion_registrar_idx"),
        ]

    def __str__(self):
        return self.tracking_number

    # Set from the content whenever it is saved (save() and pre_save): written with it, always.
    CONTENT_DERIVED = ("content_fingerprint", "content_bigrams")

    def save(self, *args, update_fields=None, **kwargs):
        self.content_fingerprint = content_fingerprint(self.content)
        if not self.tracking_number:
            self.tracking_number = new_tracking_number(self.received_at)
        deferred = self.get_deferred_fields()
        if update_fields is None and deferred and "content" not in deferred and not self._state.adding:
            # Django would save only the loaded fields: the content, without what derives from it.
            update_fields = [f.attname for f in self._meta.concrete_fields
                             if not f.primary_key and f.attname not in deferred]
        if update_fields is not None and "content" in update_fields:
            update_fields = {*update_fields, *self.CONTENT_DERIVED}
        super().save(*args, update_fields=update_fields, **kwargs)

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)

    @property
    def masked_name(self) -> str:
        return mask_name(self.citizen_name)


class CallbackResult(models.TextChoices):
    SATISFIED = "satisfied", _("satisfied")
    BASICALLY_SATISFIED = "basically_satisfied", _("basically satisfied")
    UNSATISFIED = "unsatisfied", _("unsatisfied")


class Callback(models.Model):
    """回访: the citizen asked whether the reply solved their problem."""

    task = models.ForeignKey("tasks.Task", models.CASCADE, related_name="callbacks", verbose_name=_("task"))
    suggestion = models.ForeignKey(
        Suggestion, models.CASCADE, null=True, blank=True, related_name="callbacks", verbose_name=_("suggestion")
    )
    result = models.CharField(_("result"), max_length=24, choices=CallbackResult.choices)
    note = models.TextField(_("note"), blank=True, default="")
    called_at = models.DateTimeField(_("called at"), default=timezone.now)
    called_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("called by")
    )

    class Meta:
        ordering = ["-called_at"]
        verbose_name = _("callback")
        verbose_name_plural = _("callbacks")
        indexes = [
            # Report card "satisfaction": callbacks in the period.
            models.Index(fields=["called_at"], name="callback_called_idx"),
        ]

    @property
    def is_satisfied(self) -> bool:
        return self.result in (CallbackResult.SATISFIED, CallbackResult.BASICALLY_SATISFIED)
