"""Every error in GeoReport v2's format: a list of {code, description}, one per problem."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.response import Response

from ops.audit import log_refusal


def _descriptions(detail, field: str | None = None) -> list[str]:
    """Flatten DRF's error detail ({field: [messages]}, [messages], "message") into readable lines."""
    if isinstance(detail, dict):
        lines = []
        for key, value in detail.items():
            name = None if key in ("non_field_errors", "__all__") else key
            lines.extend(_descriptions(value, name if field is None else f"{field}.{name}"))
        return lines
    if isinstance(detail, list):
        return [line for item in detail for line in _descriptions(item, field)]
    text = str(detail)
    return [f"{field}: {text}" if field else text]


def open311_exception_handler(exc, context):
    """DRF's exception handler hook: the spec's error list, with the status in each entry."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(_("Not found."))
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None  # a server error: Django's 500 handling and logging
    headers = {}
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if exc.status_code in (401, 403):  # a missing or revoked api_key: the API's permission refusals
        log_refusal(context.get("request"), exc.status_code, str(exc.detail))
    errors = [{"code": exc.status_code, "description": line} for line in _descriptions(exc.detail)]
    return Response(errors, status=exc.status_code, headers=headers)
