"""The one place where every view's permission refusal is seen and logged."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import translation

from .audit import log_refusal


class RefusalLogMiddleware:
    """Logs the PermissionDenied (403) and Http404 that views raise from their permission checks.

    Views refuse by raising (STYLE.md: one helper per object type fetches it for the user or
    raises 404), so the exception passes through here on its way to Django's handler. A URL
    that matches no route is not a refusal and never reaches a view, so it is not logged.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, PermissionDenied | Http404):
            with translation.override("en"):  # a lazily translated reason is logged in English
                reason = str(exception)
            log_refusal(request, 403 if isinstance(exception, PermissionDenied) else 404, reason)
        return None  # Django's own handler answers as before
