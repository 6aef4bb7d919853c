"""Login, logout and the django-axes lockout."""

import pytest
from django.conf import settings
from django.urls import reverse

from ..factories import PASSWORD


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    """The cast's passwords are hashed with a cheap hasher: PBKDF2's million rounds cost seconds per test."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _login(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password})


def _logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_login_page_renders_a_login_form_in_chinese_by_default(client, db):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="zh-hans">' in html
    assert 'id="login-form"' in html
    assert 'name="username"' in html and 'name="password"' in html
    # The campaign's name is kept literal in the template, so it is Chinese with or without catalogues.
    assert "我为群众办实事" in html


def test_login_page_speaks_english_with_the_language_cookie(client, db):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get(reverse("login")).content.decode()
    assert '<html lang="en">' in html
    assert "Log in" in html
    assert "After 5 failed attempts an account is locked for 15 minutes." in html


def test_good_credentials_land_on_home(client, cast):
    response = _login(client, "handler-zhujian", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert _logged_in(client)
    assert client.get(reverse("home")).status_code == 200


def test_login_follows_next_to_the_page_asked_for(client, cast):
    response = client.post(
        reverse("login") + "?next=/", {"username": "leader", "password": PASSWORD, "next": "/"}
    )
    assert response.status_code == 302 and response["Location"] == "/"


def test_bad_credentials_show_an_error_and_do_not_log_in(client, cast):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = _login(client, "handler-zhujian", "wrong-password")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="login-error"' in html
    assert "The username or password is incorrect." in html
    assert not _logged_in(client)


def test_unknown_username_gets_the_same_error(client, cast):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = _login(client, "nobody", PASSWORD)
    assert "The username or password is incorrect." in response.content.decode()


def test_five_failures_lock_the_account_but_not_another_one(client, cast):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(client, "handler-zhujian", "wrong-password")

    refused = _login(client, "handler-zhujian", PASSWORD)
    assert refused.status_code == 429
    html = refused.content.decode()
    assert 'id="locked-out"' in html
    assert 'data-minutes="15"' in html
    assert "Please wait 15 minutes" in html
    assert not _logged_in(client)

    other = _login(client, "handler-chengguan", PASSWORD)
    assert other.status_code == 302 and other["Location"] == reverse("home")
    assert _logged_in(client)


def test_four_failures_do_not_lock_and_success_resets_the_count(client, cast):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _login(client, "handler-zhujian", "wrong-password")
    assert _login(client, "handler-zhujian", PASSWORD).status_code == 302
    client.post(reverse("logout"))
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _login(client, "handler-zhujian", "wrong-password")
    assert _login(client, "handler-zhujian", PASSWORD).status_code == 302


def test_logout_requires_post(client, cast):
    client.force_login(cast.handler_zhujian)
    assert client.get(reverse("logout")).status_code == 405
    assert _logged_in(client)

    response = client.post(reverse("logout"))
    assert response.status_code == 302 and response["Location"] == reverse("login")
    assert not _logged_in(client)


def test_anonymous_home_redirects_to_login(client, db):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next=/"


def test_logged_in_user_opening_login_goes_home(client, cast):
    client.force_login(cast.leader)
    response = client.get(reverse("login"))
    assert response.status_code == 302 and response["Location"] == reverse("home")


def test_language_switch_works_before_login(client, db):
    response = client.post(reverse("set_language"), {"language": "en", "next": reverse("login")})
    assert response.status_code == 302 and response["Location"] == reverse("login")
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert '<html lang="en">' in client.get(reverse("login")).content.decode()
