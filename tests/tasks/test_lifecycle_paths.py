"""The lifecycle's paths end to end: the timeline, replies, deadlines, extensions, returns, redo, merge, look-back."""

import datetime as dt

import pytest
from django.utils import timezone

from feedback.models import Callback, CallbackResult, Channel, Suggestion
from feedback.services import suggestion_register
from tasks import deadlines, services
from tasks.errors import DomainError
from tasks.models import Action, Outcome, State, SupervisionLevel, Task, TaskAssist, TaskEvent, TaskRequest

from ..factories import DepartmentFactory, SuggestionFactory
from .test_lifecycle import NOW, english, place, snapshot  # noqa: F401  (english: an autouse fixture)

S = State
HOUR = dt.timedelta(hours=1)


def refused(fn, match: str):
    """Call `fn`, expect a DomainError whose message contains `match`, and prove nothing was written."""
    before = snapshot()
    with pytest.raises(DomainError) as error:
        fn()
    assert match in str(error.value)
    assert snapshot() == before
    return error.value


def test_a_suggestion_travels_the_whole_lifecycle_and_the_timeline_says_who_when_from_to(cast, departments, township):
    suggestion = suggestion_register(
        actor=cast.registrar, channel=Channel.HOTLINE, received_at=NOW - HOUR, township=township,
        content="东关村路灯不亮已有一周", now=NOW,
    )
    task = suggestion.task
    steps = [
        (cast.supervisor, lambda at: services.task_report(actor=cast.supervisor, task=task, now=at)),
        (cast.leader, lambda at: services.task_review(actor=cast.leader, task=task, note="尽快解决", now=at)),
        (cast.supervisor, lambda at: services.task_assign(
            actor=cast.supervisor, task=task, lead_department=departments.zhujian, now=at)),
        (cast.handler_zhujian, lambda at: services.task_accept(actor=cast.handler_zhujian, task=task, now=at)),
        (cast.handler_zhujian, lambda at: services.task_note_progress(
            actor=cast.handler_zhujian, task=task, note="已联系供电公司", now=at)),
        (cast.handler_zhujian, lambda at: services.task_reply(
            actor=cast.handler_zhujian, task=task, outcome=Outcome.RESOLVED, reply="路灯已修复", now=at)),
        (cast.head_zhujian, lambda at: services.task_approve_reply(actor=cast.head_zhujian, task=task, now=at)),
        (cast.supervisor, lambda at: services.task_record_callback(
            actor=cast.supervisor, task=task, result=CallbackResult.SATISFIED, now=at)),
        (cast.supervisor, lambda at: services.task_close(actor=cast.supervisor, task=task, now=at)),
    ]
    for hour, (_, step) in enumerate(steps, start=1):
        step(NOW + hour * HOUR)

    task.refresh_from_db()
    assert task.state == S.CLOSED
    assert task.review_note == "尽快解决"
    assert task.reported_at == NOW + HOUR and task.reviewed_at == NOW + 2 * HOUR
    assert task.assigned_at == NOW + 3 * HOUR and task.accepted_at == NOW + 4 * HOUR
    assert task.replied_at == NOW + 7 * HOUR and task.closed_at == NOW + 9 * HOUR
    assert task.closed_on_time()
    timeline = list(task.events.values_list("action", "actor", "at", "from_state", "to_state", "note"))
    assert timeline == [
        (Action.REGISTER, cast.registrar.pk, NOW, "", S.REGISTERED, ""),
        (Action.REPORT, cast.supervisor.pk, NOW + HOUR, S.REGISTERED, S.REPORTED, ""),
        (Action.REVIEW, cast.leader.pk, NOW + 2 * HOUR, S.REPORTED, S.REVIEWED, "尽快解决"),
        (Action.ASSIGN, cast.supervisor.pk, NOW + 3 * HOUR, S.REVIEWED, S.ASSIGNED, ""),
        (Action.ACCEPT, cast.handler_zhujian.pk, NOW + 4 * HOUR, S.ASSIGNED, S.ACCEPTED, ""),
        (Action.PROGRESS, cast.handler_zhujian.pk, NOW + 5 * HOUR, S.ACCEPTED, S.IN_PROGRESS, "已联系供电公司"),
        (Action.REPLY, cast.handler_zhujian.pk, NOW + 6 * HOUR, S.IN_PROGRESS, S.AWAITING_APPROVAL, "路灯已修复"),
        (Action.APPROVE_REPLY, cast.head_zhujian.pk, NOW + 7 * HOUR, S.AWAITING_APPROVAL, S.REPLIED, ""),
        (Action.CALLBACK, cast.supervisor.pk, NOW + 8 * HOUR, S.REPLIED, S.CALLED_BACK, ""),
        (Action.CLOSE, cast.supervisor.pk, NOW + 9 * HOUR, S.CALLED_BACK, S.CLOSED, ""),
    ]


