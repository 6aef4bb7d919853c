"""主办/协办: assisting parts' sub-deadlines, acceptance, replies, waivers and the lead's resolved reply."""

import datetime as dt

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation

from feedback.models import CallbackResult
from tasks import calendar, services
from tasks.errors import DomainError
from tasks.models import Action, Outcome, State, TaskAssist, TaskEvent

from ..factories import DepartmentFactory, TaskFactory

S = State
# Monday 1 November 2021, 09:30: the week runs Mon 1 to Fri 5, then a weekend.
NOW = timezone.make_aware(dt.datetime(2021, 11, 1, 9, 30))
HOUR = dt.timedelta(hours=1)


def eod(y, m, d):
    return calendar.end_of_day(dt.date(y, m, d))


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def shuili(db):
    return DepartmentFactory(name="水利局", code="shuili")


def assigned(cast, departments, *assisting, **kwargs):
    """A reviewed task assigned by the supervisor to 住建局 with `assisting` departments, at NOW."""
    task = TaskFactory(state=S.REVIEWED, created_at=NOW - HOUR)
    return services.task_assign(
        actor=cast.supervisor, task=task, lead_department=departments.zhujian,
        assisting_departments=assisting or [departments.chengguan], now=NOW, **kwargs,
    )


def accepted(cast, departments, *assisting, **kwargs):
    task = assigned(cast, departments, *assisting, **kwargs)
    return services.task_accept(actor=cast.handler_zhujian, task=task, now=NOW + HOUR)


def writes(task) -> tuple:
    """What a refused step must leave untouched."""
    return (
        list(TaskEvent.objects.filter(task=task).values_list("pk", flat=True)),
        list(TaskAssist.objects.filter(task=task).order_by("pk").values()),
        task.__class__.objects.filter(pk=task.pk).values_list("state", "outcome", "reply").get(),
    )


def refused(call, match) -> DomainError:
    with pytest.raises(DomainError) as error:
        call()
    assert match in str(error.value), str(error.value)
    return error.value


# --- Sub-deadlines -------------------------------------------------------------------------


def test_sub_deadline_defaults_to_two_working_days_before_the_lead_across_a_weekend(cast, departments):
    task = assigned(cast, departments, deadline_days=5)
    # Five working days from Mon 1 Nov: Mon 8 Nov. Two working days before, back over the weekend: Thu 4 Nov.
    assert task.deadline == eod(2021, 11, 8)
    assert task.assists.get().deadline == eod(2021, 11, 4)
    assert task.events.latest("id").data["assist_deadline"] == timezone.localtime(eod(2021, 11, 4)).isoformat()


def test_the_supervisor_may_set_another_sub_deadline_when_assigning(cast, departments):
    task = assigned(cast, departments, deadline_days=5, assist_deadline=dt.date(2021, 11, 5))
    assert task.assists.get().deadline == eod(2021, 11, 5)
    assert task.events.latest("id").data["custom_assist_deadline"] is True


@pytest.mark.parametrize("chosen, message", [
    (dt.date(2021, 11, 9), "must not be after the lead department's"),
    (dt.date(2021, 10, 29), "has already passed"),
])
def test_a_sub_deadline_after_the_leads_or_in_the_past_is_refused(cast, departments, chosen, message):
    task = TaskFactory(state=S.REVIEWED, created_at=NOW - HOUR)
    before = writes(task)
    refused(lambda: services.task_assign(
        actor=cast.supervisor, task=task, lead_department=departments.zhujian,
        assisting_departments=[departments.chengguan], deadline_days=5, assist_deadline=chosen, now=NOW,
    ), message)
    assert writes(task) == before


def test_a_sub_deadline_without_an_assisting_department_is_refused(cast, departments):
    task = TaskFactory(state=S.REVIEWED, created_at=NOW - HOUR)
    refused(lambda: services.task_assign(
        actor=cast.supervisor, task=task, lead_department=departments.zhujian,
        assist_deadline=dt.date(2021, 11, 3), now=NOW,
    ), "needs an assisting department")


