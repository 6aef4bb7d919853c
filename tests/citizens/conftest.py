"""Fixtures of the public pages' tests: clean rate-limit counters and a client that asks for English."""

import pytest
from django.core.cache import caches
from django.test import Client
from django.utils import translation


RATE_LIMIT_CACHE = "rate-limits-under-test"


@pytest.fixture(autouse=True)
def _fresh_rate_limits(settings):
    """Rate-limit counters in a cache of their own, empty for each test: never the shared default
    cache, which is Redis in CI (clearing it would touch everyone's keys)."""
    settings.CACHES = {
        **settings.CACHES,
        RATE_LIMIT_CACHE: {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": RATE_LIMIT_CACHE},
    }
    settings.RATELIMIT_USE_CACHE = RATE_LIMIT_CACHE
    caches[RATE_LIMIT_CACHE].clear()
    yield
    caches[RATE_LIMIT_CACHE].clear()


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def client():
    """Anonymous, in English (the default language is Chinese)."""
    return Client(headers={"accept-language": "en"})
