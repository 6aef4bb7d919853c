"""python manage.py load_demo: the organisation, accounts, projects, TV episodes and a generated year.

A small year (600 suggestions) is loaded once for the module and committed; each test runs
in its own transaction on top of it, so the tests that load again, wipe or change rows
leave it as it was. The replay test walks a sample of generated timelines through the real
lifecycle services and checks that they produce the same rows: the generator writes in
bulk, but must write what the services would.
"""

import datetime as dt
import hashlib
import zoneinfo
from collections import Counter
from decimal import Decimal

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count, Max, Min
from django.test import RequestFactory, override_settings

from feedback.models import Callback, Channel, Suggestion
from feedback.services import suggestion_register
from org.models import Department, Township, User, Village
from tasks import demo, services
from tasks.demo.org import TOWNSHIPS
from tasks.models import (
    Action,
    Indicator,
    Mechanism,
    Project,
    State,
    Task,
    TaskAssist,
    TaskEvent,
    TaskRequest,
    TvEpisode,
)

SMALL = 600
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
YEAR_START, YEAR_END = dt.datetime(2021, 1, 1, tzinfo=SHANGHAI), dt.datetime(2022, 1, 1, tzinfo=SHANGHAI)
DEMO_ACCOUNTS = ["leader", "supervisor", "registrar", "head-zhujian", "handler-zhujian", "handler-chengguan", "admin"]


def load(**options):
    call_command("load_demo", suggestions=options.pop("suggestions", SMALL), verbosity=0, **options)


@pytest.fixture(scope="module")
def _module_demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        # Hash the demo password cheaply, as the tests' own fixtures do (PBKDF2 costs ~0.4 s a login).
        with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
            load()
        yield
        call_command("flush", interactive=False, verbosity=0)


@pytest.fixture
def loaded(_module_demo, db):
    """The module's demo year, inside this test's transaction."""


def fingerprint() -> str:
    """A checksum of the generated data that does not depend on database ids."""
    digest = hashlib.sha1()
    for row in Suggestion.objects.order_by("external_id").values_list(
        "external_id", "tracking_number", "channel", "received_at", "content", "citizen_name", "phone",
        "task__state", "task__created_at", "task__closed_at", "task__deadline", "task__lead_department__code",
        "task__supervision_level", "task__outcome", "task__reply",
    ):
        digest.update(repr(row).encode())
    for row in TaskEvent.objects.order_by("task__created_at", "task__title", "at", "id").values_list(
        "action", "at", "from_state", "to_state", "note", "actor__username"
    ):
        digest.update(repr(row).encode())
    digest.update(repr(sorted(Callback.objects.values_list("result", "called_at"))).encode())
    digest.update(repr(sorted(TaskRequest.objects.values_list("kind", "status", "requested_at"))).encode())
    return digest.hexdigest()


def wipe_generated_year():
    Callback.objects.all().delete()
    Suggestion.objects.all().delete()
    Task.objects.filter(state=State.MERGED).delete()
    Task.objects.all().delete()


# --- organisation and accounts ---------------------------------------------------------


def test_organisation_has_dingzhous_townships_villages_and_departments(loaded):
    townships = {t.name: t for t in Township.objects.all()}
    assert list(townships) == [name for name, *_rest in TOWNSHIPS]
    kinds = Counter(t.kind for t in townships.values())
    assert kinds == {Township.Kind.STREET: 4, Township.Kind.TOWN: 16, Township.Kind.TOWNSHIP: 5}
    assert townships["南城区街道"].short_name == "南城区"
    assert townships["留早镇"].short_name == "留早"
    assert townships["号头庄回族乡"].short_name == "号头庄"
    assert townships["西城乡"].short_name == "西城" and townships["西城区街道"].short_name == "西城区"

    assert Village.objects.count() == 542
    assert Village.objects.filter(township__name="留早镇", name__in=["留早村", "东留早村", "西留早村"]).count() == 3
    # Street offices have communities, the others villages; every township has some.
    assert not Village.objects.filter(township__kind=Township.Kind.STREET).exclude(kind=Village.Kind.COMMUNITY).exists()
    assert not Village.objects.exclude(township__kind=Township.Kind.STREET).exclude(kind=Village.Kind.VILLAGE).exists()
    assert Township.objects.annotate(n=Count("villages")).filter(n=0).count() == 0

    departments = {d.code: d for d in Department.objects.all()}
    assert departments["zhujian"].name == "住建局" and departments["chengguan"].name == "城管局"
    assert {departments[c].kind for c in ("gongdian", "gongshui", "gongre")} == {Department.Kind.UTILITY}
    assert departments["supervision"].name == "问政办"
    assert departments["supervision"].kind == Department.Kind.SUPERVISION
    offices = Department.objects.filter(kind=Department.Kind.TOWNSHIP)
    assert offices.count() == 25 and offices.filter(township__isnull=True).count() == 0
    assert len(departments) == 17 + 25 + 1


