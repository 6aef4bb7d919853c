"""The URL × role access matrix (issue 11 item 3): every route of the URL configuration, every role.

The table ACCESS declares, per route name, who may open it and what everyone else gets. The
test walks django.urls.get_resolver() (admin/ only through its entry point: every admin route
is in tests/test_access_matrix_admin.py), so a new page that is not in the table fails until
someone declares who may open it; an entry whose route is gone fails too; the routes of each
URL module are counted. Routes taking an id get an object of 住建局
(tests/access_matrix_fixtures.py), so the handler of 城管局 must not see it.

Codes: 200 page, LOGIN a redirect to a login page, 302 another redirect, 403, 404, 405.
POST-only routes: a logged-in user's GET gets 405. Every non-API route refuses a POST without
a CSRF token (403) for all 8 roles, and the GETs of all 8 roles on every route change no row.

Run with MATRIX_PROBE=1 to print what each cell answers today (to write a new entry).
"""

import dataclasses
import os
from collections import Counter

import pytest
from django.apps import apps
from django.conf import settings
from django.shortcuts import resolve_url
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tasks.models import State

from .access_matrix_fixtures import build_world

LOGIN = "login"
ROLES = (
    "anonymous", "registrar", "handler_zhujian", "handler_chengguan", "head_zhujian", "supervisor", "leader", "admin",
)
OFFICIALS = ROLES[1:]


@dataclasses.dataclass(frozen=True)
class Route:
    expect: dict  # role -> expected answer to GET
    args: object = None  # world -> kwargs for reverse()
    post_only: bool = False
    api: bool = False  # a token-less API: no session, no CSRF
    query: object = None  # world -> the query string the page needs to show something
    # role -> answer to a POST with a valid session and CSRF token but no data: refusals only
    # (an allowed role's empty POST would be a form error, not an access question)
    post: dict = dataclasses.field(default_factory=dict)
    csrf_exempt: str = ""  # why a POST without a token is accepted
    # world -> a valid form for the refused POSTs: a view that validates the form before the
    # service checks the actor would otherwise answer 400 and hide whether it refuses.
    data: object = None


def page(default=200, *, args=None, query=None, **by_role) -> Route:
    """A page behind the login: anonymous goes to the login page, the others get `default` unless named."""
    expect = {role: by_role.get(role, LOGIN if role == "anonymous" else default) for role in ROLES}
    return Route(expect, args, query=query)


def action(*, args=None, data=None, **post) -> Route:
    """A POST-only route: anonymous is sent to log in, every official's GET is refused with 405;
    `post` names the roles whose (token-carrying) POST of `data` must be refused, and how."""
    expect = {role: LOGIN if role == "anonymous" else 405 for role in ROLES}
    return Route(expect, args, post_only=True, post=post, data=data)


def public(default=200, *, args=None, api=False, csrf_exempt="", **by_role) -> Route:
    """Open to everyone, logged in or not."""
    return Route({role: by_role.get(role, default) for role in ROLES}, args, api=api, csrf_exempt=csrf_exempt)


task = lambda w: {"pk": w.task.pk}  # noqa: E731
project = lambda w: {"pk": w.project.pk}  # noqa: E731
episode = lambda w: {"pk": w.episode.pk}  # noqa: E731
job = lambda w: {"pk": w.job.pk}  # noqa: E731
department = lambda w: {"code": w.department.code}  # noqa: E731
township = lambda w: {"key": str(w.township.pk)}  # noqa: E731
as_json = lambda w: {"format": "json"}  # noqa: E731
# Who registers suggestions and imports them (DOMAIN.md: registrars; the supervision office). Not admins:
# the admin role runs users, departments, calendars and reminder policy, and reads no citizen's data,
# no suggestion and no task (least privilege; README "Personal data"), so every id route answers it 404.
REGISTERS = {"registrar": 200, "supervisor": 200}
# Who reads every report card: leaders and the supervision office (sees_all_departments).
CARDS = {"supervisor": 200, "leader": 200}
# Only the uploader of an import and the supervision office see it.
IMPORT_SEERS = {"registrar": 200, "supervisor": 200}
reply_template = lambda w: {"pk": w.reply_template.pk}  # noqa: E731
# Who manages reply templates: the head (own department's), the supervision office and admins (global ones).
TEMPLATE_MANAGERS = {"head_zhujian": 200, "supervisor": 200, "admin": 200}
NOT_TEMPLATE_MANAGERS = ("registrar", "handler_zhujian", "handler_chengguan", "leader")
# Who has no business with a 住建局 project or episode: the registrar, the other department, the admin.
NOT_THEIRS = {"registrar": 404, "handler_chengguan": 404, "admin": 404}

