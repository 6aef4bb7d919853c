"""Structured audit logs: logins, failed logins, lockouts, logouts and permission refusals.

Every line goes to the logger "dingzhou.audit" with an `event` name and its fields (see
ops/logs.py for how they are written). Passwords never appear: Django hands the
`user_login_failed` receiver credentials with the password already masked, and only the
user name is kept from them.
"""

import logging

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from .logs import kv_value

logger = logging.getLogger("dingzhou.audit")


def log_event(event: str, *, level: int = logging.INFO, log: logging.Logger = logger, **fields) -> None:
    """One structured line: `event key=value ...` as text, `event` and `data` as record attributes."""
    text = " ".join([event, *(f"{key}={kv_value(value)}" for key, value in fields.items() if value not in (None, ""))])
    log.log(level, text, extra={"event": event, "data": fields})


def request_fields(request) -> dict:
    """Who asked from where: the address, the proxy's X-Forwarded-For, the path."""
    if request is None:
        return {}
    meta = getattr(request, "META", {})
    return {
        "ip": meta.get("REMOTE_ADDR", ""),
        "forwarded_for": meta.get("HTTP_X_FORWARDED_FOR", ""),
        "path": getattr(request, "path", ""),
    }


def user_fields(user) -> dict:
    if user is None or not getattr(user, "is_authenticated", False):
        return {"user": None}
    return {"user": user.get_username(), "user_id": user.pk, "role": getattr(user, "role", "")}


@receiver(user_logged_in, dispatch_uid="ops.audit.logged_in")
def _logged_in(sender, request, user, **kwargs):
    from .middleware import stamp_new_session  # noqa: PLC0415

    stamp_new_session(request)
    log_event("login.succeeded", **user_fields(user), **request_fields(request))


@receiver(user_login_failed, dispatch_uid="ops.audit.login_failed")
def _login_failed(sender, credentials, request=None, **kwargs):
    log_event(
        "login.failed", level=logging.WARNING, username=credentials.get("username", ""), **request_fields(request)
    )


@receiver(user_locked_out, dispatch_uid="ops.audit.locked_out")
def _locked_out(sender, request, username, ip_address, **kwargs):
    log_event("login.locked_out", level=logging.WARNING, username=username or "", **request_fields(request))


@receiver(user_logged_out, dispatch_uid="ops.audit.logged_out")
def _logged_out(sender, request, user, **kwargs):
    log_event("logout", **user_fields(user), **request_fields(request))


def log_refusal(request, status: int, reason: str = "") -> None:
    """A page or API refused the user (403) or hid an object from them (404)."""
    log_event(
        "permission.refused",
        level=logging.WARNING,
        status=status,
        method=getattr(request, "method", ""),
        reason=reason,
        **user_fields(getattr(request, "user", None)),
        **request_fields(request),
    )