def test_an_extension_moves_open_sub_deadlines_and_keeps_answered_ones(cast, departments, shuili):
    water = DepartmentFactory(name="供水公司", code="water")
    task = accepted(cast, departments, departments.chengguan, shuili, water, deadline_days=5)
    services.task_assist_reply(actor=cast.handler_chengguan, task=task, reply="已配合", now=NOW + 2 * HOUR)
    services.task_waive_assist(actor=cast.supervisor, task=task, department=water, reason="不再需要", now=NOW + 2 * HOUR)
    services.task_request_extension(
        actor=cast.handler_zhujian, task=task, deadline=dt.date(2021, 11, 15), reason="需协调", now=NOW + 3 * HOUR
    )
    services.task_approve_extension(actor=cast.supervisor, task=task, now=NOW + 4 * HOUR)
    parts = {a.department_id: a.deadline for a in task.assists.all()}
    # Mon 15 Nov: two working days before is Thu 11 Nov; the answered parts keep Thu 4 Nov.
    assert parts == {departments.chengguan.pk: eod(2021, 11, 4), shuili.pk: eod(2021, 11, 11),
                     water.pk: eod(2021, 11, 4)}
    data = task.events.latest("id").data
    assert data["assist_deadlines"] == {str(shuili.pk): timezone.localtime(eod(2021, 11, 11)).isoformat()}


def test_an_extension_keeps_a_supervisors_later_sub_deadline(cast, departments):
    task = accepted(cast, departments, deadline_days=5, assist_deadline=dt.date(2021, 11, 8))
    services.task_request_extension(
        actor=cast.handler_zhujian, task=task, deadline=dt.date(2021, 11, 9), reason="需协调", now=NOW + 2 * HOUR
    )
    services.task_approve_extension(actor=cast.supervisor, task=task, now=NOW + 3 * HOUR)
    # The default for Tue 9 Nov would be Thu 4 Nov: the supervisor's Mon 8 Nov is later, and kept.
    assert task.assists.get().deadline == eod(2021, 11, 8)


def test_a_redo_gives_open_parts_a_sub_deadline_on_the_fresh_clock(cast, departments):
    task = accepted(cast, departments, deadline_days=5)
    services.task_reply(actor=cast.head_zhujian, task=task, outcome=Outcome.EXPLAINED, reply="已解释", now=NOW + HOUR)
    later = timezone.make_aware(dt.datetime(2021, 11, 10, 10, 0))
    services.task_record_callback(
        actor=cast.supervisor, task=task, result=CallbackResult.UNSATISFIED, note="仍未解决", now=later
    )
    task.refresh_from_db()
    assert task.state == S.IN_PROGRESS
    part = task.assists.get()
    assert part.deadline > later and part.deadline == services.assists.assist_deadline_for(task.deadline, now=later)


# --- The lead's resolved reply -------------------------------------------------------------


def test_the_leads_resolve_is_refused_while_an_assisting_reply_is_missing(cast, departments, shuili):
    task = accepted(cast, departments, departments.chengguan, shuili)
    services.task_assist_reply(actor=cast.handler_chengguan, task=task, reply="已配合清理", now=NOW + 2 * HOUR)
    before = writes(task)
    error = refused(lambda: services.task_reply(
        actor=cast.head_zhujian, task=task, outcome=Outcome.RESOLVED, reply="已修复", now=NOW + 3 * HOUR
    ), "Cannot reply as resolved")
    # Names the missing department only.
    assert "水利局" in str(error) and "城管局" not in str(error)
    assert error.field == "outcome"
    assert writes(task) == before


