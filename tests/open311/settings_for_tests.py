"""The project's settings plus the citizens and open311 apps, until dingzhou/settings.py lists them.

    DJANGO_SETTINGS_MODULE=tests.open311.settings_for_tests .venv/bin/pytest tests/open311 tests/citizens
"""

from dingzhou.settings import *  # noqa: F401,F403
from dingzhou.settings import INSTALLED_APPS

for _app in ("rest_framework", "drf_spectacular", "citizens", "open311"):
    if _app not in INSTALLED_APPS:
        INSTALLED_APPS = [*INSTALLED_APPS, _app]

ROOT_URLCONF = "tests.open311.urls_for_tests"

# drf-spectacular's documented setup: @extend_schema builds on the default schema class.
REST_FRAMEWORK = {"DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema"}
