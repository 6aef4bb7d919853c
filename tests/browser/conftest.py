"""Headless Chromium (Debian's /usr/bin/chromium) driven by Playwright against pytest-django's live server.

Playwright's sync API runs an event loop in this thread, which makes Django refuse
synchronous ORM calls from fixtures; DJANGO_ALLOW_ASYNC_UNSAFE lifts that guard for the
test process only. Without Chromium the tests are skipped, or fail under REQUIRE_SERVICES=1.
"""

import os
from pathlib import Path

import pytest

from ..services import missing

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-gpu", "--disable-dev-shm-usage"]
RESULTS_DIR = Path(__file__).resolve().parents[2] / "test-results"


@pytest.fixture(scope="session")
def browser():
    """One Chromium for the session."""
    if not os.path.exists(CHROMIUM):
        missing(f"{CHROMIUM} is missing (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server, transactional_db, settings):
    """A fresh browser tab of a Chinese-speaking user; the live server's URL is on `page.base_url`."""
    # The cast's passwords are hashed cheaply; PBKDF2's million rounds would dominate the test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    context = browser.new_context(locale="zh-CN", viewport={"width": 1360, "height": 860})
    context.set_default_timeout(15_000)
    tab = context.new_page()
    tab.base_url = live_server.url
    # The Content-Security-Policy is on in these tests too: whatever it blocks (an inline
    # script or style, an eval) Chromium reports on the console, and the test fails.
    blocked = []
    tab.on("console", lambda message: blocked.append(message.text) if "Content Security Policy" in message.text else None)
    yield tab
    context.close()
    assert not blocked, "blocked by the Content-Security-Policy:\n" + "\n".join(blocked)


@pytest.fixture
def screenshot():
    """Saves a full-page screenshot under test-results/ and returns its path."""
    RESULTS_DIR.mkdir(exist_ok=True)

    def take(page, name: str) -> Path:
        path = RESULTS_DIR / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