ACCESS = {
    # --- org, auth, language ---
    "home": page(),
    "login": public(302, anonymous=200),  # a logged-in user is sent on from the login page
    "logout": action(),
    "set_language": public(302),
    # --- operations: the load balancer's check; the matrix world has no beat tick, so 503
    # (tests/test_healthz.py shows 200 with one) ---
    "healthz": public(503),
    "admin:index": page(LOGIN, admin=200),  # the others are sent to the admin's own login
    # --- tasks (lists are scoped by the selectors; the matrix checks who may open them) ---
    "tasks:list": page(),
    "tasks:export_csv": page(),
    "tasks:export_xlsx": page(),
    # The assisting department's list of its parts (协办): department staff only.
    "tasks:assisting": page(404, handler_zhujian=200, handler_chengguan=200, head_zhujian=200),
    "tasks:detail": page(args=task, handler_chengguan=404, admin=404),
    # Accepting is the lead department's: the others who may read the task are refused by the service.
    "tasks:action": action(
        args=lambda w: {"pk": w.task.pk, "action": "accept"}, handler_chengguan=404, registrar=409,
        supervisor=409, leader=409, admin=404,
    ),
    "tasks:dispatch": page(403, supervisor=200),
    "tasks:same_day": page(403, supervisor=200, leader=200),
    "tasks:exclusions": page(403, supervisor=200),
    "tasks:exclusion_request": action(
        args=task, handler_chengguan=404, registrar=409, supervisor=409, leader=409, admin=404
    ),
    "tasks:exclusion_decide": action(
        args=lambda w: {"pk": w.exclusion.pk},
        handler_chengguan=404, registrar=404, head_zhujian=409, handler_zhujian=409, leader=409, admin=404,
    ),
    "tasks:exclusion_evidence": page(
        404, args=lambda w: {"pk": w.exclusion.pk},
        handler_zhujian=200, head_zhujian=200, supervisor=200, leader=200,
    ),
    "tasks:notifications": page(),
    "tasks:notification_read": action(
        args=lambda w: {"pk": w.notification.pk},
        **{role: 404 for role in OFFICIALS if role != "handler_zhujian"},
    ),
    "tasks:notifications_read_all": action(),
    # --- reply templates (heads: their department's; supervisors and admins: global) and instructions ---
    "tasks:reply_templates": page(403, **TEMPLATE_MANAGERS),
    "tasks:reply_template_create": page(403, **TEMPLATE_MANAGERS),
    "tasks:reply_template_edit": page(403, args=reply_template, head_zhujian=200, supervisor=404, admin=404),
    "tasks:reply_template_deactivate": action(
        args=reply_template, **{role: 403 for role in NOT_TEMPLATE_MANAGERS}, supervisor=404, admin=404
    ),
    # Only leaders instruct; the others' POSTs are refused before the task is looked up.
    "tasks:instruct": action(args=task, **{role: 403 for role in OFFICIALS if role != "leader"}),
    # --- projects and TV episodes ---
    "tasks:projects": page(),
    "tasks:project_detail": page(args=project, **NOT_THEIRS),
    # Only the owning department records progress: the supervision office and leaders read it.
    "tasks:project_progress": action(
        args=project, data=lambda w: {"recorded_on": w.today.isoformat(), "note": "x"}, **NOT_THEIRS,
        supervisor=409, leader=409,
    ),
    "tasks:evidence": page(args=lambda w: {"pk": w.evidence.pk}, **NOT_THEIRS),
    "tasks:project_notices_read": action(),
    "tasks:episodes": page(),
    # Supervisors only, refused before the form is read.
    "tasks:episode_create": action(**{role: 403 for role in OFFICIALS if role != "supervisor"}),
    "tasks:episode_detail": page(args=episode, **NOT_THEIRS),
    "tasks:episode_action": action(args=lambda w: {"pk": w.episode.pk, "action": "problem"}, **NOT_THEIRS),
    "tasks:accountability_decide": action(
        args=lambda w: {"pk": w.accountability.pk}, data=lambda w: {"status": "accepted"},
        **NOT_THEIRS, handler_zhujian=404, head_zhujian=404, leader=409,
    ),
    "tasks:mechanism_document": page(args=lambda w: {"pk": w.mechanism.pk}, **NOT_THEIRS),
    # --- suggestions and imports ---
    "feedback:list": page(),
    "feedback:export_csv": page(),
    "feedback:export_xlsx": page(),
    "feedback:register": page(403, **REGISTERS),
    "feedback:detail": page(args=lambda w: {"pk": w.suggestion.pk}, handler_chengguan=404, admin=404),
    # Showing a citizen's phone (logged): who works on the item, or registered it; the others who read it get 403.
    "feedback:phone": action(args=lambda w: {"pk": w.suggestion.pk}, handler_chengguan=404, leader=403, admin=404),
    "feedback:import": page(403, **REGISTERS),
    "feedback:import_template": page(403, **REGISTERS),
    "feedback:import_detail": page(404, args=job, **IMPORT_SEERS),
    "feedback:import_status": page(404, args=job, **IMPORT_SEERS),
    "feedback:import_errors": page(404, args=job, **IMPORT_SEERS),
    "feedback:import_resume": action(args=job, handler_chengguan=404, handler_zhujian=404, leader=404),
    # --- report cards: leaders, supervision and admins all; a head only the own department's ---
    "reports:overview": page(403, **CARDS),
    "reports:records": page(
        403, query=lambda w: f"?figure=received&scope=department:zhujian&period={w.today:%Y-%m}",
        **CARDS, head_zhujian=200,
    ),
    "reports:city_card": page(403, **CARDS),
    "reports:city_card_pdf": page(403, **CARDS),
    "reports:department_card": page(403, **CARDS, head_zhujian=302),  # a head goes to the own card
    "reports:department_card[code]": page(403, args=department, **CARDS, head_zhujian=200),
    "reports:department_card_pdf": page(403, args=department, **CARDS, head_zhujian=200),
    "reports:township_card": page(403, **CARDS, head_zhujian=302),  # to the own department's card
    "reports:township_card[key]": page(403, args=township, **CARDS),
    "reports:township_card_pdf": page(403, args=township, **CARDS),
    # --- the citizens' pages ---
    "citizens:index": public(),
    "citizens:lookup": public(csrf_exempt="the lookup changes nothing (citizens/views.py)"),
    "citizens:message": public(),
    "citizens:message_sent": public(302),  # back to the form unless a message was just sent
    # --- Open311 GeoReport v2: cookies are ignored, every caller gets the API's own answer ---
    "open311:services": public(api=True, args=as_json),
    "open311:service": public(api=True, args=lambda w: {"service_code": w.task.category, "format": "json"}),
    "open311:requests": public(api=True, args=as_json),
    "open311:request": public(api=True, args=lambda w: {"service_request_id": str(w.suggestion.pk), "format": "json"}),
    "open311:token": public(404, api=True, args=lambda w: {"token": "nosuchtoken", "format": "json"}),
    "open311:openapi": public(api=True, args=as_json),
}

