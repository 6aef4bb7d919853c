"""GeoReport v2's documents as DRF serializers: they validate the parameters and define the OpenAPI schema."""

import datetime as dt
import math
import re

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from feedback.models import Category, Suggestion, Urgency
from feedback.validators import normalize_phone
from tasks.errors import DomainError

from . import catalogue
from .selectors import CLOSED, DEFAULT_SPAN, MAX_PAGE_SIZE, OPEN

# Characters XML 1.0 cannot carry (and PostgreSQL refuses NUL): refused on the way in.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
MAX_PAGE = 100_000
JURISDICTION = "dingzhou"
# Far enough from datetime's limits that ±90 days and time-zone shifts cannot overflow.
FIRST_YEAR, LAST_YEAR = 1900, 2999


def _text_ok(value: str) -> str:
    if _CONTROL.search(value):
        raise serializers.ValidationError(_("Control characters are not allowed."))
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise serializers.ValidationError(_("The text is not valid Unicode.")) from None
    return value


def _finite(value):
    if value is not None and not math.isfinite(value):
        raise serializers.ValidationError(_("A finite number is required."))
    return value


class ErrorSerializer(serializers.Serializer):
    code = serializers.IntegerField(help_text="The HTTP status code.")
    description = serializers.CharField()


class ServiceSerializer(serializers.Serializer):
    service_code = serializers.CharField()
    service_name = serializers.CharField()
    description = serializers.CharField()
    metadata = serializers.BooleanField()
    type = serializers.ChoiceField(choices=["realtime", "batch", "blackbox"])
    keywords = serializers.CharField()
    group = serializers.CharField()


class AttributeValueSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()


class AttributeSerializer(serializers.Serializer):
    variable = serializers.BooleanField()
    code = serializers.CharField()
    datatype = serializers.ChoiceField(
        choices=["string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"]
    )
    required = serializers.BooleanField()
    datatype_description = serializers.CharField(allow_blank=True)
    order = serializers.IntegerField()
    description = serializers.CharField()
    values = AttributeValueSerializer(many=True)


class ServiceDefinitionSerializer(serializers.Serializer):
    service_code = serializers.CharField()
    attributes = AttributeSerializer(many=True)


class ServiceRequestSerializer(serializers.Serializer):
    """One service request as GET requests answers it; never a name, a phone or (for others' requests) the content."""

    DATETIMES = ("requested_datetime", "updated_datetime", "expected_datetime")

    def to_representation(self, instance):
        # Read-only and hot (1,000 rows a page): the fields are plain values already, so one dict
        # per row instead of seventeen field lookups and time-zone checks (~30 ms a page saved).
        row = {name: getattr(instance, name) for name in self.fields}
        for name in self.DATETIMES:
            if row[name] is not None:
                row[name] = timezone.localtime(row[name]).isoformat()
        return row

    service_request_id = serializers.CharField()
    status = serializers.ChoiceField(choices=[OPEN, CLOSED])
    status_notes = serializers.CharField(allow_null=True)
    service_name = serializers.CharField()
    service_code = serializers.CharField()
    description = serializers.CharField(
        allow_null=True, help_text="Given only to the API key that created the request; null for everyone else."
    )
    agency_responsible = serializers.CharField(allow_null=True)
    service_notice = serializers.CharField(allow_null=True)
    requested_datetime = serializers.DateTimeField()
    updated_datetime = serializers.DateTimeField()
    expected_datetime = serializers.DateTimeField(allow_null=True)
    address = serializers.CharField()
    address_id = serializers.CharField(allow_null=True)
    zipcode = serializers.CharField(allow_null=True)
    lat = serializers.FloatField(allow_null=True)
    long = serializers.FloatField(allow_null=True)
    media_url = serializers.URLField(allow_null=True)


class CreatedRequestSerializer(serializers.Serializer):
    service_request_id = serializers.CharField()
    token = serializers.CharField()
    service_notice = serializers.CharField(allow_null=True)
    account_id = serializers.CharField(allow_null=True)


class TokenSerializer(serializers.Serializer):
    service_request_id = serializers.CharField()
    token = serializers.CharField()


