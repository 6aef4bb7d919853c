"""The checks behind /healthz: the database, Redis (when configured) and the beat's last tick.

Each check returns a dict with "ok" and a few facts. An error's details (host names,
addresses) are logged, not returned: /healthz answers anyone who can reach it.
"""

import logging
import time

from django.conf import settings
from django.db import connection
from django.utils import timezone

from .models import Heartbeat

logger = logging.getLogger("dingzhou.health")


def _failed(name: str, exc: Exception) -> dict:
    logger.warning("health check %s failed: %s: %s", name, type(exc).__name__, exc)
    return {"ok": False, "error": type(exc).__name__}


def check_database() -> dict:
    started = time.monotonic()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001  (any failure is the answer, not a 500)
        return _failed("database", exc)
    return {"ok": True, "ms": round((time.monotonic() - started) * 1000, 1)}


def check_redis() -> dict:
    """Celery's broker and the cache; without REDIS_URL the embedded queue needs no check."""
    if not settings.REDIS_URL:
        return {"ok": True, "configured": False}
    import redis

    started = time.monotonic()
    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
        try:
            client.ping()
        finally:
            client.close()
    except Exception as exc:  # noqa: BLE001
        return _failed("redis", exc)
    return {"ok": True, "configured": True, "ms": round((time.monotonic() - started) * 1000, 1)}


def check_beat(*, now=None) -> dict:
    """The heartbeat job's last run: beat sent it, the broker carried it, a worker ran it."""
    max_age = settings.HEALTHZ_BEAT_MAX_AGE
    try:
        beat = Heartbeat.objects.filter(name="beat").first()
    except Exception as exc:  # noqa: BLE001
        return _failed("beat", exc)
    if beat is None:
        return {"ok": False, "error": "no tick yet", "max_age_seconds": max_age}
    age = ((now or timezone.now()) - beat.at).total_seconds()
    return {
        "ok": age <= max_age,
        "last_tick": beat.at.isoformat(),
        "age_seconds": round(age),
        "max_age_seconds": max_age,
    }


CHECKS = {"database": check_database, "redis": check_redis, "beat": check_beat}


def run_checks() -> dict:
    """Every check's result, and "ok" when all passed."""
    results = {name: check() for name, check in CHECKS.items()}
    return {"status": "ok" if all(r["ok"] for r in results.values()) else "fail", "checks": results}
