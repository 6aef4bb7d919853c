"""Middleware: the log of every view's permission refusal, and the renewal of idle sessions."""

import time

from django.conf import settings
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


# The session key holding when the session was last renewed (seconds since the epoch).
RENEWED = "_renewed"


class SessionRenewalMiddleware:
    """Logout after inactivity: a request renews the session's expiry at most once a minute.

    SESSION_SAVE_EVERY_REQUEST would do the same with a database write on every request;
    this writes once per SESSION_RENEW_SECONDS, so a session expires between
    SESSION_COOKIE_AGE - SESSION_RENEW_SECONDS and SESSION_COOKIE_AGE after the last request.
    Marking the session modified makes SessionMiddleware (outside this one) save it with a
    new expiry date and send the cookie again with a new expiry.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        user = getattr(request, "user", None)
        # Only a logged-in user's session: a stale cookie must not make an anonymous session row.
        if session is not None and user is not None and user.is_authenticated:
            now = int(time.time())
            if now - session.get(RENEWED, 0) >= settings.SESSION_RENEW_SECONDS:
                session[RENEWED] = now
        return response


def stamp_new_session(request) -> None:
    """A login starts the renewal clock (ops.audit's user_logged_in receiver calls this)."""
    session = getattr(request, "session", None)
    if session is not None:
        session[RENEWED] = int(time.time())
