"""考核核减: who may apply and decide, the timeline, the evidence file, and what an approval does to the report cards."""

import datetime as dt
import io
import json
import re
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from tasks.errors import DomainError
from tasks.models import Action, ScoreExclusion, State, TaskAssist, TaskEvent
from tasks.reportcards import (
    EXCLUDED,
    FIGURE_CODES,
    LIVE,
    ROLLUP,
    city,
    for_department,
    for_township,
    parse_period,
    records_for,
    report_card,
    rollups_refresh,
)
from tasks.services.exclusions import exclusion_approve, exclusion_refuse, task_request_exclusion

from ..access_matrix_fixtures import PNG
from ..factories import TaskFactory

TZ = ZoneInfo("Asia/Shanghai")
Reason, Status = ScoreExclusion.Reason, ScoreExclusion.Status


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def closed_task(department, township, day):
    at = dt.datetime(2021, 10, day, 9, tzinfo=TZ)
    return TaskFactory(
        state=State.CLOSED, lead_department=department, township=township, assigned_at=at,
        accepted_at=at + dt.timedelta(hours=1), replied_at=at + dt.timedelta(days=1),
        closed_at=at + dt.timedelta(days=2), deadline=at + dt.timedelta(days=5),
    )


@pytest.fixture
def task(departments, township):
    return closed_task(departments.zhujian, township, 11)


def apply(cast, task, **kwargs):
    kwargs.setdefault("reason", Reason.UNREASONABLE)
    kwargs.setdefault("text", "诉求人要求拆除合法建筑，不合理。")
    return task_request_exclusion(actor=kwargs.pop("actor", cast.handler_zhujian), task=task, **kwargs)


def events(task, action):
    return list(TaskEvent.objects.filter(task=task, action=action))


# --- The service: who, once, on the timeline ------------------------------------------------


def test_the_lead_department_applies_and_the_supervisor_approves_each_on_the_timeline(cast, task):
    exclusion = apply(cast, task)
    assert (exclusion.status, exclusion.department_id) == (Status.PENDING, task.lead_department_id)
    [applied] = events(task, Action.REQUEST_EXCLUSION)
    assert (applied.actor, applied.from_state, applied.to_state) == (cast.handler_zhujian, State.CLOSED, State.CLOSED)
    assert applied.data["exclusion"] == exclusion.pk
    exclusion_approve(actor=cast.supervisor, exclusion=exclusion, note="情况属实")
    exclusion.refresh_from_db()
    assert (exclusion.status, exclusion.decided_by) == (Status.APPROVED, cast.supervisor)
    assert exclusion.decision_note == "情况属实"
    assert len(events(task, Action.APPROVE_EXCLUSION)) == 1


def test_one_open_application_per_task_and_department(cast, task):
    first = apply(cast, task)
    with translation.override("en"), pytest.raises(DomainError, match="already"):
        apply(cast, task, actor=cast.head_zhujian)
    exclusion_approve(actor=cast.supervisor, exclusion=first)
    with translation.override("en"), pytest.raises(DomainError, match="already"):
        apply(cast, task)  # approved: nothing left to apply for
    assert ScoreExclusion.objects.count() == 1 and len(events(task, Action.REQUEST_EXCLUSION)) == 1


def test_a_refusal_needs_a_reason_and_lets_the_department_apply_again(cast, task):
    exclusion = apply(cast, task)
    with pytest.raises(DomainError):
        exclusion_refuse(actor=cast.supervisor, exclusion=exclusion, note=" ")
    exclusion_refuse(actor=cast.supervisor, exclusion=exclusion, note="属于职责范围")
    assert len(events(task, Action.REFUSE_EXCLUSION)) == 1
    with translation.override("en"), pytest.raises(DomainError, match="already decided"):
        exclusion_approve(actor=cast.supervisor, exclusion=exclusion)
    assert apply(cast, task).status == Status.PENDING


