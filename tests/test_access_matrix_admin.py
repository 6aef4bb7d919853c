"""The Django admin's routes × the 8 roles (issue 11 item 3, continued from tests/test_access_matrix.py).

Every route under admin/ is walked from the URL configuration: the admin site's own pages and,
for every registered model, its list, add, change, history, delete and the bare object URL. A
model registered without an entry in ADMIN_MODELS fails, and so does an entry whose model is no
longer registered; the routes are counted. Only the admin role has staff status: the other seven
roles (and anonymous) are sent to a login page on every route. The admin's own answers are
declared per model (what it may add or delete); a POST without a CSRF token is refused (403) on
every route for every role. Which fields the admin sees of a suggestion is
tests/feedback/test_phone_views.py::test_the_django_admin_never_shows_a_citizens_name_phone_or_content.
"""

import datetime as dt

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.urls import URLResolver, get_resolver, reverse

from feedback.models import Callback, CallbackResult, PhoneView
from open311 import services as open311_services
from open311.models import ApiKeyUse
from tasks import deadlines
from tasks.models import CalendarDay, LeaderInstruction, LookBackDraw, LookBackSample, ReminderDigest
from tasks.reminders.levels import reminder_rules_ensure_defaults

from . import factories
from .access_matrix_fixtures import build_world
from .test_access_matrix import LOGIN, ROLES, _answer, _client

# What the admin role may do with each registered model beyond listing and opening its rows.
ADD, DELETE = "add", "delete"
ADMIN_MODELS = {
    "auth.group": {ADD, DELETE},
    "axes.accessattempt": {DELETE},
    "axes.accesslog": {DELETE},
    "axes.accessfailurelog": {DELETE},
    "org.township": {ADD, DELETE},
    "org.village": {ADD, DELETE},
    "org.department": {ADD, DELETE},
    "org.user": {ADD, DELETE},
    # Suggestions, callbacks and tasks enter through the services; their rows are never deleted here.
    "feedback.suggestion": set(),
    "feedback.callback": set(),
    "feedback.phoneview": set(),  # the log of shown phones: read-only
    "tasks.calendarday": {ADD, DELETE},
    "tasks.deadlinerule": {ADD, DELETE},
    "tasks.task": set(),
    "tasks.project": {ADD, DELETE},
    "tasks.tvepisode": {ADD, DELETE},
    "tasks.reminderrule": {ADD, DELETE},
    "tasks.notification": {DELETE},
    "tasks.reminderdigest": {DELETE},
    "tasks.lookbacksample": {DELETE},
    "tasks.replytemplate": {ADD, DELETE},
    "tasks.leaderinstruction": set(),
    "open311.apikey": {ADD},
    "open311.apikeyuse": set(),
}
MODEL_ROUTES = ("changelist", "add", "history", "delete", "change", "object")
# The admin site's own pages: the admin role's answer to a GET (the other roles: a login page).
SITE_ROUTES = {
    "index": 200,
    "login": 302,  # an administrator is sent on to the index
    "logout": 405,  # POST only
    "password_change": 200,
    "password_change_done": 200,
    "autocomplete": 403,  # without its query parameters
    "jsi18n": 200,
    "view_on_site": 404,  # no model here has a public page
    "app_list": 200,
    "auth_user_password_change": 200,
    "catch_all": 404,
}
# What a non-staff user gets on the site's own pages: the admin's login page shows itself, a logout
# sends a logged-in user to the index (thence to the login); anonymous gets only the login page.
OTHERS_ON_SITE = {"login": 200, "logout": 302}
ANONYMOUS_ON_SITE = {"login": 200}


def admin_routes() -> dict:
    """Every route under admin/: "site:<name>" for the site's pages, "<app.model>:<route>" for each model's."""
    [admin_resolver] = [e for e in get_resolver().url_patterns if isinstance(e, URLResolver) and e.app_name == "admin"]
    found = {}

    def walk(resolver, model):
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                label = _model_label(str(entry.pattern))
                walk(entry, label or model)
            elif model is not None and str(entry.pattern) != "<id>/password/":
                route = (entry.name or "_object").rsplit("_", 1)[-1]
                found[f"{model}:{route}"] = entry
            else:
                found[f"site:{entry.name or 'catch_all'}"] = entry

    walk(admin_resolver, None)
    return found


def _model_label(prefix: str) -> str | None:
    for model in admin.site._registry:
        if prefix == f"{model._meta.app_label}/{model._meta.model_name}/":
            return model._meta.label_lower
    return None


def test_every_admin_route_is_declared_and_counted():
    found = admin_routes()
    models = {key.split(":")[0] for key in found if not key.startswith("site:")}
    registered = {model._meta.label_lower for model in admin.site._registry}
    assert models == registered
    assert sorted(registered - set(ADMIN_MODELS)) == [], "declare what the admin may do with these models"
    assert sorted(set(ADMIN_MODELS) - registered) == [], "these models are no longer in the admin"
    assert {key.split(":")[1] for key in found if not key.startswith("site:")} == set(MODEL_ROUTES)
    assert {key[5:] for key in found if key.startswith("site:")} == set(SITE_ROUTES)
    assert len(found) == len(SITE_ROUTES) + len(MODEL_ROUTES) * len(ADMIN_MODELS) == 155


