"""Shared fixtures: the cast of DOMAIN.md, and the switch that turns missing services into failures.

A test that needs PostgreSQL or Redis asks for the `require_postgres` or `require_redis`
fixture: with REQUIRE_SERVICES=1 (set by .ci/run) it fails when the service is not
reachable; without it (a laptop with nothing configured) it is skipped (tests/services.py).
"""

import os
import types

import pytest
from django.conf import settings
from django.db import connection

from org.models import User

from . import factories
from .services import missing

def pytest_collection_modifyitems(config, items):
    """Tests marked `docker` start the compose stack: they run only when `-m` names them
    (`make test-docker` is `pytest -m docker`). Deselected, not skipped: CI counts a skip as a
    defect, and an addopts `-m "not docker"` would be replaced by any `-m` a user passes."""
    if "docker" in (config.getoption("markexpr") or ""):
        return  # -m docker, -m "services or docker", -m "not docker": pytest's own -m decides
    chosen, dropped = [], []
    for item in items:
        (dropped if item.get_closest_marker("docker") else chosen).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = chosen


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """MD5 in tests only: the default PBKDF2 makes the cast fixture take seconds."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_calendar_cache():
    """A rolled-back CalendarDay or DeadlineRule of one test must not linger in the next one's cache."""
    from tasks import calendar, deadlines

    calendar.invalidate_cache(everywhere=False)
    deadlines.invalidate_rule_cache(everywhere=False)
    yield
    calendar.invalidate_cache(everywhere=False)
    deadlines.invalidate_rule_cache(everywhere=False)


@pytest.fixture
def require_postgres(db):
    """For tests of PostgreSQL-only behaviour (row locks, trigram search, COPY)."""
    if connection.vendor != "postgresql":
        missing("DATABASE_URL does not point at PostgreSQL")


@pytest.fixture
def require_redis():
    """The Redis URL, after checking that Redis answers."""
    url = settings.REDIS_URL or os.environ.get("REDIS_URL", "")
    if not url:
        missing("REDIS_URL is not set")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        missing(f"Redis at {url} is not reachable: {exc}")
    return url


@pytest.fixture
def township(db):
    return factories.TownshipFactory(name="留早镇", short_name="留早")


@pytest.fixture
def departments(db):
    return types.SimpleNamespace(
        zhujian=factories.DepartmentFactory(name="住建局", code="zhujian"),
        chengguan=factories.DepartmentFactory(name="城管局", code="chengguan"),
        supervision=factories.DepartmentFactory(
            name="问政办", code="supervision", kind=factories.Department.Kind.SUPERVISION
        ),
    )


@pytest.fixture
def cast(db, departments):
    """One user per role: handlers and a head of two departments, and an outsider."""
    R = User.Role
    make = factories.UserFactory
    return types.SimpleNamespace(
        leader=make(username="leader", role=R.LEADER),
        supervisor=make(username="supervisor", role=R.SUPERVISOR, department=departments.supervision),
        registrar=make(username="registrar", role=R.REGISTRAR),
        admin=make(username="admin", role=R.ADMIN, is_staff=True, is_superuser=True),
        head_zhujian=make(username="head-zhujian", role=R.HEAD, department=departments.zhujian),
        handler_zhujian=make(username="handler-zhujian", role=R.HANDLER, department=departments.zhujian),
        head_chengguan=make(username="head-chengguan", role=R.HEAD, department=departments.chengguan),
        handler_chengguan=make(username="handler-chengguan", role=R.HANDLER, department=departments.chengguan),
        # A registrar who registered nothing: may see no task, no citizen data.
        outsider=make(username="outsider", role=R.REGISTRAR),
    )


@pytest.fixture(autouse=True, scope="session")
def _jobs_queued_by_tests_stay_in_the_test_process():
    """A job a test queues (a countdown retry, an on_commit .delay()) goes to an in-memory
    broker: in var/celery-queue or the developer's Redis, the worker of `make run` would
    later run it against the demo database. Tests of real workers build their own app or
    process (tests/test_celery.py, tests/tasks/test_reminder_jobs.py)."""
    from dingzhou.celery import app

    app.conf.broker_url = "memory://"
    app.conf.broker_transport_options = {}
    yield