@pytest.mark.parametrize("role", ["handler_chengguan", "head_chengguan", "supervisor", "leader", "registrar"])
def test_no_one_but_the_lead_department_applies(cast, task, role):
    TaskAssist.objects.create(task=task, department=cast.handler_chengguan.department)  # even assisting
    with pytest.raises(DomainError):
        apply(cast, task, actor=getattr(cast, role))
    assert not ScoreExclusion.objects.exists() and not events(task, Action.REQUEST_EXCLUSION)


def test_a_department_cannot_apply_before_the_task_is_its_own(cast, departments, township):
    unassigned = TaskFactory(state=State.REGISTERED, township=township)
    with pytest.raises(DomainError):
        apply(cast, unassigned)


@pytest.mark.parametrize("role", ["handler_zhujian", "head_zhujian", "leader", "head_chengguan"])
def test_only_a_supervisor_decides(cast, task, role):
    exclusion = apply(cast, task)
    with pytest.raises(DomainError):
        exclusion_approve(actor=getattr(cast, role), exclusion=exclusion)
    with pytest.raises(DomainError):
        exclusion_refuse(actor=getattr(cast, role), exclusion=exclusion, note="不同意")
    exclusion.refresh_from_db()
    assert exclusion.status == Status.PENDING and not events(task, Action.APPROVE_EXCLUSION)


# --- Evidence -------------------------------------------------------------------------------


def test_evidence_is_judged_by_its_content_and_served_only_to_those_who_may_read_it(client, cast, task, media):
    TaskAssist.objects.create(task=task, department=cast.handler_chengguan.department)
    exclusion = apply(cast, task, evidence=SimpleUploadedFile("现场.jpg", PNG, content_type="image/jpeg"))
    assert (exclusion.evidence_type, exclusion.evidence_name) == ("image/png", "现场.jpg")
    url = reverse("tasks:exclusion_evidence", args=[exclusion.pk])
    for user in (cast.handler_zhujian, cast.head_zhujian, cast.supervisor, cast.leader):
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200 and b"".join(response.streaming_content) == PNG
        assert response["Content-Type"] == "image/png" and response["X-Content-Type-Options"] == "nosniff"
    # The assisting department sees the task, but not the lead's application; others not even that.
    for user in (cast.handler_chengguan, cast.head_chengguan, cast.registrar, cast.outsider):
        client.force_login(user)
        assert client.get(url).status_code == 404


@pytest.mark.parametrize("content", [b"<html><script>alert(1)</script></html>", b"RIFF\x00\x00\x00\x00WEBPVP8 "])
def test_html_or_webp_named_png_is_refused_and_nothing_is_stored(cast, task, media, content):
    with pytest.raises(DomainError) as refused:
        apply(cast, task, evidence=SimpleUploadedFile("证据.png", content, content_type="image/png"))
    assert refused.value.field == "evidence" and "证据.png" in str(refused.value)
    assert not ScoreExclusion.objects.exists()
    assert not media.exists() or not any(p.is_file() for p in media.rglob("*"))


# --- The pages ------------------------------------------------------------------------------


def _login(client, user):
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


