"""Showing a citizen's unmasked phone: a deliberate, permission-checked POST, logged once per showing; the admin's log."""

import datetime as dt
import json
import re

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from feedback.models import PhoneView
from tasks.models import State

from ..factories import SuggestionFactory, TaskFactory

PHONE, MASKED = "13812345678", "138****5678"


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def item(cast, departments, township):
    """A 住建局 task in progress with one suggestion typed in by the registrar."""
    now = timezone.now()
    task = TaskFactory(
        state=State.ACCEPTED, lead_department=departments.zhujian, township=township, assigned_at=now,
        deadline=now + dt.timedelta(days=5),
    )
    suggestion = task.suggestions.get()
    suggestion.registered_by = cast.registrar
    suggestion.save(update_fields=["registered_by"])
    return suggestion


def show(client, user, suggestion, *, page="task_detail", json_=True, **extra):
    client.force_login(user)
    headers = {"HTTP_ACCEPT": "application/json"} if json_ else {}
    return client.post(reverse("feedback:phone", args=[suggestion.pk]), {"page": page, **extra}, **headers)


@pytest.mark.parametrize("role", ["handler_zhujian", "head_zhujian", "supervisor", "registrar"])
def test_who_works_on_the_item_gets_the_number_and_the_showing_is_logged_once(client, cast, item, role):
    user = getattr(cast, role)
    response = show(client, user, item)
    assert response.status_code == 200 and json.loads(response.content) == {"phone": PHONE}
    assert "no-store" in response["Cache-Control"]
    view = PhoneView.objects.get()
    assert (view.user, view.suggestion, view.task_id, view.tracking_number) == (
        user, item, item.task_id, item.tracking_number)
    assert (view.page, view.count, view.address) == ("task_detail", 1, "127.0.0.1")
    assert abs(view.at - timezone.now()) < dt.timedelta(minutes=1)


def test_every_press_is_a_showing_of_its_own(client, cast, item):
    show(client, cast.handler_zhujian, item)
    show(client, cast.handler_zhujian, item, page="suggestion_detail")
    assert list(PhoneView.objects.order_by("id").values_list("page", flat=True)) == ["task_detail", "suggestion_detail"]


def test_without_javascript_the_post_answers_a_page_with_the_number_and_a_way_back(client, cast, item):
    back = reverse("tasks:detail", args=[item.task_id])
    response = show(client, cast.handler_zhujian, item, json_=False, next=back)
    body = response.content.decode()
    assert response.status_code == 200 and PHONE in body and f'href="{back}"' in body
    assert PhoneView.objects.count() == 1


def test_a_foreign_return_address_is_not_followed(client, cast, item):
    response = show(client, cast.handler_zhujian, item, json_=False, next="https://evil.example/steal")
    body = response.content.decode()
    assert "evil.example" not in body and reverse("tasks:detail", args=[item.task_id]) in body


# The admin role reads no suggestion at all (least privilege for personal data): 404 like an outsider.
@pytest.mark.parametrize(
    "role, status", [("leader", 403), ("admin", 404), ("handler_chengguan", 404), ("outsider", 404)]
)
def test_who_does_not_work_on_the_item_is_refused_and_nothing_is_logged(client, cast, item, role, status):
    response = show(client, getattr(cast, role), item)
    assert response.status_code == status and PHONE not in response.content.decode()
    assert not PhoneView.objects.exists()


def test_anonymous_is_sent_to_log_in_and_get_is_refused(client, cast, item):
    url = reverse("feedback:phone", args=[item.pk])
    assert client.post(url, {"page": "task_detail"}).status_code == 302
    client.force_login(cast.handler_zhujian)
    assert client.get(url).status_code == 405
    assert not PhoneView.objects.exists()


def test_an_unknown_page_or_a_missing_phone_logs_nothing(client, cast, item):
    assert show(client, cast.handler_zhujian, item, page="nowhere").status_code == 400
    no_phone = SuggestionFactory(task=item.task, township=item.township, phone="", registered_by=cast.registrar)
    response = show(client, cast.handler_zhujian, no_phone)
    assert response.status_code == 409 and json.loads(response.content)["error"] == "此诉求未留电话号码。"
    assert not PhoneView.objects.exists()


