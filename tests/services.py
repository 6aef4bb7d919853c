"""The one place a test gives up on a missing service or tool.

With REQUIRE_SERVICES=1 (set by .ci/run) a missing PostgreSQL, Redis, Chromium or
pdftotext fails the test; on a laptop with nothing configured it is skipped with the reason.
"""

import os

import pytest

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"


def missing(reason: str):
    """Fail (in CI) or skip (elsewhere) the running test because `reason`."""
    if REQUIRE_SERVICES:
        pytest.fail(f"REQUIRE_SERVICES=1 but {reason}", pytrace=False)
    pytest.skip(reason)
