"""Open311 GeoReport v2 endpoints under /open311/v2/, in JSON and XML by the URL's suffix.

No login and no session: a POST is authorised by its api_key alone, so these views take
no cookies and need no CSRF token. Every error, ours or DRF's, leaves in the spec's
format: a list of {code, description} (<errors><error>… in XML).
"""

from collections.abc import Mapping

from django.conf import settings
from django.utils.translation import gettext as _
from django_ratelimit.core import is_ratelimited
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from feedback.models import Category
from tasks.errors import DomainError

from . import catalogue, selectors, serializers, services
from .exceptions import open311_exception_handler
from .renderers import Open311JSONRenderer, Open311XMLRenderer
from .schema import Open311AutoSchema

FORMAT = OpenApiParameter("format", str, OpenApiParameter.PATH, enum=["json", "xml"], description="json or xml")
JURISDICTION = OpenApiParameter(
    "jurisdiction_id", str, OpenApiParameter.QUERY, required=False, enum=[serializers.JURISDICTION],
    description="Optional; this server has one.",
)
SERVICE_CODE = OpenApiParameter("service_code", str, OpenApiParameter.PATH, enum=Category.values)
REQUEST_ID = OpenApiParameter(
    "service_request_id", str, OpenApiParameter.PATH, pattern=r"^[0-9]+$", description="As GET requests lists it."
)
# For the OpenAPI document (English, for developers).
ERROR_MEANINGS = {
    400: "A parameter is missing or wrong; the description says which.",
    403: "api_key missing, unknown or revoked.",
    404: "No such service, request, token or jurisdiction.",
    429: "Rate limit exceeded: per api_key, or per client address without one.",
}


def documented(**kwargs):
    """extend_schema on our schema class, so the document needs no DEFAULT_SCHEMA_CLASS setting."""

    def decorate(method):
        # extend_schema builds on a method's own `schema` before the project-wide default.
        method.schema = Open311AutoSchema
        return extend_schema(**kwargs)(method)

    return decorate


def _errors(*codes: int) -> dict:
    return {
        code: OpenApiResponse(serializers.ErrorSerializer(many=True), description=ERROR_MEANINGS[code])
        for code in codes
    }


class Open311View(APIView):
    authentication_classes: list = []
    permission_classes: list = []
    throttle_classes: list = []
    renderer_classes = [Open311JSONRenderer, Open311XMLRenderer]
    parser_classes = [FormParser, MultiPartParser, JSONParser]
    schema = Open311AutoSchema()
    xml_root, xml_item = "root", "item"
    api_key = None

    def get_exception_handler(self):
        return open311_exception_handler

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        # A JSON body may be a list or a number; the serializer refuses it, this must not trip first.
        body = request.data if request.method == "POST" and isinstance(request.data, Mapping) else {}
        jurisdiction = request.query_params.get("jurisdiction_id", body.get("jurisdiction_id"))
        if jurisdiction not in (None, "", serializers.JURISDICTION):
            raise exceptions.NotFound(_("jurisdiction_id %(value)s not found.") % {"value": str(jurisdiction)[:40]})
        raw_key = request.query_params.get("api_key", body.get("api_key"))
        if raw_key:
            self.api_key = services.api_key_check(str(raw_key))
        self._check_rate(request)
        if raw_key and self.api_key is None:
            # Counted against the address first, so wrong keys cannot be tried without limit.
            raise exceptions.PermissionDenied(_("Invalid api_key: it is unknown or has been revoked."))

    def _check_rate(self, request):
        if self.api_key is not None:
            key_id = str(self.api_key.pk)
            limited = is_ratelimited(
                request, group="open311:key", key=lambda group, req: key_id, rate=self.api_key.rate, increment=True
            )
        else:
            rate = getattr(settings, "OPEN311_ANONYMOUS_RATE", "120/m")
            limited = is_ratelimited(request, group="open311:anonymous", key="ip", rate=rate, increment=True)
        if limited:
            raise exceptions.Throttled(detail=_("Too many requests; slow down and try again in a minute."))


class ServiceListView(Open311View):
    xml_root, xml_item = "services", "service"

    @documented(
        operation_id="services_list", tags=["services"], parameters=[FORMAT, JURISDICTION],
        responses={200: serializers.ServiceSerializer(many=True), **_errors(404, 429)},
    )
    def get(self, request, format=None):
        """The services: the five categories of suggestion."""
        return Response(serializers.ServiceSerializer(catalogue.services(), many=True).data)