def test_the_service_updates_the_callers_instance(cast, departments):
    task = place(S.ASSIGNED, cast, departments)
    returned = services.task_accept(actor=cast.handler_zhujian, task=task, now=NOW)
    assert returned is task and task.state == S.ACCEPTED and task.accepted_at == NOW


def test_a_second_click_on_a_stale_instance_is_refused(cast, departments):
    task = place(S.ASSIGNED, cast, departments)
    stale = Task.objects.get(pk=task.pk)
    services.task_accept(actor=cast.handler_zhujian, task=task, now=NOW)
    assert stale.state == S.ASSIGNED
    refused(lambda: services.task_accept(actor=cast.head_zhujian, task=stale, now=NOW), "“accepted”")
    assert TaskEvent.objects.filter(task=task, action=Action.ACCEPT).count() == 1


# Replies


def test_a_heads_reply_goes_out_at_once_with_a_callback_deadline(cast, departments):
    task = place(S.IN_PROGRESS, cast, departments)
    services.task_reply(actor=cast.head_zhujian, task=task, outcome=Outcome.EXPLAINED, reply="已向群众解释政策", now=NOW)
    assert (task.state, task.outcome, task.reply, task.replied_at) == (S.REPLIED, Outcome.EXPLAINED, "已向群众解释政策", NOW)
    assert task.callback_deadline == deadlines.callback_deadline(
        category=task.category, urgency=task.urgency, channel=task.channel, replied_at=NOW
    )


def test_a_handlers_reply_waits_for_the_head_and_can_be_sent_back(cast, departments):
    task = place(S.ACCEPTED, cast, departments)
    services.task_reply(actor=cast.handler_zhujian, task=task, outcome=Outcome.EXPLAINED, reply="已解释", now=NOW)
    assert task.state == S.AWAITING_APPROVAL and task.replied_at is None
    refused(lambda: services.task_reject_reply(actor=cast.head_zhujian, task=task, note=" ", now=NOW), "sent back")
    services.task_reject_reply(actor=cast.head_zhujian, task=task, note="请附现场照片", now=NOW + HOUR)
    assert task.state == S.IN_PROGRESS
    event = task.events.latest("id")
    assert (event.action, event.note, event.actor) == (Action.REJECT_REPLY, "请附现场照片", cast.head_zhujian)


def test_a_handler_cannot_approve_replies(cast, departments):
    task = place(S.AWAITING_APPROVAL, cast, departments)
    refused(lambda: services.task_approve_reply(actor=cast.handler_zhujian, task=task, now=NOW), "department head")


@pytest.mark.parametrize(
    "outcome, reply, message",
    [
        ("", "已修复", "Choose the outcome"),
        ("fixed", "已修复", "Choose the outcome"),
        (Outcome.RESOLVED, "   ", "Write the reply"),
        (Outcome.UNRESOLVABLE, "", "the reason why the problem cannot be resolved"),
        (Outcome.RESOLVED, "修" * 5001, "too long"),
    ],
)
def test_a_reply_needs_an_outcome_and_a_text(cast, departments, outcome, reply, message):
    task = place(S.IN_PROGRESS, cast, departments)
    refused(
        lambda: services.task_reply(actor=cast.head_zhujian, task=task, outcome=outcome, reply=reply, now=NOW), message
    )