def test_the_leads_resolve_is_allowed_after_a_waiver(cast, departments):
    task = accepted(cast, departments)
    part = services.task_waive_assist(
        actor=cast.supervisor, task=task, department=departments.chengguan, reason="城管局职责已移交", now=NOW + 2 * HOUR
    )
    assert (part.waived_at, part.waived_by, part.waive_reason) == (NOW + 2 * HOUR, cast.supervisor, "城管局职责已移交")
    event = task.events.latest("id")
    assert (event.action, event.actor, event.note, event.data["department"]) == (
        Action.WAIVE_ASSIST, cast.supervisor, "城管局职责已移交", departments.chengguan.pk
    )
    services.task_reply(actor=cast.head_zhujian, task=task, outcome=Outcome.RESOLVED, reply="已修复", now=NOW + 3 * HOUR)
    assert (task.state, task.outcome) == (S.REPLIED, Outcome.RESOLVED)


def test_the_leads_resolve_is_allowed_once_every_assisting_reply_is_in(cast, departments):
    task = accepted(cast, departments)
    services.task_assist_reply(actor=cast.head_chengguan, task=task, reply="已配合", now=NOW + 2 * HOUR)
    services.task_reply(
        actor=cast.handler_zhujian, task=task, outcome=Outcome.RESOLVED, reply="已修复", now=NOW + 3 * HOUR
    )
    services.task_approve_reply(actor=cast.head_zhujian, task=task, now=NOW + 4 * HOUR)
    assert (task.state, task.outcome) == (S.REPLIED, Outcome.RESOLVED)


@pytest.mark.parametrize("outcome", [Outcome.EXPLAINED, Outcome.UNRESOLVABLE])
def test_explained_and_unresolvable_replies_do_not_wait_for_assisting_replies(cast, departments, outcome):
    task = accepted(cast, departments)
    services.task_reply(actor=cast.head_zhujian, task=task, outcome=outcome, reply="已向群众解释", now=NOW + 2 * HOUR)
    assert (task.state, task.outcome) == (S.REPLIED, outcome)


# --- Acceptance and reply of a part ----------------------------------------------------------


@pytest.mark.parametrize("who", ["handler_chengguan", "head_chengguan"])
def test_the_assisting_department_accepts_its_part(cast, departments, who):
    task = assigned(cast, departments)
    actor = getattr(cast, who)
    part = services.task_assist_accept(actor=actor, task=task, note="已签收", now=NOW + HOUR)
    assert (part.accepted_at, part.accepted_by) == (NOW + HOUR, actor)
    task.refresh_from_db()
    assert task.state == S.ASSIGNED  # the lead has not accepted; the part's acceptance is its own
    event = task.events.latest("id")
    assert (event.action, event.from_state, event.to_state, event.data["department"]) == (
        Action.ASSIST_ACCEPT, S.ASSIGNED, S.ASSIGNED, departments.chengguan.pk
    )
    refused(lambda: services.task_assist_accept(actor=actor, task=task, now=NOW + 2 * HOUR), "already accepted")


def test_only_the_assisting_department_accepts_and_replies_for_its_part(cast, departments, shuili):
    task = assigned(cast, departments)
    before = writes(task)
    for action in ("task_assist_accept", "task_assist_reply"):
        kwargs = {"reply": "x"} if action == "task_assist_reply" else {}
        service = getattr(services, action)
        refused(lambda: service(actor=cast.handler_zhujian, task=task, now=NOW, **kwargs), "leads this task")
        refused(lambda: service(actor=cast.supervisor, task=task, now=NOW, **kwargs), "may not")
        outsider = cast.handler_chengguan
        outsider.department = shuili
        refused(lambda: service(actor=outsider, task=task, now=NOW, **kwargs), "not assisting")
        outsider.department = departments.chengguan
    assert writes(task) == before


def test_a_reply_accepts_the_part_implicitly_and_is_given_once(cast, departments):
    task = assigned(cast, departments)
    part = services.task_assist_reply(actor=cast.handler_chengguan, task=task, reply="已配合断电", now=NOW + HOUR)
    assert (part.accepted_at, part.accepted_by, part.replied_at) == (NOW + HOUR, cast.handler_chengguan, NOW + HOUR)
    assert task.events.latest("id").data["accepted_with_reply"] is True
    refused(lambda: services.task_assist_reply(actor=cast.head_chengguan, task=task, reply="再次", now=NOW + 2 * HOUR),
            "already replied")
    refused(lambda: services.task_assist_accept(actor=cast.head_chengguan, task=task, now=NOW + 2 * HOUR),
            "already accepted")