class ServiceDefinitionView(Open311View):
    xml_root, xml_item = "service_definition", "attribute"

    @documented(
        operation_id="services_definition", tags=["services"], parameters=[FORMAT, SERVICE_CODE, JURISDICTION],
        responses={200: serializers.ServiceDefinitionSerializer, **_errors(404, 429)},
    )
    def get(self, request, service_code, format=None):
        """A service's attributes: township (required), village and urgency."""
        if not catalogue.is_service(service_code):
            raise exceptions.NotFound(
                _("Unknown service_code %(code)s; the services are %(codes)s.")
                % {"code": service_code[:40], "codes": ", ".join(Category.values)}
            )
        return Response(serializers.ServiceDefinitionSerializer(catalogue.definition(service_code)).data)


class RequestListView(Open311View):
    xml_root, xml_item = "service_requests", "request"

    @documented(
        operation_id="requests_list", tags=["requests"], parameters=[FORMAT, serializers.RequestQuerySerializer],
        responses={200: serializers.ServiceRequestSerializer(many=True), **_errors(400, 403, 404, 429)},
    )
    def get(self, request, format=None):
        """Service requests received in a period (default the last 90 days), newest first, 1,000 a page."""
        query = serializers.RequestQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        if params.get("service_request_id"):
            rows = selectors.service_requests_by_id(params["service_request_id"], api_key=self.api_key)
        else:
            rows = selectors.service_requests(
                start=params["start_date"], end=params["end_date"], service_codes=params.get("service_code"),
                statuses=params.get("status"), page=params["page"], page_size=params["page_size"],
                api_key=self.api_key,
            )
        return Response(serializers.ServiceRequestSerializer(rows, many=True).data)

    @documented(
        operation_id="requests_create", tags=["requests"], parameters=[FORMAT], request=serializers.CreateRequestSerializer,
        responses={201: serializers.CreatedRequestSerializer(many=True), **_errors(400, 403, 404, 429)},
    )
    def post(self, request, format=None):
        """Create a service request (needs api_key); it enters the supervision office's dispatch queue."""
        if self.api_key is None:
            raise exceptions.PermissionDenied(_("api_key was not provided: creating a request needs one."))
        form = serializers.CreateRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        try:
            use = services.service_request_create(
                api_key=self.api_key, service_code=data["service_code"], description=data["description"],
                township=data["township"], village=data["village"], urgency=data["urgency"],
                latitude=data.get("lat"), longitude=data.get("long"), citizen_name=data["citizen_name"],
                phone=data.get("phone", ""), client_address=request.META.get("REMOTE_ADDR") or None,
            )
        except DomainError as exc:
            raise exceptions.ValidationError({exc.field: [str(exc)]} if exc.field else [str(exc)]) from exc
        suggestion = use.suggestion
        notice = _("Tracking number %(number)s: citizens can follow it up with it. %(handling)s") % {
            "number": suggestion.tracking_number,
            "handling": catalogue.handling_notice(
                category=suggestion.category, urgency=suggestion.urgency, channel=suggestion.channel
            ),
        }
        created = {"service_request_id": str(suggestion.pk), "token": use.token, "service_notice": notice,
                   "account_id": None}
        return Response(serializers.CreatedRequestSerializer([created], many=True).data, status=status.HTTP_201_CREATED)


class RequestDetailView(Open311View):
    xml_root, xml_item = "service_requests", "request"

    @documented(
        operation_id="requests_retrieve", tags=["requests"],
        parameters=[
            FORMAT, REQUEST_ID, JURISDICTION,
            OpenApiParameter("api_key", OpenApiTypes.STR, OpenApiParameter.QUERY,
                             description="Optional: the creating system also gets the description and reply."),
        ],
        responses={200: serializers.ServiceRequestSerializer(many=True), **_errors(403, 404, 429)},
    )
    def get(self, request, service_request_id, format=None):
        """One service request (a list of one, as the spec has it)."""
        ids = [int(service_request_id)] if service_request_id.isascii() and service_request_id.isdigit() else []
        rows = selectors.service_requests_by_id(ids, api_key=self.api_key) if len(service_request_id) <= 18 else []
        if not rows:
            raise exceptions.NotFound(
                _("Service request %(id)s not found.") % {"id": service_request_id[:40]}
            )
        return Response(serializers.ServiceRequestSerializer(rows, many=True).data)


class TokenView(Open311View):
    xml_root, xml_item = "service_requests", "request"

    @documented(
        operation_id="tokens_retrieve", tags=["tokens"], parameters=[FORMAT, JURISDICTION],
        responses={200: serializers.TokenSerializer(many=True), **_errors(404, 429)},
    )
    def get(self, request, token, format=None):
        """The service request id a POST's token stands for."""
        use = selectors.service_request_for_token(token) if len(token) <= 32 and token.isalnum() else None
        if use is None:
            raise exceptions.NotFound(_("Token %(token)s not found.") % {"token": token[:40]})
        data = [{"service_request_id": str(use.suggestion_id), "token": use.token}]
        return Response(serializers.TokenSerializer(data, many=True).data)
