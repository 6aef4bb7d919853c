"""The task detail page and its lifecycle actions.

`/tasks/<id>/` shows the task to anyone who may read it (404 otherwise, so a task's
existence is not revealed); `/tasks/<id>/<action>/` takes one step through the action's
form and service. Every read of the page is a fixed number of queries, whatever the
number of suggestions, requests, callbacks or timeline entries.
"""

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from feedback.models import CallbackResult
from org.models import Department
from tasks import assist_forms, clocks, forms, returns, services
from tasks.errors import DomainError
from tasks.models import Action, Outcome, ScoreExclusion, State, SupervisionLevel, Task, TaskAssist, TaskRequest
from tasks.selectors import tasks_visible_to
from tasks.views.assists import assist_section

from .detail_extras import instruction_context, reply_template_context

from .exclusion_section import exclusion_section


def _merge_into(*, actor, task, target, note="", now=None):
    """The detail page's merge: this task is the duplicate, `target` the task it joins."""
    return services.task_merge(actor=actor, target=target, sources=[task], note=note, now=now)


# action -> (form, service). The rule table (tasks.services.RULES) says who may take each one when.
ACTION_FORMS = {
    "report": (forms.ReportForm, services.task_report),
    "review": (forms.ReviewForm, services.task_review),
    "assign": (forms.AssignForm, services.task_assign),
    "arbitrate": (forms.ArbitrateForm, services.task_arbitrate),
    "accept": (forms.AcceptForm, services.task_accept),
    "note_progress": (forms.NoteProgressForm, services.task_note_progress),
    "reply": (forms.ReplyForm, services.task_reply),
    "approve_reply": (forms.ApproveReplyForm, services.task_approve_reply),
    "reject_reply": (forms.RejectReplyForm, services.task_reject_reply),
    "assist_accept": (assist_forms.AssistAcceptForm, services.task_assist_accept),
    "assist_reply": (forms.AssistReplyForm, services.task_assist_reply),
    "waive_assist": (assist_forms.WaiveAssistForm, services.task_waive_assist),
    "record_callback": (forms.RecordCallbackForm, services.task_record_callback),
    "close": (forms.CloseForm, services.task_close),
    "request_return": (forms.RequestReturnForm, services.task_request_return),
    "approve_return": (forms.ApproveReturnForm, services.task_approve_return),
    "refuse_return": (forms.RefuseReturnForm, services.task_refuse_return),
    "request_extension": (forms.RequestExtensionForm, services.task_request_extension),
    "approve_extension": (forms.ApproveExtensionForm, services.task_approve_extension),
    "refuse_extension": (forms.RefuseExtensionForm, services.task_refuse_extension),
    "supervise": (forms.SuperviseForm, services.task_supervise),
    "merge": (forms.MergeForm, _merge_into),
    "reopen_look_back": (forms.ReopenLookBackForm, services.task_reopen_look_back),
}


def _task_for(request, pk) -> Task:
    """The task if the user may read it, else 404 (never 403: another department's task does not exist for them)."""
    parts = TaskAssist.objects.select_related("department", "accepted_by", "waived_by").order_by("pk")
    assists = Prefetch("assists", queryset=parts)
    tasks = tasks_visible_to(request.user).select_related("deadline_rule", "merged_into").prefetch_related(assists)
    return get_object_or_404(tasks, pk=pk)


@login_required
@require_GET
def task_detail(request, pk):
    """The task with its citizens, departments, deadlines, requests, callbacks, timeline and the user's actions."""
    return _render(request, _task_for(request, pk))


@login_required
@require_POST
def task_action(request, pk, action):
    """One lifecycle step: validate the form, call the service, then redirect (PRG) or show why not."""
    if action not in ACTION_FORMS:
        raise Http404
    task = _task_for(request, pk)
    form_class, service = ACTION_FORMS[action]
    # The service checks again under the row lock; this spares a refused user the form's errors.
    refused = services.refusal(action, task, request.user)
    if refused is not None:
        messages.error(request, refused)
        return _render(request, task, status=409)
    form = form_class(request.POST, task=task, user=request.user, auto_id=_auto_id(action))
    if not form.is_valid():
        messages.error(request, _("“%(action)s” was not done: correct the form.") % {"action": form.button})
        return _render(request, task, bound=(action, form), status=400)
    try:
        result = service(actor=request.user, task=task, **form.service_kwargs())
    except DomainError as exc:
        if exc.field in form.fields:
            form.add_error(exc.field, str(exc))
        messages.error(request, str(exc))
        return _render(request, task, bound=(action, form), status=409)
    messages.success(request, form.success)
    # A merge lands on the task that absorbed this one.
    return redirect("tasks:detail", pk=result.pk if isinstance(result, Task) else task.pk)