def test_a_reply_after_acceptance_keeps_the_acceptance(cast, departments):
    task = assigned(cast, departments)
    services.task_assist_accept(actor=cast.head_chengguan, task=task, now=NOW + HOUR)
    part = services.task_assist_reply(actor=cast.handler_chengguan, task=task, reply="已配合", now=NOW + 2 * HOUR)
    assert (part.accepted_at, part.accepted_by) == (NOW + HOUR, cast.head_chengguan)
    assert task.events.latest("id").data["accepted_with_reply"] is False


# --- Waivers ---------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["handler_zhujian", "head_zhujian", "head_chengguan", "leader", "admin"])
def test_only_the_supervisor_waives(cast, departments, who):
    task = accepted(cast, departments)
    before = writes(task)
    refused(lambda: services.task_waive_assist(
        actor=getattr(cast, who), task=task, department=departments.chengguan, reason="x", now=NOW + 2 * HOUR
    ), "may not waive an assisting reply")
    assert writes(task) == before


def test_a_waiver_needs_a_reason_and_an_open_part(cast, departments, shuili):
    task = accepted(cast, departments)
    refused(lambda: services.task_waive_assist(
        actor=cast.supervisor, task=task, department=departments.chengguan, reason="  ", now=NOW + 2 * HOUR
    ), "reason")
    refused(lambda: services.task_waive_assist(
        actor=cast.supervisor, task=task, department=shuili, reason="x", now=NOW + 2 * HOUR
    ), "not assisting")
    services.task_assist_reply(actor=cast.handler_chengguan, task=task, reply="已配合", now=NOW + 2 * HOUR)
    refused(lambda: services.task_waive_assist(
        actor=cast.supervisor, task=task, department=departments.chengguan, reason="x", now=NOW + 3 * HOUR
    ), "No assisting reply is missing")


def test_a_waived_part_cannot_reply_or_accept_any_more(cast, departments):
    task = assigned(cast, departments)
    services.task_waive_assist(
        actor=cast.supervisor, task=task, department=departments.chengguan, reason="另行处理", now=NOW + HOUR
    )
    assert services.available_actions(task, cast.handler_chengguan) == []
    refused(lambda: services.task_assist_reply(actor=cast.handler_chengguan, task=task, reply="x", now=NOW + 2 * HOUR),
            "waived")


# --- Pages -----------------------------------------------------------------------------------


def _login(client, user):
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


def test_the_assisting_handler_accepts_on_the_detail_page(client, cast, departments):
    task = assigned(cast, departments)
    _login(client, cast.handler_chengguan)
    response = client.post(reverse("tasks:action", args=[task.pk, "assist_accept"]), {"note": "签收"})
    assert response.status_code == 302
    part = task.assists.get()
    assert part.accepted_by == cast.handler_chengguan
    page = client.get(reverse("tasks:detail", args=[task.pk])).text
    assert 'data-assist-status="accepted" data-mine="true"' in page
    assert 'data-action="assist_accept"' in page  # on the timeline


def test_other_departments_cannot_act_on_a_part(client, cast, departments, shuili):
    task = assigned(cast, departments)
    stranger = cast.handler_chengguan
    stranger.department = shuili
    stranger.save()
    _login(client, stranger)
    assert client.post(reverse("tasks:action", args=[task.pk, "assist_accept"])).status_code == 404
    _login(client, cast.handler_zhujian)
    assert client.post(reverse("tasks:action", args=[task.pk, "assist_accept"])).status_code == 409
    assert client.post(reverse("tasks:action", args=[task.pk, "waive_assist"]),
                       {"department": departments.chengguan.pk, "reason": "x"}).status_code == 409
    assert task.assists.get().accepted_at is None and task.assists.get().waived_at is None