def test_demo_accounts_log_in_with_the_demo_password(loaded):
    request = RequestFactory().post("/login/")
    for username in DEMO_ACCOUNTS:
        user = authenticate(request, username=username, password=demo.DEMO_PASSWORD)
        assert user is not None, username
        assert user.full_name, username
    users = {u.username: u for u in User.objects.filter(username__in=DEMO_ACCOUNTS)}
    assert users["head-zhujian"].role == User.Role.HEAD and users["head-zhujian"].department.code == "zhujian"
    assert users["handler-zhujian"].role == User.Role.HANDLER and users["handler-zhujian"].department.code == "zhujian"
    assert users["handler-chengguan"].department.code == "chengguan"
    assert users["supervisor"].role == User.Role.SUPERVISOR and users["leader"].role == User.Role.LEADER
    assert users["registrar"].role == User.Role.REGISTRAR
    assert users["admin"].role == User.Role.ADMIN and users["admin"].is_staff and users["admin"].is_superuser
    assert authenticate(request, username="leader", password="wrong") is None


def test_a_demo_account_can_sign_in_through_the_test_client(loaded, client):
    assert client.login(username="handler-zhujian", password=demo.DEMO_PASSWORD, request=RequestFactory().get("/"))


# --- projects and TV --------------------------------------------------------------------


def test_article_projects_carry_the_published_figures(loaded):
    def current(name):
        return Indicator.objects.get(name=name).current

    assert Project.objects.filter(year=2021).count() == 7
    assert current("完成改造老旧小区") == Decimal(100)
    assert current("纳入管理的无物业小区") == 137
    assert current("签订物业服务合同") == 105 and current("实行居民自治管理") == 32
    assert current("新装和修复路灯") == 456 and current("城区道路路灯覆盖率") == 100
    assert current("建成口袋公园和小游园") == 35
    assert current("棚户区改造安置住房") == 7937
    assert [current(n) for n in ("市级养老服务指导中心", "乡镇(街道)养老服务中心", "村级幸福院", "邻里互助养老点")] == [1, 11, 6, 503]
    assert current("解决办证难问题户数") == 33000
    assert Project.objects.get(name="老旧小区改造").department.code == "zhujian"
    assert Project.objects.get(name="养老服务网络建设").department.code == "minzheng"


def test_tv_accountability_figures(loaded):
    episodes = TvEpisode.objects.annotate(n=Count("departments"))
    assert episodes.count() == 7 and {e.n for e in episodes} == {3}
    assert Department.objects.filter(tv_episodes__isnull=False).distinct().count() == 21
    assert Mechanism.objects.count() == 17
    problems = Task.objects.filter(episode__isnull=False)
    assert problems.count() == 107
    assert set(problems.values_list("channel", flat=True)) == {Channel.TV}
    assert problems.filter(state=State.CLOSED).count() > 80
    # Each problem went to a department questioned in its episode.
    for task in problems.select_related("episode", "lead_department"):
        assert task.episode.departments.filter(pk=task.lead_department_id).exists()


# --- the generated year -------------------------------------------------------------------


