"""The supervision office's dispatch queue (/tasks/dispatch/) and the same-day targets (/tasks/same-day/).

The queue lists unassigned tasks with filters; ticked rows are assigned, reported or
merged in one step (tasks.dispatch_forms: all or nothing). Pages never count the whole
list: LazyPaginator fetches one page plus one row.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import InvalidPage
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods
from django_tables2.paginators import LazyPaginator

from org.models import User
from tasks import dispatch_selectors as selectors
from tasks.dispatch_forms import BULK_FORMS, BulkAssignForm, BulkForm, DispatchFilterForm, SameDayFilterForm
from tasks.errors import DomainError
from tasks.services.rules import RETURNS_BEFORE_ARBITRATION

PAGE_SIZE = 50


def paginate(request, queryset, per_page: int = PAGE_SIZE):
    """One page of `queryset` without counting it (the page number from ?page=; a bad one is 404)."""
    try:
        return LazyPaginator(queryset, per_page).page(request.GET.get("page") or 1)
    except InvalidPage as exc:
        raise Http404(str(exc)) from exc


def _require(user, roles, message) -> None:
    if user.role not in roles:
        raise PermissionDenied(message)


@login_required
@require_http_methods(["GET", "POST"])
def dispatch_queue(request):
    """The unassigned tasks with filters; POST runs one bulk step on the ticked rows."""
    _require(request.user, (User.Role.SUPERVISOR,), _("This page is for the supervision office."))
    filters = DispatchFilterForm(request.GET)
    bound, status = None, 200
    if request.method == "POST":
        form_class = BULK_FORMS.get(request.POST.get("action", ""))
        if form_class is None:
            messages.error(request, _("Choose what to do with the selected tasks."))
            status = 400
        else:
            bound = form_class(request.POST, user=request.user)
            done, status = _perform(request, bound)
            if done:
                # The first page, same filters: the rows just handled left the queue, so a
                # later page may now be past the end.
                query = _query_without_page(request)
                return redirect(f"{request.path}?{query}" if query else request.path)
    page = paginate(request, selectors.dispatch_queue(request.user, **filters.filters()))
    return render(request, "tasks/dispatch.html", {
        "now": timezone.now(),
        "filters": filters,
        "page": page,
        "query": _query_without_page(request),
        "assign_form": bound if isinstance(bound, BulkAssignForm) else BulkAssignForm(user=request.user),
        "bound": bound,
        "selected": _selected(bound),
        "merge_target": request.POST.get("merge_target", ""),
        # A task returned this often is arbitrated on its own page, not assigned in bulk.
        "arbitration_after": RETURNS_BEFORE_ARBITRATION,
    }, status=status)


def _perform(request, form: BulkForm) -> tuple[bool, int]:
    """Validate and run the bulk step; (done, HTTP status of the page if not) with the outcome in a message."""
    if not form.is_valid():
        errors = "; ".join(str(error) for field_errors in form.errors.values() for error in field_errors)
        messages.error(request, _("Nothing was done: %(errors)s") % {"errors": errors})
        return False, 400
    try:
        messages.success(request, form.perform())
    except DomainError as exc:
        messages.error(request, _("Nothing was done. %(reason)s") % {"reason": exc})
        return False, 409
    return True, 200


def _selected(form: BulkForm | None) -> set:
    """The ticked rows of a refused step, ticked again on the page that explains it."""
    if form is None or not hasattr(form, "cleaned_data"):
        return set()
    return set(form.cleaned_data.get("tasks") or [])


def _query_without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@login_required
@require_GET
def same_day(request):
    """Tasks that missed a same-day target (report, review, assignment) in a period, with how late."""
    roles = (User.Role.SUPERVISOR, User.Role.LEADER)
    _require(request.user, roles, _("This page is for the supervision office and the leaders."))
    now = timezone.now()
    form = SameDayFilterForm(request.GET, today=timezone.localdate(now))
    first, last = form.period()
    user = request.user
    page = paginate(request, selectors.same_day_misses(user, now=now, first=first, last=last, **form.choices()))
    rows = selectors.same_day_rows(page.object_list, now=now)
    return render(request, "tasks/same_day.html", {
        "now": now,
        "form": form,
        "first": first,
        "last": last,
        "page": page,
        "rows": rows,
        "counts": selectors.same_day_counts(user, now=now, first=first, last=last),
        "waiting_before": selectors.waiting_before(user, now=now, first=first),
        "query": _query_without_page(request),
    })


urlpatterns = [
    path("dispatch/", dispatch_queue, name="dispatch"),
    path("same-day/", same_day, name="same_day"),
]