def test_unresolvable_with_its_reason_is_a_valid_reply(cast, departments):
    task = place(S.IN_PROGRESS, cast, departments)
    services.task_reply(
        actor=cast.head_zhujian, task=task, outcome=Outcome.UNRESOLVABLE, reply="该路段规划拆迁，暂不具备条件", now=NOW
    )
    assert task.state == S.REPLIED and task.outcome == Outcome.UNRESOLVABLE


# Department limits


def test_a_handler_of_another_department_is_told_it_is_not_their_task(cast, departments):
    task = place(S.ASSIGNED, cast, departments)
    error = refused(
        lambda: services.task_accept(actor=cast.handler_chengguan, task=task, now=NOW), "not your department's task"
    )
    assert str(error) == "This is not your department's task."
    assert services.available_actions(task, cast.handler_chengguan) == ["assist_accept", "assist_reply"]


def test_an_assisting_department_may_only_give_its_assisting_reply(cast, departments):
    task = place(S.IN_PROGRESS, cast, departments)
    for action in ("note_progress", "reply", "request_return", "request_extension"):
        assert not services.can(action, task, cast.head_chengguan)
    assist = services.task_assist_reply(actor=cast.head_chengguan, task=task, reply="已配合清理占道", now=NOW)
    assert (assist.department, assist.reply, assist.replied_at) == (departments.chengguan, "已配合清理占道", NOW)
    task.refresh_from_db()
    assert task.state == S.IN_PROGRESS
    event = task.events.latest("id")
    assert (event.from_state, event.to_state, event.data["department"]) == (S.IN_PROGRESS, S.IN_PROGRESS,
                                                                           departments.chengguan.pk)


def test_the_lead_department_and_a_third_one_cannot_give_an_assisting_reply(cast, departments):
    task = place(S.IN_PROGRESS, cast, departments)
    refused(lambda: services.task_assist_reply(actor=cast.handler_zhujian, task=task, reply="x", now=NOW),
            "leads this task")
    third = DepartmentFactory(name="水利局", code="shuili")
    cast.handler_chengguan.department = third
    refused(lambda: services.task_assist_reply(actor=cast.handler_chengguan, task=task, reply="x", now=NOW),
            "not assisting")


def test_available_actions_follow_the_state_and_the_role(cast, departments):
    task = place(S.IN_PROGRESS, cast, departments)
    assert services.available_actions(task, cast.handler_zhujian) == [
        "note_progress", "reply", "request_return", "request_extension"
    ]
    # The assisting reply of 城管局 is missing: the supervisor may waive it.
    assert services.available_actions(task, cast.supervisor) == ["waive_assist", "supervise"]
    assert services.available_actions(task, cast.leader) == []
    assert services.available_actions(task, cast.admin) == []
    place_ext = place(S.IN_PROGRESS, cast, departments, pending_extension=True)
    assert "request_extension" not in services.available_actions(place_ext, cast.handler_zhujian)
    assert services.available_actions(place_ext, cast.supervisor) == ["approve_extension", "refuse_extension",
                                                                      "waive_assist", "supervise"]


# Assignment and deadlines


def test_assignment_takes_its_deadlines_from_the_rule_table(cast, departments):
    task = place(S.REGISTERED, cast, departments)
    services.task_assign(
        actor=cast.supervisor, task=task, lead_department=departments.zhujian,
        assisting_departments=[departments.chengguan], now=NOW,
    )
    stages = deadlines.stage_deadlines(category=task.category, urgency=task.urgency, channel=task.channel, start=NOW)
    assert (task.state, task.lead_department, task.assigned_at) == (S.ASSIGNED, departments.zhujian, NOW)
    assert (task.deadline, task.accept_deadline, task.deadline_rule) == (stages.handle, stages.accept, stages.rule)
    assist = task.assists.get()
    assert assist.department == departments.chengguan
    assert assist.deadline == deadlines.assist_deadline(lead_deadline=stages.handle, start=NOW)
    assert task.events.latest("id").data["assisting_departments"] == [departments.chengguan.pk]