def test_every_lifecycle_state_is_present(loaded):
    counts = dict(Task.objects.values_list("state").annotate(n=Count("id")))
    assert set(counts) == set(State.values)
    assert Suggestion.objects.count() == SMALL and Task.objects.count() == SMALL
    assert counts[State.CLOSED] > 0.9 * SMALL
    assert TaskRequest.objects.filter(kind=TaskRequest.Kind.EXTENSION, status=TaskRequest.Status.APPROVED).exists()
    assert TaskRequest.objects.filter(kind=TaskRequest.Kind.RETURN, status=TaskRequest.Status.APPROVED).exists()
    assert TaskRequest.objects.filter(status=TaskRequest.Status.PENDING).exists()
    assert Task.objects.filter(supervision_level__gt=0).exists()
    assert TaskAssist.objects.exists()
    assert set(Suggestion.objects.values_list("channel", flat=True)) == set(Channel.values)


def test_timelines_are_consistent_with_each_task(loaded):
    events = {}
    for event in TaskEvent.objects.order_by("task_id", "at", "id"):
        events.setdefault(event.task_id, []).append(event)
    for task in Task.objects.all():
        timeline = events[task.pk]
        assert timeline[0].action == Action.REGISTER and timeline[0].at == task.created_at, task.pk
        assert timeline[-1].to_state == task.state, task.pk
        for before, after in zip(timeline, timeline[1:]):
            assert before.at <= after.at, task.pk
            assert after.from_state == before.to_state, (task.pk, after.action)
        assert YEAR_START <= timeline[0].at and timeline[-1].at < YEAR_END
        if task.state == State.CLOSED:
            assert task.closed_at == timeline[-1].at and timeline[-1].action == Action.CLOSE
            assert task.replied_at <= task.closed_at and task.outcome and task.reply
        if task.state not in (State.REGISTERED, State.REPORTED, State.REVIEWED, State.RETURNED, State.MERGED):
            assert task.deadline and task.accept_deadline and task.assigned_at and task.lead_department_id
    merged = Task.objects.filter(state=State.MERGED)
    assert not merged.filter(merged_into__isnull=True).exists()
    assert not Suggestion.objects.filter(task__state=State.MERGED).exists()
    received = Suggestion.objects.aggregate(first=Min("received_at"), last=Max("received_at"))
    assert YEAR_START <= received["first"] and received["last"] < YEAR_END


def test_two_character_terms_find_their_topic(loaded):
    for term in ("路灯", "暖气", "讨薪", "物业", "道路"):
        found = Suggestion.objects.filter(content__contains=term).count()
        assert 0 < found < SMALL / 4, term


# --- the generated rows are what the services write -------------------------------------


