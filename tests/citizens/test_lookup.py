"""The public progress lookup: tracking number + last four phone digits; one answer for every failure; rate-limited."""

import re

import pytest

from citizens.services import message_submit
from tasks import services
from tasks.models import Outcome

from ..factories import SuggestionFactory, TownshipFactory

pytestmark = pytest.mark.django_db

URL = "/public/lookup/"
NAME, PHONE = "张三", "13812345678"


@pytest.fixture
def suggestion(db):
    """张三 (13812345678) left a message about 留早镇, registered as every online message is."""
    return message_submit(
        content="我家门口的路灯坏了，电话13812345678", township=TownshipFactory(name="留早镇", short_name="留早"),
        citizen_name=NAME, phone=PHONE,
    )


def _without_csrf_mask(body: bytes) -> bytes:
    # The header's language switch carries Django's anti-CSRF token, freshly masked on every
    # page (against BREACH); it is the only byte that may differ, and it says nothing about the case.
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b'name="csrfmiddlewaretoken" value=""', body)


def _look_up(client, number, digits, **extra):
    return client.post(URL, {"tracking_number": number, "phone_last_four": digits}, **extra)


def _assert_private(response):
    body = response.content.decode()
    for secret in (NAME, PHONE, "138****5678", "我家门口的路灯坏了"):
        assert secret not in body


def test_the_form_needs_no_login(client):
    response = client.get(URL)
    assert response.status_code == 200
    assert 'name="tracking_number"' in response.content.decode()


def test_number_and_last_four_digits_show_the_progress(client, suggestion):
    response = _look_up(client, suggestion.tracking_number, "5678")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="progress"' in body and 'data-stage="received"' in body
    assert suggestion.tracking_number in body
    assert "Received, waiting to be assigned" in body and "留早镇" in body
    assert 'data-action="register"' in body
    _assert_private(response)


def test_the_number_may_be_typed_in_lower_case_with_spaces(client, suggestion):
    number = suggestion.tracking_number
    typed = f" {number[:2].lower()} {number[2:10]} {number[10:].lower()} "
    assert 'id="progress"' in _look_up(client, typed, "5678").content.decode()


def test_wrong_digits_and_unknown_numbers_get_the_same_answer(client, suggestion):
    wrong_digits = _look_up(client, suggestion.tracking_number, "1234")
    number = suggestion.tracking_number
    unknown = _look_up(client, number[:-1] + ("A" if number[-1] != "A" else "B"), "5678")
    no_such_day = _look_up(client, "DZ20000101AAAAAAAA", "5678")
    assert wrong_digits.status_code == unknown.status_code == no_such_day.status_code == 200
    assert wrong_digits.headers == unknown.headers == no_such_day.headers
    same = _without_csrf_mask(wrong_digits.content)
    assert same == _without_csrf_mask(unknown.content) == _without_csrf_mask(no_such_day.content)
    assert 'id="lookup-not-found"' in wrong_digits.content.decode()
    assert suggestion.tracking_number not in wrong_digits.content.decode()
    _assert_private(wrong_digits)


def test_a_case_without_phone_cannot_be_looked_up(client):
    silent = SuggestionFactory(phone="")
    unknown = _look_up(client, "DZ20000101AAAAAAAA", "0000")
    for digits in ("0000", "5678"):
        response = _look_up(client, silent.tracking_number, digits)
        assert _without_csrf_mask(response.content) == _without_csrf_mask(unknown.content)


def test_a_malformed_number_is_explained_without_looking_it_up(client, suggestion):
    response = _look_up(client, "12345", "5678")
    assert response.status_code == 200
    assert "Enter the tracking number as it was given to you" in response.content.decode()
    response = _look_up(client, suggestion.tracking_number, "56a8")
    assert "Enter four digits." in response.content.decode()
    assert 'id="progress"' not in response.content.decode()


def test_the_published_reply_shows_but_internal_notes_and_unapproved_replies_do_not(client, suggestion, cast,
                                                                                     departments):
    task = suggestion.task
    services.task_assign(actor=cast.supervisor, task=task, lead_department=departments.zhujian,
                         note="内部批示：请王科长牵头")
    services.task_accept(actor=cast.handler_zhujian, task=task, note="已签收，内部备注")
    services.task_reply(actor=cast.handler_zhujian, task=task, outcome=Outcome.RESOLVED, reply="草稿答复，待审核")
    body = _look_up(client, suggestion.tracking_number, "5678").content.decode()
    assert 'data-stage="handling"' in body and "住建局" in body
    assert "Assigned to 住建局" in body and 'data-action="accept"' in body
    assert "草稿答复" not in body and 'id="progress-reply"' not in body

    services.task_approve_reply(actor=cast.head_zhujian, task=task)
    task.reply = "已更换路灯灯泡，恢复照明"
    task.save(update_fields=["reply"])
    response = _look_up(client, suggestion.tracking_number, "5678")
    body = response.content.decode()
    assert 'data-stage="replied"' in body
    assert 'id="progress-reply"' in body and "已更换路灯灯泡，恢复照明" in body and "resolved" in body
    assert 'data-action="approve_reply"' in body
    for internal in ("内部批示", "王科长", "内部备注", cast.handler_zhujian.full_name, cast.supervisor.full_name):
        assert internal not in body
    _assert_private(response)


def test_a_burst_from_one_address_is_rate_limited(client, suggestion, settings):
    settings.CITIZEN_LOOKUP_RATE = "5/m"
    codes = [_look_up(client, "DZ20000101AAAAAAAA", f"{i:04d}").status_code for i in range(6)]
    assert codes == [200] * 5 + [429]
    # Even the right pair waits now; another address does not.
    assert _look_up(client, suggestion.tracking_number, "5678").status_code == 429
    assert _look_up(client, suggestion.tracking_number, "5678", REMOTE_ADDR="10.9.8.7").status_code == 200


def test_guessing_one_numbers_digits_from_many_addresses_is_rate_limited(client, suggestion, settings):
    settings.CITIZEN_LOOKUP_NUMBER_RATE = "4/h"
    codes = [
        _look_up(client, suggestion.tracking_number, f"{i:04d}", REMOTE_ADDR=f"10.0.0.{i}").status_code
        for i in range(5)
    ]
    assert codes == [200] * 4 + [429]
    # Unknown numbers are limited the same way, so the limit says nothing about which numbers exist.
    codes = [_look_up(client, "DZ20000101AAAAAAAA", "0000", REMOTE_ADDR=f"10.1.0.{i}").status_code for i in range(5)]
    assert codes == [200] * 4 + [429]


@pytest.mark.services
def test_the_limit_holds_on_redis_as_in_production(client, suggestion, settings, require_redis):
    # Its own Redis database (11), so flushing it touches nobody else's keys.
    url = require_redis.rsplit("/", 1)[0] + "/11"
    settings.CACHES = {**settings.CACHES, "redis-rate-limits": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url,
    }}
    settings.RATELIMIT_USE_CACHE = "redis-rate-limits"
    settings.CITIZEN_LOOKUP_RATE = "3/m"
    from django.core.cache import caches

    caches["redis-rate-limits"].clear()
    try:
        codes = [_look_up(client, suggestion.tracking_number, "5678").status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
    finally:
        caches["redis-rate-limits"].clear()
