"""The "show" button beside a masked phone number: a logged, permission-checked showing of the number."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseBadRequest, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from feedback import privacy
from feedback.models import PhoneView
from tasks.errors import DomainError

from .suggestions import _suggestion_for

PAGES = (PhoneView.Page.TASK_DETAIL, PhoneView.Page.SUGGESTION_DETAIL)


def _wants_json(request) -> bool:
    # Browsers' own form posts accept */*; only the page's script asks for JSON by name.
    return "application/json" in request.headers.get("Accept", "")


def _back(request, suggestion, page) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    if page == PhoneView.Page.TASK_DETAIL:
        return reverse("tasks:detail", args=[suggestion.task_id])
    return reverse("feedback:detail", args=[suggestion.pk])


@never_cache
@login_required
@require_POST
def phone_show(request, pk):
    """The citizen's unmasked phone for whoever works on the item, logged once per press: JSON for the page's script, else a page."""
    suggestion = _suggestion_for(request, pk)  # 404 outside the user's scope
    if not privacy.may_see_citizen(request.user, suggestion):
        raise PermissionDenied(_("Only those who work on this item may see the citizen's phone number."))
    page = request.POST.get("page", "")
    if page not in PAGES:
        return HttpResponseBadRequest(_("Unknown page."))
    try:
        privacy.phone_view_record(
            user=request.user, suggestion=suggestion, page=page, address=privacy.client_address(request)
        )
    except DomainError as exc:
        if _wants_json(request):
            return JsonResponse({"error": str(exc)}, status=409)
        return render(request, "feedback/phone.html", {"suggestion": suggestion, "error": str(exc),
                                                       "back": _back(request, suggestion, page)}, status=409)
    if _wants_json(request):
        return JsonResponse({"phone": suggestion.phone})
    return render(request, "feedback/phone.html", {"suggestion": suggestion, "back": _back(request, suggestion, page)})
