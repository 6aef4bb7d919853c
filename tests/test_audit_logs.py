"""Structured logs (issue 11 item 6): logins, failed logins, lockouts, permission refusals and
job runs, each a record with an `event` and its fields, written as one JSON or key=value line.
"""

import json
import logging

import pytest
from celery import shared_task
from django.conf import settings
from django.urls import reverse

from ops.jobs import heartbeat
from ops.logs import JsonFormatter, KeyValueFormatter

from .access_matrix_fixtures import build_world
from .factories import PASSWORD


def events(caplog, logger="dingzhou.audit") -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == logger and getattr(r, "event", None)]


def _login(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR="10.1.2.3")


def test_a_login_is_logged_with_who_and_from_where(client, cast, caplog):
    caplog.set_level(logging.INFO, logger="dingzhou.audit")
    assert _login(client, "handler-zhujian", PASSWORD).status_code == 302
    [record] = events(caplog)
    assert record.event == "login.succeeded" and record.levelno == logging.INFO
    assert record.data["user"] == "handler-zhujian" and record.data["user_id"] == cast.handler_zhujian.pk
    assert record.data["role"] == "handler" and record.data["ip"] == "10.1.2.3"


def test_a_failed_login_is_logged_without_the_password(client, cast, caplog):
    caplog.set_level(logging.INFO, logger="dingzhou.audit")
    assert _login(client, "handler-zhujian", "wrong-Passw0rd").status_code == 200
    [record] = events(caplog)
    assert record.event == "login.failed" and record.levelno == logging.WARNING
    assert record.data == {"username": "handler-zhujian", "ip": "10.1.2.3", "forwarded_for": "", "path": "/accounts/login/"}
    assert "wrong-Passw0rd" not in JsonFormatter().format(record)


def test_a_lockout_is_logged(client, cast, caplog):
    caplog.set_level(logging.INFO, logger="dingzhou.audit")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(client, "handler-zhujian", "wrong-password")
    seen = [r.event for r in events(caplog)]
    assert seen.count("login.failed") == settings.AXES_FAILURE_LIMIT
    [locked] = [r for r in events(caplog) if r.event == "login.locked_out"]
    assert locked.levelno == logging.WARNING and locked.data["username"] == "handler-zhujian"


def test_a_logout_is_logged(client, cast, caplog):
    client.force_login(cast.supervisor)
    caplog.clear()
    client.post(reverse("logout"))
    [record] = events(caplog)
    assert record.event == "logout" and record.data["user"] == "supervisor"


@pytest.fixture
def world(cast, departments, township, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return build_world(cast, departments, township)


def test_a_403_refusal_is_logged(client, cast, world, caplog):
    client.force_login(cast.registrar)
    caplog.clear()  # force_login's own login.succeeded
    assert client.get(reverse("tasks:dispatch")).status_code == 403
    [record] = events(caplog)
    assert record.event == "permission.refused" and record.levelno == logging.WARNING
    assert record.data["status"] == 403 and record.data["user"] == "registrar" and record.data["method"] == "GET"
    assert record.data["path"] == reverse("tasks:dispatch")


def test_another_departments_task_answers_404_and_is_logged(client, cast, world, caplog):
    client.force_login(cast.handler_chengguan)
    caplog.clear()  # force_login's own login.succeeded
    url = reverse("tasks:detail", args=[world.task.pk])
    assert client.get(url).status_code == 404
    [record] = events(caplog)
    assert (record.event, record.data["status"], record.data["user"], record.data["path"]) == (
        "permission.refused", 404, "handler-chengguan", url,
    )  # fmt: skip


def test_an_unknown_address_is_not_a_refusal(client, cast, caplog):
    client.force_login(cast.supervisor)
    caplog.clear()  # force_login's own login.succeeded
    assert client.get("/no-such-page/").status_code == 404
    assert events(caplog) == []


def test_the_apis_refusal_of_a_missing_key_is_logged(client, db, caplog):
    caplog.set_level(logging.INFO, logger="dingzhou.audit")
    assert client.post("/open311/v2/requests.json", {}).status_code == 403
    [record] = events(caplog)
    assert record.data["status"] == 403 and record.data["user"] is None
    assert "api_key" in record.data["reason"]


@shared_task(name="tests.test_audit_logs.explode")
def explode():
    raise RuntimeError("boom")


def test_a_job_run_is_logged_with_its_outcome_and_duration(db, caplog):
    caplog.set_level(logging.DEBUG, logger="dingzhou.jobs")
    result = heartbeat.apply()
    assert result.successful()
    started, finished = events(caplog, "dingzhou.jobs")
    assert (started.event, started.levelno) == ("job.started", logging.DEBUG)
    assert (finished.event, finished.levelno) == ("job.finished", logging.INFO)
    assert finished.data["job"] == "ops.jobs.heartbeat" and finished.data["job_id"] == result.id
    assert finished.data["state"] == "SUCCESS" and finished.data["duration_ms"] >= 0


def test_a_failed_job_is_logged_with_its_error(db, caplog):
    caplog.set_level(logging.INFO, logger="dingzhou.jobs")
    result = explode.apply()
    assert result.failed()
    failed, finished = events(caplog, "dingzhou.jobs")
    assert (failed.event, failed.levelno, failed.data["error"]) == ("job.failed", logging.ERROR, "RuntimeError: boom")
    assert (finished.event, finished.levelno, finished.data["state"]) == ("job.finished", logging.WARNING, "FAILURE")


def test_the_formatters_write_one_line_with_the_event_and_its_fields(client, cast, caplog):
    caplog.set_level(logging.INFO, logger="dingzhou.audit")
    _login(client, "handler-zhujian", "wrong password")
    [record] = events(caplog)
    line = json.loads(JsonFormatter().format(record))
    assert line["event"] == "login.failed" and line["level"] == "WARNING" and line["logger"] == "dingzhou.audit"
    assert line["username"] == "handler-zhujian" and line["ip"] == "10.1.2.3" and line["time"].endswith("Z")
    text = KeyValueFormatter().format(record)
    assert "\n" not in text
    assert text.endswith("WARNING dingzhou.audit login.failed username=handler-zhujian ip=10.1.2.3 path=/accounts/login/")
