"""Practical-task projects (实事项目) and TV accountability (电视问政) pages.

Every page fetches its object through a selector scoped to the user (tasks.projects), so
another department's project, episode, evidence file or mechanism document answers 404.
Files are streamed by these views after that check; MEDIA_URL is never served.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from tasks import projects, projects_forms
from tasks.errors import DomainError
from tasks.models.projects import AccountabilitySuggestion
from tasks.reminders.stale_projects import STALE_AFTER_DAYS, project_notices_mark_read, project_notices_unread

PER_PAGE = 50


def _project_for(request, pk):
    project = projects.project_for(request.user, pk)
    if project is None:
        raise Http404
    return project


def _episode_for(request, pk):
    episode = projects.episode_for(request.user, pk)
    if episode is None:
        raise Http404
    return episode


def _project_row(project, today) -> dict:
    """What a list row or the detail header shows about a project (its indicators are prefetched: no query)."""
    percent = projects.project_percent(project)
    idle = (today - (project.last_update or project.starts_on)).days
    status = getattr(project, "status", None) or projects.project_status(project, today)
    return {
        "project": project,
        "status": status,
        "status_label": projects.ProjectStatus(status).label,
        "percent": percent,
        "last_update": project.last_update,
        "idle_days": idle,
        "stale": idle >= STALE_AFTER_DAYS and today >= project.starts_on,
    }


def _file_response(field, content_type: str, name: str) -> FileResponse:
    try:
        handle = field.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    # A download, never a page of this site: a file is shown only by the program the user opens
    # it with (an <img> still displays an image), and even a mislabelled one cannot run script here.
    response = FileResponse(handle, content_type=content_type, as_attachment=True, filename=name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, max-age=3600"
    return response


@login_required
@require_GET
def project_list(request):
    """The projects the user may read, filtered by year, department and status; bounded pages."""
    today = timezone.localdate()
    form = projects_forms.ProjectFilterForm(
        request.GET or None, years=projects.project_years(request.user), user=request.user
    )
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    rows = projects.project_list(
        request.user, today=today, year=filters.get("year"), status=filters.get("status") or None,
        department_id=filters["department"].pk if filters.get("department") else None,
    )
    if form.is_bound and not form.is_valid():
        rows = rows.none()
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "tasks/projects/list.html", {
        "form": form,
        "page": page,
        "rows": [_project_row(project, today) for project in page.object_list],
        "notices": project_notices_unread(user=request.user),
        "now": timezone.now(),
    })


@login_required
@require_GET
def project_detail(request, pk):
    """A project: its indicators against target and time, status, updates with evidence, and the update form."""
    return _render_project(request, _project_for(request, pk))


def _render_project(request, project, *, form=None, status=200):
    today = timezone.localdate()
    may_record = request.user.works_for(project.department_id)
    if may_record and form is None:
        form = projects_forms.ProgressForm(project=project)
    return render(request, "tasks/projects/detail.html", {
        "row": _project_row(project, today),
        "project": project,
        "indicators": [
            {"indicator": i, "percent": i.progress_percent, "expected": i.expected_percent(today),
             "behind": i.is_behind(today), "done": i.is_done}
            for i in project.indicators.all()
        ],
        "updates": projects.project_updates(project),
        "form": form if may_record else None,
        "stale_after": STALE_AFTER_DAYS,
        "now": timezone.now(),
    }, status=status)


@login_required
@require_POST
def project_progress(request, pk):
    """Record a progress update (the owning department's handlers and head), then back to the project."""
    project = _project_for(request, pk)
    form = projects_forms.ProgressForm(request.POST, request.FILES, project=project)
    if not form.is_valid():
        messages.error(request, _("The progress update was not recorded: correct the form."))
        return _render_project(request, project, form=form, status=400)
    try:
        projects.project_record_progress(actor=request.user, project=project, **form.service_kwargs())
    except DomainError as exc:
        if exc.field in form.fields:
            form.add_error(exc.field, str(exc))
        messages.error(request, str(exc))
        return _render_project(request, _project_for(request, pk), form=form, status=409)
    messages.success(request, _("The progress update was recorded."))
    return redirect("tasks:project_detail", pk=project.pk)


@login_required
@require_GET
def evidence_file(request, pk):
    """Stream an evidence file to a user who may read its project; 404 for anyone else."""
    evidence = projects.evidence_for(request.user, pk)
    if evidence is None:
        raise Http404
    return _file_response(evidence.file, evidence.content_type, evidence.original_name)


@login_required
@require_POST
def project_notices_read(request):
    """Mark the user's stale-project reminders read."""
    project_notices_mark_read(user=request.user, now=timezone.now())
    return redirect("tasks:projects")


# --- TV accountability ------------------------------------------------------------------


@login_required
@require_GET
def episode_list(request):
    """The episodes the user may read, newest first, with their figures; supervisors may record a new one."""
    return _render_episodes(request)


def _render_episodes(request, *, form=None, status=200):
    page = Paginator(projects.episode_list(request.user), PER_PAGE).get_page(request.GET.get("page"))
    if request.user.is_supervisor and form is None:
        form = projects_forms.EpisodeForm()
    return render(request, "tasks/episodes/list.html", {
        "page": page,
        "form": form if request.user.is_supervisor else None,
        "reads_all": request.user.sees_all_departments,
        "now": timezone.now(),
    }, status=status)


@login_required
@require_POST
def episode_create(request):
    """Record an episode (supervisors), then open it."""
    if not request.user.is_supervisor:
        # Refuse before reading the form, so nobody else learns its validation rules.
        raise PermissionDenied
    form = projects_forms.EpisodeForm(request.POST)
    if not form.is_valid():
        return _render_episodes(request, form=form, status=400)
    try:
        episode = projects.episode_create(actor=request.user, **form.service_kwargs())
    except DomainError as exc:
        if exc.field in form.fields:
            form.add_error(exc.field, str(exc))
        messages.error(request, str(exc))
        return _render_episodes(request, form=form, status=409)
    messages.success(request, _("The episode was recorded."))
    return redirect("tasks:episode_detail", pk=episode.pk)


# action -> (form, service, who may see the form)
EPISODE_ACTIONS = {
    "problem": (projects_forms.ProblemForm, projects.episode_raise_problem, lambda user: user.is_supervisor),
    "mechanism": (
        projects_forms.MechanismForm, projects.mechanism_add, lambda user: user.is_supervisor or user.is_head
    ),
    "accountability": (
        projects_forms.AccountabilityForm, projects.accountability_suggest, lambda user: user.is_supervisor
    ),
}
SUCCESS = {
    "problem": gettext_lazy("The problem was registered and assigned to the department."),
    "mechanism": gettext_lazy("The mechanism was recorded."),
    "accountability": gettext_lazy("The accountability suggestion was recorded."),
}


@login_required
@require_GET
def episode_detail(request, pk):
    """An episode: departments questioned, problems (tasks) with their state, mechanisms, accountability suggestions."""
    return _render_episode(request, _episode_for(request, pk))


def _render_episode(request, episode, *, bound=None, status=200):
    user, now = request.user, timezone.now()
    action_forms = {
        action: (bound[1] if bound and bound[0] == action else form_class(episode=episode, user=user,
                                                                          auto_id=f"id_{action}_%s"))
        for action, (form_class, _service, allowed) in EPISODE_ACTIONS.items()
        if allowed(user)
    }
    suggestions = projects.episode_accountability(user, episode)
    return render(request, "tasks/episodes/detail.html", {
        "episode": episode,
        "problems": projects.episode_problems(user, episode),
        "counts": projects.episode_problem_counts(user, episode, now=now),
        "mechanisms": projects.episode_mechanisms(user, episode),
        "suggestions": suggestions,
        "reads_all": user.sees_all_departments,
        "forms": action_forms,
        "decision_form": projects_forms.AccountabilityDecisionForm() if user.is_supervisor else None,
        "bound_action": bound[0] if bound else None,
        "now": now,
    }, status=status)


@login_required
@require_POST
def episode_action(request, pk, action):
    """Raise a problem, record a mechanism or an accountability suggestion on the episode."""
    if action not in EPISODE_ACTIONS:
        raise Http404
    episode = _episode_for(request, pk)
    form_class, service, allowed = EPISODE_ACTIONS[action]
    if not allowed(request.user):
        raise Http404
    form = form_class(request.POST, request.FILES, episode=episode, user=request.user, auto_id=f"id_{action}_%s")
    if not form.is_valid():
        messages.error(request, _("Nothing was recorded: correct the form."))
        return _render_episode(request, episode, bound=(action, form), status=400)
    try:
        service(actor=request.user, episode=episode, **form.service_kwargs())
    except DomainError as exc:
        if exc.field in form.fields:
            form.add_error(exc.field, str(exc))
        messages.error(request, str(exc))
        return _render_episode(request, episode, bound=(action, form), status=409)
    messages.success(request, SUCCESS[action])
    return redirect("tasks:episode_detail", pk=episode.pk)


@login_required
@require_POST
def accountability_decide(request, pk):
    """Record the discipline commission's answer to an accountability suggestion (supervisors)."""
    suggestion = AccountabilitySuggestion.objects.filter(pk=pk).select_related("episode").first()
    if suggestion is None or not request.user.sees_all_departments:
        raise Http404
    form = projects_forms.AccountabilityDecisionForm(request.POST)
    try:
        if not form.is_valid():
            raise DomainError(_("Choose the commission's answer."))
        projects.accountability_suggestion_decide(actor=request.user, suggestion=suggestion, **form.service_kwargs())
    except DomainError as exc:
        messages.error(request, str(exc))
        return _render_episode(request, _episode_for(request, suggestion.episode_id), status=409)
    messages.success(request, _("The commission's answer was recorded."))
    return redirect("tasks:episode_detail", pk=suggestion.episode_id)


@login_required
@require_GET
def mechanism_document(request, pk):
    """Stream a mechanism's document to a user who may read the mechanism; 404 for anyone else."""
    mechanism = projects.mechanism_for(request.user, pk)
    if mechanism is None or not mechanism.document:
        raise Http404
    return _file_response(mechanism.document, mechanism.document_type, mechanism.document_name)


urlpatterns = [
    path("projects/", project_list, name="projects"),
    path("projects/<int:pk>/", project_detail, name="project_detail"),
    path("projects/<int:pk>/progress/", project_progress, name="project_progress"),
    path("projects/evidence/<int:pk>/", evidence_file, name="evidence"),
    path("projects/reminders/read/", project_notices_read, name="project_notices_read"),
    path("episodes/", episode_list, name="episodes"),
    path("episodes/new/", episode_create, name="episode_create"),
    path("episodes/<int:pk>/", episode_detail, name="episode_detail"),
    path("episodes/<int:pk>/<slug:action>/", episode_action, name="episode_action"),
    path("episodes/accountability/<int:pk>/decide/", accountability_decide, name="accountability_decide"),
    path("episodes/mechanisms/<int:pk>/document/", mechanism_document, name="mechanism_document"),
]