def test_the_supervisor_may_set_the_deadline_as_a_date_or_in_working_days(cast, departments):
    by_date = place(S.REGISTERED, cast, departments)
    services.task_assign(actor=cast.supervisor, task=by_date, lead_department=departments.zhujian,
                         deadline=dt.date(2021, 11, 5), now=NOW)
    assert timezone.localtime(by_date.deadline).date() == dt.date(2021, 11, 5)
    assert by_date.deadline_rule is None
    by_days = place(S.REGISTERED, cast, departments)
    services.task_assign(actor=cast.supervisor, task=by_days, lead_department=departments.zhujian, deadline_days=3,
                         now=NOW)
    assert by_days.deadline == deadlines.deadline_in_working_days(start=NOW, days=3)
    # A deadline shorter than the acceptance limit also caps the acceptance deadline.
    assert by_days.accept_deadline <= by_days.deadline


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"lead_department": None}, "Choose the lead department"),
        ({"lead": "supervision"}, "cannot handle them"),
        ({"lead": "inactive"}, "no longer active"),
        ({"assisting": ["zhujian"]}, "cannot both lead and assist"),
        ({"deadline": dt.date(2021, 10, 31)}, "has already passed"),
        ({"deadline": dt.date(2021, 11, 9), "deadline_days": 5}, "not both"),
        ({"deadline_days": 0}, "working days must be"),
        ({"deadline_days": 1000}, "working days must be"),
    ],
)
def test_assignment_refuses_bad_departments_and_deadlines(cast, departments, kwargs, message):
    task = place(S.REVIEWED, cast, departments)
    inactive = DepartmentFactory(name="已撤并局", code="gone", is_active=False)
    named = {"supervision": departments.supervision, "inactive": inactive, "zhujian": departments.zhujian}
    args = {"lead_department": named.get(kwargs.pop("lead", None), departments.zhujian)}
    if "assisting" in kwargs:
        args["assisting_departments"] = [named[name] for name in kwargs.pop("assisting")]
    args.update(kwargs)
    refused(lambda: services.task_assign(actor=cast.supervisor, task=task, now=NOW, **args), message)


def test_a_reported_task_cannot_be_assigned_before_the_leaders_review(cast, departments):
    task = place(S.REPORTED, cast, departments)
    refused(lambda: services.task_assign(actor=cast.supervisor, task=task, lead_department=departments.zhujian,
                                         now=NOW), "awaiting the leader's review")


# Extensions


def test_an_approved_extension_moves_the_deadline(cast, departments):
    task = place(S.IN_PROGRESS, cast, departments)
    old_deadline = task.deadline
    request = services.task_request_extension(
        actor=cast.handler_zhujian, task=task, deadline=dt.date(2021, 11, 30), reason="需协调施工队", now=NOW
    )
    assert task.state == S.IN_PROGRESS and task.deadline == old_deadline  # the clock keeps running
    services.task_approve_extension(actor=cast.supervisor, task=task, now=NOW + HOUR)
    task.refresh_from_db()
    request.refresh_from_db()
    assert timezone.localtime(task.deadline).date() == dt.date(2021, 11, 30)
    assert task.extension_count == 1
    assert (request.status, request.decided_by, request.granted_deadline) == (
        TaskRequest.Status.APPROVED, cast.supervisor, task.deadline)
    assert task.assists.get().deadline == deadlines.assist_deadline(lead_deadline=task.deadline, start=NOW + HOUR)
    event = task.events.latest("id")
    assert event.action == Action.APPROVE_EXTENSION and event.data["previous_deadline"] == "2021-11-11T09:30:00+08:00"