def _auto_id(action: str) -> str:
    # Several forms on one page each have a "note": ids must not collide.
    return f"id_{action}_%s"


def works_on(task: Task, user) -> bool:
    """The user works on this task: its supervisors, or a handler or head of its lead or an assisting department."""
    if user.is_supervisor:
        return True
    if not user.is_department_staff:
        return False
    return user.works_for(task.lead_department_id) or any(
        assist.department_id == user.department_id for assist in task.assists.all()
    )


def _render(request, task: Task, *, bound=None, status: int = 200, instruction_form=None):
    now, user = timezone.now(), request.user
    suggestions = list(
        task.suggestions.select_related("township", "village", "registered_by").order_by("received_at", "pk")
    )
    requests = list(
        task.requests.select_related("department", "requested_by", "decided_by").order_by("-requested_at", "-pk")
    )
    callbacks = list(task.callbacks.select_related("called_by", "suggestion").order_by("called_at", "pk"))
    events = list(task.events.select_related("actor").order_by("at", "pk"))
    merged_tasks = list(task.merged_tasks.order_by("pk").only("pk", "title"))
    pending = {request.kind for request in requests if request.status == TaskRequest.Status.PENDING}
    actions = services.available_actions(task, user, pending_kinds=pending)
    context = {
        "task": task,
        "now": now,
        "suggestions": _citizens(suggestions, task, user),
        **assist_section(task, user, now),
        "deadlines": _deadlines(task, now),
        "clock": clocks.summary(task, now, assignment=_latest_assignment(events)),
        "pending_requests": [r for r in requests if r.status == TaskRequest.Status.PENDING],
        "decided_requests": [r for r in requests if r.status != TaskRequest.Status.PENDING],
        "callbacks": callbacks,
        "events": _timeline(events),
        "merged_tasks": merged_tasks,
        "action_forms": _action_forms(task, user, actions, bound),
        "bound_action": bound[0] if bound else None,
        "exclusions": exclusion_section(request, task),
    }
    context.update(instruction_context(request, task, instruction_form))
    context.update(reply_template_context(request, task, context["action_forms"], bound))
    return render(request, "tasks/detail.html", context, status=status)


def _latest_assignment(events) -> dict | None:
    """The details of the latest assignment or arbitration: the deadline and limits the department was given."""
    latest = next((e for e in reversed(events) if e.action in (Action.ASSIGN, Action.ARBITRATE)), None)
    return latest.data if latest is not None else None


def _action_forms(task, user, actions, bound) -> list:
    """(action, form) for each action the user may take now; the submitted form keeps its input and errors."""
    result = []
    for action in actions:
        if bound is not None and bound[0] == action:
            result.append(bound)
        elif action in ACTION_FORMS:
            result.append((action, ACTION_FORMS[action][0](task=task, user=user, auto_id=_auto_id(action))))
    return result


def _citizens(suggestions, task, user) -> list:
    """Each suggestion with its citizen's name, masked unless the user works on the task, and the phone always masked.

    A registrar typed in the citizen's details of what they registered, so sees those in full.
    Whoever sees the name in full may press "show" for the phone (feedback.privacy: logged).
    """
    full = works_on(task, user)
    rows = []
    for suggestion in suggestions:
        plain = full or (user.is_registrar and suggestion.registered_by_id == user.pk)
        rows.append(
            {
                "suggestion": suggestion,
                "name": suggestion.citizen_name if plain else suggestion.masked_name,
                "phone": suggestion.masked_phone,
                "may_show": plain,
                "masked": not plain,
            }
        )
    return rows