def test_the_supervisor_waives_on_the_detail_page_and_the_lead_sees_what_it_waits_for(client, cast, departments):
    task = accepted(cast, departments)
    _login(client, cast.head_zhujian)
    page = client.get(reverse("tasks:detail", args=[task.pk])).text
    assert 'id="assist-waiting"' in page and "城管局" in page
    response = client.post(reverse("tasks:action", args=[task.pk, "reply"]),
                           {"outcome": Outcome.RESOLVED, "reply": "已修复"})
    assert response.status_code == 409 and "Cannot reply as resolved" in response.text

    _login(client, cast.supervisor)
    response = client.post(reverse("tasks:action", args=[task.pk, "waive_assist"]),
                           {"department": departments.chengguan.pk, "reason": "已由乡镇处理"})
    assert response.status_code == 302
    page = client.get(reverse("tasks:detail", args=[task.pk])).text
    assert 'data-assist-status="waived"' in page and "已由乡镇处理" in page
    assert 'id="assist-waiting"' not in page

    _login(client, cast.head_zhujian)
    response = client.post(reverse("tasks:action", args=[task.pk, "reply"]),
                           {"outcome": Outcome.RESOLVED, "reply": "已修复"})
    assert response.status_code == 302


def test_the_assisting_list_shows_the_parts_with_their_sub_deadlines(client, cast, departments):
    task = assigned(cast, departments, deadline_days=5)
    done = assigned(cast, departments)
    services.task_assist_reply(actor=cast.handler_chengguan, task=done, reply="已配合", now=NOW + HOUR)
    _login(client, cast.handler_chengguan)
    page = client.get(reverse("tasks:assisting")).text
    rows = page[page.index('id="assist-parts"'):]
    # Owed parts first.
    assert rows.index(f'data-task-id="{task.pk}"') < rows.index(f'data-task-id="{done.pk}"')
    assert "2021-11-04 23:59" in rows and "to accept" in rows and "replied" in rows
    _login(client, cast.handler_zhujian)
    page = client.get(reverse("tasks:assisting")).text
    assert f'data-task-id="{task.pk}"' not in page


def _home_queries(client, user) -> tuple[int, str]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _login(client, user)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("home"))
    assert response.status_code == 200
    return len(queries), response.text


def test_the_assisting_departments_home_lists_owed_parts_without_more_queries_per_part(client, cast, departments):
    first = assigned(cast, departments, deadline_days=5)
    few, html = _home_queries(client, cast.handler_chengguan)
    panel = html[html.index('id="department-assist-parts"'):]
    assert f'data-task-id="{first.pk}"' in panel and "2021-11-04 23:59" in panel
    assert 'data-to-accept="1"' in panel
    for _ in range(4):
        assigned(cast, departments)
    many, _html = _home_queries(client, cast.handler_chengguan)
    assert few == many
    # The lead department's home has no such panel.
    assert 'id="department-assist-parts"' not in _home_queries(client, cast.handler_zhujian)[1]


def test_the_assisting_list_query_count_does_not_grow_with_parts(client, cast, departments):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    assigned(cast, departments)
    _login(client, cast.handler_chengguan)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("tasks:assisting")).status_code == 200
        return len(queries)

    few = count()
    for _ in range(4):
        assigned(cast, departments)
    assert count() == few


def test_the_assign_form_takes_the_supervisors_sub_deadline(client, cast, departments):
    task = TaskFactory(state=S.REVIEWED)
    _login(client, cast.supervisor)
    url = reverse("tasks:action", args=[task.pk, "assign"])
    later = timezone.localdate() + dt.timedelta(days=30)
    lead = {"lead_department": departments.zhujian.pk, "deadline": (later + dt.timedelta(days=5)).isoformat()}
    response = client.post(url, {**lead, "assist_deadline": later.isoformat()})
    assert response.status_code == 400 and "needs an assisting department" in response.text
    response = client.post(url, {**lead, "assisting_departments": [departments.chengguan.pk],
                                 "assist_deadline": later.isoformat()})
    assert response.status_code == 302
    assert task.assists.get().deadline == calendar.end_of_day(later)