def test_the_supervisor_may_grant_another_date_or_refuse(cast, departments):
    task = place(S.ACCEPTED, cast, departments, pending_extension=True)
    refused(lambda: services.task_approve_extension(actor=cast.supervisor, task=task, deadline=dt.date(2021, 11, 2),
                                                    now=NOW), "after the current one")
    services.task_approve_extension(actor=cast.supervisor, task=task, deadline=dt.date(2021, 11, 15), now=NOW)
    assert timezone.localtime(task.deadline).date() == dt.date(2021, 11, 15)

    other = place(S.ACCEPTED, cast, departments, pending_extension=True)
    deadline = other.deadline
    refused(lambda: services.task_refuse_extension(actor=cast.supervisor, task=other, note="", now=NOW),
            "reason for refusing")
    services.task_refuse_extension(actor=cast.supervisor, task=other, note="时限充足", now=NOW)
    other.refresh_from_db()
    assert (other.deadline, other.extension_count) == (deadline, 0)
    assert other.requests.get().status == TaskRequest.Status.REFUSED


def test_an_extension_needs_a_reason_a_later_date_and_no_pending_request(cast, departments):
    task = place(S.IN_PROGRESS, cast, departments)
    ask = services.task_request_extension
    refused(lambda: ask(actor=cast.handler_zhujian, task=task, deadline=dt.date(2021, 11, 30), reason="  ", now=NOW),
            "needs a reason")
    refused(lambda: ask(actor=cast.handler_zhujian, task=task, deadline=dt.date(2021, 11, 3), reason="忙", now=NOW),
            "after the current one")
    ask(actor=cast.handler_zhujian, task=task, deadline=dt.date(2021, 11, 30), reason="需协调", now=NOW)
    refused(lambda: ask(actor=cast.head_zhujian, task=task, deadline=dt.date(2021, 12, 3), reason="再延", now=NOW),
            "already pending")


def test_the_one_pending_constraint_is_reported_as_a_domain_error(cast, departments):
    from tasks.services.department_requests import _open_request

    task = place(S.IN_PROGRESS, cast, departments, pending_extension=True)
    with pytest.raises(DomainError, match="already pending"):
        _open_request(task=task, kind=TaskRequest.Kind.EXTENSION, department=departments.zhujian, reason="x",
                      requested_by=cast.handler_zhujian)
    assert task.requests.count() == 1


def test_a_pending_extension_lapses_when_the_task_is_replied(cast, departments):
    task = place(S.IN_PROGRESS, cast, departments, pending_extension=True)
    services.task_reply(actor=cast.head_zhujian, task=task, outcome=Outcome.EXPLAINED, reply="已解释", now=NOW)
    assert task.requests.get().status == TaskRequest.Status.REFUSED
    assert task.events.latest("id").data["lapsed_extension_request"] == task.requests.get().pk


# Callback, redo, close, look-back


def test_an_unsatisfied_callback_reopens_the_task_for_redo(cast, departments):
    task = place(S.REPLIED, cast, departments)
    refused(lambda: services.task_record_callback(actor=cast.supervisor, task=task,
                                                  result=CallbackResult.UNSATISFIED, now=NOW), "unsatisfied with")
    callback = services.task_record_callback(
        actor=cast.supervisor, task=task, result=CallbackResult.UNSATISFIED, note="路灯仍然不亮", now=NOW
    )
    task.refresh_from_db()
    assert (task.state, task.redo_count, task.replied_at, task.callback_deadline) == (S.IN_PROGRESS, 1, None, None)
    assert task.deadline == deadlines.stage_deadlines(
        category=task.category, urgency=task.urgency, channel=task.channel, start=NOW).handle
    assert (callback.result, callback.called_by, callback.called_at) == (CallbackResult.UNSATISFIED, cast.supervisor,
                                                                         NOW)
    assert list(task.events.order_by("id").values_list("action", "from_state", "to_state")) == [
        (Action.CALLBACK, S.REPLIED, S.REPLIED),
        (Action.REDO, S.REPLIED, S.IN_PROGRESS),
    ]