# Cells the matrix shows to be wrong today, left out of the assertion until fixed: keep it small.
KNOWN_GAPS: dict[tuple[str, str], str] = {}


# --- The walk -----------------------------------------------------------------------------

# How many routes each URL module declares: an include() dropped from dingzhou/urls.py (or an
# app's urls.py emptied) fails here even though both sets above would then agree. dingzhou.urls
# itself holds the admin's entry point (tests/test_access_matrix_admin.py walks every admin
# route), the language switch and /healthz (ops).
ROUTES_PER_URLCONF = {
    "org.urls": 3, "tasks.urls": 31, "tasks.report_urls": 10, "feedback.urls": 12, "citizens.urls": 4,
    "open311.urls": 6, "dingzhou.urls": 3,
}  # fmt: skip


def _module_name(urlconf) -> str:
    return getattr(urlconf, "__name__", urlconf)


def _serves_files_directly(pattern: URLPattern) -> bool:
    """django.views.static.serve (static() in urls.py): it would serve MEDIA_ROOT past every permission check."""
    module = getattr(pattern.callback, "__module__", "") or ""
    return module.startswith(("django.views.static", "django.contrib.staticfiles"))


def _walk() -> list[tuple[str, tuple, str, URLPattern]]:
    """(name, argument names, URL module, pattern) of every route, the admin once (its entry point)."""
    found = []

    def walk(resolver, prefix, namespace):
        here = _module_name(resolver.urlconf_name)
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                ns = ":".join(filter(None, [namespace, entry.namespace]))
                full = prefix + str(entry.pattern)
                if full == "admin/":
                    found.append(("admin:index", (), here, entry))  # every admin route: the admin matrix
                    continue
                walk(entry, full, ns)
            else:
                name = ":".join(filter(None, [namespace, entry.name]))
                found.append((name or prefix + str(entry.pattern), tuple(entry.pattern.converters), here, entry))

    walk(get_resolver(), "", "")
    return found


