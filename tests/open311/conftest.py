"""Fixtures of the Open311 tests: a clean rate-limit cache, townships, a key, a client that speaks both formats."""

import types

import pytest
from django.test import Client
from django.utils import translation

from open311 import services

from ..factories import TownshipFactory, VillageFactory
from ..rate_limits import _fresh_rate_limits  # noqa: F401  (an autouse fixture)


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
