"""Bulk import pages: upload, progress, error report, template."""

import os

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from feedback.forms import ImportUploadForm
from feedback.importers.background import import_job_resume, import_jobs_visible_to, may_import
from feedback.importers.template import build_template
from feedback.models import ImportJob
from tasks.errors import DomainError

RECENT_JOBS = 10


def _require_importer(user) -> None:
    if not may_import(user):
        raise PermissionDenied(_("Only registrars, supervisors and administrators may import suggestions."))


def _job_for(request, pk) -> ImportJob:
    """The job if this user may see it (its uploader or a supervisor), else 404."""
    job = import_jobs_visible_to(request.user).filter(pk=pk).first()
    if job is None:
        raise Http404
    return job


@login_required
def import_start(request):
    """Upload a file to import; lists the user's recent imports."""
    _require_importer(request.user)
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        job = form.save(actor=request.user)
        if job is not None:
            return redirect("feedback:import_detail", pk=job.pk)
    jobs = list(import_jobs_visible_to(request.user).select_related("uploaded_by")[:RECENT_JOBS])
    return render(request, "feedback/import_start.html", {"form": form, "jobs": jobs})


@login_required
@require_GET
def import_template(request):
    """The .xlsx template with a sample row and the allowed values."""
    _require_importer(request.user)
    response = HttpResponse(
        build_template(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = content_disposition_header(True, _("import-template") + ".xlsx")
    return response


@login_required
def import_detail(request, pk):
    """The job's progress bar (updated by static/feedback/import_progress.js), then its counts and first errors."""
    job = _job_for(request, pk)
    return render(request, "feedback/import_detail.html", {"job": job, "can_resume": job.can_resume()})


@login_required
@require_GET
def import_status(request, pk):
    """The job's progress as JSON, polled by the progress page."""
    job = _job_for(request, pk)
    return JsonResponse({
        "status": job.status,
        "status_label": job.get_status_display(),
        "finished": job.is_finished,
        "stale": job.is_stale(),
        "total": job.total_rows,
        "processed": job.processed_rows,
        "percent": job.percent,
        "imported": job.imported,
        "duplicates": job.duplicates,
        "errors": job.errors,
        "message": job.message,
        "error_report_url": reverse("feedback:import_errors", args=[job.pk]) if job.error_report else "",
    })


@login_required
@require_GET
def import_errors(request, pk):
    """Download the error report: the rows not imported, with their reasons."""
    job = _job_for(request, pk)
    if not job.error_report:
        raise Http404
    stem = os.path.splitext(job.original_name)[0] or "import"
    extension = os.path.splitext(job.error_report.name)[1]
    response = FileResponse(
        job.error_report.open("rb"), as_attachment=True, filename=f"{stem}-{_('errors')}{extension}"
    )
    # The report repeats the uploaded cells: a browser must never read it as a page.
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_POST
def import_resume(request, pk):
    """Continue a failed or stalled import after its last committed batch."""
    job = _job_for(request, pk)
    try:
        import_job_resume(actor=request.user, job=job)
    except DomainError as exc:
        messages.error(request, str(exc))
    return redirect("feedback:import_detail", pk=job.pk)
