"""考核核减 pages: the application and decision forms on the task page, the evidence file, the supervisor's queue.

Who sees what: supervisors, leaders and admins see every application of a task they may
read; handlers and heads only their own department's (an assisting department does not
see the lead's); registrars none. The evidence file follows the same rule and answers 404
to anyone else, so its existence is not revealed.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from org.models import User
from tasks.errors import DomainError
from tasks.exclusion_forms import APPROVE, ExclusionDecisionForm, ExclusionRequestForm
from tasks.models import ScoreExclusion
from tasks.services import refusal
from tasks.services.exclusions import exclusion_approve, exclusion_refuse, task_request_exclusion
from tasks.urgency import urgent_first

from . import detail
from .dispatch import paginate
from .exclusion_section import BOUND_ATTR, exclusions_visible_to

def _refused(request, task, message, *, bound=None, status=409):
    messages.error(request, message)
    setattr(request, BOUND_ATTR, bound)
    return detail._render(request, task, status=status)


@login_required
@require_POST
def exclusion_request(request, pk):
    """The lead department applies to exclude the task from its report card."""
    task = detail._task_for(request, pk)
    refused = refusal("request_exclusion", task, request.user)
    if refused is not None:
        return _refused(request, task, refused)
    form = ExclusionRequestForm(request.POST, request.FILES, auto_id="id_exclusion_%s")
    if not form.is_valid():
        return _refused(request, task, _("The application was not sent: correct the form."),
                        bound=("request", form, None), status=400)
    try:
        task_request_exclusion(actor=request.user, task=task, **form.service_kwargs())
    except DomainError as exc:
        if exc.field in form.fields:
            form.add_error(exc.field, str(exc))
        return _refused(request, task, str(exc), bound=("request", form, None))
    messages.success(request, form.success)
    return redirect("tasks:detail", pk=task.pk)


@login_required
@require_POST
def exclusion_decide(request, pk):
    """The supervisor approves or refuses a pending application."""
    exclusion = get_object_or_404(exclusions_visible_to(request.user), pk=pk)
    task = detail._task_for(request, exclusion.task_id)
    refused = refusal("decide_exclusion", task, request.user)
    if refused is not None:
        return _refused(request, task, refused)
    form = ExclusionDecisionForm(request.POST, auto_id=f"id_exclusion_{exclusion.pk}_%s")
    if not form.is_valid():
        return _refused(request, task, _("Nothing was decided: correct the form."),
                        bound=("decide", form, exclusion.pk), status=400)
    approve = form.cleaned_data["decision"] == APPROVE
    service = exclusion_approve if approve else exclusion_refuse
    try:
        service(actor=request.user, exclusion=exclusion, note=form.cleaned_data["note"])
    except DomainError as exc:
        return _refused(request, task, str(exc), bound=("decide", form, exclusion.pk))
    messages.success(
        request,
        _("The score exclusion was approved: the task no longer counts in the department's report card.")
        if approve else _("The score exclusion was refused."),
    )
    if request.POST.get("next") == "queue":
        return redirect("tasks:exclusions")
    return redirect("tasks:detail", pk=task.pk)


@login_required
@require_GET
def exclusion_evidence(request, pk):
    """Stream an application's evidence to a user who may read the application; 404 for anyone else."""
    exclusion = get_object_or_404(exclusions_visible_to(request.user), pk=pk)
    if not exclusion.evidence:
        raise Http404
    try:
        handle = exclusion.evidence.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(
        handle, content_type=exclusion.evidence_type, as_attachment=False, filename=exclusion.evidence_name
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
    return response


@login_required
@require_GET
def exclusion_queue(request):
    """The supervision office's queue: pending applications, urgent then oldest first, each with its decision form."""
    if request.user.role != User.Role.SUPERVISOR:
        raise PermissionDenied(_("This page is for the supervision office."))
    pending = exclusions_visible_to(request.user).filter(status=ScoreExclusion.Status.PENDING)
    page = paginate(request, pending.order_by(urgent_first("task__"), "requested_at", "pk"))
    rows = [
        {"exclusion": e, "form": ExclusionDecisionForm(auto_id=f"id_exclusion_{e.pk}_%s")} for e in page.object_list
    ]
    decided = list(
        exclusions_visible_to(request.user).exclude(status=ScoreExclusion.Status.PENDING)
        .order_by("-decided_at", "-pk")[:20]
    )
    return render(request, "tasks/exclusions.html", {"page": page, "rows": rows, "decided": decided, "query": ""})


urlpatterns = [
    path("exclusions/", exclusion_queue, name="exclusions"),
    path("exclusions/task/<int:pk>/", exclusion_request, name="exclusion_request"),
    path("exclusions/<int:pk>/decide/", exclusion_decide, name="exclusion_decide"),
    path("exclusions/<int:pk>/evidence/", exclusion_evidence, name="exclusion_evidence"),
]
