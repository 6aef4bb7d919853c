"""The notification centre: only one's own notifications, newest first; marking read; the header's unread count."""

import datetime as dt

import pytest
from django.conf import settings
from django.db import connection
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tasks.context_processors import unread_notifications
from tasks.dispatch_selectors import UNREAD_CAP
from tasks.models.reminders import Notification, ReminderLevel
from tasks.views.dispatch import PAGE_SIZE

from ..factories import TaskFactory

URL = reverse("tasks:notifications")
PROCESSOR = "tasks.context_processors.unread_notifications"


@pytest.fixture
def with_processor(settings):
    """The context processor as the lead will add it to settings."""
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "OPTIONS": {**settings.TEMPLATES[0]["OPTIONS"],
         "context_processors": [*settings.TEMPLATES[0]["OPTIONS"]["context_processors"], PROCESSOR]}}
    ]


def notify(user, *, minutes_ago=10, level=ReminderLevel.OVERDUE, read=False, task=None) -> Notification:
    now = timezone.now()
    return Notification.objects.create(
        recipient=user,
        task=task or TaskFactory(),
        level=level,
        deadline=now - dt.timedelta(days=1),
        created_at=now - dt.timedelta(minutes=minutes_ago),
        read_at=now if read else None,
    )


def _client(client, user):
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def _ids(response) -> list[int]:
    return [n.pk for n in response.context["page"].object_list]


def test_anonymous_is_sent_to_the_login_page(client, db):
    assert client.get(URL)["Location"].startswith(reverse("login"))


def test_user_sees_only_own_notifications_newest_first_unread_highlighted(client, cast):
    old = notify(cast.handler_zhujian, minutes_ago=60, read=True)
    new = notify(cast.handler_zhujian, minutes_ago=5, level=ReminderLevel.DUE_TODAY)
    middle = notify(cast.handler_zhujian, minutes_ago=30)
    others = notify(cast.handler_chengguan, minutes_ago=1)
    response = _client(client, cast.handler_zhujian).get(URL)
    assert response.status_code == 200
    assert _ids(response) == [new.pk, middle.pk, old.pk]
    html = response.text
    assert f'data-notification-id="{others.pk}"' not in html
    assert f'data-notification-id="{new.pk}" data-read="false" data-level="due_today" class="notification-unread"' in html
    assert f'data-notification-id="{old.pk}" data-read="true"' in html
    assert reverse("tasks:detail", args=[new.task_id]) in html
    assert "due today" in html
    assert _ids(client.get(URL, {"unread": "1"})) == [new.pk, middle.pk]


def test_mark_one_read(client, cast):
    notification = notify(cast.handler_zhujian)
    other = notify(cast.handler_zhujian)
    _client(client, cast.handler_zhujian)
    response = client.post(reverse("tasks:notification_read", args=[notification.pk]), {"next": URL + "?page=1"})
    assert response.status_code == 302 and response["Location"] == URL + "?page=1"
    notification.refresh_from_db()
    other.refresh_from_db()
    assert notification.read_at is not None and other.read_at is None
    read_at = notification.read_at
    client.post(reverse("tasks:notification_read", args=[notification.pk]))  # a second click changes nothing
    notification.refresh_from_db()
    assert notification.read_at == read_at


def test_another_users_notification_cannot_be_marked_and_get_is_refused(client, cast):
    foreign = notify(cast.handler_chengguan)
    _client(client, cast.handler_zhujian)
    assert client.post(reverse("tasks:notification_read", args=[foreign.pk])).status_code == 404
    assert client.get(reverse("tasks:notification_read", args=[foreign.pk])).status_code == 405
    foreign.refresh_from_db()
    assert foreign.read_at is None


def test_an_outside_next_url_is_not_followed(client, cast):
    notification = notify(cast.handler_zhujian)
    response = _client(client, cast.handler_zhujian).post(
        reverse("tasks:notification_read", args=[notification.pk]), {"next": "https://evil.example/"}
    )
    assert response["Location"] == URL