def _when(value: str, *, end: bool) -> dt.datetime:
    """A W3C datetime (2021-10-25T08:00:00+08:00, …Z) or a date; a date's end is the end of that day."""
    value = value.strip()
    try:
        # A bare date first: Python reads "2021-10-25" as a datetime at midnight too.
        day = parse_date(value)
        when = None if day else parse_datetime(value)
    except ValueError:
        day = when = None
    if day is not None:
        when = dt.datetime.combine(day, dt.time.max if end else dt.time.min)
    elif when is None:
        raise serializers.ValidationError(
            _("%(value)s is not a date and time such as 2021-10-25T08:00:00+08:00.") % {"value": value[:40]}
        )
    if not FIRST_YEAR <= when.year <= LAST_YEAR:
        raise serializers.ValidationError(
            _("%(value)s is out of range: give a year from %(first)d to %(last)d.")
            % {"value": value[:40], "first": FIRST_YEAR, "last": LAST_YEAR}
        )
    if timezone.is_naive(when):
        when = timezone.make_aware(when)
    return when


def _comma_list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


# The document's shapes of the comma lists and dates; the validate_* methods below give the readable refusals.
_CODES = "|".join(Category.values)


@extend_schema_field({"type": "string", "pattern": r"^[0-9]{1,18}(,[0-9]{1,18})*$"})
class _IdListField(serializers.CharField):
    pass


@extend_schema_field({"type": "string", "pattern": rf"^({_CODES})(,({_CODES}))*$"})
class _CodeListField(serializers.CharField):
    pass


@extend_schema_field({"type": "string", "pattern": r"^(open|closed)(,(open|closed))?$"})
class _StatusListField(serializers.CharField):
    pass


@extend_schema_field({"type": "string", "format": "date-time"})
class _W3CDateTimeField(serializers.CharField):
    pass


@extend_schema_field({"type": "string", "enum": [JURISDICTION]})
class JurisdictionField(serializers.CharField):
    """Optional everywhere: this server serves one jurisdiction (the views answer 404 for another)."""


class RequestQuerySerializer(serializers.Serializer):
    """The parameters of GET requests: the spec's filters, plus page and page_size."""

    service_request_id = _IdListField(
        required=False, help_text="Comma-separated request ids; overrides every other filter."
    )
    service_code = _CodeListField(required=False, help_text="Comma-separated service codes.")
    start_date = _W3CDateTimeField(
        required=False,
        help_text="Earliest requested_datetime, W3C format (a bare date means its start); "
                  "default: 90 days before end_date. The range may span at most 90 days.",
    )
    end_date = _W3CDateTimeField(
        required=False,
        help_text="Latest requested_datetime, W3C format (a bare date means its end); "
                  "default: now, or 90 days after start_date.",
    )
    status = _StatusListField(required=False, help_text="open, closed, or both comma-separated.")
    page = serializers.IntegerField(required=False, min_value=1, max_value=MAX_PAGE, default=1)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=MAX_PAGE_SIZE, default=MAX_PAGE_SIZE)
    jurisdiction_id = JurisdictionField(required=False)
    api_key = serializers.CharField(
        required=False, help_text="Optional: the creating system sees its own requests' description and reply."
    )

    def validate_service_request_id(self, value):
        ids = []
        for item in _comma_list(value):
            if not item.isascii() or not item.isdigit() or len(item) > 18:
                raise serializers.ValidationError(_("%(value)s is not a service request id.") % {"value": item[:40]})
            ids.append(int(item))
        if len(ids) > MAX_PAGE_SIZE:
            raise serializers.ValidationError(_("At most %(max)d ids at once.") % {"max": MAX_PAGE_SIZE})
        return ids

    def validate_service_code(self, value):
        codes = _comma_list(value)
        unknown = [code for code in codes if not catalogue.is_service(code)]
        if unknown:
            raise serializers.ValidationError(
                _("Unknown service_code %(code)s; the services are %(codes)s.")
                % {"code": unknown[0][:40], "codes": ", ".join(Category.values)}
            )
        return codes

    def validate_status(self, value):
        statuses = _comma_list(value)
        if not statuses or any(s not in (OPEN, CLOSED) for s in statuses):
            raise serializers.ValidationError(_("status must be open, closed, or open,closed."))
        return statuses

    def validate_start_date(self, value):
        return _when(value, end=False)

    def validate_end_date(self, value):
        return _when(value, end=True)

    def validate(self, attrs):
        start, end = attrs.get("start_date"), attrs.get("end_date")
        if start is None and end is None:
            end = timezone.now()
        if start is None:
            start = end - DEFAULT_SPAN
        if end is None:
            end = start + DEFAULT_SPAN
        if start > end:
            raise serializers.ValidationError({"end_date": _("end_date is before start_date.")})
        if end - start > DEFAULT_SPAN:
            raise serializers.ValidationError({"end_date": _("start_date and end_date may span at most 90 days.")})
        attrs["start_date"], attrs["end_date"] = start, end
        return attrs


