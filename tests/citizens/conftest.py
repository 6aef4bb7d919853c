"""Fixtures of the public pages' tests: clean rate-limit counters and a client that asks for English."""

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import translation


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Rate-limit counters live in the cache; one test's burst must not limit the next."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def client():
    """Anonymous, in English (the default language is Chinese)."""
    return Client(headers={"accept-language": "en"})