def _replay(task: Task) -> Task:
    """Register the task's first suggestion again and walk its timeline through the services."""
    suggestion = task.suggestions.order_by("id").first()
    timeline = list(task.events.order_by("at", "id").select_related("actor"))
    register = timeline[0]
    copy = suggestion_register(
        actor=register.actor, channel=suggestion.channel, received_at=suggestion.received_at,
        township=suggestion.township, village=suggestion.village, content=suggestion.content,
        category=suggestion.category, urgency=suggestion.urgency, citizen_name=suggestion.citizen_name,
        phone=suggestion.phone, now=register.at,
    ).task
    for event in timeline[1:]:
        who, when, note, data = event.actor, event.at, event.note, event.data
        common = {"actor": who, "task": copy, "now": when}
        match event.action:
            case Action.REPORT:
                services.task_report(note=note, **common)
            case Action.REVIEW:
                services.task_review(note=note, **common)
            case Action.ASSIGN:
                services.task_assign(
                    lead_department=Department.objects.get(pk=data["lead_department"]),
                    assisting_departments=list(Department.objects.filter(pk__in=data["assisting_departments"])),
                    deadline=dt.datetime.fromisoformat(data["deadline"]) if data["custom_deadline"] else None,
                    note=note, **common,
                )
            case Action.ACCEPT:
                services.task_accept(note=note, **common)
            case Action.ASSIST_ACCEPT:
                services.task_assist_accept(note=note, **common)
            case Action.ASSIST_REPLY:
                services.task_assist_reply(reply=note, **common)
            case Action.WAIVE_ASSIST:
                services.task_waive_assist(department=Department.objects.get(pk=data["department"]), reason=note,
                                           **common)
            case Action.PROGRESS:
                services.task_note_progress(note=note, **common)
            case Action.REPLY:
                services.task_reply(outcome=data["outcome"], reply=note, **common)
            case Action.APPROVE_REPLY:
                services.task_approve_reply(note=note, **common)
            case Action.CALLBACK:
                services.task_record_callback(result=data["result"], note=note,
                                              suggestion=copy.suggestions.first(), **common)
            case Action.REDO:
                pass  # written by the callback service itself
            case Action.CLOSE:
                services.task_close(note=note, **common)
            case Action.REQUEST_RETURN:
                services.task_request_return(reason_code=data["reason_code"], reason=note, **common)
            case Action.APPROVE_RETURN:
                services.task_approve_return(note=note, **common)
            case Action.REFUSE_RETURN:
                services.task_refuse_return(note=note, **common)
            case Action.REQUEST_EXTENSION:
                services.task_request_extension(
                    deadline=dt.datetime.fromisoformat(data["requested_deadline"]), reason=note, **common)
            case Action.APPROVE_EXTENSION:
                services.task_approve_extension(note=note, **common)
            case Action.REFUSE_EXTENSION:
                services.task_refuse_extension(note=note, **common)
            case Action.SUPERVISE:
                services.task_supervise(level=data["level"], note=note, **common)
            case Action.LOOK_BACK:
                services.task_reopen_look_back(note=note, **common)
            case other:
                raise AssertionError(f"no replay for {other}")
    copy.refresh_from_db()
    return copy


_ID_KEYS = {"suggestion", "tracking_number", "request", "callback"}
_TASK_FIELDS = [
    "state", "channel", "category", "urgency", "township_id", "lead_department_id", "created_at", "reported_at",
    "reviewed_at", "assigned_at", "accepted_at", "replied_at", "closed_at", "accept_deadline", "deadline",
    "callback_deadline", "deadline_rule_id", "extension_count", "review_note", "outcome", "reply",
    "supervision_level", "redo_count", "title", "clock_paused_at", "paused_seconds", "return_count",
]


def _sample() -> list[Task]:
    """Tasks of every state and every detour (merges aside: they involve two tasks)."""
    chosen = {}
    for state in State.values:
        for task in Task.objects.filter(state=state).exclude(state=State.MERGED).order_by("id")[:2]:
            chosen[task.pk] = task
    for action in (Action.REQUEST_RETURN, Action.REFUSE_RETURN, Action.APPROVE_EXTENSION, Action.REFUSE_EXTENSION,
                   Action.REQUEST_EXTENSION, Action.SUPERVISE, Action.REDO, Action.LOOK_BACK, Action.APPROVE_REPLY,
                   Action.ASSIST_ACCEPT, Action.WAIVE_ASSIST):
        for task in Task.objects.filter(events__action=action).exclude(events__action=Action.MERGE)[:2]:
            chosen[task.pk] = task
    for task in Task.objects.filter(assists__isnull=False, state=State.CLOSED).exclude(events__action=Action.MERGE)[:2]:
        chosen[task.pk] = task
    for task in Task.objects.filter(urgency="urgent", state=State.CLOSED).exclude(events__action=Action.MERGE)[:2]:
        chosen[task.pk] = task
    return list(chosen.values())


def _events(task):
    return [
        (e.action, e.actor_id, e.at, e.from_state, e.to_state, e.note,
         {k: v for k, v in e.data.items() if k not in _ID_KEYS})
        for e in task.events.order_by("at", "id")
    ]