def test_apply_on_the_task_page_and_decide_in_the_queue(client, cast, task, media):
    _login(client, cast.head_zhujian)
    detail = reverse("tasks:detail", args=[task.pk])
    assert 'id="exclusion-request-form"' in client.get(detail).text
    response = client.post(reverse("tasks:exclusion_request", args=[task.pk]), {
        "reason": Reason.BEYOND_POLICY, "text": "超出政策范围",
        "evidence": SimpleUploadedFile("scan.pdf", b"%PDF-1.4\n%\xe2\xe3\n", content_type="application/pdf"),
    })
    assert response.status_code == 302 and response["Location"] == detail
    exclusion = ScoreExclusion.objects.get()
    assert (exclusion.reason, exclusion.evidence_type) == (Reason.BEYOND_POLICY, "application/pdf")
    page = client.get(detail).text
    assert f'data-exclusion-id="{exclusion.pk}" data-status="pending"' in page
    assert 'id="exclusion-request-form"' not in page  # one open application
    assert client.get(reverse("tasks:exclusions")).status_code == 403
    decide = reverse("tasks:exclusion_decide", args=[exclusion.pk])
    assert client.post(decide, {"decision": "approve"}).status_code == 409

    _login(client, cast.supervisor)
    queue = client.get(reverse("tasks:exclusions")).text
    assert f'data-exclusion-id="{exclusion.pk}"' in queue and f'id="exclusion-decide-{exclusion.pk}"' in queue
    refused = client.post(decide, {"decision": "refuse", "next": "queue"})
    assert refused.status_code == 400 and ScoreExclusion.objects.get().is_pending  # a refusal needs a note
    done = client.post(decide, {"decision": "approve", "next": "queue"})
    assert done.status_code == 302 and done["Location"] == reverse("tasks:exclusions")
    assert ScoreExclusion.objects.get().status == Status.APPROVED
    assert 'id="no-pending-exclusions"' in client.get(reverse("tasks:exclusions")).text
    assert "score exclusion: beyond policy, 住建局" in client.get(detail).text  # on the timeline
    assert [e.action for e in TaskEvent.objects.filter(task=task).order_by("at", "pk")][-2:] == [
        Action.REQUEST_EXCLUSION, Action.APPROVE_EXCLUSION,
    ]


def test_html_renamed_png_is_refused_on_the_page_with_the_reason(client, cast, task, media):
    _login(client, cast.handler_zhujian)
    response = client.post(reverse("tasks:exclusion_request", args=[task.pk]), {
        "reason": Reason.OTHER, "text": "其他原因",
        "evidence": SimpleUploadedFile("photo.png", b"<!doctype html><p>hi</p>", content_type="image/png"),
    })
    assert response.status_code == 409 and "judged by its content" in response.text
    assert "其他原因" in response.text  # the form keeps what was typed
    assert not ScoreExclusion.objects.exists()


def test_another_department_cannot_apply_through_the_page(client, cast, task):
    _login(client, cast.handler_chengguan)
    url = reverse("tasks:exclusion_request", args=[task.pk])
    assert client.post(url, {"reason": Reason.OTHER, "text": "x"}).status_code == 404
    TaskAssist.objects.create(task=task, department=cast.handler_chengguan.department)
    assert client.post(url, {"reason": Reason.OTHER, "text": "x"}).status_code == 409
    assert not ScoreExclusion.objects.exists()


# --- The report cards -----------------------------------------------------------------------

OCTOBER = parse_period("2021-10")


def _figures(scope, source=LIVE):
    card = report_card(scope, OCTOBER, source=source, now=dt.datetime(2021, 11, 30, tzinfo=TZ))
    return {code: card[code] for code in FIGURE_CODES}, card


