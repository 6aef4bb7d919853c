"""Settings for the dingzhou project, read from the environment (django-environ).

Defaults serve the embedded demo: a SQLite file under var/ and no Redis. Production
needs SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL and REDIS_URL. A bad value raises
ImproperlyConfigured at start-up, not a 500 later.
"""

import os
import re
import zoneinfo
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"
VAR_DIR.mkdir(exist_ok=True)

env = environ.Env()
# Variables already in the environment win over the file; ENV_FILE points elsewhere
# (the settings tests point it at nothing, so a developer's .env cannot change them).
environ.Env.read_env(os.environ.get("ENV_FILE") or BASE_DIR / ".env", overwrite=False)


def _raw(name: str) -> str | None:
    """The variable's value, or None when it is unset or empty (compose files pass empty values)."""
    value = os.environ.get(name, "").strip()
    return value or None


def _bad(name: str, value: str, expected: str) -> ImproperlyConfigured:
    # A URL's password must not end up in a start-up log.
    shown = re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", value)
    return ImproperlyConfigured(f"{name}={shown!r} is not valid: expected {expected}.")


def env_bool(name: str, default: bool) -> bool:
    """A strict boolean: a typo such as DEBUG=flase must not silently mean False."""
    value = _raw(name)
    if value is None:
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise _bad(name, value, "true or false (also 1/0, yes/no, on/off)")


def env_int(name: str, default: int, minimum: int = 0) -> int:
    value = _raw(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise _bad(name, value, "a whole number") from None
    if number < minimum:
        raise _bad(name, value, f"a whole number of at least {minimum}")
    return number


def env_float(name: str, default: float, minimum: float = 0.0) -> float:
    value = _raw(name)
    if value is None:
        return default
    try:
        number = float(value)
    except ValueError:
        raise _bad(name, value, "a number") from None
    if not number >= minimum:  # also refuses nan
        raise _bad(name, value, f"a number of at least {minimum:g}")
    return number


def env_choice(name: str, default: str, choices: list[str]) -> str:
    value = _raw(name)
    if value is None:
        return default
    if value.upper() not in choices:
        raise _bad(name, value, "one of " + ", ".join(choices))
    return value.upper()


def env_list(name: str, default: list[str]) -> list[str]:
    """Comma-separated; spaces after commas are forgiven ("a.org, b.org")."""
    value = _raw(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_database(name: str, default: str) -> dict:
    """A Django DATABASES entry from a URL; only the two backends the project is tested on."""
    url = _raw(name) or default
    config = env.db_url_config(url) if "://" in url else {}
    engine = config.get("ENGINE", "")
    if engine not in {"django.db.backends.postgresql", "django.db.backends.sqlite3"}:
        raise _bad(name, url, "postgres://USER:PASSWORD@HOST:PORT/NAME or sqlite:///PATH")
    if not config.get("NAME"):
        raise _bad(name, url, "a URL that names the database (postgres://USER@HOST:PORT/NAME)")
    return config


def env_redis_url(name: str) -> str:
    url = _raw(name) or ""
    if url and not url.startswith(("redis://", "rediss://", "unix://")):
        raise _bad(name, url, "redis://HOST:PORT/DB (or rediss://, unix://), or unset for the embedded default")
    return url


def env_time_zone(name: str, default: str) -> str:
    value = _raw(name) or default
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise _bad(name, value, "an IANA time zone such as Asia/Shanghai") from None
    return value


DEBUG = env_bool("DEBUG", default=True)

SECRET_KEY = _raw("SECRET_KEY") or ""
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off (for example SECRET_KEY=$(openssl rand -hex 32))."
        )
    SECRET_KEY = "insecure-dev-key-only-for-the-embedded-demo"

# The default list serves the demo on this machine only; behind a real host name
# Django would answer every request with 400, so production must say its names.
if _raw("ALLOWED_HOSTS") is None and not DEBUG:
    raise ImproperlyConfigured(
        "ALLOWED_HOSTS must be set when DEBUG is off (comma-separated host names, for example "
        "ALLOWED_HOSTS=dingzhou.example.gov.cn)."
    )
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", default=[])
for _origin in CSRF_TRUSTED_ORIGINS:
    if not _origin.startswith(("http://", "https://")):
        raise _bad("CSRF_TRUSTED_ORIGINS", _origin, "origins with a scheme, such as https://dingzhou.example.gov.cn")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_tables2",
    "django_filters",
    "axes",
    "csp",
    "org",
    "feedback",
    "tasks",
    "rest_framework",
    "drf_spectacular",
    "citizens",
    "open311",
    "ops",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files from the app server itself (no CDN), before sessions and logins; the
    # development server serves static/ itself (and WhiteNoise would warn that
    # STATIC_ROOT, filled by collectstatic, does not exist).
    *([] if DEBUG else ["whitenoise.middleware.WhiteNoiseMiddleware"]),
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Renews an active session's expiry (logout after inactivity), at most once a minute.
    "ops.middleware.SessionRenewalMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Every page needs a login unless its view is marked login_not_required.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    # Logs every 403/404 a view raises from its permission checks (ops/middleware.py).
    "ops.middleware.RefusalLogMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a lockout into its own response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "dingzhou.urls"
WSGI_APPLICATION = "dingzhou.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tasks.context_processors.unread_notifications",
            ],
        },
    },
]

