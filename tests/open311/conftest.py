"""Fixtures of the Open311 tests: a clean rate-limit cache, townships, a key, a client that speaks both formats."""

import types

import pytest
from django.core.cache import caches
from django.test import Client
from django.utils import translation

from open311 import services

from ..factories import TownshipFactory, VillageFactory


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


@pytest.fixture
def places(db):
    liuzao = TownshipFactory(name="留早镇", short_name="留早")
    return types.SimpleNamespace(
        liuzao=liuzao,
        east=VillageFactory(township=liuzao, name="东留早村"),
        west=VillageFactory(township=liuzao, name="留早村"),
        nancheng=TownshipFactory(name="南城区街道", short_name="南城区"),
    )


@pytest.fixture
def client():
    """A client that asks for English, so messages can be asserted before the Chinese catalogue is merged."""
    return Client(headers={"accept-language": "en"})


@pytest.fixture(autouse=True)
def _english():
    """Messages are asserted in English; the default language is Chinese."""
    with translation.override("en"):
        yield


@pytest.fixture
def api_key(db):
    """(ApiKey, the raw key) of a provincial system whose requests arrive on the 阳光理政 channel."""
    return services.api_key_create(name="省12345平台", channel="sunshine", rate_limit=1000)
