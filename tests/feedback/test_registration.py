"""Registering one suggestion: it opens a registered task; bad input is refused with a readable message."""

import datetime as dt
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone, translation

from feedback.models import Category, Channel, Suggestion, Urgency
from feedback.services import suggestion_register, task_title
from feedback.validators import normalize_phone, validate_phone
from tasks.errors import DomainError
from tasks.models import Action, State, Task, TaskEvent

from ..factories import VillageFactory

NOW = timezone.make_aware(dt.datetime(2021, 10, 25, 10, 0))


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def register(actor, where, **overrides):
    values = {
        "actor": actor, "channel": Channel.HOTLINE, "received_at": NOW - dt.timedelta(hours=2),
        "township": where, "content": "留早镇东街路灯不亮，夜间出行不便，希望尽快修复。", "now": NOW,
    }
    values.update(overrides)
    return suggestion_register(**values)


def refused(fn, match):
    counts = (Task.objects.count(), Suggestion.objects.count(), TaskEvent.objects.count())
    with pytest.raises(DomainError) as error:
        fn()
    assert match in str(error.value)
    assert (Task.objects.count(), Suggestion.objects.count(), TaskEvent.objects.count()) == counts
    return error.value


def test_registering_opens_a_registered_task_with_the_suggestions_fields(cast, township):
    village = VillageFactory(township=township, name="东街村")
    suggestion = register(
        cast.registrar, township, village=village, category=Category.COMPLAINT, urgency=Urgency.URGENT,
        citizen_name=" 张三 ", phone="138 1234 5678", external_id="RX-1", channel=Channel.SUNSHINE,
    )
    task = suggestion.task
    assert (task.state, task.channel, task.category, task.urgency, task.township, task.created_at) == (
        State.REGISTERED, Channel.SUNSHINE, Category.COMPLAINT, Urgency.URGENT, township, NOW)
    assert task.title == "留早镇东街路灯不亮，夜间出行不便，希望尽快修复。"
    assert (suggestion.phone, suggestion.citizen_name, suggestion.registered_by, suggestion.registered_at) == (
        "13812345678", "张三", cast.registrar, NOW)
    assert suggestion.tracking_number.startswith("DZ20211025")
    event = TaskEvent.objects.get(task=task)
    assert (event.action, event.actor, event.at, event.from_state, event.to_state) == (
        Action.REGISTER, cast.registrar, NOW, "", State.REGISTERED)
    assert event.data["tracking_number"] == suggestion.tracking_number


def test_the_title_is_the_first_forty_characters_on_one_line():
    assert task_title("路灯\n  不亮") == "路灯 不亮"
    long = "小区" * 30
    assert len(task_title(long)) == 40 and task_title(long).endswith("…")


@pytest.mark.parametrize("who", ["registrar", "supervisor"])
def test_registrars_and_supervisors_may_register(cast, township, who):
    assert register(getattr(cast, who), township).registered_by == getattr(cast, who)


# Admins neither: they run the site, not the intake of citizens' personal data.
@pytest.mark.parametrize("who", ["leader", "handler_zhujian", "head_zhujian", "admin"])
def test_other_roles_may_not_register(cast, township, who):
    refused(lambda: register(getattr(cast, who), township), "may not register suggestions")


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"content": "   \n "}, "The content is empty"),
        ({"content": "字" * 5001}, "too long: 5001 characters, at most 5000"),
        ({"received_at": NOW + dt.timedelta(minutes=5)}, "is in the future"),
        ({"received_at": None}, "time the suggestion was received"),
        ({"channel": "fax"}, "Unknown channel: fax"),
        ({"category": "praise"}, "Unknown category"),
        ({"urgency": "asap"}, "Unknown urgency"),
        ({"phone": "12345"}, "12345 is not a Chinese mobile number"),
        ({"citizen_name": "名" * 65}, "citizen's name is too long"),
        ({"township": None}, "Choose the township"),
    ],
)
def test_bad_input_is_refused_naming_what_is_wrong(cast, township, overrides, message):
    refused(lambda: register(cast.registrar, township, **overrides), message)


def test_the_longest_content_is_accepted(cast, township):
    assert len(register(cast.registrar, township, content="字" * 5000).content) == 5000


def test_received_on_a_date_means_the_start_of_that_day(cast, township):
    suggestion = register(cast.registrar, township, received_at=dt.date(2021, 10, 24))
    assert timezone.localtime(suggestion.received_at) == timezone.make_aware(dt.datetime(2021, 10, 24))


def test_the_village_must_belong_to_the_township(cast, township):
    elsewhere = VillageFactory(name="西关村")
    refused(lambda: register(cast.registrar, township, village=elsewhere), "西关村 is not in 留早镇")


def test_an_external_number_is_unique_within_its_channel(cast, township):
    first = register(cast.registrar, township, external_id="12345-0001")
    error = refused(lambda: register(cast.registrar, township, external_id=" 12345-0001 "), first.tracking_number)
    assert error.field == "external_id"
    other_channel = register(cast.registrar, township, external_id="12345-0001", channel=Channel.PORTAL)
    assert other_channel.external_id == "12345-0001"


def test_two_registrations_of_one_number_at_once_give_one_suggestion_and_one_domain_error(
    require_postgres, transactional_db, cast, township
):
    """Both may pass the check before inserting; the unique constraint must still end in a DomainError."""
    start, results = threading.Barrier(2), {}

    def run(key):
        try:
            with translation.override("en"):
                start.wait(timeout=10)
                results[key] = register(cast.registrar, township, external_id="12345-RACE")
        except Exception as exc:  # noqa: BLE001  (the test inspects whatever happened)
            results[key] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(key,)) for key in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert sorted(type(result).__name__ for result in results.values()) == ["DomainError", "Suggestion"], results
    assert Suggestion.objects.filter(external_id="12345-RACE").count() == 1
    assert Task.objects.count() == 1


@pytest.mark.parametrize(
    "raw, normal",
    [
        ("13812345678", "13812345678"),
        ("138 1234 5678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("8613812345678", "13812345678"),
        ("１３８１２３４５６７８", "13812345678"),
        ("0312-1234567", "0312-1234567"),
        ("03121234567", "0312-1234567"),
        ("(0312) 12345678", "0312-12345678"),
        ("010-12345678", "010-12345678"),
        ("02112345678", "021-12345678"),
        ("", ""),
        ("   ", ""),
    ],
)
def test_phone_numbers_are_normalised(raw, normal):
    assert normalize_phone(raw) == normal


@pytest.mark.parametrize("raw", ["12812345678", "1381234567", "138123456789", "1234567", "0312-123", "电话", "abc"])
def test_other_phone_numbers_are_refused(raw):
    with pytest.raises(DomainError) as error:
        normalize_phone(raw)
    assert error.value.field == "phone" and raw in str(error.value)
    with pytest.raises(ValidationError):
        validate_phone(raw)
