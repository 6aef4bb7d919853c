"""Fixtures of the public pages' tests: clean rate-limit counters and a client that asks for English."""

import pytest
from django.test import Client
from django.utils import translation

from ..rate_limits import _fresh_rate_limits  # noqa: F401  (an autouse fixture)


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def client():
    """Anonymous, in English (the default language is Chinese)."""
    return Client(headers={"accept-language": "en"})
