"""Rate-limit counters of the public pages' tests, in a cache of their own."""

import pytest
from django.core.cache import caches

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