class CreateRequestSerializer(serializers.Serializer):
    """POST requests: the spec's form fields; the township comes from attribute[township] or the address_string."""

    api_key = serializers.CharField(help_text="The key the city issued to your system.")
    service_code = serializers.ChoiceField(choices=Category.values)
    description = serializers.CharField(max_length=Suggestion.MAX_CONTENT_LENGTH, validators=[_text_ok])
    lat = serializers.FloatField(required=False, allow_null=True, min_value=-90, max_value=90,
                                 validators=[_finite])
    long = serializers.FloatField(required=False, allow_null=True, min_value=-180, max_value=180,
                                  validators=[_finite])
    address_string = serializers.CharField(required=False, allow_blank=True, max_length=200, validators=[_text_ok])
    address_id = serializers.CharField(required=False, allow_blank=True, max_length=64)
    email = serializers.CharField(required=False, allow_blank=True, max_length=254, help_text="Accepted and not stored.")
    device_id = serializers.CharField(required=False, allow_blank=True, max_length=64)
    account_id = serializers.CharField(required=False, allow_blank=True, max_length=64)
    first_name = serializers.CharField(required=False, allow_blank=True, max_length=32, validators=[_text_ok])
    last_name = serializers.CharField(required=False, allow_blank=True, max_length=32, validators=[_text_ok])
    phone = serializers.CharField(required=False, allow_blank=True, max_length=30)
    media_url = serializers.CharField(required=False, allow_blank=True, max_length=500, help_text="Not stored.")
    jurisdiction_id = JurisdictionField(required=False)

    def get_fields(self):
        fields = super().get_fields()
        # The spec's attribute[code] form fields.
        fields["attribute[township]"] = serializers.CharField(
            required=False, allow_blank=True, max_length=32, validators=[_text_ok],
            help_text="Township or street office (see the service definition); else named in address_string.",
        )
        fields["attribute[village]"] = serializers.CharField(
            required=False, allow_blank=True, max_length=32, validators=[_text_ok]
        )
        fields["attribute[urgency]"] = serializers.ChoiceField(
            required=False, allow_blank=True, choices=Urgency.values
        )
        return fields

    def validate_phone(self, value):
        try:
            return normalize_phone(value)
        except DomainError as exc:
            raise serializers.ValidationError(str(exc)) from None

    def validate(self, attrs):
        if (attrs.get("lat") is None) != (attrs.get("long") is None):
            raise serializers.ValidationError({"long": _("Give both lat and long, or neither.")})
        named = attrs.get("attribute[township]", "")
        address = attrs.get("address_string", "")
        township = catalogue.find_township(named) if named else catalogue.township_in(address)
        if township is None:
            if named:
                raise serializers.ValidationError(
                    {"attribute[township]": _("Unknown township %(value)s; see the service definition.")
                     % {"value": named}}
                )
            raise serializers.ValidationError(
                {"attribute[township]": _("Name the township: give attribute[township], or an address_string "
                                          "that contains it.")}
            )
        village_name = attrs.get("attribute[village]", "")
        village = catalogue.find_village(township, village_name) if village_name else catalogue.village_in(
            township, address
        )
        if village_name and village is None:
            raise serializers.ValidationError(
                {"attribute[village]": _("%(village)s is not a village or community of %(township)s.")
                 % {"village": village_name, "township": township.name}}
            )
        attrs["township"], attrs["village"] = township, village
        attrs["urgency"] = attrs.get("attribute[urgency]") or Urgency.NORMAL
        # Chinese order: family name first.
        attrs["citizen_name"] = (attrs.get("last_name", "") + attrs.get("first_name", "")).strip()
        return attrs