def test_a_satisfied_callback_is_stored_against_the_suggestion(cast, departments):
    task = place(S.REPLIED, cast, departments)
    suggestion, elsewhere = task.suggestions.get(), SuggestionFactory()
    refused(lambda: services.task_record_callback(actor=cast.supervisor, task=task, result="happy", now=NOW),
            "Choose the callback result")
    refused(lambda: services.task_record_callback(actor=cast.supervisor, task=task, result=CallbackResult.SATISFIED,
                                                  suggestion=elsewhere, now=NOW), "does not belong")
    services.task_record_callback(actor=cast.supervisor, task=task, result=CallbackResult.BASICALLY_SATISFIED,
                                  suggestion=suggestion, now=NOW)
    assert task.state == S.CALLED_BACK
    assert Callback.objects.get().suggestion == suggestion


def test_closing_a_replied_task_without_callback_needs_a_note(cast, departments):
    task = place(S.REPLIED, cast, departments)
    refused(lambda: services.task_close(actor=cast.supervisor, task=task, now=NOW), "needs a note")
    services.task_close(actor=cast.supervisor, task=task, note="匿名来电，无法回访", now=NOW)
    assert (task.state, task.closed_at) == (S.CLOSED, NOW)


def test_closing_a_task_never_accepted_is_refused(cast, departments):
    task = place(S.ASSIGNED, cast, departments)
    refused(lambda: services.task_close(actor=cast.supervisor, task=task, note="x", now=NOW),
            "has not replied yet")


def test_a_look_back_reopens_a_closed_task_on_a_fresh_clock(cast, departments):
    task = place(S.CLOSED, cast, departments)
    refused(lambda: services.task_reopen_look_back(actor=cast.supervisor, task=task, note="", now=NOW),
            "look-back review found")
    services.task_reopen_look_back(actor=cast.supervisor, task=task, note="回头看：问题反弹", now=NOW)
    assert (task.state, task.closed_at, task.replied_at) == (S.IN_PROGRESS, None, None)
    assert task.deadline > NOW
    event = task.events.latest("id")
    assert (event.action, event.from_state, event.to_state, event.note) == (
        Action.LOOK_BACK, S.CLOSED, S.IN_PROGRESS, "回头看：问题反弹")
    assert event.data["previous_closed_at"] is not None


# Returns


def test_an_approved_return_clears_the_departments_and_the_task_can_be_reassigned(cast, departments):
    task = place(S.ACCEPTED, cast, departments)
    refused(lambda: services.task_request_return(actor=cast.handler_zhujian, task=task, reason_code="", now=NOW),
            "Choose the reason for the return")
    refused(lambda: services.task_request_return(actor=cast.handler_zhujian, task=task, reason_code="other",
                                                 reason=" ", now=NOW), "when it is “other”")
    request = services.task_request_return(actor=cast.handler_zhujian, task=task, reason_code="not_our_duty",
                                           reason="属城管局职责", now=NOW)
    assert (task.state, request.previous_state, request.kind) == (S.RETURN_REQUESTED, S.ACCEPTED,
                                                                 TaskRequest.Kind.RETURN)
    assert not services.can("accept", task, cast.handler_zhujian)
    services.task_approve_return(actor=cast.supervisor, task=task, note="同意", now=NOW + HOUR)
    task.refresh_from_db()
    assert (task.state, task.lead_department, task.deadline, task.accepted_at) == (S.RETURNED, None, None, None)
    assert not TaskAssist.objects.filter(task=task).exists()
    data = task.events.latest("id").data
    assert (data["lead_department"], data["assisting_departments"]) == (departments.zhujian.pk,
                                                                        [departments.chengguan.pk])
    services.task_assign(actor=cast.supervisor, task=task, lead_department=departments.chengguan, now=NOW + 2 * HOUR)
    assert services.can("accept", task, cast.handler_chengguan)
    assert not services.can("accept", task, cast.handler_zhujian)