def test_an_approved_exclusion_leaves_the_task_out_and_the_link_lists_exactly_it(client, cast, departments, task):
    other = closed_task(departments.zhujian, task.township, 12)
    elsewhere = closed_task(departments.chengguan, task.township, 13)
    scopes = [for_department(departments.zhujian), city(), for_township(task.township)]
    before = {scope: _figures(scope)[0] for scope in scopes}
    refused = apply(cast, task)
    exclusion_refuse(actor=cast.supervisor, exclusion=refused, note="不属实")
    assert {scope: _figures(scope)[0] for scope in scopes} == before  # a refused one changes nothing
    exclusion_approve(actor=cast.supervisor, exclusion=apply(cast, task))

    zhujian, card = _figures(scopes[0])
    assert (zhujian["assigned"], zhujian["closed"]) == (before[scopes[0]]["assigned"] - 1, 1)
    for code in ("assigned", "closed", "closure_rate", "on_time_rate", "timely_acceptance", "return_rate"):
        assert card.excluded(code) == 1, code
        assert set(records_for(code, scopes[0], OCTOBER, part=EXCLUDED).values_list("pk", flat=True)) == {task.pk}
    assert card["received"] == before[scopes[0]]["received"] and card.excluded("received") is None
    # The city and the township leave it out too, so departments still add up to the city.
    assert _figures(city())[0]["assigned"] == before[city()]["assigned"] - 1
    assert _figures(scopes[2])[0]["closed"] == before[scopes[2]]["closed"] - 1
    assert _figures(for_department(departments.chengguan))[1].excluded("assigned") == 0
    # Still in every list.
    assert set(records_for("assigned", scopes[0], OCTOBER).values_list("pk", flat=True)) == {other.pk}
    assert elsewhere.pk not in set(records_for("assigned", scopes[0], OCTOBER).values_list("pk", flat=True))

    _login(client, cast.head_zhujian)
    text = client.get(reverse("reports:department_card", args=["zhujian"]) + "?period=2021-10").text
    pattern = r'href="([^"]+)" class="rc-excluded" data-exclusion="assigned" data-excluded="(\d+)"'
    links = dict(re.findall(pattern, text))
    [(href, count)] = links.items()
    assert count == "1"
    listed = client.get(href.replace("&amp;", "&")).text
    assert re.findall(r'data-record-id="(\d+)"', listed) == [str(task.pk)]
    assert 'data-total="1"' in listed
    # Rollups say the same.
    rollups_refresh()
    for scope in scopes:
        live, live_card = _figures(scope)
        summed, rollup_card = _figures(scope, ROLLUP)
        assert rollup_card.source == ROLLUP and summed == live
        assert [rollup_card.excluded(c) for c in FIGURE_CODES] == [live_card.excluded(c) for c in FIGURE_CODES]


def test_a_refused_exclusion_changes_no_figure_no_count_and_no_link(client, cast, departments, task):
    scope = for_department(departments.zhujian)
    before, before_card = _figures(scope)
    exclusion_refuse(actor=cast.supervisor, exclusion=apply(cast, task), note="不属实")
    after, card = _figures(scope)
    assert after == before
    for code in FIGURE_CODES:
        assert card.excluded(code) == before_card.excluded(code), code
        assert card.excluded(code) in (0, None), code
        if card.excluded(code) is not None:
            assert not records_for(code, scope, OCTOBER, part=EXCLUDED).exists(), code
    assert task.pk in set(records_for("assigned", scope, OCTOBER).values_list("pk", flat=True))
    _login(client, cast.head_zhujian)
    text = client.get(reverse("reports:department_card", args=["zhujian"]) + "?period=2021-10").text
    assert "report-card" in text or "rc-" in text  # the card itself was shown
    assert not re.search(r'data-excluded="[1-9]', text)  # no "核减 N" beside any figure


def test_an_exclusion_stops_counting_once_another_department_leads_the_task(cast, departments, task):
    exclusion_approve(actor=cast.supervisor, exclusion=apply(cast, task))
    assert _figures(city())[1].excluded("assigned") == 1
    task.lead_department = departments.chengguan  # returned and reassigned
    task.save(update_fields=["lead_department"])
    figures, card = _figures(for_department(departments.chengguan))
    assert figures["assigned"] == 1 and card.excluded("assigned") == 0
    assert _figures(city())[1].excluded("assigned") == 0


def test_the_command_reports_the_excluded_records_beside_each_figure(cast, departments, task):
    exclusion_approve(actor=cast.supervisor, exclusion=apply(cast, task))
    out = io.StringIO()
    call_command("report_card", "--scope", "department", "zhujian", "--period", "2021-10", "--live", stdout=out)
    data = json.loads(out.getvalue())
    assert (data["assigned"], data["closed"], data["closure_rate"]) == (0, 0, None)
    assert data["details"]["assigned"] == {"excluded": 1}
    assert data["details"]["closure_rate"] == {"numerator": 0, "denominator": 0, "excluded": 1}
    assert "excluded" not in data["details"].get("received", {})