def routes() -> dict:
    """Every route key of the URL configuration -> its URL name and argument names."""
    found = _walk()
    names = [name for name, *_rest in found]
    keyed = {}
    for name, params, _app, _pattern in found:
        key = f"{name}[{','.join(params)}]" if names.count(name) > 1 and params else name
        keyed[key] = (name, params)
    return keyed


def test_every_route_is_in_the_matrix_and_every_entry_is_a_route():
    found = routes()
    missing = sorted(set(found) - set(ACCESS))
    stale = sorted(set(ACCESS) - set(found))
    assert not missing, "\n".join(
        f"route {key} is not in the access matrix: declare who may open it" for key in missing
    )
    assert not stale, "\n".join(f"access matrix entry {key} names no route any more: remove it" for key in stale)
    assert len(found) == len(ACCESS) == sum(ROUTES_PER_URLCONF.values()) == 69
    for key, (_name, params) in found.items():
        assert not params or ACCESS[key].args, f"route {key} takes {params}: give the matrix entry its args"
    unknown = [cell for cell in KNOWN_GAPS if cell[0] not in ACCESS or cell[1] not in ROLES]
    assert not unknown, f"KNOWN_GAPS names cells outside the matrix: {unknown}"


def test_every_url_module_declares_the_routes_counted():
    counted = Counter(urlconf for _name, _params, urlconf, _pattern in _walk())
    assert dict(counted) == ROUTES_PER_URLCONF


def test_no_route_serves_uploaded_files_directly():
    # Uploads are served only by views that check the user may see the object (README "Personal data").
    direct = [name for name, _params, _urlconf, pattern in _walk() if _serves_files_directly(pattern)]
    assert direct == []
    assert not any(str(p.pattern).startswith(settings.MEDIA_URL.lstrip("/")) for *_r, p in _walk())


# --- The answers ----------------------------------------------------------------------------


