"""/healthz (issue 11 item 6): the database, Redis and the beat's last tick, for load balancers.

200 with every check "ok", else 503 naming the failed check; open without a login and over
plain HTTP. The heartbeat is written by the real job, in the real database.
"""

import datetime as dt

import pytest
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from dingzhou.celery import app
from ops.jobs import heartbeat
from ops.models import Heartbeat


@pytest.fixture
def tick():
    """The beat's heartbeat job, run as a worker runs it (through Celery's tracer)."""
    result = heartbeat.apply()
    assert result.successful(), result.traceback
    return Heartbeat.objects.get(name="beat")


def _health(client=None, **extra):
    response = (client or Client()).get("/healthz", **extra)
    assert response["Content-Type"] == "application/json"
    return response.status_code, response.json()


@pytest.mark.services
def test_all_well_answers_200_without_a_login(require_postgres, require_redis, tick):
    status, body = _health()
    assert status == 200, body
    assert body["status"] == "ok"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["redis"] == {"ok": True, "configured": True, "ms": body["checks"]["redis"]["ms"]}
    beat = body["checks"]["beat"]
    assert beat["ok"] is True and beat["age_seconds"] <= 5
    assert beat["max_age_seconds"] == django_settings.HEALTHZ_BEAT_MAX_AGE


@pytest.mark.services
def test_a_stale_beat_answers_503(require_postgres, require_redis, tick):
    Heartbeat.objects.filter(pk=tick.pk).update(
        at=timezone.now() - dt.timedelta(seconds=django_settings.HEALTHZ_BEAT_MAX_AGE + 30)
    )
    status, body = _health()
    assert status == 503
    assert body["status"] == "fail"
    assert body["checks"]["beat"]["ok"] is False
    assert body["checks"]["beat"]["age_seconds"] >= django_settings.HEALTHZ_BEAT_MAX_AGE + 30
    assert body["checks"]["database"]["ok"] is True and body["checks"]["redis"]["ok"] is True


def test_before_the_first_tick_answers_503(db):
    status, body = _health()
    assert status == 503
    assert body["checks"]["beat"] == {
        "ok": False, "error": "no tick yet", "max_age_seconds": django_settings.HEALTHZ_BEAT_MAX_AGE,
    }  # fmt: skip


def test_an_unreachable_redis_answers_503_without_naming_its_address(db, tick, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    status, body = _health()
    assert status == 503
    assert body["checks"]["redis"] == {"ok": False, "error": "ConnectionError"}
    assert "127.0.0.1" not in str(body)


def test_without_redis_configured_the_embedded_queue_is_not_checked(db, tick, settings):
    settings.REDIS_URL = ""
    status, body = _health()
    assert status == 200
    assert body["checks"]["redis"] == {"ok": True, "configured": False}


def test_plain_http_is_not_redirected_and_the_answer_is_not_cached(db, tick, settings):
    settings.SECURE_SSL_REDIRECT = True
    client = Client()
    assert client.get("/tasks/").status_code == 301  # any other page goes to HTTPS
    response = client.get("/healthz")
    assert response.status_code in (200, 503)
    assert "no-cache" in response["Cache-Control"] and "no-store" in response["Cache-Control"]


def test_only_get_and_head(db, tick):
    client = Client()
    assert client.head("/healthz").status_code in (200, 503)
    assert client.post("/healthz").status_code == 405


def test_beat_sends_the_heartbeat_every_period():
    entry = app.conf.beat_schedule["heartbeat"]
    assert entry["task"] == heartbeat.name
    assert entry["schedule"].total_seconds() == django_settings.HEARTBEAT_SECONDS
    assert django_settings.HEALTHZ_BEAT_MAX_AGE > django_settings.HEARTBEAT_SECONDS


def test_the_health_command_exits_1_on_a_failed_check(db, tick, capsys):
    call_command("health", "--check", "beat", "--check", "database")
    assert '"beat": {"ok": true' in capsys.readouterr().out
    Heartbeat.objects.update(at=timezone.now() - dt.timedelta(hours=1))
    with pytest.raises(CommandError, match="failed: beat") as refused:
        call_command("health", "--check", "beat")
    assert refused.value.returncode == 1
