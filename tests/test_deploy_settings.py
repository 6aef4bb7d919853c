"""Production settings (issue 11 item 2): with DEBUG off and the variables of README "Deploy",
`check --deploy` passes, responses carry the security headers and cookies are Secure and
HttpOnly. Each case runs in a fresh process, since settings are read once per process.
"""

import json
import os
import secrets
import subprocess
import sys

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone

from ops.middleware import RENEWED

from .test_settings import VARIABLES as BASE_VARIABLES

VARIABLES = [
    *BASE_VARIABLES, "TRUST_X_FORWARDED_PROTO", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD", "SECURE_COOKIES", "SESSION_COOKIE_AGE",
    "STATIC_ROOT", "BACKUP_DIR", "LOG_FORMAT", "HEALTHZ_BEAT_MAX_AGE", "CELERY_BEAT_SCHEDULE_FILENAME",
]  # fmt: skip


def production(tmp_path, **overrides) -> dict:
    """The documented production variables (README "Deploy"), on a scratch SQLite file."""
    # DJANGO_ALLOW_ASYNC_UNSAFE: set by the browser tests in this process, refused by check --deploy.
    env = {name: value for name, value in os.environ.items() if name not in VARIABLES + ["DJANGO_ALLOW_ASYNC_UNSAFE"]}
    env.update(
        DJANGO_SETTINGS_MODULE="dingzhou.settings",
        ENV_FILE=str(tmp_path / "no.env"),
        CELERY_QUEUE_DIR=str(tmp_path / "queue"),
        DEBUG="false",
        SECRET_KEY=secrets.token_hex(32),
        ALLOWED_HOSTS="dz.example.gov.cn",
        CSRF_TRUSTED_ORIGINS="https://dz.example.gov.cn",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        REDIS_URL="redis://127.0.0.1:6379/0",
        TRUST_X_FORWARDED_PROTO="true",
        STATIC_ROOT=str(tmp_path / "static"),
        MEDIA_ROOT=str(tmp_path / "media"),
    )
    env.update(overrides)
    return env


def run(env, *args, timeout=120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=timeout
    )