# Database: a SQLite file for the embedded demo, PostgreSQL in CI and production.
DATABASES = {
    "default": env_database("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'dingzhou.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Celery workers and the web server write at the same time in the demo; wait for
    # the lock instead of failing with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update({"timeout": 20, "transaction_mode": "IMMEDIATE"})
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "org.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# django-axes: throttle repeated failed logins for one account (not per address, so a
# whole office behind one NAT address is not locked out by one colleague).
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", default=5, minimum=1)
AXES_COOLOFF_TIME = env_float("AXES_COOLOFF_HOURS", default=0.25)  # hours
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
# Its start-up banner would print in every process (web, worker, beat, each command).
AXES_VERBOSE = False
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# axes.W006 asks to lock by address too; the issue asks to throttle per account, and
# locking a shared government NAT address would lock out a whole office.
# models.W040: the covering index's INCLUDE columns serve PostgreSQL; SQLite (the demo)
# simply builds the index without them.
SILENCED_SYSTEM_CHECKS = ["axes.W006", "models.W040"]

# Internationalisation: Simplified Chinese first, English available.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_time_zone("TIME_ZONE", default="Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(_raw("STATIC_ROOT") or BASE_DIR / "staticfiles")
# WhiteNoise serves static files from the web process (no CDN, no nginx rule needed). In
# production `collectstatic` writes hashed, compressed copies that browsers may cache forever;
# the development server reads static/ directly.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_URL = "media/"
MEDIA_ROOT = Path(_raw("MEDIA_ROOT") or BASE_DIR / "media")
# `make backup` writes here (ops/backup.py).
BACKUP_DIR = Path(_raw("BACKUP_DIR") or BASE_DIR / "backups")

# Redis is optional: without it the cache is local memory and Celery uses kombu's
# filesystem transport (one file per message in a folder), so the demo runs with
# nothing else installed. It suits one machine and a few jobs a minute, not production.
REDIS_URL = env_redis_url("REDIS_URL")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    # A host is named only to spare a "No hostname was supplied" warning at every start.
    CELERY_BROKER_URL = "filesystem://localhost/"
    CELERY_QUEUE_DIR = Path(_raw("CELERY_QUEUE_DIR") or VAR_DIR / "celery-queue").resolve()
    try:
        (CELERY_QUEUE_DIR / "control").mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _bad("CELERY_QUEUE_DIR", str(CELERY_QUEUE_DIR), f"a folder this user can create ({exc})") from None
    # Producers and the worker share one folder; the control folder holds the
    # exchange bindings (kombu would otherwise create "control/" in the working directory).
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_QUEUE_DIR),
        "data_folder_out": str(CELERY_QUEUE_DIR),
        "control_folder": str(CELERY_QUEUE_DIR / "control"),
        "store_processed": False,
    }
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", default=600, minimum=1)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", default=540, minimum=1)
if CELERY_TASK_SOFT_TIME_LIMIT >= CELERY_TASK_TIME_LIMIT:
    raise _bad(
        "CELERY_TASK_SOFT_TIME_LIMIT",
        str(CELERY_TASK_SOFT_TIME_LIMIT),
        f"fewer seconds than CELERY_TASK_TIME_LIMIT ({CELERY_TASK_TIME_LIMIT}), so a job can clean up",
    )
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BEAT_SCHEDULE_FILENAME = _raw("CELERY_BEAT_SCHEDULE_FILENAME") or str(VAR_DIR / "celerybeat-schedule")
# Workers log through LOGGING below (JSON lines in production) instead of Celery's own format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# The embedded default writes each e-mail to a file under var/mail/ (the demo's overdue
# tasks would otherwise flood the terminal); set EMAIL_BACKEND to the SMTP backend to send.
EMAIL_BACKEND = _raw("EMAIL_BACKEND") or "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = env.path("EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))
EMAIL_HOST = _raw("EMAIL_HOST") or "localhost"
EMAIL_PORT = env_int("EMAIL_PORT", default=25, minimum=1)
EMAIL_HOST_USER = _raw("EMAIL_HOST_USER") or ""
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = _raw("DEFAULT_FROM_EMAIL") or "dingzhou@localhost"
# The site's address for links in e-mails (reminders); without it e-mails carry no links.
SITE_URL = (_raw("SITE_URL") or "").rstrip("/")
# 回头看: the share of each department's closed tasks drawn for re-checking every quarter.
LOOK_BACK_SHARE = env_float("LOOK_BACK_SHARE", default=0.10, minimum=0.0)
# Citizens' names and phones of cases closed longer ago than this are erased (manage.py anonymise_closed).
PERSONAL_DATA_RETENTION_YEARS = env_int("PERSONAL_DATA_RETENTION_YEARS", default=3, minimum=1)