def _deadlines(task: Task, now) -> list:
    """(key, label, deadline, overdue) for acceptance, handling and callback."""
    return [
        ("accept", _("Acceptance"), task.accept_deadline,
         task.state == State.ASSIGNED and task.accept_deadline is not None and task.accept_deadline < now),
        ("handle", _("Handling"), task.deadline, task.is_overdue(now)),
        ("callback", _("Callback"), task.callback_deadline,
         task.state == State.REPLIED and task.callback_deadline is not None and task.callback_deadline < now),
    ]


def _timeline(events) -> list:
    """(event, details) in order; details name departments, deadlines and results the entry recorded."""
    department_ids = set()
    for event in events:
        data = event.data or {}
        department_ids.update(filter(None, [data.get("lead_department"), data.get("department")]))
        department_ids.update(data.get("assisting_departments") or [])
        department_ids.update(int(pk) for pk in (data.get("assist_deadlines") or {}))
    names = dict(Department.objects.filter(pk__in=department_ids).values_list("pk", "name")) if department_ids else {}
    return [(event, _event_details(event, names)) for event in events]


def _when(value) -> str:
    return date_format(timezone.localtime(dt.datetime.fromisoformat(value)), "Y-m-d H:i") if value else ""


def _label(choices, value) -> str:
    return str(choices(value).label) if value in choices.values else str(value)


_EXCLUSION = (Action.REQUEST_EXCLUSION, Action.APPROVE_EXCLUSION, Action.REFUSE_EXCLUSION)
_NEW_DEADLINE = (Action.ASSIGN, Action.APPROVE_EXTENSION, Action.REDO, Action.LOOK_BACK)
_ASSIST_ACTIONS = (Action.ASSIST_ACCEPT, Action.ASSIST_REPLY, Action.WAIVE_ASSIST)


def _event_details(event, names: dict) -> list[str]:
    data, details = event.data or {}, []
    if event.action == Action.ASSIGN and data.get("lead_department"):
        details.append(_("lead: %(department)s") % {"department": names.get(data["lead_department"], "?")})
        if data.get("assisting_departments"):
            assisting = _(", ").join(names.get(pk, "?") for pk in data["assisting_departments"])
            details.append(_("assisting: %(departments)s") % {"departments": assisting})
    if event.action == Action.REPLY and data.get("outcome"):
        details.append(_("outcome: %(outcome)s") % {"outcome": _label(Outcome, data["outcome"])})
    if event.action == Action.CALLBACK and data.get("result"):
        details.append(_("result: %(result)s") % {"result": _label(CallbackResult, data["result"])})
    if event.action == Action.SUPERVISE and "level" in data:
        details.append(_("level: %(level)s") % {"level": _label(SupervisionLevel, data["level"])})
    if event.action in _ASSIST_ACTIONS and data.get("department"):
        department = names.get(data["department"], "?")
        details.append(_("assisting department: %(department)s") % {"department": department})
        if data.get("accepted_with_reply"):
            details.append(_("accepted with the reply"))
    if event.action == Action.REQUEST_EXTENSION and data.get("requested_deadline"):
        details.append(_("requested deadline: %(deadline)s") % {"deadline": _when(data["requested_deadline"])})
    elif event.action in _NEW_DEADLINE and data.get("deadline"):
        details.append(_("deadline: %(deadline)s") % {"deadline": _when(data["deadline"])})
    details += returns.timeline_details(event, names)
    # An extension or a refused return moved the open assisting parts' sub-deadlines.
    for pk, deadline in (data.get("assist_deadlines") or {}).items():
        details.append(_("assisting deadline of %(department)s: %(deadline)s") % {
            "department": names.get(int(pk), "?"), "deadline": _when(deadline),
        })
    if event.action in _EXCLUSION and data.get("reason"):
        details.append(_("score exclusion: %(reason)s, %(department)s") % {
            "reason": _label(ScoreExclusion.Reason, data["reason"]),
            "department": names.get(data.get("department"), "?"),
        })
    if event.action == Action.MERGE and data.get("merged_into"):
        details.append(_("merged into task #%(id)s") % {"id": data["merged_into"]})
    elif event.action == Action.MERGE and data.get("merged"):
        details.append(_("absorbed tasks %(ids)s") % {"ids": ", ".join(f"#{pk}" for pk in data["merged"])})
    return details


urlpatterns = [
    path("<int:pk>/", task_detail, name="detail"),
    path("<int:pk>/<slug:action>/", task_action, name="action"),
]