@pytest.fixture
def rows(cast, departments, township, settings, tmp_path):
    """One row of every model the admin lists."""
    settings.MEDIA_ROOT = tmp_path
    world = build_world(cast, departments, township)
    deadlines.ensure_default_rules()
    factories.VillageFactory(township=township, name="留早村")
    reminder_rules_ensure_defaults()
    CalendarDay.objects.create(date=dt.date(2027, 1, 1), is_working_day=False, note="元旦")
    Callback.objects.create(
        task=world.task, suggestion=world.suggestion, result=CallbackResult.SATISFIED, called_by=cast.supervisor
    )
    PhoneView.objects.create(user=cast.handler_zhujian, suggestion=world.suggestion, page=PhoneView.Page.TASK_DETAIL)
    ReminderDigest.objects.create(recipient=cast.head_zhujian)
    draw = LookBackDraw.objects.create(
        department=departments.zhujian, quarter_start=dt.date(2021, 7, 1), share="0.100", seed="s", closed_count=1
    )
    LookBackSample.objects.create(draw=draw, task=world.task)
    LeaderInstruction.objects.create(task=world.task, author=cast.leader, text="请尽快办理")
    key, _raw = open311_services.api_key_create(name="手机APP", actor=cast.admin)
    ApiKeyUse.objects.create(api_key=key, suggestion=world.suggestion, token="t" * 32)
    Group.objects.create(name="值班")
    seen = {"user_agent": "x", "ip_address": "10.0.0.1", "username": "nobody", "http_accept": "*/*",
            "path_info": "/accounts/login/"}  # fmt: skip
    AccessAttempt.objects.create(**seen, get_data="", post_data="", failures_since_start=1)
    AccessLog.objects.create(**seen)
    AccessFailureLog.objects.create(**seen)
    return world


def _url(key: str, cast) -> str:
    label, route = key.split(":")
    if label == "site":
        if route == "catch_all":
            return "/admin/nowhere/"
        kwargs = {
            "view_on_site": {"content_type_id": ContentType.objects.get_for_model(Group).pk, "object_id": "1"},
            "app_list": {"app_label": "org"},
            "auth_user_password_change": {"id": cast.handler_zhujian.pk},
        }.get(route)
        return reverse(f"admin:{route}", kwargs=kwargs)
    app_label, model_name = label.split(".")
    model = next(m for m in admin.site._registry if m._meta.label_lower == label)
    if route in ("changelist", "add"):
        return reverse(f"admin:{app_label}_{model_name}_{route}")
    first = model._base_manager.order_by("pk").first()
    assert first is not None, f"the fixture made no {label}"
    if route == "object":
        return reverse(f"admin:{app_label}_{model_name}_change", args=[first.pk]).removesuffix("change/")
    return reverse(f"admin:{app_label}_{model_name}_{route}", args=[first.pk])


def _admins_answer(key: str) -> int:
    label, route = key.split(":")
    if label == "site":
        return SITE_ROUTES[route]
    allowed = ADMIN_MODELS[label]
    return {"add": 200 if ADD in allowed else 403, "delete": 200 if DELETE in allowed else 403,
            "object": 302}.get(route, 200)  # fmt: skip


def test_only_the_admin_gets_in_and_every_post_needs_the_csrf_token(cast, rows):
    clients = {role: _client(cast, role) for role in ROLES}
    csrf_clients = {role: _client(cast, role, csrf=True) for role in ROLES}
    wrong = []
    for key in sorted(admin_routes()):
        url = _url(key, cast)
        for role in ROLES:
            if role == "admin":
                expected = _admins_answer(key)
            elif key.startswith("site:"):
                expected = (ANONYMOUS_ON_SITE if role == "anonymous" else OTHERS_ON_SITE).get(key[5:], LOGIN)
            else:
                expected = LOGIN
            got = _answer(clients[role].get(url))
            if got != expected:
                wrong.append(f"{key} ({url}) as {role}: got {got}, expected {expected}")
            status = csrf_clients[role].post(url, {}).status_code
            if status != 403:
                wrong.append(f"{key} ({url}) as {role}: a POST without a CSRF token got {status}, expected 403")
    assert not wrong, f"{len(wrong)} admin cells differ:\n" + "\n".join(wrong)


def test_staff_status_alone_does_not_open_the_log_of_shown_phones(client, cast, rows):
    # A supervisor given staff status by mistake still may not read who looked at which phone.
    cast.supervisor.is_staff = True
    cast.supervisor.save(update_fields=["is_staff"])
    client.force_login(cast.supervisor)
    assert client.get(reverse("admin:feedback_phoneview_changelist")).status_code == 403