def test_a_refused_return_resumes_the_previous_state(cast, departments):
    task = place(S.IN_PROGRESS, cast, departments)
    services.task_request_return(actor=cast.head_zhujian, task=task, reason_code="other", reason="不是我们的",
                                 now=NOW)
    refused(lambda: services.task_refuse_return(actor=cast.supervisor, task=task, note="", now=NOW),
            "reason for refusing")
    services.task_refuse_return(actor=cast.supervisor, task=task, note="属于住建局职责", now=NOW + HOUR)
    assert (task.state, task.lead_department) == (S.IN_PROGRESS, departments.zhujian)
    request = task.requests.get()
    assert (request.status, request.decision_note) == (TaskRequest.Status.REFUSED, "属于住建局职责")


# Supervision and merge


def test_supervision_sets_a_level(cast, departments):
    task = place(S.ACCEPTED, cast, departments)
    refused(lambda: services.task_supervise(actor=cast.supervisor, task=task, level=7, now=NOW), "supervision level")
    services.task_supervise(actor=cast.supervisor, task=task, level=SupervisionLevel.KEY, note="重点督办", now=NOW)
    assert task.supervision_level == SupervisionLevel.KEY
    assert task.events.latest("id").data == {"level": 2, "previous_level": 0}


def test_merging_moves_the_suggestions_and_marks_the_duplicates(cast, departments):
    target, first, second = (place(state, cast, departments) for state in (S.REVIEWED, S.REGISTERED, S.REPORTED))
    own, moved = target.suggestions.get().pk, [first.suggestions.get().pk, second.suggestions.get().pk]
    services.task_merge(actor=cast.supervisor, target=target, sources=[second, first], note="同一路灯", now=NOW)
    assert set(Suggestion.objects.filter(task=target).values_list("pk", flat=True)) == {own, *moved}
    for source in (first, second):
        source.refresh_from_db()
        assert (source.state, source.merged_into) == (S.MERGED, target)
        assert source.events.get().data["merged_into"] == target.pk
    assert target.state == S.REVIEWED
    assert sorted(target.events.get().data["merged"]) == sorted([first.pk, second.pk])
    refused(lambda: services.task_accept(actor=cast.handler_zhujian, task=first, now=NOW), "merged into")


def test_only_unassigned_tasks_can_be_merged(cast, departments):
    target = place(S.REGISTERED, cast, departments)
    assigned = place(S.ASSIGNED, cast, departments)
    refused(lambda: services.task_merge(actor=cast.supervisor, target=target, sources=[assigned], now=NOW),
            f"Task #{assigned.pk}")
    refused(lambda: services.task_merge(actor=cast.supervisor, target=assigned, sources=[target], now=NOW),
            "“assigned”")
    refused(lambda: services.task_merge(actor=cast.supervisor, target=target, sources=[target], now=NOW), "itself")
    refused(lambda: services.task_merge(actor=cast.supervisor, target=target, sources=[], now=NOW), "at least one")


def test_tasks_merged_into_a_merged_task_follow_it(cast, departments):
    first, middle, last = (place(S.REGISTERED, cast, departments) for _ in range(3))
    services.task_merge(actor=cast.supervisor, target=middle, sources=[first], now=NOW)
    services.task_merge(actor=cast.supervisor, target=last, sources=[middle], now=NOW)
    first.refresh_from_db()
    assert first.merged_into == last
    assert last.suggestions.count() == 3


def test_text_is_limited_in_length(cast, departments):
    task = place(S.ACCEPTED, cast, departments)
    refused(lambda: services.task_note_progress(actor=cast.handler_zhujian, task=task, note="长" * 5001, now=NOW),
            "too long")
    assert TaskEvent.objects.filter(task=task).count() == 0
    assert not Task.objects.filter(state=S.IN_PROGRESS).exists()
