from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from .health import run_checks


@login_not_required
@never_cache
@require_safe
def healthz(request):
    """For load balancers and container health checks: 200 when every check passed, else 503."""
    report = run_checks()
    return JsonResponse(report, status=200 if report["status"] == "ok" else 503)
