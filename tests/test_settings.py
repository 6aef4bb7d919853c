"""Settings read from the environment: a bad or missing value stops start-up with a
message naming the variable, instead of a 500 (or a silent default) later.

Each case starts a fresh Python process with a controlled environment, since
settings are read once per process.
"""

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings

# Every variable dingzhou/settings.py reads; removed from the child's environment so
# that the machine's own configuration (CI sets DATABASE_URL and REDIS_URL) cannot leak in.
VARIABLES = [
    "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS", "DATABASE_URL", "REDIS_URL",
    "CELERY_QUEUE_DIR", "AXES_FAILURE_LIMIT", "AXES_COOLOFF_HOURS", "TIME_ZONE", "MEDIA_ROOT",
    "CELERY_TASK_TIME_LIMIT", "CELERY_TASK_SOFT_TIME_LIMIT", "CELERY_TASK_ALWAYS_EAGER",
    "EMAIL_BACKEND", "EMAIL_HOST", "EMAIL_PORT", "EMAIL_HOST_USER", "EMAIL_HOST_PASSWORD",
    "EMAIL_USE_TLS", "DEFAULT_FROM_EMAIL", "LOG_LEVEL",
]  # fmt: skip

SHOW = """
import json, django
django.setup()
from django.conf import settings as s
print(json.dumps({
    "DEBUG": s.DEBUG,
    "ALLOWED_HOSTS": s.ALLOWED_HOSTS,
    "ENGINE": s.DATABASES["default"]["ENGINE"],
    "DB_NAME": str(s.DATABASES["default"]["NAME"]),
    "BROKER": s.CELERY_BROKER_URL,
    "CACHE": s.CACHES["default"]["BACKEND"],
    "TIME_ZONE": s.TIME_ZONE,
    "LANGUAGE_CODE": s.LANGUAGE_CODE,
    "LANGUAGES": [code for code, _ in s.LANGUAGES],
    "AXES_FAILURE_LIMIT": s.AXES_FAILURE_LIMIT,
}))
"""


def start(tmp_path, **variables: str) -> subprocess.CompletedProcess:
    env = {name: value for name, value in os.environ.items() if name not in VARIABLES}
    env.update(
        DJANGO_SETTINGS_MODULE="dingzhou.settings",
        ENV_FILE=str(tmp_path / "no.env"),
        CELERY_QUEUE_DIR=str(tmp_path / "queue"),
        **variables,
    )
    return subprocess.run(
        [sys.executable, "-c", SHOW], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=60
    )


def shown(result: subprocess.CompletedProcess) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def refusal(result: subprocess.CompletedProcess) -> str:
    """The last line of the traceback: the ImproperlyConfigured message."""
    assert result.returncode != 0, result.stdout
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("django.core.exceptions.ImproperlyConfigured: "), result.stderr
    return last


def test_with_nothing_set_the_embedded_demo_starts(tmp_path):
    config = shown(start(tmp_path))
    assert config["DEBUG"] is True
    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert config["DB_NAME"] == str(settings.BASE_DIR / "var" / "dingzhou.sqlite3")
    assert config["BROKER"].startswith("filesystem://")
    assert config["CACHE"].endswith("LocMemCache")
    assert config["TIME_ZONE"] == "Asia/Shanghai"
    assert config["LANGUAGE_CODE"] == "zh-hans"
    assert config["LANGUAGES"] == ["zh-hans", "en"]


def test_database_url_and_redis_url_switch_to_postgresql_and_redis(tmp_path):
    config = shown(
        start(tmp_path, DATABASE_URL="postgres://postgres@127.0.0.1:5432/dingzhou", REDIS_URL="redis://127.0.0.1:6379/3")
    )
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert config["DB_NAME"] == "dingzhou"
    assert config["BROKER"] == "redis://127.0.0.1:6379/3"
    assert config["CACHE"].endswith("RedisCache")


def test_debug_off_without_secret_key_refuses_to_start(tmp_path):
    assert "SECRET_KEY must be set when DEBUG is off" in refusal(start(tmp_path, DEBUG="false"))


def test_debug_off_without_allowed_hosts_refuses_to_start(tmp_path):
    message = refusal(start(tmp_path, DEBUG="false", SECRET_KEY="x" * 50))
    assert "ALLOWED_HOSTS must be set when DEBUG is off" in message


def test_debug_off_with_secret_key_and_allowed_hosts_starts(tmp_path):
    config = shown(start(tmp_path, DEBUG="false", SECRET_KEY="x" * 50, ALLOWED_HOSTS="dz.example.org, 10.0.0.5"))
    assert config["DEBUG"] is False
    assert config["ALLOWED_HOSTS"] == ["dz.example.org", "10.0.0.5"]


@pytest.mark.parametrize(
    "name, value",
    [
        ("DATABASE_URL", "mysql://root@127.0.0.1/dingzhou"),
        ("DATABASE_URL", "dingzhou.sqlite3"),
        ("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/"),
        ("REDIS_URL", "http://127.0.0.1:6379/0"),
        ("AXES_FAILURE_LIMIT", "five"),
        ("AXES_FAILURE_LIMIT", "0"),
        ("AXES_COOLOFF_HOURS", "a while"),
        ("DEBUG", "flase"),
        ("TIME_ZONE", "Beijing"),
        ("EMAIL_PORT", "smtp"),
        ("LOG_LEVEL", "loud"),
        ("CELERY_TASK_SOFT_TIME_LIMIT", "900"),
        ("CSRF_TRUSTED_ORIGINS", "dz.example.org"),
    ],
)
def test_a_bad_value_refuses_to_start_naming_the_variable(tmp_path, name, value):
    message = refusal(start(tmp_path, **{name: value}))
    assert f"{name}={value!r} is not valid: expected " in message


def test_a_bad_database_url_does_not_print_its_password(tmp_path):
    message = refusal(start(tmp_path, DATABASE_URL="mysql://dingzhou:s3cret-pw@db.internal/dingzhou"))
    assert "DATABASE_URL='mysql://dingzhou:***@db.internal/dingzhou'" in message
    assert "s3cret-pw" not in message


def test_an_empty_value_means_the_default(tmp_path):
    # docker compose passes `DATABASE_URL=${DATABASE_URL:-}` as an empty string.
    config = shown(start(tmp_path, DATABASE_URL="", REDIS_URL="", AXES_FAILURE_LIMIT=""))
    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert config["BROKER"].startswith("filesystem://")
    assert config["AXES_FAILURE_LIMIT"] == 5