@pytest.fixture
def world(cast, departments, township, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return build_world(cast, departments, township)


def _client(cast, role, *, csrf=False) -> Client:
    client = Client(enforce_csrf_checks=csrf)
    if role != "anonymous":
        client.force_login(getattr(cast, role))
    return client


def _answer(response):
    if response.status_code == 302:
        location = response["Location"]
        if location.startswith((resolve_url(settings.LOGIN_URL), reverse("admin:login"))):
            return LOGIN
    return response.status_code


# Rows a GET may write: the session of the login, the log of exported phones, django-axes' records.
WRITTEN_BY_A_GET = {"sessions.session", "feedback.phoneview", "axes.accessattempt", "axes.accesslog",
                    "axes.accessfailurelog", "admin.logentry"}  # fmt: skip


def _snapshot() -> dict:
    """Every row of every table but those above, to show that the GETs changed nothing."""
    return {
        model._meta.label_lower: sorted(map(repr, model._base_manager.values_list()))
        for model in apps.get_models()
        if model._meta.label_lower not in WRITTEN_BY_A_GET and model._meta.managed
    }


def test_every_role_gets_the_declared_answer_on_every_route(cast, world):
    found = routes()
    clients = {role: _client(cast, role) for role in ROLES}
    csrf_clients = {role: _client(cast, role, csrf=True) for role in ROLES}
    probe = os.environ.get("MATRIX_PROBE") == "1"
    wrong, gaps_seen = [], []
    urls = {}
    before = _snapshot()
    for key, (name, _params) in sorted(found.items()):
        route = ACCESS.get(key)
        if route is None:
            continue  # reported by the test above
        url = reverse(name, kwargs=route.args(world) if route.args else None)
        url += route.query(world) if route.query else ""
        urls[key] = url
        seen = {role: _answer(clients[role].get(url)) for role in ROLES}
        if probe:
            print(f"{key:40} {url:45} " + " ".join(f"{role}={seen[role]}" for role in ROLES))
        for role in ROLES:
            if (key, role) in KNOWN_GAPS:
                gaps_seen.append(f"{key} {role}: got {seen[role]}, gap: {KNOWN_GAPS[key, role]}")
                continue
            if seen[role] != route.expect[role]:
                wrong.append(f"{key} ({url}) as {role}: got {seen[role]}, expected {route.expect[role]}")
    # 8 roles' GETs of every route changed no row: no state changes on a GET.
    after = _snapshot()
    changed = sorted(label for label in before if before[label] != after[label])
    assert not changed, f"GET requests changed rows of {changed}"
    for key, url in urls.items():
        route = ACCESS[key]
        if probe and route.post_only:  # refusals to declare in action(...): may change state for an allowed role
            print(f"{'':40} POST: " + " ".join(f"{r}={_client(cast, r).post(url).status_code}" for r in NOT_THEIRS))
        for role, expected in route.post.items():
            status = clients[role].post(url, route.data(world) if route.data else {}).status_code
            if status != expected:
                wrong.append(f"{key} ({url}) as {role}: a POST got {status}, expected the refusal {expected}")
        if not route.api and not route.csrf_exempt:
            # Every role, on every route: a POST without the CSRF token never reaches a view.
            for role in ROLES:
                status = csrf_clients[role].post(url, {}).status_code
                if status != 403:
                    wrong.append(f"{key} ({url}) as {role}: a POST without a CSRF token got {status}, expected 403")
    if gaps_seen:
        print("KNOWN_GAPS (not asserted):\n  " + "\n  ".join(gaps_seen))
    assert not wrong, f"{len(wrong)} cells differ from the access matrix:\n" + "\n".join(wrong)
    # The refused POSTs changed nothing.
    world.notification.refresh_from_db()
    world.task.refresh_from_db()
    world.accountability.refresh_from_db()
    assert world.notification.read_at is None
    assert world.task.state == State.ASSIGNED and world.task.accepted_at is None
    assert world.accountability.decided_at is None and not world.episode.tasks.exists()
    assert world.project.updates.count() == 1 and world.episode.__class__.objects.count() == 1
    world.reply_template.refresh_from_db()
    assert world.reply_template.is_active and not world.task.instructions.exists()
    # Nor did the POSTs without a token: only the refusals declared above could have run a view.
    assert world.exclusion.__class__.objects.get(pk=world.exclusion.pk).decided_at is None