def test_generated_rows_are_what_the_services_write(loaded):
    sample = _sample()
    assert len(sample) > 20
    actions = set()
    for task in sample:
        copy = _replay(task)
        for field in _TASK_FIELDS:
            assert getattr(copy, field) == getattr(task, field), (task.pk, field)
        assert _events(copy) == _events(task), task.pk
        assert list(copy.callbacks.values_list("result", "note", "called_at", "called_by")) == list(
            task.callbacks.values_list("result", "note", "called_at", "called_by"))
        request_fields = ("kind", "status", "department", "reason", "reason_code", "requested_deadline",
                          "previous_state", "requested_by", "requested_at", "decided_by", "decided_at", "decision_note",
                          "granted_deadline")
        assert list(copy.requests.order_by("requested_at").values_list(*request_fields)) == list(
            task.requests.order_by("requested_at").values_list(*request_fields))
        assist_fields = ("department", "deadline", "reply", "replied_at", "accepted_at", "accepted_by", "waived_at",
                         "waived_by", "waive_reason")
        assert list(copy.assists.order_by("department").values_list(*assist_fields)) == list(
            task.assists.order_by("department").values_list(*assist_fields))
        actions |= {e[0] for e in _events(task)}
    # The demo returns a task once at most, so never arbitrates (tests/tasks/test_returns_arbitration.py does),
    # and generates no leaders' instructions (领导批示; they change no state or figure) and no score
    # exclusions (考核核减) yet.
    no_demo = {Action.ARBITRATE, Action.INSTRUCT, Action.REQUEST_EXCLUSION, Action.APPROVE_EXCLUSION,
               Action.REFUSE_EXCLUSION}
    assert actions >= set(Action.values) - {Action.MERGE, Action.REJECT_REPLY} - no_demo


def test_merged_duplicates_point_at_an_earlier_task_that_holds_their_suggestion(loaded):
    for task in Task.objects.filter(state=State.MERGED):
        merge = task.events.get(action=Action.MERGE)
        target = task.merged_into
        assert target.created_at <= task.created_at <= merge.at
        assert Suggestion.objects.filter(pk__in=merge.data["suggestions"], task=target).exists()
        target_merge = target.events.get(action=Action.MERGE, data__merged=[task.pk])
        assert target_merge.at == merge.at and target_merge.from_state == target_merge.to_state
        assert target_merge.from_state in (State.REGISTERED, State.REPORTED, State.REVIEWED)


# --- idempotency and determinism --------------------------------------------------------


def test_a_second_run_changes_nothing(loaded):
    counts, checksum = demo.table_counts(), fingerprint()
    passwords = dict(User.objects.values_list("username", "password"))
    load()
    load(seed=7, suggestions=1000)  # another seed or size does not add a second year
    assert demo.table_counts() == counts
    assert fingerprint() == checksum
    assert dict(User.objects.values_list("username", "password")) == passwords


def test_the_same_seed_gives_the_same_data(loaded):
    first = fingerprint()
    wipe_generated_year()
    assert not demo.year.year_exists()
    load()
    assert fingerprint() == first
    wipe_generated_year()
    load(seed=99)
    assert fingerprint() != first


def test_postgres_gets_its_search_indexes_and_foreign_keys_back(loaded, require_postgres):
    """The loader drops them for speed inside its transaction; they must all be there after."""
    wipe_generated_year()
    tables = ["feedback_suggestion", "tasks_task", "tasks_taskevent", "feedback_callback", "tasks_taskrequest",
              "tasks_taskassist"]
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the wipe's deferred checks would block CREATE INDEX
        cursor.execute("CREATE INDEX demo_test_content_gin ON feedback_suggestion USING gin (to_tsvector('simple', content))")

        def schema():
            cursor.execute(
                "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid::regclass::text = ANY(%s) ORDER BY 1, 2", [tables])
            constraints = cursor.fetchall()
            cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) ORDER BY 1", [tables])
            return constraints, cursor.fetchall()

        before = schema()
        assert any(definition.startswith("FOREIGN KEY") for _t, _n, definition in before[0])
        load()
        assert schema() == before
        cursor.execute("SELECT count(*) FROM feedback_suggestion WHERE to_tsvector('simple', content) @@ 'x'::tsquery")
    assert Suggestion.objects.count() == SMALL


def test_too_few_suggestions_is_refused_with_a_clear_message(loaded):
    wipe_generated_year()
    with pytest.raises(CommandError, match="--suggestions 50 is too small"):
        load(suggestions=50)
    assert not Suggestion.objects.exists() and not Task.objects.exists()