def test_mark_all_read_marks_own_and_leaves_ones_that_arrived_after_the_page(client, cast):
    seen = [notify(cast.handler_zhujian, minutes_ago=m) for m in (30, 20)]
    _client(client, cast.handler_zhujian)
    through = client.get(URL).context["through_id"]
    arrived_later = notify(cast.handler_zhujian, minutes_ago=0)
    foreign = notify(cast.handler_chengguan)
    response = client.post(reverse("tasks:notifications_read_all"), {"through": through})
    assert response.status_code == 302
    assert all(Notification.objects.get(pk=n.pk).read_at is not None for n in seen)
    assert Notification.objects.get(pk=arrived_later.pk).read_at is None
    assert Notification.objects.get(pk=foreign.pk).read_at is None
    page = client.get(URL)
    assert [str(m) for m in page.context["messages"]] == ["2 notifications marked read."]
    client.post(reverse("tasks:notifications_read_all"))  # without `through`: everything
    assert Notification.objects.get(pk=arrived_later.pk).read_at is not None


def test_paging_is_bounded(client, cast):
    task = TaskFactory()
    Notification.objects.bulk_create(
        Notification(recipient=cast.supervisor, task=task, level=ReminderLevel.OVERDUE, deadline=timezone.now(),
                     created_at=timezone.now() - dt.timedelta(minutes=i))
        for i in range(PAGE_SIZE + 2)
    )
    _client(client, cast.supervisor)
    assert len(_ids(client.get(URL))) == PAGE_SIZE
    assert len(_ids(client.get(URL, {"page": 2}))) == 2
    assert client.get(URL, {"page": 3}).status_code == 404


def _page_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(URL).status_code == 200
    return len(queries)


def test_query_count_does_not_grow_with_rows(client, cast, with_processor):
    for _ in range(3):
        notify(cast.supervisor)
    _client(client, cast.supervisor)
    client.get(URL)
    few = _page_queries(client)
    for minutes in range(30):
        notify(cast.supervisor, minutes_ago=minutes, read=minutes % 3 == 0)
    assert _page_queries(client) == few


# --- The header's count ------------------------------------------------------------------


def _request(user):
    request = RequestFactory().get("/")
    request.user = user
    return request


def test_context_processor_counts_own_unread_in_one_query(cast, django_assert_num_queries):
    for _ in range(3):
        notify(cast.handler_zhujian)
    notify(cast.handler_zhujian, read=True)
    notify(cast.handler_chengguan)
    context = unread_notifications(_request(cast.handler_zhujian))
    with django_assert_num_queries(1):
        assert context["unread_notifications"].value == 3
        assert str(context["unread_notifications"]) == "3"  # counted once per request
    assert unread_notifications(_request(cast.leader))["unread_notifications"].value == 0


def test_context_processor_stops_counting_past_the_cap(cast):
    task = TaskFactory()
    Notification.objects.bulk_create(
        Notification(recipient=cast.supervisor, task=task, level=ReminderLevel.OVERDUE, deadline=timezone.now())
        for _ in range(UNREAD_CAP + 5)
    )
    count = unread_notifications(_request(cast.supervisor))["unread_notifications"]
    assert count.value == UNREAD_CAP + 1
    assert count.display == f"{UNREAD_CAP}+"


def test_context_processor_gives_nothing_to_anonymous_users(db):
    from django.contrib.auth.models import AnonymousUser

    assert unread_notifications(_request(AnonymousUser())) == {}


def test_pages_carry_the_count_and_the_badge_shows_it(client, cast, with_processor):
    for _ in range(2):
        notify(cast.handler_zhujian)
    response = _client(client, cast.handler_zhujian).get(reverse("home"))
    assert response.context["unread_notifications"].value == 2
    context = {"user": cast.handler_zhujian, "unread_notifications": response.context["unread_notifications"]}
    badge = render_to_string("includes/unread_badge.html", context)
    assert 'data-unread="2"' in badge
    assert f'href="{URL}"' in badge
    assert '<span class="unread-count" id="unread-count"' in badge