DJANGO_TABLES2_TEMPLATE = "django_tables2/table.html"

# Logs go to standard error, one line per record: JSON in production (for the log
# collector), key=value text in development. Logins, failed logins, permission refusals
# (logger dingzhou.audit) and job runs (dingzhou.jobs) carry an `event` and its fields.
LOG_FORMAT = env_choice("LOG_FORMAT", default="TEXT" if DEBUG else "JSON", choices=["TEXT", "JSON"])
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "ops.logs.JsonFormatter"},
        "text": {"()": "ops.logs.KeyValueFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT.lower()}},
    "root": {
        "handlers": ["console"],
        "level": env_choice("LOG_LEVEL", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]),
    },
}

# --- Production hardening -------------------------------------------------------------------
# Each default is the safe one when DEBUG is off (`manage.py check --deploy --fail-level WARNING`
# passes with the variables of README "Deploy"); development keeps plain HTTP working.
# Behind a TLS-terminating proxy (nginx) Django sees plain HTTP: the proxy must send
# X-Forwarded-Proto and TRUST_X_FORWARDED_PROTO=true must say so, or SSL redirects loop.
BEHIND_PROXY = env_bool("TRUST_X_FORWARDED_PROTO", default=False)
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Per-address rate limits (public pages, API) and the phone-view log count the client, not the
# proxy: behind it, the address nginx appended to X-Forwarded-For (ops/proxy.py).
RATELIMIT_IP_META_KEY = "ops.proxy.client_ip"
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# Load balancers and container health checks ask over plain HTTP on the internal address.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
# "preload" asks browsers to hard-code the domain once it is submitted to their list, which
# an intranet host never is; security.W021 (silenced below) asks for it regardless.
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", default=not DEBUG)
SESSION_COOKIE_HTTPONLY = True
# No script reads the CSRF cookie: forms carry the token in a hidden field.
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = "Lax"
# Logged out after this many seconds without a request; 30 minutes in production, two weeks
# for the demo. A request renews the session at most every SESSION_RENEW_SECONDS
# (ops.middleware.SessionRenewalMiddleware): SESSION_SAVE_EVERY_REQUEST's database write on
# every request buys no more than a minute of precision.
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", default=14 * 24 * 3600 if DEBUG else 30 * 60, minimum=300)
SESSION_RENEW_SECONDS = 60
if not SECURE_HSTS_PRELOAD:
    SILENCED_SYSTEM_CHECKS.append("security.W021")

# Content-Security-Policy (django-csp): everything from this site, nothing inline. Templates
# keep CSS and JS in static/ files; charts and progress bars are SVG drawn with attributes.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# /healthz: the beat's heartbeat job (ops/jobs.py) ticks every HEARTBEAT_SECONDS; an older
# tick than HEALTHZ_BEAT_MAX_AGE seconds means beat, the broker or every worker is stuck.
HEARTBEAT_SECONDS = 60
HEALTHZ_BEAT_MAX_AGE = env_int("HEALTHZ_BEAT_MAX_AGE", default=300, minimum=HEARTBEAT_SECONDS)