@pytest.mark.parametrize("url_name, args", [("tasks:detail", "task"), ("feedback:detail", "suggestion")])
def test_opening_a_page_shows_the_phone_masked_and_logs_nothing(client, cast, item, url_name, args):
    client.force_login(cast.handler_zhujian)
    pk = item.task_id if args == "task" else item.pk
    body = client.get(reverse(url_name, args=[pk])).content.decode()
    assert MASKED in body and PHONE not in body
    assert reverse("feedback:phone", args=[item.pk]) in body and 'name="page"' in body
    assert not PhoneView.objects.exists()


def test_the_list_shows_every_phone_masked(client, cast, item):
    client.force_login(cast.handler_zhujian)
    body = client.get(reverse("feedback:list")).content.decode()
    assert MASKED in body and PHONE not in body and "张三" in body  # the name in full: the handler works on it


# --- The admin page -----------------------------------------------------------------------------


def test_the_admin_lists_the_showings_filterable_by_user_and_date(client, cast, item):
    show(client, cast.handler_zhujian, item)
    show(client, cast.supervisor, item, page="suggestion_detail")
    PhoneView.objects.create(user=cast.supervisor, page="export_csv", count=42, query="channel=hotline",
                             at=timezone.now() - dt.timedelta(days=400))
    client.force_login(cast.admin)
    url = reverse("admin:feedback_phoneview_changelist")

    def counts(query=None):
        body = client.get(url, query or {}).content.decode()
        return sorted(int(n) for n in re.findall(r'class="field-count">(\d+)<', body)), body

    shown, body = counts()
    assert shown == [1, 1, 42] and item.tracking_number in body and str(cast.handler_zhujian) in body
    shown, body = counts({"user__id__exact": cast.handler_zhujian.pk})
    assert shown == [1] and re.findall(r'class="field-user[^"]*">([^<]*)<', body) == [str(cast.handler_zhujian)]
    shown, _ = counts({"at__year": timezone.localdate().year})
    assert shown == [1, 1]
    view = PhoneView.objects.filter(user=cast.handler_zhujian).get()
    assert client.get(reverse("admin:feedback_phoneview_change", args=[view.pk])).status_code == 200
    assert client.get(reverse("admin:feedback_phoneview_add")).status_code == 403
    assert client.post(reverse("admin:feedback_phoneview_delete", args=[view.pk]), {"post": "yes"}).status_code == 403
    assert PhoneView.objects.count() == 3


@pytest.mark.parametrize("role", ["leader", "supervisor", "handler_zhujian"])
def test_the_admin_page_is_for_admins_only(client, cast, item, role):
    user = getattr(cast, role)
    client.force_login(user)
    url = reverse("admin:feedback_phoneview_changelist")
    assert client.get(url).status_code == 302  # to the admin's login: not staff
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    assert client.get(url).status_code == 403  # staff, but not an administrator


def test_the_django_admin_never_shows_a_citizens_name_phone_or_content(client, cast, item):
    item.citizen_name = "王小明"
    item.save(update_fields=["citizen_name"])
    client.force_login(cast.admin)
    pages = [
        reverse("admin:feedback_suggestion_change", args=[item.pk]),
        reverse("admin:feedback_suggestion_changelist"),
        reverse("admin:tasks_task_change", args=[item.task_id]),  # the task's suggestions inline
    ]
    for url in pages:
        response = client.get(url)
        body = response.content.decode()
        assert response.status_code == 200, url
        assert PHONE not in body and MASKED not in body and "王小明" not in body and item.content not in body, url
    # Nor does a search by phone number find whose suggestion it is.
    found = client.get(reverse("admin:feedback_suggestion_changelist"), {"q": PHONE})
    assert list(found.context["cl"].result_list) == []
    assert not PhoneView.objects.exists()  # nothing was shown, nothing to log
    # The village is still the admin's to correct; the personal fields are not in the form.
    change = client.get(pages[0])
    assert set(change.context["adminform"].form.fields) == {"village"}
    # Nor the content's search bigrams, which spell it out two characters at a time.
    assert "content_bigrams" not in change.context["adminform"].readonly_fields