def test_check_deploy_passes_with_the_documented_production_variables(tmp_path):
    result = run(production(tmp_path), "manage.py", "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def env_example() -> dict:
    """deploy/env.example read as systemd's EnvironmentFile and django-environ read it: every
    non-comment line is NAME=VALUE, and the value is everything after the first "="."""
    values = {}
    for line in (settings.BASE_DIR / "deploy" / "env.example").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def test_env_example_holds_no_inline_comment():
    # "SECRET_KEY=   # openssl rand -hex 32" would make the comment the secret key under systemd.
    assert {name: value for name, value in env_example().items() if "#" in value} == {}


def test_check_deploy_passes_with_the_variables_of_deploy_env_example(tmp_path):
    """The file the README tells IT to fill in, with its blanks filled and the database on a scratch file."""
    documented = env_example()
    assert documented["DEBUG"] == "false" and documented["SECRET_KEY"] == ""
    documented.update(SECRET_KEY=secrets.token_hex(32), POSTGRES_PASSWORD="pw")
    env = production(tmp_path)
    for name in ("TRUST_X_FORWARDED_PROTO", "CSRF_TRUSTED_ORIGINS"):
        env.pop(name)  # from the file only
    env.update(documented)
    result = run(env, "manage.py", "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    shown = run(env, "-c", SHOW)
    assert shown.returncode == 0, shown.stderr
    config = json.loads(shown.stdout.strip().splitlines()[-1])
    assert config["SESSION_COOKIE_SECURE"] and config["SECURE_SSL_REDIRECT"] and config["SESSION_COOKIE_AGE"] == 1800


def test_check_deploy_fails_when_https_and_secure_cookies_are_switched_off(tmp_path):
    env = production(tmp_path, SECURE_SSL_REDIRECT="false", SECURE_COOKIES="false", SECURE_HSTS_SECONDS="0")
    result = run(env, "manage.py", "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in result.stderr


SHOW = """
import json, django
django.setup()
from django.conf import settings as s
print(json.dumps({
    "SECURE_PROXY_SSL_HEADER": s.SECURE_PROXY_SSL_HEADER,
    "SECURE_SSL_REDIRECT": s.SECURE_SSL_REDIRECT,
    "SECURE_HSTS_SECONDS": s.SECURE_HSTS_SECONDS,
    "SESSION_COOKIE_SECURE": s.SESSION_COOKIE_SECURE,
    "CSRF_COOKIE_SECURE": s.CSRF_COOKIE_SECURE,
    "SESSION_COOKIE_HTTPONLY": s.SESSION_COOKIE_HTTPONLY,
    "CSRF_COOKIE_HTTPONLY": s.CSRF_COOKIE_HTTPONLY,
    "SESSION_COOKIE_AGE": s.SESSION_COOKIE_AGE,
    "SESSION_RENEW_SECONDS": s.SESSION_RENEW_SECONDS,
    "RENEWAL": "ops.middleware.SessionRenewalMiddleware" in s.MIDDLEWARE,
    "X_FRAME_OPTIONS": s.X_FRAME_OPTIONS,
    "VALIDATORS": [v["NAME"].rsplit(".", 1)[1] for v in s.AUTH_PASSWORD_VALIDATORS],
    "CSP": s.CONTENT_SECURITY_POLICY["DIRECTIVES"],
    "STATICFILES": s.STORAGES["staticfiles"]["BACKEND"],
    "LOG_FORMAT": s.LOG_FORMAT,
}))
"""


def test_production_defaults(tmp_path):
    result = run(production(tmp_path), "-c", SHOW)
    assert result.returncode == 0, result.stderr
    config = json.loads(result.stdout.strip().splitlines()[-1])
    assert config["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert config["SECURE_SSL_REDIRECT"] is True
    assert config["SECURE_HSTS_SECONDS"] >= 31_536_000
    assert config["SESSION_COOKIE_SECURE"] and config["CSRF_COOKIE_SECURE"]
    assert config["SESSION_COOKIE_HTTPONLY"] and config["CSRF_COOKIE_HTTPONLY"]
    assert config["SESSION_COOKIE_AGE"] == 30 * 60
    assert config["RENEWAL"] is True and config["SESSION_RENEW_SECONDS"] == 60
    assert config["X_FRAME_OPTIONS"] == "DENY"
    assert config["VALIDATORS"] == [
        "UserAttributeSimilarityValidator", "MinimumLengthValidator", "CommonPasswordValidator",
        "NumericPasswordValidator",
    ]  # fmt: skip
    csp = config["CSP"]
    assert csp["script-src"] == ["'self'"] and csp["style-src"] == ["'self'"]
    assert "'unsafe-inline'" not in json.dumps(csp)
    assert csp["frame-ancestors"] == ["'none'"]
    assert config["STATICFILES"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"
    assert config["LOG_FORMAT"] == "JSON"


@pytest.mark.parametrize(
    "name, value",
    [("TRUST_X_FORWARDED_PROTO", "maybe"), ("SESSION_COOKIE_AGE", "30"), ("SECURE_HSTS_SECONDS", "a year"),
     ("LOG_FORMAT", "xml"), ("HEALTHZ_BEAT_MAX_AGE", "10")],
)  # fmt: skip
def test_a_bad_production_value_refuses_to_start_naming_the_variable(tmp_path, name, value):
    result = run(production(tmp_path, **{name: value}), "-c", SHOW)
    assert result.returncode != 0
    assert f"{name}={value!r} is not valid" in result.stderr.strip().splitlines()[-1]


# After collectstatic (hashed, compressed files), a production process answers a few requests.
REQUESTS = """
import json, django
django.setup()
from django.test import Client
from django.urls import reverse
from django.templatetags.static import static
client = Client(HTTP_HOST="dz.example.gov.cn")
login = client.get(reverse("login"), HTTP_X_FORWARDED_PROTO="https")
plain = client.get(reverse("login"))
health = client.get("/healthz")
css = client.get(static("css/app.css"), HTTP_X_FORWARDED_PROTO="https")
cookie = login.cookies["csrftoken"]
# An uploaded file (an import's error report with a citizen's phone) fetched by its media URL.
from django.conf import settings
(settings.MEDIA_ROOT / "imports").mkdir(parents=True, exist_ok=True)
(settings.MEDIA_ROOT / "imports" / "errors.csv").write_text("张三,13812345678")
media = [client.get(f"/{settings.MEDIA_URL}{name}", HTTP_X_FORWARDED_PROTO="https")
         for name in ("imports/errors.csv", "../media/imports/errors.csv")]
print(json.dumps({
    "media": [[r.status_code, b"13812345678" in (b"".join(r.streaming_content) if r.streaming else r.content)]
              for r in media],
    "login": login.status_code,
    "headers": {k: login.headers.get(k) for k in (
        "Strict-Transport-Security", "Content-Security-Policy", "X-Frame-Options", "Referrer-Policy",
        "X-Content-Type-Options", "Cross-Origin-Opener-Policy")},
    "cookie": {"secure": bool(cookie["secure"]), "httponly": bool(cookie["httponly"]), "samesite": cookie["samesite"]},
    "plain": [plain.status_code, plain.headers.get("Location")],
    "health": health.status_code,
    "static_url": static("css/app.css"),
    "css": [css.status_code, css.headers.get("Cache-Control"), b"".join(css.streaming_content)[:200].decode()],
}))
"""


def test_production_serves_hashed_static_files_and_sends_the_security_headers(tmp_path):
    env = production(tmp_path)
    collected = run(env, "manage.py", "collectstatic", "--noinput", timeout=300)
    assert collected.returncode == 0, collected.stderr
    result = run(env, "-c", REQUESTS)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["login"] == 200
    headers = seen["headers"]
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert "style-src 'self'" in headers["Content-Security-Policy"]
    assert "unsafe-inline" not in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert seen["cookie"] == {"secure": True, "httponly": True, "samesite": "Lax"}
    # Plain HTTP is sent to HTTPS, except the load balancer's health check.
    assert seen["plain"] == [301, "https://dz.example.gov.cn/accounts/login/"]
    assert seen["health"] in (200, 503)
    # WhiteNoise serves the hashed copy, cacheable for ever, from the app server itself.
    assert seen["static_url"].startswith("/static/css/app.") and seen["static_url"] != "/static/css/app.css"
    status, cache_control, body = seen["css"]
    assert status == 200 and "max-age=315360000" in cache_control and "--gold" in body
    # Uploads are not static files: their media URL answers 404 (only the permission-checked views serve them).
    assert seen["media"] == [[404, False], [404, False]]


# --- Session expiry after inactivity ----------------------------------------------------------


def test_a_request_renews_the_session_at_most_once_a_minute_and_an_idle_one_expires(client, cast, settings):
    settings.SESSION_COOKIE_AGE = 30 * 60
    client.force_login(cast.supervisor)
    session = Session.objects.get()
    soon = timezone.now() + timezone.timedelta(minutes=1)
    Session.objects.filter(pk=session.pk).update(expire_date=soon)
    # Renewed at login less than a minute ago: this request writes nothing.
    assert client.get("/").status_code == 200
    assert Session.objects.get(pk=session.pk).expire_date == soon
    # A minute later the next request renews it for SESSION_COOKIE_AGE, and sends the cookie again.
    stored = client.session
    stored[RENEWED] -= settings.SESSION_RENEW_SECONDS
    stored.save()
    Session.objects.filter(pk=session.pk).update(expire_date=soon)
    response = client.get("/")
    assert response.status_code == 200
    renewed = Session.objects.get(pk=session.pk).expire_date - timezone.now()
    assert timezone.timedelta(minutes=29) < renewed <= timezone.timedelta(minutes=30)
    assert response.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == 30 * 60
    # Thirty minutes without a request: the next one goes to the login page.
    Session.objects.filter(pk=session.pk).update(expire_date=timezone.now() - timezone.timedelta(seconds=1))
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_an_anonymous_request_with_a_stale_cookie_makes_no_session(client, db, settings):
    client.cookies[settings.SESSION_COOKIE_NAME] = "stale0000000000000000000000000000"
    assert client.get(reverse("login")).status_code == 200
    assert not Session.objects.exists()
